"""Terminal output helpers: one rich Console, and ingest with progress bars on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from langchain_core.embeddings import Embeddings
from rich.console import Console

from index.ingest import IngestReport, ingest
from index.limits import DEFAULT_LIMITS, LoadLimits
from index.store import ChunkStore
from index.stories import StoryBook


@lru_cache(maxsize=1)
class _Console(Console):
    """Rich's console, but a closed pipe (`newsbot chat | head -1`) ends the command as a
    BrokenPipeError, which the CLI turns into exit 141 like `ask | head`, not Rich's silent
    exit 1."""

    def on_broken_pipe(self) -> None:
        """Stop writing, and let the CLI say how the command ended."""
        self.quiet = True
        raise BrokenPipeError


def console() -> Console:
    """The shared stdout console; plain text when stdout is not a terminal."""
    return _Console(soft_wrap=True)


def index_with_progress(paths: list[Path], store: ChunkStore, embedder: Embeddings, *,
                        prune: bool = False, limits: LoadLimits = DEFAULT_LIMITS,
                        stories: StoryBook | None = None) -> IngestReport:
    """Run ingest, with a bar for files read and one for articles embedded on a terminal."""
    if not console().is_terminal:
        return ingest(paths, store, embedder, prune=prune, limits=limits, stories=stories)
    with stage_progress() as update:
        return ingest(paths, store, embedder, prune=prune, limits=limits, stories=stories,
                      file_progress=lambda done, total: update("reading files", done, total),
                      progress=lambda done, total: update("embedding articles", done, total))


@contextmanager
def stage_progress() -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress callback (stage, done, total) drawing one bar per stage on a terminal."""
    if not console().is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console(), transient=True) as bar:
        tasks: dict[str, int] = {}

        def _update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield _update
