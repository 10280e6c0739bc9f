"""Article text and metadata out of HTML, after a streaming check that the page is not hostile.

BeautifulSoup builds about 1 KB of tree per element (600,000 elements: 700 MB, 11 s), so a page
is first measured with the standard library's event parser, which keeps no tree, and refused
when it is nested deeper or holds more elements than the limits allow.
"""

from __future__ import annotations

from html.parser import HTMLParser

from index.files import LoadError
from index.limits import LoadLimits

# Elements that never hold others, or whose end tag HTML lets authors leave out: they must not
# count as nesting, or an old page of unclosed <p>s would look deep.
_FLAT = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "thead", "tbody"}
_JUNK = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe",
         "svg", "button", "template"]


class _Shape(HTMLParser):
    """Counts elements and nesting depth, stopping as soon as a limit is passed."""

    def __init__(self, limits: LoadLimits) -> None:
        super().__init__(convert_charrefs=False)
        self.limits, self.depth, self.elements = limits, 0, 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.elements += 1
        if self.elements > self.limits.max_html_elements:
            raise LoadError(f"HTML has over {self.limits.max_html_elements:,} elements "
                            f"({self.limits.setting('max_html_elements')})")
        if tag not in _FLAT:
            self.depth += 1
            if self.depth > self.limits.max_html_depth:
                raise LoadError(f"HTML is nested over {self.limits.max_html_depth} levels deep "
                                f"({self.limits.setting('max_html_depth')})")

    def handle_endtag(self, tag: str) -> None:
        if tag not in _FLAT:
            self.depth = max(0, self.depth - 1)


def check_html(raw: str, limits: LoadLimits) -> None:
    """Raise LoadError if the page is nested too deeply or has too many elements."""
    shape = _Shape(limits)
    shape.feed(raw)
    shape.close()


def html_fields(raw: str, limits: LoadLimits) -> dict[str, str | None]:
    """The page's text, title, outlet, date and url (None where the page has none).

    trafilatura's extraction, as for web pages; BeautifulSoup where it finds no text.
    """
    check_html(raw, limits)
    from index.extract import extract_fields  # imported here: trafilatura is slow to import

    try:
        data = extract_fields(raw)
    except LoadError:
        return _soup_fields(raw)
    return {"title": data.get("title"), "source": data.get("source-hostname"),
            "date": data.get("date"), "url": data.get("source"), "text": data.get("text") or ""}


def _soup_fields(raw: str) -> dict[str, str | None]:
    """The article text under <article>/<main>/<body>, minus scripts, navigation and footers."""
    from bs4 import BeautifulSoup  # imported here: only HTML needs it

    soup = BeautifulSoup(raw, "html.parser")
    meta = {
        "title": _meta(soup, "og:title") or (soup.title.get_text(strip=True) if soup.title else None),
        "source": _meta(soup, "og:site_name"),
        "date": _meta(soup, "article:published_time") or _meta(soup, "date"),
        "url": _meta(soup, "og:url") or _canonical(soup),
    }
    for tag in soup(_JUNK):
        tag.decompose()
    body = soup.find("article") or soup.find("main") or soup.body or soup
    blocks = [el.get_text(" ", strip=True) for el in body.find_all(["h1", "h2", "h3", "p", "li"])]
    meta["text"] = "\n".join(b for b in blocks if b) or body.get_text("\n", strip=True)
    if not meta["title"]:
        heading = body.find("h1")
        meta["title"] = heading.get_text(" ", strip=True) if heading else None
    return meta


def _meta(soup: object, name: str) -> str | None:
    tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
    content = tag.get("content") if tag else None
    return content.strip() if isinstance(content, str) and content.strip() else None


def _canonical(soup: object) -> str | None:
    link = soup.find("link", attrs={"rel": "canonical"})
    href = link.get("href") if link else None
    return href if isinstance(href, str) else None
