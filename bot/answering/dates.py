"""Dates in questions and filters: a (since, until) window, a recency wish, and outlet filters.

Explicit filters (`ask --since`, `:since`, Slack's `since:`) are hard: a chunk outside them is
never a candidate. Date words in the question ("this week", "in 2022", "since March") are soft:
their window applies only when it leaves at least one candidate. "latest", "now" and the like
ask for the newest reports first.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from pydantic import BaseModel

from bot.errors import UsageError

_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_RECENT_WORDS = r"latest|now|currently|current|newest|most recent|recent(ly)?|as of today"
_RECENT = re.compile(rf"\b({_RECENT_WORDS})\b", re.I)
_FILTER_WORD = re.compile(r"(?<!\S)(since|until|source):(\S+)", re.I)
# Words that ask about the present without naming a date ("recently", "soon"): a report answers
# such a question only if it is from the CURRENT_DAYS before it is asked.
_CURRENT = re.compile(rf"\b({_RECENT_WORDS}|soon|upcoming)\b", re.I)
# "just" asks about the present only before a past verb ("which country just elected ..."), not
# in a name ("Just Stop Oil") or before an amount ("suspended just six games").
_JUST = re.compile(r"\bjust (?:been |now )?(?:[a-z]+ed|won|made|became|began|hit|lost|set|sold|"
                   r"broke|took|gave|got|came|went|said|held|left|met|paid|ran|told|wrote|chose|"
                   r"beat|fell|found|rose|drew|shot|struck|spent|sent|brought|bought|built|"
                   r"caught|led|fought|passed|signed|named|turned)\b")
CURRENT_DAYS = 14
# A report on an event of "this week" may be dated a few days before the window opens.
WINDOW_SLACK_DAYS = 3
_YEAR = re.compile(r"(\b(?:before|until|till|by|prior to|pre)[\s-]+)?\b((?:19|20)\d\d)\b", re.I)
_WEEKDAY = "(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"


class Filters(BaseModel):
    """Which articles may answer: dated since/until (inclusive), outlet name containing source."""

    since: date | None = None
    until: date | None = None
    source: str | None = None

    def admits(self, meta: dict) -> bool:
        """Whether a chunk's metadata passes; undated chunks fail any date filter."""
        if self.source and self.source.lower() not in str(meta.get("source", "")).lower():
            return False
        return within(meta.get("date", ""), self.since, self.until)

    def problem(self) -> str | None:
        """Why no report can pass (since after until), or None."""
        if self.since and self.until and self.since > self.until:
            return f"since {self.since} is after until {self.until}: no report can match"
        return None

    def is_set(self) -> bool:
        """Whether any filter is given."""
        return bool(self.since or self.until or self.source)

    def as_kwargs(self) -> dict[str, Filters]:
        """{"filters": self} when any is set, else {}: Answerer.answer's keyword, only if needed."""
        return {"filters": self} if self.is_set() else {}

    def echo(self) -> dict[str, str]:
        """The filters as an answer shows them: {"since": "2025-11-01", "source": "reuters"}."""
        return {k: str(v) for k, v in self.model_dump().items() if v}


class Window(BaseModel):
    """What a question's date words ask for."""

    words: str = ""
    since: date | None = None
    until: date | None = None
    recent: bool = False

    def label(self) -> str:
        """'this week: 2025-11-24 to 2025-11-30', for the answer's filters echo."""
        span = " to ".join(str(d) for d in (self.since, self.until) if d)
        if self.since and not self.until:
            span = f"from {self.since}"
        elif self.until and not self.since:
            span = f"until {self.until}"
        return f"{self.words}: {span}"


def is_dated(article_date: str) -> bool:
    """Whether a chunk's date field holds a YYYY-MM-DD date."""
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", article_date or ""))


def within(article_date: str, since: date | None, until: date | None) -> bool:
    """Whether a YYYY-MM-DD date is inside [since, until]; undated fails when either is set."""
    if since is None and until is None:
        return True
    if not is_dated(article_date):
        return False
    return (since is None or article_date >= since.isoformat()) and \
        (until is None or article_date <= until.isoformat())


def parse_date(text: str, what: str = "date") -> date:
    """YYYY-MM-DD, YYYY-MM (its first day) or YYYY (1 Jan), or a one-line UsageError."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return date(int(text), 1, 1)
        if re.fullmatch(r"\d{4}-\d{1,2}", text):
            year, month = text.split("-")
            return date(int(year), int(month), 1)
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a date: use YYYY-MM-DD, e.g. 2025-11-01") from None


def date_window(question: str, today: date) -> Window:
    """The window and recency wish that the question's date words express, relative to today."""
    text = question.lower()
    recent = bool(_RECENT.search(text))
    anchored = _anchored_elsewhere(question, today)
    for pattern, make, relative in _RULES:
        if relative and anchored:
            continue
        match = re.search(pattern, text)
        if match:
            since, until = make(match, today)
            return Window(words=match.group(0), since=since, until=until, recent=recent)
    return Window(words=_RECENT.search(text).group(0) if recent else "", recent=recent)


def report_dates(question: str, today: date) -> tuple[date | None, date | None, str] | None:
    """(since, until, words) that a report must fall in to answer a question about a time.

    The question's date words' window (opening WINDOW_SLACK_DAYS earlier), or the CURRENT_DAYS
    up to today when it asks about the present ("recently", "latest", "soon"); None when it
    names no time, so that any report may answer it.
    """
    window = date_window(question, today)
    if window.since or window.until:
        since = window.since - timedelta(days=WINDOW_SLACK_DAYS) if window.since else None
        return since, window.until, window.words
    if _anchored_elsewhere(question, today):
        return None
    match = _CURRENT.search(question) or _JUST.search(question)
    if match:
        return today - timedelta(days=CURRENT_DAYS), today, match.group(0).split()[0].lower()
    return None


def named_year(question: str) -> int | None:
    """The latest year a question names as its subject's ("the 2022 Stanley Cup Finals", "on
    January 6, 2021"), not a bound ("before 2020", "until 2019"); None when it names none."""
    years = [int(m.group(2)) for m in _YEAR.finditer(question) if not m.group(1)]
    return max(years, default=None)


def names_period(words: str, quote: str, report_date: str) -> bool:
    """Whether a quote from a report dated report_date names the month or year that a
    question's words name ("in june 2022": "June", in a report from June 2022 on): a report may
    look back on a period long after it ("won the Stanley Cup in 2020 and 2021")."""
    match = re.fullmatch(r"in (?:" + _MONTH + r" )?(\d{4})", words)
    if match is None or not is_dated(report_date):
        return False
    month, year = match.group(1), match.group(2)
    start = f"{year}-{_MONTHS[month.rstrip('.')]:02d}-01" if month else f"{year}-01-01"
    named = month.rstrip(".") if month else year
    return report_date >= start and re.search(rf"\b{named}", quote, re.I) is not None


def _anchored_elsewhere(question: str, today: date) -> bool:
    """Whether the question names another year than today's, to which its words such as "this
    year" or "now" then refer ("launches this year as of October 2022")."""
    year = named_year(question)
    return year is not None and year != today.year


def _month_start(month: str, year: int | None, today: date) -> date:
    n = _MONTHS[month.rstrip(".")]
    if year is None:  # the latest such month that has begun
        year = today.year if n <= today.month else today.year - 1
    return date(year, n, 1)


def _month_end(start: date) -> date:
    return start.replace(day=calendar.monthrange(start.year, start.month)[1])


def _reported_by(end: date) -> date:
    """The last day a report on a period ending on end may be dated: the next month's end."""
    return _month_end(end + timedelta(days=1))


_RULES = [  # (pattern, window maker, relative to today: dropped when another year is named)
    (r"\btoday\b", lambda m, t: (t, t), True),
    (r"\byesterday\b", lambda m, t: (t - timedelta(days=1), t - timedelta(days=1)), True),
    (r"\bthis week\b", lambda m, t: (t - timedelta(days=6), t), True),
    (r"\blast week\b", lambda m, t: (t - timedelta(days=13), t - timedelta(days=7)), True),
    (r"\bthis month\b", lambda m, t: (t.replace(day=1), t), True),
    (r"\bthis year\b", lambda m, t: (t.replace(month=1, day=1), t), True),
    (r"\bsince " + _MONTH + r"(?: (\d{4}))?\b",
     lambda m, t: (_month_start(m.group(1), int(m.group(2)) if m.group(2) else None, t), None),
     False),
    (r"\bsince (\d{4})\b", lambda m, t: (date(int(m.group(1)), 1, 1), None), False),
    # a named month or year: reported during it, or up to a month after (June's inflation
    # figure is published in July)
    (r"\bin " + _MONTH + r" (\d{4})\b",
     lambda m, t: (s := _month_start(m.group(1), int(m.group(2)), t), _reported_by(_month_end(s))),
     False),
    (r"\bin (\d{4})\b",
     lambda m, t: (date(int(m.group(1)), 1, 1), _reported_by(date(int(m.group(1)), 12, 31))),
     False),
    # "on Tuesday", without a date: the last such day, within the week before today
    (r"\b(?:on |last |early |late )?" + _WEEKDAY + r"\b", lambda m, t: (t - timedelta(days=7), t),
     True),
]


def split_filters(text: str) -> tuple[Filters, str]:
    """`since:2025-11-01 source:reuters QUESTION` -> (Filters, "QUESTION"); bad dates: UsageError."""
    found: dict[str, object] = {}
    for match in _FILTER_WORD.finditer(text):
        name, value = match.group(1).lower(), match.group(2)
        found[name] = value if name == "source" else parse_date(value, f"{name}:")
    question = " ".join(_FILTER_WORD.sub(" ", text).split())
    return Filters(**found), question


def filters_line(filters: dict[str, str]) -> str:
    """'filters: since 2025-11-01, source reuters, dates this week: 2025-11-24 to 2025-11-30'."""
    return "filters: " + ", ".join(f"{k} {v}" for k, v in filters.items())
