"""Candidate short answers: the spans of the asked-for kind (bot.answering.kinds) in a text.

`find_spans` finds them: the named entities that spaCy's small English recogniser tagged at ingest
(index.entities), or, for text indexed without them, patterns: numbers with their unit, money,
percentages, dates, quoted titles, capitalised names. A name is given whole (with its title,
region or number), and a country may be named by its nationality word.
"""

from __future__ import annotations

import functools
import re

from babel import Locale

from bot.answering.terms import content_terms

# The entity labels (spaCy's OntoNotes set) that answer each kind of question.
_LABELS = {
    "number": {"CARDINAL", "QUANTITY", "MONEY", "PERCENT"},
    "date": {"DATE"},
    "person": {"PERSON"},
    "org": {"ORG"},
    "place": {"GPE", "LOC", "FAC"},
    "title": {"WORK_OF_ART"},
    "event": {"EVENT"},
    "name": {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART",
             "LAW"},
}
_MONEY = re.compile(r"[$€£¥]\s?\d[\d,.]*(?:\s?(?:million|billion|trillion|bn|m|k)\b)?", re.I)
_PERCENT = re.compile(r"\b\d[\d,.]*\s?(?:%|percent\b|per cent\b)", re.I)
_COUNT = re.compile(r"\b(?:about |nearly |almost |more than |over |at least )?"
                    r"\d[\d,.]*(?:\s?(?:million|billion|trillion))?(?:\s+(?-i:[a-z]+))?\b|"
                    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|"
                    r"hundreds?|thousands?|millions?)\s+(?-i:[a-z]+)\b", re.I)  # unit: lower case
_YEAR = re.compile(r"(?:19|20)\d\d")  # a bare year is no answer to "how many"
_YEARS = re.compile(r"(?:1[6-9]|20)\d\d(?:\s*[–-]\s*(?:(?:1[6-9]|20)\d\d|\d\d))?")
_DATE = re.compile(r"\b(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
                   r"\s+\d{1,2}(?:,\s+\d{4})?|(?:19|20)\d\d|(?:monday|tuesday|wednesday|thursday|"
                   r"friday|saturday|sunday)|(?:next|last|this) (?:week|month|year))\b", re.I)
_DURATION = re.compile(r"(?:(?:about|nearly|almost|more than|over|at least|around|up to)\s+)?"
                       r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                       r"twelve)[\s-]+(?:years?|months?|weeks?|days?|hours?|minutes?)"
                       r"(?:[\s-]+old)?", re.I)
# Up to three capitalised (not all-capital) words right after a name: the rest of it.
_NAME_REST = re.compile(r"(?:\s[A-Z][a-z][\w’'-]*){1,3}\b")
_TITLES = {"director", "dr", "president", "chief", "ceo", "secretary", "minister", "prime",
           "governor", "gov", "sen", "senator", "rep", "mr", "mrs", "ms", "judge", "chair",
           "chairman", "spokesperson", "spokesman", "spokeswoman", "commissioner", "head", "coach",
           "lady", "speaker", "king", "queen", "prince", "princess", "pope", "chancellor", "lt",
           "gen", "general", "justice", "mayor", "ambassador", "premier"}
_TITLE_LEADS = {"former", "first", "vice", "deputy", "acting", "house", "senate"}
# The capitalised words (and "First lady") right before a name: where its title stands.
_BEFORE_NAME = re.compile(r"(?:(?:[A-Z][\w.’'-]*|lady)\s+){1,5}$")
# ", Florida" after a place; a list goes on after it with ", Norway" or "and ...".
_REGION = re.compile(r",\s+([A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)")
_LIST_GOES_ON = re.compile(r"\s*(?:,\s*[A-Z]|,?\s*(?:and|or|&)\b)")
# The entities whose name may end in a number the recogniser leaves out, and that number.
_NUMBERED = {"ORG", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "FAC"}
_NAME_NUMBER = re.compile(r" (?:\d{1,4}|[IVX]{1,4})\b(?![.,]?\d|\s*(?:%|percent|million|billion|"
                          r"years?|months?|weeks?|days?|hours?|times|people)\b)")
_QUOTED = re.compile(r"[“\"]([^”\"]{2,80})[”\"]")
PROPER = re.compile(r"\b[A-Z][\w&'’.-]*(?:\s+(?:of|the|and|&|de|for)?\s*[A-Z][\w&'’-]*)*")
_LEAD_STOP = re.compile(r"^(?:the|a|an)\s+", re.I)
_NOT_NAMES = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
              "the", "a", "an", "but", "and", "in", "on", "at", "it", "he", "she", "they", "we",
              "i", "this", "that", "there", "his", "her", "their", "its", "as", "for", "if",
              "cnn", "mr", "ms", "mrs", "dr", "when", "while", "after", "before", "what", "who"}


def is_no_name(span: str) -> bool:
    """Whether a capitalised span is a weekday or a function word ("Wednesday.", "The")."""
    return span.lower().rstrip(".") in _NOT_NAMES



def is_place_of(span: str, place: str) -> bool:
    """Whether span names a place of that type: a country or territory by its English name
    (CLDR's, through Babel, and the short forms news writes: "US", "Britain"), or a continent."""
    return clean(span).lower() in (_countries() if place == "country" else _CONTINENTS)


# Names compared without a leading "the" ("the Netherlands" -> "netherlands").
_CONTINENTS = {"africa", "asia", "europe", "north america", "south america", "oceania",
               "antarctica", "australia", "americas", "latin america"}
_COUNTRY_ALIASES = {"us", "u.s.", "usa", "u.s.a.", "america", "uk", "u.k.", "britain",
                    "great britain", "england", "scotland", "wales", "northern ireland",
                    "czech republic", "ivory coast", "burma", "holland", "palestine", "vatican",
                    "congo", "gambia"}

# The United States is left out: news names it in too many ways ("US troops", "American
# soldiers", "Washington") for a report's silence about it to mean anything.
_HOME = {"us", "u.s.", "usa", "u.s.a.", "america", "united states", "united states of america"}
# One country, several names in the news: each is looked for as the first.
_SAME_COUNTRY = {"uk": "united kingdom", "u.k.": "united kingdom", "britain": "united kingdom",
                 "great britain": "united kingdom", "holland": "netherlands",
                 "the netherlands": "netherlands", "burma": "myanmar", "czech republic": "czechia",
                 "ivory coast": "côte d’ivoire", "vatican": "vatican city"}


@functools.cache
def _territories() -> tuple[str, ...]:
    """CLDR's English names of countries and territories (not of regions, whose codes are
    numbers)."""
    return tuple(name for code, name in Locale("en").territories.items() if not code.isdigit())


@functools.cache
def _countries() -> frozenset[str]:
    names = {name.lower() for name in _territories()}
    variants = {n.split(" (")[0] for n in names} | {n.replace("&", "and") for n in names}
    return frozenset(names | variants | _COUNTRY_ALIASES)


def country_of(demonym: str) -> str | None:
    """The country a nationality word names, by CLDR's English names: "Ukrainian" -> "Ukraine",
    "Saudi Arabian" -> "Saudi Arabia", "Chinese" -> "China"; None where the word does not begin
    with a country's name less its last letter ("French", "American")."""
    word = clean(demonym).lower()
    matches = [name for key, name in _country_names().items()
               if len(key) >= 5 and word.startswith(key[:-1])]
    return max(matches, key=len) if matches else None


@functools.cache
def _country_names() -> dict[str, str]:
    return {name.lower(): name for name in _territories() if " (" not in name}



def find_spans(text: str, kind: str, ents: list[tuple[str, str]] | None = None) -> list[str]:
    """The spans of text that could answer a question of this kind, without repeats: its
    entities of the kind when it was tagged at ingest (index.entities), else by patterns."""
    found = pattern_spans(text, kind) if ents is None else entity_spans(text, kind, ents)
    return list(dict.fromkeys(c for c in map(clean, found) if c))


def kind_labels(tagged: list[list[tuple[str, str]] | None], kind: str) -> dict[str, str]:
    """Span text -> a label of the kind, for every span some retrieved text tags as the kind.

    The small recogniser tags one name differently in different sentences ("Sri Lanka" a
    person in one, a place in the next); a name it tags as the asked-for kind anywhere is a
    candidate everywhere (relabel)."""
    return {span: label for ents in tagged if ents for span, label in ents
            if label in _LABELS[kind]}


def relabel(ents: list[tuple[str, str]] | None, labels: dict[str, str],
            ) -> list[tuple[str, str]] | None:
    """ents with each span that labels names given that label."""
    return None if ents is None else [(span, labels.get(span, label)) for span, label in ents]


def entity_spans(text: str, kind: str, ents: list[tuple[str, str]]) -> list[str]:
    """The tagged entities of the kind (quoted titles first for titles and other names)."""
    spans = [span for span, label in ents
             if label in _LABELS[kind] and not is_no_name(span)]
    if kind == "number":  # a year or a span of years ("1950–1953") is no answer to "how many",
        spans = [_with_currency(text, span) for span, label in ents  # a duration or age is
                 if (label in _LABELS[kind] and not _YEARS.fullmatch(span))  # ("12 years",
                 or (label == "DATE" and _DURATION.fullmatch(span))]  # "17-year-old")
    elif kind != "date":
        taken = {span for span, _ in ents}
        orgs = {span for span, label in ents if label == "ORG"}
        people = {span for span, label in ents if label == "PERSON"}
        places = {span for span, label in ents if label in ("GPE", "LOC")}
        spans = [with_rest_of_name(text, span, taken) if span in orgs else
                 with_title(text, span) if span in people else
                 with_region(text, span, places) if span in places else span for span in spans]
        things = {span for span, label in ents if label in _NUMBERED}
        spans = [with_number(text, span) if span in things else span for span in spans]
    return quoted_titles(text, kind) + spans


def with_region(text: str, span: str, places: set[str]) -> str:
    """A place with the state or country written after it, as news style gives it: "Palm
    Beach, Florida", "Kyiv, Ukraine"; never a list ("Sweden, Finland and Norway")."""
    at = text.find(span)
    found = _REGION.match(text, at + len(span)) if at >= 0 else None
    if found is None or found.group(1) not in places or _LIST_GOES_ON.match(text, found.end()):
        return span
    if is_place_of(span, "country") and is_place_of(found.group(1), "country"):
        return span  # "Sweden, Finland join NATO": two countries, not one inside the other
    return f"{span}, {found.group(1)}"


def with_number(text: str, span: str) -> str:
    """A name with the number that is part of it: "Scotland Act 1998", "Artemis I", "Apollo 11"."""
    at = text.find(span)
    found = _NAME_NUMBER.match(text, at + len(span)) if at >= 0 else None
    return span + found.group() if found else span


def with_title(text: str, span: str) -> str:
    """A person's name with the title written before it, as news style gives it: "UK Prime
    Minister Boris Johnson", "President Joe Biden", "First lady Dr. Jill Biden"; the title
    words, led by an acronym or a word such as "Former" ("UK Prime Minister"), never more of
    the sentence."""
    at = text.find(span)
    run = _BEFORE_NAME.search(text[:max(at, 0)]) if at > 0 else None
    if run is None:
        return span
    words = run.group().split()
    first = next((i for i, w in enumerate(words) if w.rstrip(".").lower() in _TITLES), None)
    if first is None:
        return span
    if first > 0 and (words[first - 1].isupper() or words[first - 1].lower() in _TITLE_LEADS):
        first -= 1
    return " ".join([*words[first:], span])


def with_rest_of_name(text: str, span: str, taken: set[str]) -> str:
    """An organisation's name with the capitalised words that follow it in text, up to another
    entity or a title ("Director"): the recogniser's "Cleveland" of "Cleveland Browns
    quarterback" -> "Cleveland Browns"."""
    at = text.find(span)
    if at < 0:
        return span
    rest = _NAME_REST.match(text, at + len(span))
    if rest is None or span.endswith(("'s", "’s")):
        return span
    words = []
    for word in rest.group().split():
        if word in taken or word.rstrip(".").lower() in _TITLES:
            break
        words.append(word)
    return " ".join([span, *words])


def quoted_titles(text: str, kind: str) -> list[str]:
    """What the text puts in quotation marks, for questions asking for a title or other name."""
    return [m.group(1) for m in _QUOTED.finditer(text)] if kind in ("title", "name") else []


def _with_currency(text: str, span: str) -> str:
    """ "5.02" -> "$5.02" where the text writes it so (the recogniser may leave the sign out)."""
    match = re.search(r"[$€£¥]\s?" + re.escape(span) + r"(?![\d])", text)
    return match.group() if match and not span[:1] in "$€£¥" else span


def pattern_spans(text: str, kind: str) -> list[str]:
    """Spans of the kind in text: money and percentages before bare counts, quoted titles before
    capitalised names (people's names have two words or more)."""
    if kind == "number":
        found = [m.group() for p in (_MONEY, _PERCENT, _COUNT) for m in p.finditer(text)]
        return [_without_stop_unit(f) for f in found if not _YEAR.fullmatch(f)]
    if kind == "date":
        return [m.group() for m in _DATE.finditer(text)]
    quoted = quoted_titles(text, kind)
    names = [m.group() for m in PROPER.finditer(text)
             if (m.start() > 0 or " " in m.group()) and not is_no_name(m.group())]
    if kind == "person":
        names = [n for n in names if " " in n]
    return quoted + names


def _without_stop_unit(span: str) -> str:
    """ "28,500 of" -> "28,500": a stop word after a number is not its unit."""
    head, _, last = span.rpartition(" ")
    return head if head and last.isalpha() and not content_terms(last) else span


INITIALISM = re.compile(r"(?:[A-Za-z]\.){2,}")  # "U.S.", "D.C."


def clean(span: str) -> str:
    """A span without a leading article, a possessive ("North Korea's" -> "North Korea") or
    surrounding punctuation."""
    whole = " ".join(span.split())
    span = re.sub(r"(?<=\w)[’']s$", "", whole.strip(" .,;:!?'\"“”‘’()"))
    span = span.strip(" .,;:!?'\"“”‘’()")
    span = with_last_dot(span, whole)
    return _LEAD_STOP.sub("", span) if len(span.split()) > 1 else span


def with_last_dot(stripped: str, whole: str) -> str:
    """stripped, with the dot that whole ends an initialism with: "U.S" -> "U.S."."""
    last = f"{stripped}.".rsplit(" ", 1)[-1]
    return f"{stripped}." if INITIALISM.fullmatch(last) and f"{stripped}." in whole else stripped


def countries_named(text: str) -> dict[str, str]:
    """The countries text names (by CLDR's English names, the short forms news uses, or a
    nationality word), the United States aside: lower-cased name -> its name as written
    ("Japanese" -> "Japan")."""
    found: dict[str, str] = {}
    for run in PROPER.finditer(text):
        words = run.group().split()
        for n in range(len(words), 0, -1):
            for i in range(len(words) - n + 1):
                written = clean(" ".join(words[i:i + n]))
                name = (written if is_place_of(written, "country") else
                        country_of(written) or "" if n == 1 else "")
                key = _SAME_COUNTRY.get(name.lower(), name.lower())
                if name and key not in _HOME:
                    found.setdefault(key, name)
    return found
