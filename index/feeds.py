"""Feeds and sitemaps: the list of article links a source offers, with what it says about each.

RSS and Atom are parsed by feedparser; sitemaps (Google news sitemaps included) by lxml with
entities and network access off. Each entry carries a mark (a hash of what the listing says
about it: title, dates, summary), so an entry the listing still shows unchanged is not fetched
again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin

from index.articles import LoadError, normalise_date
from index.extract import EntryHints
from index.fetch import Page

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
MAX_ENTRIES = 500  # per listing: a huge sitemap is read in part, newest entries first listed


@dataclass(frozen=True)
class Entry:
    """One article link from a listing."""

    url: str
    hints: EntryHints
    mark: str


@dataclass
class Listing:
    """A feed or sitemap: its kind, its article entries and (sitemap indexes) child sitemaps."""

    kind: str
    title: str = ""
    entries: list[Entry] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


def read_listing(page: Page) -> Listing | None:
    """The page as a feed or sitemap, or None when it is an ordinary (article) page. Links
    relative to the listing ("/news/owls.html", legal in Atom and common in RSS) are made
    absolute against the URL it was read from."""
    head = page.content[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<!doctype html") or head.startswith(b"<html"):
        return None
    if b"<urlset" in page.content[:2048] or b"<sitemapindex" in page.content[:2048]:
        listing = read_sitemap(page.content)
    else:
        listing = read_feed(page.content,
                            looks_like_xml=head.startswith((b"<?xml", b"<rss", b"<feed")))
    if listing is not None:
        base = page.final_url or page.url
        listing.entries = [replace(e, url=urljoin(base, e.url)) for e in listing.entries]
        listing.children = [urljoin(base, child) for child in listing.children]
    return listing


def read_feed(content: bytes, *, looks_like_xml: bool = True) -> Listing | None:
    """An RSS/Atom feed's entries; None when feedparser sees no feed; LoadError when broken."""
    import feedparser  # imported here: only feeds need it

    parsed = feedparser.parse(content)
    entries = [e for e in parsed.entries if e.get("link")]
    if not parsed.version and not entries:
        if looks_like_xml:
            raise LoadError(f"malformed feed: {_bozo(parsed)}")
        return None
    if parsed.bozo and not entries:
        raise LoadError(f"malformed feed: {_bozo(parsed)}")
    outlet = parsed.feed.get("title", "")
    return Listing(parsed.version or "feed", outlet,
                   [_feed_entry(e, outlet) for e in entries[:MAX_ENTRIES]])


def read_sitemap(content: bytes) -> Listing:
    """A sitemap's URLs (news sitemap titles and dates as hints), or a sitemap index's children."""
    from lxml import etree  # lxml comes with trafilatura

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise LoadError(f"malformed sitemap: {exc}") from exc
    if etree.QName(root).localname == "sitemapindex":
        locs = root.xpath("//s:sitemap/s:loc/text()", namespaces={"s": SITEMAP_NS})
        return Listing("sitemapindex", children=[loc.strip() for loc in locs][:MAX_ENTRIES])
    entries = [_sitemap_entry(node) for node in root.findall(f"{{{SITEMAP_NS}}}url")]
    return Listing("sitemap", entries=[e for e in entries if e.url][:MAX_ENTRIES])


def _feed_entry(entry: dict, outlet: str) -> Entry:
    date = entry.get("published") or entry.get("updated") or ""
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed:
        date = f"{parsed.tm_year:04d}-{parsed.tm_mon:02d}-{parsed.tm_mday:02d}"
    hints = EntryHints(title=entry.get("title", ""), source=outlet,
                       author=entry.get("author", ""), date=date)
    mark = _mark(entry.get("title", ""), entry.get("updated", ""), entry.get("published", ""),
                 entry.get("summary", ""), entry.get("id", ""))
    return Entry(entry["link"].strip(), hints, mark)


def _sitemap_entry(node: object) -> Entry:
    def text(path: str) -> str:
        found = node.find(path, {"s": SITEMAP_NS, "n": NEWS_NS})
        return (found.text or "").strip() if found is not None else ""

    date = text("n:news/n:publication_date")
    hints = EntryHints(title=text("n:news/n:title"), source=text("n:news/n:publication/n:name"),
                       date=normalise_date(date) if date else "")
    return Entry(text("s:loc"), hints, _mark(text("s:lastmod"), date, hints.title))


def _mark(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _bozo(parsed: object) -> str:
    exc = parsed.get("bozo_exception")
    return (str(exc).splitlines() or ["not RSS or Atom"])[0][:120] if exc else "not RSS or Atom"
