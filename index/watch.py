"""`newsbot watch`: poll the sources on their intervals and index what is new or changed.

run_watch() takes the store and embedder it writes with and a stop event, so it can run in the
main thread of `newsbot watch` or in a thread next to a serving bot. Each cycle polls the sources
that are due, one after another; a failing source costs one line and is polled again on its next
turn. When stop is set, the source being read is abandoned before its articles are written, and
nothing about it is remembered, so the next cycle reads it again.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from langchain_core.embeddings import Embeddings

from index.fetch import Fetcher
from index.heap import release_free_memory
from index.ledger import Ledger
from index.sources import Source
from index.store import ChunkStore, StoreError
from index.stories import StoryBook
from index.web import SourceReport, index_source

log = logging.getLogger(__name__)
Report = Callable[[str], None]
MAX_SLEEP = 30.0  # seconds: the sources file is re-read at least this often


@dataclass
class CycleReport:
    """What one cycle did, for its summary line."""

    sources: list[SourceReport] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    def total(self, name: str) -> int:
        """The sum of one SourceReport count over the sources."""
        return sum(getattr(s, name) for s in self.sources)

    def summary(self) -> str:
        """The cycle's one line."""
        failed = sum(1 for s in self.sources if s.error) + self.total("failed")
        not_modified = sum(1 for s in self.sources if s.kind == "unchanged")
        return (f"{time.strftime('%H:%M:%S')} {self.total('new')} new, "
                f"{self.total('updated')} updated, {self.total('unchanged')} unchanged, "
                f"{failed} failed · {len(self.sources)} sources ({not_modified} not modified) · "
                f"{self.requests} requests · {self.seconds:.1f} s")


def run_watch(store: ChunkStore, embedder: Embeddings, sources: Callable[[], list[Source]], *,
              fetcher: Fetcher, ledger: Ledger, stories: StoryBook | None, every: float,
              stop: threading.Event, report: Report, verbose: bool = False,
              cycles: int | None = None) -> CycleReport | None:
    """Poll due sources until stop is set (or after `cycles` cycles); returns the last cycle's
    report (None when none ran)."""
    done, last = 0, None
    while not stop.is_set() and (cycles is None or done < cycles):
        current = sources()
        due = [s for s in current if _wait_for(s, ledger, every) <= 0]
        if due:
            cycle = watch_cycle(due, store, embedder, fetcher=fetcher, ledger=ledger,
                                stories=stories, stop=stop, report=report, verbose=verbose)
            if cycle.sources:  # a cycle cut short still says what it finished
                report(cycle.summary())
            release_free_memory()  # a day of cycles must not pile up freed heap
            done, last = done + 1, cycle
            continue
        waits = [_wait_for(s, ledger, every) for s in current]
        if cycles is not None:  # --once (cron): nothing is due, so this run has nothing to do
            report(f"nothing due: the next source is due in {math.ceil(min(waits) / 60)} min"
                   if waits else "no sources")
            return last
        stop.wait(max(min(waits + [MAX_SLEEP]), 0.05))
    return last


def watch_cycle(due: list[Source], store: ChunkStore, embedder: Embeddings, *, fetcher: Fetcher,
                ledger: Ledger, stories: StoryBook | None, stop: threading.Event,
                report: Report, verbose: bool = False) -> CycleReport:
    """Poll each source once; stops early, cleanly, when stop is set."""
    cycle = CycleReport()
    started, requests = time.perf_counter(), fetcher.requests
    for source in due:
        if stop.is_set():
            break
        outcome = poll(source, store, embedder, fetcher=fetcher, ledger=ledger, stories=stories,
                       stop=stop)
        if outcome.interrupted:
            break
        cycle.sources.append(outcome)
        if outcome.error:
            report(f"  {source.url}: failed: {outcome.error}")
        elif verbose:
            report(source_line(outcome))
    cycle.requests = fetcher.requests - requests
    cycle.seconds = time.perf_counter() - started
    return cycle


def poll(source: Source, store: ChunkStore, embedder: Embeddings, *, fetcher: Fetcher,
         ledger: Ledger, stories: StoryBook | None, stop: threading.Event) -> SourceReport:
    """Index one source and record how it went; never raises for the source's own problems."""
    started = time.time()
    try:
        outcome = index_source(source.url, store, embedder, fetcher, ledger, stories=stories,
                               stop=stop)
    except Exception as exc:  # one bad source must not stop the others
        log.debug("source %s", source.url, exc_info=True)
        first = (str(exc).splitlines() or [""])[0]  # our own errors are whole lines already
        error = first if isinstance(exc, StoreError) else f"{type(exc).__name__}: {first[:160]}"
        outcome = SourceReport(source.url, "", error=error)
    if outcome.interrupted:
        return outcome
    ledger.record_poll(source.url, started, error=outcome.error,
                       articles=outcome.new)  # an updated article was counted when it was new
    return outcome


def source_line(outcome: SourceReport) -> str:
    """One source's line for -v."""
    text = (f"  {outcome.url}: {outcome.kind or 'source'}: {outcome.new} new, "
            f"{outcome.updated} updated, {outcome.unchanged} unchanged")
    if outcome.failures:
        where, why = outcome.failures[0]
        more = f" (+{len(outcome.failures) - 1} more)" if len(outcome.failures) > 1 else ""
        text += f", {len(outcome.failures)} failed: {where}: {why}{more}"
    return text


def _wait_for(source: Source, ledger: Ledger, every: float) -> float:
    """Seconds until the source is due (0 or less: due now)."""
    interval = source.every if source.every is not None else every
    return ledger.source(source.url).last_attempt + interval - time.time()
