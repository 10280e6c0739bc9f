"""`newsbot bench --live`: live-news figures on a local news site built from the RealTime QA corpus.

- a watch cycle over 50 feeds x 20 items with nothing new (wall time, requests: the target is
  one conditional request per feed and no article fetch), then after 10 items change;
- extraction on 50 pages with boilerplate: share of article sentences kept and of boilerplate
  lines dropped, trafilatura against the BeautifulSoup loader it replaced;
- story groups formed on the whole corpus.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from bot.measurement.newsroom import BOILERPLATE, Site, article_page, publish, rss_feed, xml
from index.articles import LoadError, _load_html_soup, load_path
from index.chunking import split_sentences
from index.extract import extract_fields
from index.fetch import FetchPolicy, Fetcher
from index.ledger import open_ledger
from index.sources import Source
from index.connection import open_store
from index.stories import StoryBook, open_stories
from index.watch import watch_cycle

Report = Callable[[str], None]
FEEDS, ITEMS, CHANGED, PAGES = 50, 20, 10, 50


def run_live_bench(corpus: Path, embedder: Embeddings, report: Report) -> dict:
    """All live-news figures; each is reported as soon as it is known."""
    records = [json.loads(line) for line in corpus.open() if line.strip()]
    figures = bench_extraction(records[:PAGES], report)
    figures.update(bench_stories(corpus, report))
    figures.update(bench_watch(records[:FEEDS * ITEMS], embedder, report))
    return figures


def bench_watch(records: list[dict], embedder: Embeddings, report: Report) -> dict:
    """Cycles over FEEDS local feeds (one host each) of ITEMS items: unchanged, then edited."""
    sites = [Site(f"Outlet {i}").start() for i in range(FEEDS)]
    groups = [records[i * ITEMS:(i + 1) * ITEMS] for i in range(FEEDS)]
    try:
        for site, group in zip(sites, groups):
            site.routes["/feed.xml"] = xml(rss_feed(site.name, publish(site, group)))
        with tempfile.TemporaryDirectory() as tmp:
            figures = _cycles(sites, groups, Path(tmp), embedder, report)
    finally:
        for site in sites:
            site.stop()
    return figures


def _cycles(sites: list[Site], groups: list[list[dict]], home: Path, embedder: Embeddings,
            report: Report) -> dict:
    store, ledger, stories = open_store(home), open_ledger(home), open_stories(home)
    fetcher = Fetcher(FetchPolicy(host_delay=0))
    sources = [Source(site.url("/feed.xml")) for site in sites]

    def cycle(embed: Embeddings) -> tuple[float, int, int, object]:
        for site in sites:
            site.log.clear()
        done = watch_cycle(sources, store, embed, fetcher=fetcher, ledger=ledger,
                           stories=stories, stop=threading.Event(), report=lambda _: None)
        articles = sum(len(site.requests_to("/news")) for site in sites)
        return done.seconds, done.requests, articles, done

    # The first fill only sets the scene: a hashing embedder keeps it short.
    fill_s, fill_requests, _, _ = cycle(DeterministicFakeEmbedding(size=384))
    embedder.embed_documents(["warm up"])  # load the model outside the measured cycles
    idle_s, idle_requests, idle_articles, idle = cycle(embedder)
    not_modified = sum(1 for s in idle.sources if s.kind == "unchanged")
    for i in range(CHANGED):  # edit one item in each of the first CHANGED feeds
        site, group = sites[i], groups[i]
        group[0] = {**group[0], "title": group[0]["title"] + " (updated)",
                    "text": group[0]["text"] + "\nUpdate: officials confirmed the figures."}
        site.routes["/feed.xml"] = xml(rss_feed(site.name, publish(site, group)))
    changed_s, changed_requests, changed_articles, changed = cycle(embedder)
    fetcher.close()
    report(f"watch, {len(sites)} feeds x {len(groups[0])} items (no delay between requests): "
           f"first fill {fill_requests} requests in {fill_s:.1f} s · nothing new: {idle_s:.2f} s, "
           f"{idle_requests} requests ({not_modified} answered 304), {idle_articles} article "
           f"fetches · {CHANGED} items changed: {changed_s:.2f} s, {changed_requests} requests, "
           f"{changed_articles} article fetches, {changed.total('updated')} articles updated")
    return {"watch_fill_s": round(fill_s, 2), "watch_idle_s": round(idle_s, 3),
            "watch_idle_requests": idle_requests, "watch_idle_304": not_modified,
            "watch_idle_article_fetches": idle_articles, "watch_changed_s": round(changed_s, 3),
            "watch_changed_requests": changed_requests,
            "watch_changed_article_fetches": changed_articles,
            "watch_changed_updated": changed.total("updated")}


def bench_extraction(records: list[dict], report: Report) -> dict:
    """Sentences kept and boilerplate dropped, per page layout and extractor."""
    figures: dict = {}
    for layout in ("semantic", "divs"):
        for name, extract in (("trafilatura", _trafilatura_text), ("beautifulsoup", _soup_text)):
            figures[f"{layout}/{name}"] = row = _extraction(records, layout, extract)
            report(f"extraction, {layout} pages, {name}: {row['sentences_kept']:.1%} of "
                   f"{row['sentences']} article sentences kept, {row['boilerplate_dropped']:.1%} "
                   f"of boilerplate lines dropped, {row['ms_per_page']} ms/page "
                   f"({len(records)} pages)")
    return {"extraction": figures}


def _extraction(records: list[dict], layout: str, extract: Callable[[str], str]) -> dict:
    kept = dropped = total = 0
    # menu words ("Home", "World") also occur in article text: only the longer lines count
    lines = [_squash(line) for line in BOILERPLATE if len(line) > 12]
    started = time.perf_counter()
    for record in records:
        html = article_page(record, "The Example Times", f"https://example.com/{record['id']}",
                            layout=layout)
        text = _squash(extract(html))
        sentences = [_squash(s.text) for s in split_sentences(record["text"])]
        kept += sum(1 for s in sentences if s in text)
        total += len(sentences)
        dropped += sum(1 for line in lines if line not in text)
    seconds = time.perf_counter() - started
    return {"sentences": total, "sentences_kept": round(kept / total, 4),
            "boilerplate_dropped": round(dropped / (len(lines) * len(records)), 4),
            "ms_per_page": round(1000 * seconds / len(records), 1)}


def bench_stories(corpus: Path, report: Report) -> dict:
    """Story groups formed on the corpus, and the time it takes."""
    articles = load_path(corpus)
    started = time.perf_counter()
    book = StoryBook()
    book.assign(articles)
    seconds = time.perf_counter() - started
    groups = book.groups()
    sizes = Counter(len(m) for m in groups.values())
    grouped = sum(len(m) for m in groups.values())
    report(f"stories: {len(articles)} articles -> {len(articles) - grouped + len(groups)} stories; "
           f"{len(groups)} groups of 2+ hold {grouped} articles "
           f"(sizes {dict(sorted(sizes.items()))}) · {seconds:.2f} s")
    return {"story_groups": len(groups), "story_grouped_articles": grouped,
            "story_group_sizes": dict(sorted(sizes.items())), "story_seconds": round(seconds, 2)}


def _trafilatura_text(html: str) -> str:
    try:
        return extract_fields(html).get("text") or ""
    except LoadError:
        return ""


def _soup_text(html: str) -> str:
    return _load_html_soup(html, "page.html").text


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
