"""Index web sources: an article page, an RSS/Atom feed, or a sitemap, given by URL.

A feed costs one conditional request when it has not changed. When it has, only entries that
are new or that the feed shows changed are fetched, each with its own conditional request.
What was fetched is remembered in the ledger only after it is indexed, so an interrupted or
failed run is redone next time.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from langchain_core.embeddings import Embeddings

from index.articles import Article, LoadError
from index.extract import EntryHints, extract_article
from index.feeds import Entry, Listing, read_listing
from index.fetch import FetchError, Fetcher, Page, Validators
from index.ingest import IngestReport, write_articles
from index.ledger import Ledger
from index.store import ChunkStore
from index.stories import StoryBook

log = logging.getLogger(__name__)
MAX_CHILD_SITEMAPS = 20
# How many sitemap indexes deep a source is read (an index listing indexes listing sitemaps;
# real sites nest one); a loop is skipped.
MAX_SITEMAP_DEPTH = 2


@dataclass
class Harvest:
    """What one source yielded; `commit` is what the ledger learns once it is indexed."""

    url: str
    kind: str = ""
    articles: list[Article] = field(default_factory=list)
    unchanged: int = 0  # entries skipped (feed shows them unchanged, or the page answered 304)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (entry url, reason)
    error: str = ""  # the source itself failed
    interrupted: bool = False
    commit: list[tuple[str, Validators | None, str, str]] = field(default_factory=list)


@dataclass
class SourceReport:
    """One source's outcome after indexing."""

    url: str
    kind: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    error: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False


def is_url(text: str) -> bool:
    """Whether a command-line argument names a web source rather than a file."""
    return text.lower().startswith(("http://", "https://"))


def harvest(url: str, fetcher: Fetcher, ledger: Ledger,
            stop: threading.Event | None = None, within: tuple[str, ...] = ()) -> Harvest:
    """Fetch a source and the articles it points to; failures end up in the Harvest, not raised.
    within: the sitemap indexes that led here, outermost first."""
    result = Harvest(url)
    try:
        page = fetcher.get(url, ledger.validators(url))
        if page.not_modified:
            result.kind = "unchanged"
            return result
        listing = read_listing(page)
    except (FetchError, LoadError) as exc:
        result.error = str(exc)
        return result
    if listing is None:
        _take_page(page, url, result, EntryHints(), "")
        if result.failures:  # the source is the page: its failure is the source's
            result.error = result.failures.pop()[1]
            return result
    else:
        _take_listing(listing, fetcher, ledger, stop, result, within + (url,))
    if not result.failures and not result.interrupted:
        result.commit.append((url, page.validators, "", ""))
    return result


def index_source(url: str, store: ChunkStore, embedder: Embeddings, fetcher: Fetcher,
                 ledger: Ledger, *, stories: StoryBook | None = None,
                 stop: threading.Event | None = None) -> SourceReport:
    """Harvest one source, write its articles, then remember what was fetched."""
    if ledger.follow_store(store.epoch(), store.current_seq()):
        log.warning("the index is not the one the fetch ledger knew (wiped, or restored from an "
                    "older copy): every page and feed is fetched again")
    got = harvest(url, fetcher, ledger, stop)
    report = SourceReport(url, got.kind, unchanged=got.unchanged, failed=len(got.failures),
                          error=got.error, failures=got.failures, interrupted=got.interrupted)
    if got.error or got.interrupted:
        return report
    unique = list({a.id: a for a in got.articles}.values())
    written: IngestReport = write_articles(unique, store, embedder, stories=stories)
    report.new, report.updated = len(written.new), len(written.updated)
    report.unchanged += len(written.unchanged)
    for entry_url, validators, mark, article_id in got.commit:
        ledger.remember(entry_url, validators, mark=mark, article_id=article_id)
    if written.new or written.updated:  # what the store holds after this write
        ledger.follow_store(store.epoch(), store.current_seq())
    return report


def _take_listing(listing: Listing, fetcher: Fetcher, ledger: Ledger,
                  stop: threading.Event | None, result: Harvest, within: tuple[str, ...]) -> None:
    result.kind = listing.kind
    for child in listing.children[:MAX_CHILD_SITEMAPS]:
        if child in within or len(within) > MAX_SITEMAP_DEPTH:
            why = ("a sitemap index that lists itself or one that led to it" if child in within
                   else f"sitemap indexes nested more than {MAX_SITEMAP_DEPTH} deep")
            result.failures.append((child, f"skipped: {why}"))
            continue
        if stop is not None and stop.is_set():
            result.interrupted = True
            return
        sub = harvest(child, fetcher, ledger, stop, within)
        result.articles += sub.articles
        result.unchanged += sub.unchanged
        result.failures += sub.failures + ([(child, sub.error)] if sub.error else [])
        result.commit += sub.commit
        result.interrupted |= sub.interrupted
    for entry in listing.entries:
        if stop is not None and stop.is_set():
            result.interrupted = True
            return
        _take_entry(entry, fetcher, ledger, result)


def _take_entry(entry: Entry, fetcher: Fetcher, ledger: Ledger, result: Harvest) -> None:
    known = ledger.mark(entry.url)
    if known and known[0] == entry.mark:
        result.unchanged += 1
        return
    try:
        page = fetcher.get(entry.url, ledger.validators(entry.url) if known else None)
    except FetchError as exc:
        result.failures.append((entry.url, str(exc)))
        return
    if page.not_modified:
        result.unchanged += 1
        result.commit.append((entry.url, ledger.validators(entry.url), entry.mark, known[1]))
        return
    _take_page(page, entry.url, result, entry.hints, entry.mark)


def _take_page(page: Page, url: str, result: Harvest, hints: EntryHints, mark: str) -> None:
    result.kind = result.kind or "page"
    try:
        article = extract_article(page.text(), page.final_url, hints=hints)
    except LoadError as exc:
        result.failures.append((url, str(exc)))
        return
    result.articles.append(article)
    result.commit.append((url, page.validators, mark, article.id))
