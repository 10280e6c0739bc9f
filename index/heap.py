"""Give freed memory back to the system, where the C library allows it (glibc on Linux).

Measured with embedded Chroma (`newsbot bench --memory`): reading and writing the store through
its Rust threads leaves freed memory in glibc's per-thread arenas, so a process's RSS kept
growing with the amount of data that ever passed through it (indexing 1,000 articles and
catching up the keyword index peaked at 621 MB, of which 250 MB was free heap that
malloc_trim returned at once). Two arenas instead of glibc's 8 per core, and a trim after each
batch, keep RSS near what is really in use. Elsewhere (macOS, musl) both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_ARENA_MAX = -8  # mallopt parameter number in glibc's malloc.h


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - present only in glibc
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def limit_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas (call before threads start); 0 keeps glibc's default."""
    libc = _glibc()
    if libc is None or arenas <= 0:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Return the free pages of every malloc arena to the system (a few ms)."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
