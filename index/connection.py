"""Open the index's store: a folder of embedded Chroma, or a Chroma server over HTTP.

A server is named by NEWSBOT_CHROMA_URL; a token (NEWSBOT_CHROMA_TOKEN, sent as Chroma's bearer
token) and a private CA (NEWSBOT_CHROMA_CA) reach it through a proxy that checks them. Every
failure is one StoreError line that says which of them to check, with no secret in it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from index.locking import IndexLock, LockError
from index.store import DEFAULT_COLLECTION, ChunkStore, StoreError, short_error

_TOKEN_PROVIDER = "chromadb.auth.token_authn.TokenAuthClientProvider"


def open_store(home: Path, chroma_url: str | None = None, name: str = DEFAULT_COLLECTION, *,
               token: str | None = None, ca_file: Path | None = None) -> ChunkStore:
    """Open the store: a Chroma server when chroma_url is set, else a folder under home."""
    import chromadb  # imported here: it is slow, and not every command needs it
    from chromadb.config import Settings

    if chroma_url:
        shown = mask_url(chroma_url)
        parsed = urlparse(chroma_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise StoreError(f"NEWSBOT_CHROMA_URL must look like http://host:port, got {shown!r}")
        if parsed.username or parsed.password:
            raise StoreError("NEWSBOT_CHROMA_URL must not hold credentials; "
                             "set NEWSBOT_CHROMA_TOKEN instead")
        settings = Settings(anonymized_telemetry=False, **_auth(token, ca_file))
        try:
            client = chromadb.HttpClient(host=parsed.hostname, port=parsed.port or 8000,
                                         ssl=parsed.scheme == "https", settings=settings)
            client.list_collections(limit=1)
        except Exception as exc:
            tls = _tls_problem(exc)
            if tls is not None:
                raise StoreError(f"the Chroma server at {shown}: {tls}") from exc
            # The client's own errors don't say whether the server was reached: ask its
            # heartbeat, which needs no token (a proxy may ask one even there: 401 or 403).
            if _heartbeat(chroma_url, ca_file) is not None:
                raise StoreError(f"the Chroma server at {shown} refused access (check "
                                 f"NEWSBOT_CHROMA_TOKEN): {short_error(exc, token)}") from exc
            raise StoreError(f"cannot reach the Chroma server at {shown}: "
                             f"{short_error(exc, token)}") from exc
        return ChunkStore(client, name, shown)
    return _open_embedded(home, name)


def _open_embedded(home: Path, name: str) -> ChunkStore:
    import chromadb
    from chromadb.config import Settings

    path = home / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
        lock = IndexLock.for_folder(path)
        lock.share()
        client = chromadb.PersistentClient(path=str(path),
                                           settings=Settings(anonymized_telemetry=False))
    except LockError as exc:
        raise StoreError(str(exc)) from exc
    except Exception as exc:
        raise StoreError(f"cannot open the index at {path}: {short_error(exc)}") from exc
    return ChunkStore(client, name, str(path), lock)


def _auth(token: str | None, ca_file: Path | None) -> dict:
    options: dict = {}
    if token:
        options |= {"chroma_client_auth_provider": _TOKEN_PROVIDER,
                    "chroma_client_auth_credentials": token}
    if ca_file is not None:
        if not ca_file.is_file():
            what = "a folder, not a file" if ca_file.is_dir() else "no such file"
            raise StoreError(f"NEWSBOT_CHROMA_CA: {what}: {ca_file}")
        options["chroma_server_ssl_verify"] = str(ca_file)
    return options


def _tls_problem(exc: BaseException) -> str | None:
    """What went wrong with TLS, where the errors behind exc say (Chroma's own only says it
    "could not connect ... are you sure it is running?"); None for other failures."""
    import ssl

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return (f"its TLS certificate is not trusted ({exc.verify_message}): set "
                    "NEWSBOT_CHROMA_CA to the certificate of the CA that signed it")
        if isinstance(exc, ssl.SSLError) and exc.library in ("X509", "PEM"):
            return f"NEWSBOT_CHROMA_CA is not a PEM certificate file ({exc.reason})"
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _heartbeat(url: str, ca_file: Path | None) -> int | None:
    """The HTTP status of the server's heartbeat when it answers as a server does (200) or a
    proxy that wants a token (401, 403); None when nothing reachable answers so (TLS verified
    as configured)."""
    import httpx

    try:
        verify = str(ca_file) if ca_file is not None else True
        status = httpx.get(f"{url.rstrip('/')}/api/v2/heartbeat", timeout=5,
                           verify=verify).status_code
    except (httpx.HTTPError, OSError, ValueError):
        return None
    return status if status in (200, 401, 403) else None


def mask_url(url: str) -> str:
    """The URL with any user:password replaced by ***, for messages and status."""
    parsed = urlparse(url)
    if not (parsed.username or parsed.password):
        return url
    host = parsed.hostname or ""
    if parsed.port:
        host += f":{parsed.port}"
    return parsed._replace(netloc=f"***@{host}").geturl()
