"""Words and numbers for matching: stemmed, lower-cased content words of a text, without stop
words; the numbers a text states, as values."""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")
# Acronyms ("IRS", "CDC", "US") and the capitalised names they may stand for.
_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")
# The small words inside a name ("Centers for Disease Control", "Banco de Mexico").
NAME_GLUE = frozenset({"of", "for", "and", "the", "on", "&", "de"})
_NAME = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:(?:" + "|".join(map(re.escape, sorted(NAME_GLUE)))
                   + r")\s+)*[A-Z][\w’'-]*)+")
_STOP = set("""a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours out over own same she
should so some such than that the their theirs them then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your
many much did does according said says say""".split())


_MULTIPLIERS = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9,
                "bn": 1e9, "trillion": 1e12, "tn": 1e12}
_WORD_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_WORD_NUMBERS |= {w: 10 * i for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
del _WORD_NUMBERS["zero"], _WORD_NUMBERS["one"]  # "one of the ..." is rarely a quantity
# Spelled-out scales may stand apart ("28.5 thousand"); abbreviations only attached ("28.5k").
_SCALE = (r"(?:\s*-?\s*(?P<scale>thousand|million|billion|trillion)\b|"
          r"(?P<abbr>k|m|mn|bn|tn)\b)?")
_DIGITS = re.compile(r"(?<![\w.,])(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?" + _SCALE,
                     re.I)
_WORDS = re.compile(r"\b(?P<word>" + "|".join(_WORD_NUMBERS) + r")\b" + _SCALE, re.I)


def content_terms(text: str) -> set[str]:
    """Stemmed, lower-cased words of text without stop words."""
    return set(term_list(text))


def coverage(question: str, text: str) -> float:
    """The share of the question's content words that text holds (1.0 for a question without)."""
    terms = content_terms(question)
    return len(terms & content_terms(text)) / len(terms) if terms else 1.0


def is_question(text: str) -> bool:
    """Whether a sentence asks rather than tells: it ends with a question mark."""
    return text.rstrip().rstrip("\"”’')]").endswith("?")


def initials(text: str) -> set[str]:
    """The acronyms that text's names spell: "Internal Revenue Service" -> "irs"; every run of
    a name's words counts ("US Centers for Disease Control" -> "cdc")."""
    return {"".join(w[0] for w in words).lower() for words in name_runs(text)}


def name_runs(text: str) -> list[list[str]]:
    """Every run of two or more consecutive words of each capitalised name in text, without
    its small words ("Centers for Disease Control" -> [Centers, Disease], [Disease, Control],
    [Centers, Disease, Control])."""
    runs = []
    for match in _NAME.finditer(text):
        words = [w for w in match.group().split() if w.lower() not in NAME_GLUE]
        runs += [words[i:j] for i in range(len(words)) for j in range(i + 2, len(words) + 1)]
    return runs


def acronyms(text: str) -> list[str]:
    """The acronyms text uses: "IRS", "CDC", "US"."""
    return _ACRONYM.findall(text)


def term_list(text: str) -> list[str]:
    """Stemmed, lower-cased words of text without stop words, in order."""
    return [_stem(w.lower().strip("'’-")) for w in _WORD.findall(text)
            if w.lower() not in _STOP and len(w) > 1]


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def numbers(text: str) -> set[float]:
    """Every number in text as a value: 28,500, 28500 and 28.5 thousand are all 28500."""
    return {value for _, value in numbers_with_text(text)}


def numbers_with_text(text: str) -> list[tuple[str, float]]:
    """(as written, value) for every number in text, digits or words ("six", "twenty million")."""
    found = []
    for match in _DIGITS.finditer(text):
        whole = float(match["int"].replace(",", "") + "." + (match["frac"] or "0"))
        found.append((match.group().strip(), _scaled(whole, match)))
    for match in _WORDS.finditer(text):
        found.append((match.group().strip(), _scaled(_WORD_NUMBERS[match["word"].lower()], match)))
    return found


def _scaled(value: float, match: re.Match) -> float:
    scale = (match["scale"] or match["abbr"] or "").lower()
    return round(value * _MULTIPLIERS.get(scale, 1), 6)
