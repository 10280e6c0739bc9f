"""Article text and metadata out of a news page's HTML, with trafilatura.

trafilatura drops navigation, ads, comments, related links and cookie banners and reads the
title, outlet, author, date, canonical URL and language from the page's metadata. Feed entries
can add what the page lacks (EntryHints). A web article's id comes from its canonical URL, so the
same story reached from a feed and from its page is one article; a canonical URL on another site
than the page's own is ignored, so no page can replace another site's article.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from index.articles import Article, LoadError, make_article

log = logging.getLogger(__name__)
_TRACKING = re.compile(r"^(utm_|fbclid$|gclid$|mc_|ref$|cmpid$)")
_HTML_LANG = re.compile(r"<html[^>]*\blang=[\"']?([A-Za-z-]{2,})", re.IGNORECASE)


@dataclass(frozen=True)
class EntryHints:
    """What a feed or sitemap says about a page, used where the page itself is silent."""

    title: str = ""
    source: str = ""
    author: str = ""
    date: str = ""


def canonical_url(url: str) -> str:
    """A URL normalised for identity: lower-case host, no fragment, no tracking parameters."""
    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING.match(k.lower())])
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on one site: the same registrable domain by the public suffix
    list ("edition.cnn.com" and "www.cnn.com"; not "evil.co.uk" and "bbc.co.uk"), or, for an
    address or a local name, the same host."""
    from courlan import extract_domain  # trafilatura's URL helper; imported with it

    site_a, site_b = extract_domain(a), extract_domain(b)
    if site_a and site_b:
        return site_a == site_b
    return urlsplit(a).hostname == urlsplit(b).hostname


def web_article_id(url: str) -> str:
    """The article id of a web page: its host and a hash of its canonical URL."""
    canon = canonical_url(url)
    digest = hashlib.sha256(canon.encode()).hexdigest()[:16]
    host = urlsplit(canon).hostname or "web"
    return f"{host.removeprefix('www.')}-{digest}"


def extract_article(html: str, url: str, *, origin: str = "",
                    hints: EntryHints | None = None) -> Article:
    """One Article from a page's HTML; raises LoadError when the page holds no article text."""
    data = extract_fields(html, url)
    hints = hints or EntryHints()
    link = data.get("source") or url
    if url.startswith(("http://", "https://")) and not same_site(link, url):
        log.info("ignored the canonical URL %s that %s declares: another site", link, url)
        link = url  # a page may not speak for another site's article (and take its id)
    canonical = canonical_url(link) if link.startswith(("http://", "https://")) else ""
    article = make_article(
        data.get("text") or "", origin or canonical or url,
        id=web_article_id(canonical) if canonical else None,
        title=data.get("title") or hints.title, source=data.get("source-hostname") or hints.source
        or data.get("hostname"), date=data.get("date") or hints.date or None, url=canonical)
    extra = {"author": data.get("author") or hints.author or "",
             "language": data.get("language") or _html_lang(html)}
    return article.model_copy(update={k: v for k, v in extra.items() if v})


def extract_fields(html: str, url: str = "") -> dict:
    """trafilatura's JSON record of a page (text, title, source-hostname, date, ...), or {}."""
    import trafilatura  # imported here: it is slow to import and only web pages need it

    try:
        # favor_precision: on short pages the default falls back to text that keeps the menu
        raw = trafilatura.extract(html, url=url or None, output_format="json",
                                  with_metadata=True, include_comments=False,
                                  favor_precision=True, include_tables=True, deduplicate=False)
    except Exception as exc:  # trafilatura raises many types on odd markup; one line here
        raise LoadError(f"cannot read the page: {type(exc).__name__}") from exc
    if not raw:
        raise LoadError("no article text found on the page")
    return json.loads(raw)


def _html_lang(html: str) -> str:
    match = _HTML_LANG.search(html[:5000])
    return match.group(1).lower() if match else ""
