"""Polite, bounded HTTP fetching: robots.txt, one request at a time per host, caps and retries.

Every request names newsbot in its User-Agent, waits its turn behind the previous request to the
same host (plus a delay), gives up after a timeout, refuses bodies over a size cap and content
that is not a web page or feed, follows at most a few redirects (each hop checked against
robots.txt), and retries timeouts, dropped connections and 5xx answers with backoff (tenacity).
Conditional GET: the caller passes the ETag / Last-Modified it remembered, and a 304 comes back
as a Page with ``not_modified`` set and no body.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx
from tenacity import (RetryError, retry, retry_if_exception_type, stop_after_attempt,
                      wait_exponential)

USER_AGENT = "newsbot/0.1 (news question answering; +https://github.com/newsbot/newsbot)"
ACCEPTED_TYPES = ("text/html", "application/xhtml+xml", "application/rss+xml",
                  "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml",
                  "application/feed+json", "text/plain")
ROBOTS_TTL = 3600.0  # seconds a host's robots.txt is trusted
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b")


class FetchError(Exception):
    """A URL that could not be fetched; the message says why, in one line."""


class _Retryable(Exception):
    """A failure worth another try: a timeout, a dropped connection, a 5xx answer."""


@dataclass(frozen=True)
class FetchPolicy:
    """The limits every request keeps to."""

    timeout: float = 10.0  # seconds, per connect / read
    deadline: float = 60.0  # seconds for a whole answer, however slowly it trickles in
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    host_delay: float = 1.0  # seconds between two requests to one host
    attempts: int = 3
    backoff: float = 0.5  # first wait between attempts; doubles each time
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class Validators:
    """What a server said about a URL's version, sent back for a conditional GET."""

    etag: str = ""
    last_modified: str = ""


@dataclass
class Page:
    """A fetched URL: its body, or not_modified when the server answered 304."""

    url: str
    final_url: str
    status: int
    content: bytes = b""
    content_type: str = ""
    validators: Validators = field(default_factory=Validators)

    @property
    def not_modified(self) -> bool:
        """True when the server said the remembered version is still current."""
        return self.status == 304

    def text(self) -> str:
        """The body decoded (UTF-8 unless the server or the document says otherwise)."""
        try:
            return self.content.decode(_charset(self.content_type) or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", errors="replace")


class Fetcher:
    """One HTTP client shared by every request of a run; counts requests for reports."""

    def __init__(self, policy: FetchPolicy | None = None,
                 transport: httpx.BaseTransport | None = None,
                 cancel: threading.Event | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self.cancel = cancel  # once set, a body being read is dropped (watch was told to stop)
        self.client = httpx.Client(headers={"User-Agent": self.policy.user_agent},
                                   timeout=self.policy.timeout, follow_redirects=False,
                                   transport=transport)
        self.requests = 0
        self._robots: dict[str, tuple[RobotFileParser, float]] = {}
        self._hosts: dict[str, threading.Lock] = {}
        self._next_turn: dict[str, float] = {}
        self._guard = threading.Lock()

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def get(self, url: str, validators: Validators | None = None) -> Page:
        """Fetch url politely, following redirects; raises FetchError with a one-line reason."""
        current = url
        for _ in range(self.policy.max_redirects + 1):
            check_url(current)
            if not self.allowed(current):
                raise FetchError(f"robots.txt disallows {current}")
            response = self._request(current, validators)
            if response.status in (301, 302, 303, 307, 308) and "location" in response.headers:
                current = urljoin(current, response.headers["location"])
                continue
            return self._page(url, current, response)
        raise FetchError(f"more than {self.policy.max_redirects} redirects")

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets newsbot fetch url (read again after an hour)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        known = self._robots.get(origin)
        if known is None or time.monotonic() - known[1] > ROBOTS_TTL:
            known = self._robots[origin] = (self._load_robots(origin), time.monotonic())
        return known[0].can_fetch(self.policy.user_agent, url)

    def _load_robots(self, origin: str) -> RobotFileParser:
        """No robots.txt (4xx) allows everything; one that errors (5xx) allows nothing (RFC 9309).

        A host that cannot be reached raises FetchError and is asked again next time.
        """
        robots = RobotFileParser(origin + "/robots.txt")
        try:
            response = self._request(origin + "/robots.txt", None)
        except FetchError as exc:
            if "HTTP 5" not in str(exc):
                raise
            robots.disallow_all = True
            return robots
        if response.status >= 400:
            robots.allow_all = True
        else:
            robots.parse(response.body.decode("utf-8", errors="replace").splitlines())
        return robots

    def _request(self, url: str, validators: Validators | None) -> _Reply:
        headers = _conditional_headers(validators)
        try:
            return self._with_retries()(url, headers)
        except RetryError as exc:
            raise FetchError(f"{_reason(exc.last_attempt.exception())} after "
                             f"{self.policy.attempts} tries: {url}") from exc

    def _with_retries(self):
        return retry(retry=retry_if_exception_type(_Retryable),
                     stop=stop_after_attempt(self.policy.attempts),
                     wait=wait_exponential(multiplier=self.policy.backoff, max=30),
                     reraise=False)(self._once)

    def _once(self, url: str, headers: dict[str, str]) -> _Reply:
        with self._host_turn(urlsplit(url).netloc):
            self.requests += 1
            try:
                with self.client.stream("GET", url, headers=headers) as response:
                    if response.status_code >= 500:
                        raise _Retryable(f"HTTP {response.status_code}")
                    return _Reply(response.status_code, response.headers,
                                  self._read_capped(response, url))
            except (httpx.TimeoutException, httpx.NetworkError,
                    httpx.RemoteProtocolError) as exc:
                raise _Retryable(_reason(exc)) from exc

    def _read_capped(self, response: httpx.Response, url: str) -> bytes:
        cap = self.policy.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError(f"larger than the {cap // 1_000_000} MB cap: {url}")
        body = bytearray()
        ends = time.monotonic() + self.policy.deadline
        for piece in response.iter_bytes():
            body += piece
            if len(body) > cap:
                raise FetchError(f"larger than the {cap // 1_000_000} MB cap: {url}")
            if self.cancel is not None and self.cancel.is_set():
                raise FetchError(f"stopped while reading: {url}")
            if time.monotonic() > ends:  # a trickle that each read timeout lets through
                raise FetchError(f"too slow: no whole answer in {self.policy.deadline:.0f} s: "
                                 f"{url}")
        return bytes(body)

    def _host_turn(self, host: str) -> "_HostTurn":
        with self._guard:
            lock = self._hosts.setdefault(host, threading.Lock())
        return _HostTurn(self, host, lock)

    def _page(self, url: str, final_url: str, response: _Reply) -> Page:
        if response.status == 304:
            return Page(url, final_url, 304)
        if response.status >= 400:
            raise FetchError(f"HTTP {response.status}: {final_url}")
        content_type = response.headers.get("content-type", "")
        _check_content(response.body, content_type, final_url)
        return Page(url, final_url, response.status, response.body, content_type,
                    Validators(response.headers.get("etag", ""),
                               response.headers.get("last-modified", "")))


@dataclass(frozen=True)
class _Reply:
    """One HTTP answer, body read in full (within the cap)."""

    status: int
    headers: httpx.Headers
    body: bytes


class _HostTurn:
    """Holds a host's lock for one request and spaces requests by the policy's delay."""

    def __init__(self, fetcher: Fetcher, host: str, lock: threading.Lock) -> None:
        self.fetcher, self.host, self.lock = fetcher, host, lock

    def __enter__(self) -> None:
        self.lock.acquire()
        wait = self.fetcher._next_turn.get(self.host, 0.0) - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def __exit__(self, *exc: object) -> None:
        self.fetcher._next_turn[self.host] = time.monotonic() + self.fetcher.policy.host_delay
        self.lock.release()


def _conditional_headers(validators: Validators | None) -> dict[str, str]:
    headers = {}
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def check_url(url: str) -> None:
    """Raise FetchError unless url is an http(s) URL with a host that parses ("http://[::1/x",
    an unclosed bracket, made the standard library raise ValueError)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is no number
        host = parts.hostname
    except ValueError as exc:
        raise FetchError(f"not a URL ({exc}): {url}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(f"not an http(s) URL: {url}")
    if not host:
        raise FetchError(f"no host in the URL: {url}")


def _check_content(body: bytes, content_type: str, url: str) -> None:
    """Refuse what is not a page or feed, whatever the server claims it is."""
    mime = content_type.split(";")[0].strip().lower()
    if mime and mime not in ACCEPTED_TYPES:
        raise FetchError(f"not a web page or feed ({mime}): {url}")
    if body.startswith(_BINARY_MAGIC) or b"\x00" in body[:1024]:
        kind = "a PDF" if body.startswith(b"%PDF") else "binary data"
        raise FetchError(f"{kind} served as {mime or 'no content type'}: {url}")
    if not body.strip():
        raise FetchError(f"empty response: {url}")


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None


def _reason(exc: BaseException | None) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    return (str(exc).splitlines() or [type(exc).__name__])[0][:120]
