"""Web sources against a real local news site: feeds, pages, sitemaps and what goes wrong."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.measurement.newsroom import (Resource, Site, article_page, atom_feed, news_sitemap,
                                      publish, rss_feed, xml)
from index.fetch import FetchError, FetchPolicy, Fetcher
from index.ledger import open_ledger
from index.stories import open_stories
from index.sources import Source
from index.watch import poll
from index.web import index_source
from tests.conftest import ROOT

CORPUS = ROOT.parent / "shared" / "eval" / "realtimeqa" / "articles.jsonl"


def records(n: int, skip: int = 0) -> list[dict]:
    """The first n records of the RealTime QA corpus with text of a useful length."""
    found = []
    with CORPUS.open() as lines:
        for line in lines:
            rec = json.loads(line)
            if 600 < len(rec["text"]) < 6000:
                found.append(rec)
            if len(found) == n + skip:
                return found[skip:]
    return found[skip:]


@pytest.fixture
def site():
    site = Site("The Example Times").start()
    yield site
    site.stop()


@pytest.fixture
def live(tmp_path, store, fake_embedder):
    """Everything index_source needs, with no delay between requests."""
    fetcher = Fetcher(FetchPolicy(host_delay=0, timeout=2, attempts=3, backoff=0.01))
    home = tmp_path / "home"
    yield dict(store=store, embedder=fake_embedder, fetcher=fetcher, ledger=open_ledger(home),
               stories=open_stories(home))
    fetcher.close()


def run(url: str, live: dict):
    return index_source(url, live["store"], live["embedder"], live["fetcher"], live["ledger"],
                        stories=live["stories"])


def test_unchanged_feed_costs_one_conditional_request_and_no_article_fetch(site, live):
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, records(4))))
    first = run(site.url("/feed.xml"), live)
    assert (first.kind, first.new, first.error) == ("rss20", 4, "")
    site.log.clear()
    second = run(site.url("/feed.xml"), live)
    assert (second.kind, second.new, second.updated) == ("unchanged", 0, 0)
    assert site.requests_to() == [("/feed.xml", 304)]


def test_a_changed_entry_is_the_only_article_fetched_again(site, live):
    recs = records(4)
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, recs)))
    run(site.url("/feed.xml"), live)
    recs[2] = {**recs[2], "title": recs[2]["title"] + " (updated)",
               "text": recs[2]["text"] + "\nA new paragraph was added to the story later on."}
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, recs)))
    site.log.clear()
    report = run(site.url("/feed.xml"), live)
    assert (report.new, report.updated, report.unchanged) == (0, 1, 3)
    assert site.requests_to() == [("/feed.xml", 200), (f"/news/{recs[2]['id']}", 200)]



def test_a_source_counts_each_article_once_however_often_it_is_updated(site, live):
    # Seen by an outside probe: a feed of 12 articles was said to have given 76 (each update
    # was counted again).
    recs = records(4)
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, recs)))
    source, stop = Source(site.url("/feed.xml")), threading.Event()
    options = dict(fetcher=live["fetcher"], ledger=live["ledger"], stories=live["stories"],
                   stop=stop)
    poll(source, live["store"], live["embedder"], **options)
    recs[2] = {**recs[2], "title": recs[2]["title"] + " (updated)",
               "text": recs[2]["text"] + "\nA new paragraph was added later on."}
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, recs)))
    assert poll(source, live["store"], live["embedder"], **options).updated == 1
    assert live["ledger"].source(site.url("/feed.xml")).articles == 4

def test_atom_feeds_and_news_sitemaps_give_dated_articles_with_their_outlet(site, live):
    recs = records(4)
    site.routes["/atom.xml"] = xml(atom_feed("Times", publish(site, recs[:2])),
                                   "application/atom+xml")
    site.routes["/sitemap.xml"] = xml(news_sitemap("Times", publish(site, recs[2:])),
                                      "application/xml")
    assert run(site.url("/atom.xml"), live).new == 2
    assert run(site.url("/sitemap.xml"), live).new == 2
    metas = live["store"].collection.get(include=["metadatas"])["metadatas"]
    by_url = {m["url"]: m for m in metas}
    for rec in recs:
        meta = by_url[site.url(f"/news/{rec['id']}")]
        assert (meta["date"], meta["source"]) == (rec["date"], "The Example Times")


def test_a_page_url_is_one_article_whose_id_comes_from_its_canonical_url(site, live):
    [rec] = publish(site, records(1))
    page = run(rec[0] + "?utm_source=newsletter", live)
    assert page.new == 1
    site.routes["/feed.xml"] = xml(rss_feed("Times", [rec]))
    again = run(site.url("/feed.xml"), live)  # the same story reached from the feed
    assert (again.new, again.unchanged) == (0, 1)
    assert len(live["store"].articles()) == 1



def test_a_page_cannot_take_another_sites_article_by_naming_it_canonical(site, live):
    # Seen by an outside probe: a page on another host declared the victim's URL canonical,
    # replaced its article ("0 new, 1 updated") and was cited under the victim's URL.
    victim, forger = records(2)
    [(link, _, _)] = publish(site, [victim])
    assert run(link, live).new == 1
    site.routes["/forged"] = Resource(article_page(forger, "Evil", link).encode())
    elsewhere = site.url("/forged").replace("127.0.0.1", "localhost")  # another host, same server
    forged = run(elsewhere, live)
    assert (forged.new, forged.updated) == (1, 0)
    kept = {a.origin: a for a in live["store"].articles().values()}
    assert set(kept) == {link, elsewhere}

def test_page_text_keeps_the_article_and_drops_the_boilerplate(site, live):
    rec = records(1)[0]
    publish(site, [rec])
    run(site.url(f"/news/{rec['id']}"), live)
    text = " ".join(live["store"].collection.get(include=["documents"])["documents"])
    first_paragraph = rec["text"].split("\n")[0]
    assert first_paragraph[:80] in text
    for junk in ("Accept all cookies", "Save 40%", "Ten things to know", "Totally disagree",
                 "SECRET-TRACKER", "All rights reserved"):
        assert junk not in text


def test_robots_txt_keeps_newsbot_out_of_a_disallowed_path(site, live):
    site.robots = "User-agent: *\nDisallow: /private/\n"
    allowed = publish(site, records(1))
    hidden = publish(site, records(1, skip=1), prefix="/private")
    site.routes["/feed.xml"] = xml(rss_feed("Times", allowed + hidden))
    report = run(site.url("/feed.xml"), live)
    assert (report.new, report.failed) == (1, 1)
    assert "robots.txt disallows" in report.failures[0][1]
    assert not site.requests_to("/private")


@pytest.mark.parametrize("resource, reason, requests", [
    (Resource(b"<html>late</html>", delay=1.5), "timed out after 3 tries", 3),
    (Resource(status=500), "HTTP 500 after 3 tries", 3),
    (Resource(b"x" * 20_000_000), "larger than the 5 MB cap", 1),
    (Resource(b"%PDF-1.7 binary stuff"), "a PDF served as text/html", 1),
    (Resource(status=302, location="/page"), "more than 5 redirects", 6),
    (xml('<?xml version="1.0"?><rss version="2.0"><channel><title>x</ti'), "malformed feed", 1),
])
def test_a_bad_source_fails_in_one_line_after_bounded_tries(site, live, resource, reason,
                                                             requests):
    live["fetcher"] = Fetcher(FetchPolicy(host_delay=0, timeout=0.5, attempts=3, backoff=0.01))
    site.routes["/page"] = resource
    report = run(site.url("/page"), live)
    assert reason in report.error and "\n" not in report.error
    assert site.arrivals.count("/page") == requests
    assert live["ledger"].validators(site.url("/page")) is None  # retried next time


def test_a_dead_host_is_a_fetch_error_not_a_crash():
    fetcher = Fetcher(FetchPolicy(host_delay=0, timeout=0.5, attempts=2, backoff=0.01))
    with pytest.raises(FetchError, match="^cannot connect after 2 tries"):
        fetcher.get("http://127.0.0.1:9/feed.xml")



@contextmanager
def trickling_server() -> Iterator[str]:
    """A server that promises 100 kB and sends a byte every 0.2 s: each read is in time, the
    whole never comes. Yields its URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                             b"Content-Length: 100000\r\n\r\n")
                while not done.wait(0.2):
                    try:
                        conn.sendall(b"x")
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/trickle"
    finally:
        done.set()
        listener.close()


def test_a_trickle_ends_at_the_deadline_and_a_stop_ends_it_sooner():
    # Seen by an outside probe: a byte every 2 s kept `watch --once` fetching for 11 minutes
    # (each read was within the timeout), and SIGTERM could not end it.
    with trickling_server() as url:
        fetcher = Fetcher(FetchPolicy(host_delay=0, timeout=1, deadline=1.5, attempts=1))
        started = time.monotonic()
        with pytest.raises(FetchError, match="too slow: no whole answer in 2 s"):
            fetcher.get(url)
        assert time.monotonic() - started < 5
        stop = threading.Event()
        fetcher = Fetcher(FetchPolicy(host_delay=0, timeout=1, attempts=1), cancel=stop)
        threading.Timer(0.5, stop.set).start()
        started = time.monotonic()
        with pytest.raises(FetchError, match="stopped while reading"):
            fetcher.get(url)
        assert time.monotonic() - started < 3


def test_a_sitemap_index_that_lists_itself_is_read_once(site, live):
    # Seen by an outside probe: 481 requests to one URL, then a RecursionError.
    loop = site.url("/index.xml")
    site.routes["/index.xml"] = xml(
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{loop}</loc></sitemap></sitemapindex>", "application/xml")
    report = run(loop, live)
    assert site.arrivals.count("/index.xml") == 1
    assert report.failures == [(loop, "skipped: a sitemap index that lists itself or one that "
                                      "led to it")]


def test_sitemap_indexes_are_read_two_deep(site, live):
    def index(*children: str) -> Resource:
        locs = "".join(f"<sitemap><loc>{site.url(c)}</loc></sitemap>" for c in children)
        return xml('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
                   f'sitemap/0.9">{locs}</sitemapindex>', "application/xml")
    site.routes["/a.xml"] = index("/b.xml")
    site.routes["/b.xml"] = index("/news.xml", "/c.xml")
    site.routes["/c.xml"] = index("/news.xml")
    site.routes["/news.xml"] = xml(news_sitemap("Times", publish(site, records(1))),
                                   "application/xml")
    report = run(site.url("/a.xml"), live)
    assert report.new == 1 and site.arrivals.count("/c.xml") == 1
    assert report.failures == [(site.url("/news.xml"),
                                "skipped: sitemap indexes nested more than 2 deep")]

def test_requests_to_one_host_are_spaced_by_the_delay(site):
    site.routes["/a"] = Resource(b"<html><body><p>a</p></body></html>")
    fetcher = Fetcher(FetchPolicy(host_delay=0.3))
    for _ in range(3):
        fetcher.get(site.url("/a"))
    stamps = fetcher._next_turn[site.base.removeprefix("http://")]
    assert fetcher.requests == 4  # robots.txt + 3
    assert stamps - time.monotonic() <= 0.3
    fetcher.close()


def test_a_wire_story_from_three_outlets_is_one_story_led_by_the_longest(live):
    wire = records(1)[0]
    sites = [Site(name).start() for name in ("Reuters", "CNN", "The Example Times")]
    try:
        versions = [wire, {**wire, "text": wire["text"].replace(".", ";", 1)},
                    {**wire, "text": wire["text"] + "\nThis version adds a late paragraph "
                                                    "with reaction from officials."}]
        for site, version in zip(sites, versions):
            site.routes["/feed.xml"] = xml(rss_feed(site.name, publish(site, [version])))
            assert run(site.url("/feed.xml"), live).new == 1
        metas = live["store"].collection.get(include=["metadatas"])["metadatas"]
        assert len({m["story"] for m in metas}) == 1
        lead = {m["article_id"] for m in metas if m["source"] == "The Example Times"}
        for meta in metas:
            assert meta["story_outlets"] == "The Example Times, Reuters, CNN"
            assert {meta["story_lead"]} == lead
    finally:
        for site in sites:
            site.stop()
