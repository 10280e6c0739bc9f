"""The live-news commands: `index URL`, `watch`, `sources add|remove|list` and sources in status."""

from __future__ import annotations

import atexit
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from langchain_core.embeddings import Embeddings

from bot.errors import UsageError
from bot.answering.answer import clean_input
from bot.settings import Settings
from index.fetch import FetchPolicy, Fetcher
from index.ledger import open_ledger
from index.sources import (Source, SourcesError, add_source, format_every, load_sources,
                           make_source, read_sources, remove_source)
from index.store import ChunkStore
from index.stories import open_stories
from index.watch import poll, run_watch, source_line
from index.web import SourceReport

Print = Callable[[str], None]


def make_fetcher(settings: Settings, stop: threading.Event | None = None) -> Fetcher:
    """A Fetcher with the limits from settings that drops what it reads once stop is set."""
    return Fetcher(FetchPolicy(timeout=settings.fetch_timeout, host_delay=settings.fetch_delay,
                               max_bytes=int(settings.fetch_max_mb * 1_000_000)), cancel=stop)


class SourceList:
    """The watched sources, read again each cycle: a bad line (an edit in progress, a typo) is
    skipped with one line, said once, and the other sources are still polled."""

    def __init__(self, path: Path, out: Print) -> None:
        self.path, self.out = path, out
        self.said: set[str] = set()

    def __call__(self) -> list[Source]:
        """The good sources now in the file."""
        problems: list[str] = []
        sources = load_sources(self.path, problems)
        for problem in problems:
            if problem not in self.said:
                self.out(f"skipped {clean_input(problem)}")
        self.said = set(problems)
        return sources


def index_urls(urls: list[str], settings: Settings, store: ChunkStore, embedder: Embeddings,
               out: Print) -> list[SourceReport]:
    """`newsbot index URL ...`: each page, feed or sitemap once, a line per source."""
    store.claim_writer()  # one line now if another process has the index, not one per URL
    store.release_writer()
    fetcher, ledger = make_fetcher(settings), open_ledger(settings.home)
    stories, stop = open_stories(settings.home), threading.Event()
    reports = []
    try:
        for url in urls:
            try:
                source = make_source(url)
            except SourcesError as exc:  # one bad URL: said, and the others still indexed
                reports.append(SourceReport(url, "", error=str(exc)))
                out(f"{url}: failed: {exc}")
                continue
            outcome = poll(source, store, embedder, fetcher=fetcher, ledger=ledger,
                           stories=stories, stop=stop)
            reports.append(outcome)
            out(f"{url}: failed: {outcome.error}" if outcome.error
                else source_line(outcome).strip())
    finally:
        fetcher.close()
    return reports


def watch(settings: Settings, store: ChunkStore, embedder: Embeddings, out: Print, *,
          verbose: bool = False, once: bool = False) -> int:
    """`newsbot watch`: poll until Ctrl-C or SIGTERM; the current source is finished or dropped."""
    path = sources_path(settings)
    sources = SourceList(path, out)
    if not sources():
        raise UsageError(f"no sources in {path}: add one with `newsbot sources add URL`")
    stop = threading.Event()
    fetcher, ledger = make_fetcher(settings, stop), open_ledger(settings.home)
    out(f"watching {len(sources())} sources from {path} "
        f"(every {format_every(settings.watch_interval * 60)} by default; Ctrl-C stops)")
    try:
        with stop_on_signals(stop):
            last = run_watch(store, embedder, sources, fetcher=fetcher,
                             ledger=ledger, stories=open_stories(settings.home),
                             every=settings.watch_interval * 60, stop=stop, report=out,
                             verbose=verbose, cycles=1 if once else None)
    finally:
        fetcher.close()
    if once and last is not None and (last.total("new") or last.total("updated")):
        from bot.factories import make_keyword_index

        make_keyword_index(settings, store).catch_up(store)  # as `index` does, for the next bot
    out("stopped" if stop.is_set() else "done")
    failed = last is not None and last.sources and all(s.error for s in last.sources)
    return 1 if once and failed else 0  # cron sees a run where every source failed


def watch_in_background(settings: Settings, store: ChunkStore, embedder: Embeddings,
                        out: Print) -> threading.Event:
    """`chat --watch` / `slack --watch`: this serving process is also the index's one writer.

    Embedded Chroma cannot be shared with a writer in another process, so a bot that must stay
    fresh polls the sources itself. Claims the writer role now (a one-line StoreError if another
    process uses the index); set the returned event to stop after the current source.
    """
    path = sources_path(settings)
    sources = SourceList(path, out)
    if not sources():
        raise UsageError(f"--watch: no sources in {path}: add one with `newsbot sources add URL`")
    store.claim_writer(hold=True)
    stop = threading.Event()
    fetcher, ledger = make_fetcher(settings, stop), open_ledger(settings.home)

    def _run() -> None:
        try:
            embedder.embed_documents(["warm up"])  # load the model now, not with the first news
            run_watch(store, embedder, sources, fetcher=fetcher, ledger=ledger,
                      stories=open_stories(settings.home), every=settings.watch_interval * 60,
                      stop=stop, report=out)
        except Exception as exc:  # the bot serves on; the watcher says why it stopped
            out(f"watch stopped: {(str(exc).splitlines() or [type(exc).__name__])[0][:200]}")
        finally:
            fetcher.close()

    thread = threading.Thread(target=_run, name="watch", daemon=True)
    thread.start()
    atexit.register(lambda: (stop.set(), thread.join(timeout=60)))  # never cut a write short
    return stop


def change_sources(settings: Settings, action: str, url: str | None, every: str | None,
                   out: Print) -> int:
    """`newsbot sources add URL [--every 15m] | remove URL | list`. A line of the file that
    cannot be read is said (and kept as written), never a reason to refuse the others."""
    path = sources_path(settings)
    try:
        sources, bad = read_sources(path)
        if action == "list":
            for s in sources:
                out(clean_input(s.line()))
            if not sources and not bad:
                out(f"no sources yet ({path}); add one with `newsbot sources add URL`")
            code = 0
        elif not url:
            raise UsageError(f"`newsbot sources {action}` needs a URL")
        elif action == "add":
            source = make_source(url, every)
            before = next((s for s in sources if s.url == source.url), None)
            changed = add_source(path, source)
            said = "added" if before is None else "updated" if changed else "already there"
            out(f"{said}: {source.line()}")
            code = 0
        else:
            removed = remove_source(path, url)
            out(f"removed: {url}" if removed else f"not a source: {url}")
            code = 0 if removed else 1
    except SourcesError as exc:
        raise UsageError(str(exc)) from exc
    for _, why in read_sources(path)[1]:
        out(f"skipped {clean_input(why)}")  # a typed line may hold terminal escapes
    return code


def sources_status(settings: Settings) -> list[dict]:
    """Each source's last success, last error and articles indexed from it (a line of the file
    that cannot be read: its url and the problem as last_error)."""
    path = sources_path(settings)
    if not path.exists():
        return []
    ledger = open_ledger(settings.home)
    sources, bad = read_sources(path)
    rows = []
    for source in sources:
        state = ledger.source(source.url)
        rows.append({"url": source.url, "last_success": state.last_success or None,
                     "last_error": state.last_error or None, "error_at": state.error_at or None,
                     "articles": state.articles})
    rows += [{"url": clean_input(line.split()[0]), "last_success": None,
              "last_error": f"skipped: {clean_input(why)}", "error_at": None, "articles": 0,
              "skipped": True} for line, why in bad]
    return rows


def sources_text(rows: list[dict]) -> str:
    """The sources part of `newsbot status`."""
    skipped = sum(1 for row in rows if row.get("skipped"))
    lines = [f"sources      {len(rows) - skipped}"
             + (f" ({skipped} lines of sources.txt skipped)" if skipped else "")]
    for row in rows:
        when = f"last error {row['error_at']}: " if row["error_at"] else ""
        error = f" · {when}{row['last_error']}" if row["last_error"] else ""
        lines.append(f"  {row['url']} · {row['articles']} articles · last success "
                     f"{row['last_success'] or 'never'}{error}")
    return "\n".join(lines)


def sources_path(settings: Settings):
    """$NEWSBOT_HOME/sources.txt"""
    return settings.home / "sources.txt"


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM set stop instead of raising, so writing an article is never cut."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
