"""A local news site on 127.0.0.1 for tests and benchmarks: pages, feeds and sitemaps.

Each Site is one HTTP server (port 0, so one host as far as politeness goes) serving Resources
by path, with ETag support, optional delays, status codes, redirects and a robots.txt. Pages are
built from article records (the ../shared/eval shape) wrapped in the boilerplate real news pages
carry: navigation, a cookie banner, ads, related links, comments and a footer.
"""

from __future__ import annotations

import hashlib
import html
import threading
import time
from dataclasses import dataclass, field
from email.utils import format_datetime
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BOILERPLATE = [
    "Home", "World", "Business", "Sport", "Subscribe for $1 a week",
    "We use cookies to improve your experience. Accept all cookies",
    "Advertisement: Save 40% on smart home deals today",
    "Related: Ten things to know before markets open",
    "Related: The week in pictures",
    "Comments: This is the best reporting I have read all year - Pat",
    "Comments: Totally disagree with the author here - Sam",
    "Sign up for our morning newsletter",
    "Copyright 2025 Example Media Group. All rights reserved.",
]


@dataclass
class Resource:
    """What a path answers: a body, or a status, a redirect or a delay first."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str = ""
    delay: float = 0.0
    etag: bool = True

    def tag(self) -> str:
        """The ETag of the current body."""
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


def serve_local(handler: type) -> ThreadingHTTPServer:
    """A server for handler on 127.0.0.1, on a free port, serving in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop_serving(server: ThreadingHTTPServer) -> None:
    """Stop a serve_local server and close its socket."""
    server.shutdown()
    server.server_close()


@dataclass
class Site:
    """One outlet's server; routes can change while it runs (a newly published item)."""

    name: str
    robots: str | None = None
    routes: dict[str, Resource] = field(default_factory=dict)
    log: list[tuple[str, int]] = field(default_factory=list)  # (path, status) per answer
    arrivals: list[str] = field(default_factory=list)  # paths, as requests arrive

    def start(self) -> "Site":
        """Serve on 127.0.0.1, on a free port, in a daemon thread."""
        self.server = serve_local(_handler(self))
        return self

    def stop(self) -> None:
        """Stop serving."""
        stop_serving(self.server)

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        """The full URL of a path on this site."""
        return self.base + path

    def requests_to(self, prefix: str = "/") -> list[tuple[str, int]]:
        """Requests logged for paths under prefix (robots.txt left out)."""
        return [(p, s) for p, s in self.log if p.startswith(prefix) and p != "/robots.txt"]


def article_page(record: dict, outlet: str, url: str, *, layout: str = "semantic") -> str:
    """A news page holding the record's text, wrapped in realistic boilerplate.

    layout "semantic" uses <nav>, <main>, <article>, <aside>, <footer>; "divs" is the same page
    as many sites build it: <div>s only, with an ad and related links inside the story body.
    """
    esc = html.escape
    paragraphs = "\n".join(f"<p>{esc(p)}</p>" for p in record["text"].split("\n") if p.strip())
    if layout == "divs":
        return _div_page(record, outlet, url, paragraphs)
    nav = "".join(f'<a href="/{w.lower()}">{esc(w)}</a> ' for w in BOILERPLATE[:4])
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{esc(record.get("title") or "")} | {esc(outlet)}</title>
<link rel="canonical" href="{esc(url)}">
<meta property="og:site_name" content="{esc(outlet)}">
<meta property="og:title" content="{esc(record.get("title") or "")}">
<meta name="author" content="{esc(", ".join(record.get("authors") or []) or "Staff")}">
<meta property="article:published_time" content="{esc(record.get("date") or "")}T08:00:00Z">
<script>window.dataLayer = [{{"tracking": "SECRET-TRACKER"}}];</script></head><body>
<header><nav>{nav}<a class="cta" href="/subscribe">{BOILERPLATE[4]}</a></nav></header>
<div id="cookie-banner" class="cookie-consent"><p>{BOILERPLATE[5]}</p><button>OK</button></div>
<div class="ad-slot advertisement"><p>{BOILERPLATE[6]}</p></div>
<main><article><h1>{esc(record.get("title") or "")}</h1>
<p class="byline">By {esc(", ".join(record.get("authors") or []) or "Staff")}</p>
{paragraphs}</article></main>
<aside class="related"><h3>Related stories</h3><ul><li><a href="/r1">{BOILERPLATE[7]}</a></li>
<li><a href="/r2">{BOILERPLATE[8]}</a></li></ul></aside>
<section id="comments" class="comments"><h3>Comments</h3>
<div class="comment"><p>{BOILERPLATE[9]}</p></div>
<div class="comment"><p>{BOILERPLATE[10]}</p></div></section>
<div class="newsletter"><p>{BOILERPLATE[11]}</p></div>
<footer><p>{BOILERPLATE[12]}</p></footer></body></html>"""


def _div_page(record: dict, outlet: str, url: str, paragraphs: str) -> str:
    esc = html.escape
    parts = paragraphs.split("\n")
    inline = (f'<div class="ad-slot"><p>{BOILERPLATE[6]}</p></div><div class="related-inline">'
              f'<a href="/r1">{BOILERPLATE[7]}</a></div>')
    body = "\n".join(parts[:2] + [inline] + parts[2:])
    links = " ".join(f'<a href="/{w.lower()}">{w}</a>' for w in BOILERPLATE[:4])
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{esc(record.get("title") or "")} | {esc(outlet)}</title>
<link rel="canonical" href="{esc(url)}"><meta property="og:site_name" content="{esc(outlet)}">
</head><body><div class="top-bar">
<div class="menu">{links} <a href="/s">{BOILERPLATE[4]}</a></div></div>
<div class="cookie-consent"><p>{BOILERPLATE[5]}</p></div>
<div class="container"><div class="story"><h1>{esc(record.get("title") or "")}</h1>
<div class="story-body">{body}</div></div>
<div class="sidebar"><div class="more"><a href="/r2">{BOILERPLATE[8]}</a></div></div>
<div class="comments"><p>{BOILERPLATE[9]}</p><p>{BOILERPLATE[10]}</p></div>
<div class="signup"><p>{BOILERPLATE[11]}</p></div></div>
<div class="bottom"><p>{BOILERPLATE[12]}</p></div></body></html>"""


def rss_feed(title: str, items: list[tuple[str, str, str]]) -> str:
    """RSS 2.0 with (link, title, ISO date) items."""
    rows = "".join(f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link>"
                   f"<guid>{html.escape(link)}</guid><pubDate>{_rfc822(d)}</pubDate></item>"
                   for link, t, d in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{html.escape(title)}</title><link>http://127.0.0.1/</link>"
            f"<description>news</description>{rows}</channel></rss>")


def atom_feed(title: str, items: list[tuple[str, str, str]]) -> str:
    """Atom 1.0 with (link, title, ISO date) items."""
    rows = "".join(f'<entry><title>{html.escape(t)}</title><link href="{html.escape(link)}"/>'
                   f"<id>{html.escape(link)}</id><updated>{d or '2022-01-01'}T08:00:00Z</updated>"
                   f"</entry>" for link, t, d in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{html.escape(title)}</title><id>urn:newsroom</id>"
            f"<updated>2022-01-01T00:00:00Z</updated>{rows}</feed>")


def news_sitemap(outlet: str, items: list[tuple[str, str, str]]) -> str:
    """A Google news sitemap with (link, title, ISO date) items."""
    rows = "".join(f"<url><loc>{html.escape(link)}</loc><news:news><news:publication>"
                   f"<news:name>{html.escape(outlet)}</news:name><news:language>en</news:language>"
                   f"</news:publication><news:publication_date>{d}</news:publication_date>"
                   f"<news:title>{html.escape(t)}</news:title></news:news></url>"
                   for link, t, d in items)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + rows + "</urlset>")


def publish(site: Site, records: list[dict], *, prefix: str = "/news",
            outlet: str | None = None) -> list[tuple[str, str, str]]:
    """Add article pages for records; returns their (link, title, date) feed items."""
    items = []
    for record in records:
        path = f"{prefix}/{record['id']}"
        link = site.url(path)
        site.routes[path] = Resource(article_page(record, outlet or site.name, link).encode())
        items.append((link, record.get("title") or "", record.get("date") or ""))
    return items


def xml(text: str, kind: str = "application/rss+xml") -> Resource:
    """A feed or sitemap resource."""
    return Resource(text.encode(), f"{kind}; charset=utf-8")


def _rfc822(iso: str) -> str:
    try:
        day = datetime.fromisoformat(iso).replace(hour=8, tzinfo=timezone.utc)
    except ValueError:
        day = datetime(2022, 1, 1, tzinfo=timezone.utc)
    return format_datetime(day, usegmt=True)


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            site.arrivals.append(self.path)
            if self.path == "/robots.txt":
                found = Resource(site.robots.encode(), "text/plain") if site.robots else None
            else:
                found = site.routes.get(self.path.split("?", 1)[0])
            status = self._answer(found)
            site.log.append((self.path, status))

        def _answer(self, found: Resource | None) -> int:
            if found is None:
                return self._send(404, b"not found", "text/plain")
            if found.delay:
                time.sleep(found.delay)
            if found.location:
                return self._send(found.status or 302, b"", "text/plain", Location=found.location)
            if found.status != 200:
                return self._send(found.status, b"error", "text/plain")
            if found.etag and self.headers.get("If-None-Match") == found.tag():
                return self._send(304, b"", "", ETag=found.tag())
            headers = {"ETag": found.tag()} if found.etag else {}
            return self._send(200, found.body, found.content_type, **headers)

        def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> int:
            try:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout or a size cap): that is the point
            return status

        def log_message(self, *args: object) -> None:
            pass

    return Handler
