"""The kind of answer a question asks for, read from its wh-word and head noun.

A question asks for a kind of thing: a number (with its unit), a date, a person, an organisation,
a place, a title, an event (a holiday, a war, an election), or some other name. `answer_kind`
reads it from the wh-word and the head noun ("which team" -> organisation); bot.answering.spans
finds the spans of that kind in a text.
"""

from __future__ import annotations

import re

_HEADS = {
    "person": """person man woman leader star actor actress singer player athlete president
        ceo founder judge senator rapper celebrity comedian musician coach director author writer
        official politician candidate billionaire executive governor lawmaker host journalist
        figure icon legend artist quarterback pitcher champion head""",
    "org": """company team group organization organisation firm school university college
        network agency party airline brand retailer chain club league union automaker bank
        business service maker manufacturer startup giant carrier studio publisher platform
        app website channel outlet department court committee charity""",
    "place": """country city state continent nation island region park town county province
        area location place capital territory airport"""
             """ neighborhood""",
    "title": """show film movie book song album series novel play musical documentary
        sitcom drama title franchise""",
    "date": "year date day month decade",
    "number": "figure amount sum total price cost percentage rate toll age",
    "event": """holiday festival event tournament championship war battle election storm
        hurricane ceremony celebration""",
}
_HEAD_KIND = {w: kind for kind, words in _HEADS.items() for w in words.split()}
# "(will do) what this week?": words after "what" that are no head noun.
_NOT_HEADS = {"this", "that", "next", "last", "these", "those"}
_SEVERAL = {"two", "three", "four", "both"}
_NUMBER_Q = re.compile(r"\bhow (many|much|long|old|far|big|large|tall|often|high|fast)\b|"
                       r"\bwhat (number|percentage|percent|share|amount|proportion|magnitude)\b|"
                       r"\bwhat (is|was|were|are) the (magnitude|number|percentage|price|cost|"
                       r"rate|age|amount|total|size|population|score|death toll|toll)\b", re.I)
_WHICH = re.compile(r"\b(?:which|what)\s+((?:[\w’'-]+\s*){1,4})", re.I)
_ASKS = re.compile(r"\b(?:who|whom|whose|what|which|when|where|why|how)\b", re.I)
_WH = re.compile(r"\b(who|whom|whose|when|where|how soon)\b")
_WH_KIND = {"who": "person", "whom": "person", "whose": "person", "when": "date", "where": "place",
            "how soon": "date"}
_COPULA = re.compile(r"\bwhat (?:is|was|are|were) (?:the|a|an) ((?:[\w’'-]+\s*){1,3})", re.I)
# "What is her name?" asks for a person, "what is its name?" for a name; "what is the mission
# called?" for the kind its head noun names (a name where it names none).
_PRONOUN_NAME = re.compile(r"\bwhat(?:'s| is| was| are| were) (his|her|their|its) "
                           r"(?:full |first |last |real )?names?\b", re.I)
_CALLED = re.compile(r"\bwhat (?:is|was|are|were) (?:it|they|the ((?:[\w’'-]+ ){0,2}[\w’'-]+)) "
                     r"(?:called|named)\b", re.I)
_PREPOSITIONS = {"of", "for", "in", "on", "at", "to", "from", "by", "with", "that", "which"}
_AUXILIARIES = {"is", "was", "were", "are", "did", "does", "do", "has", "have", "had", "will",
                "would", "can", "could", "should", "happened", "happens"}
ANAPHORA = re.compile(r"\b(it|its|they|them|their|he|she|his|her|him|that|those|these|there|this)\b",
                       re.I)
_NOT_NOUNS = {"of", "about", "one", "ones", "kind", "sort", "type"}
# A capitalised word after the first (a name a pronoun may stand for), "I" aside.
_NAME_AFTER_FIRST = re.compile(r"(?<=\S)\s+(?!I\b)[A-Z][\w’'-]*")


def answer_kind(question: str) -> str | None:
    """The kind of answer a question asks for (one of _HEADS' kinds, or "name"), or None when it
    asks why or how. A follow-up made whole with the question before it ("Which country ...?
    who is he?") asks what its last question asks."""
    question = last_question(question)
    if _NUMBER_Q.search(question):
        return "number"
    head = which_kind(question)
    if head not in (None, "name"):
        return head  # "who was associated with which group?" asks for the group
    head = head or copula_kind(question) or name_kind(question)
    # The first wh-word of the main clause: the last sentence ("Police arrested men who ... .
    # Where was the event?"), after its last comma ("When rich countries trade ..., whose wages
    # rise?"); "Who was CEO when the service began?" asks for a person.
    lowered = question.lower()
    last = re.split(r"[.!?]\s+", lowered.strip())[-1]
    main = last.rsplit(",", 1)[-1]
    found = _WH.search(main) or _WH.search(last) or _WH.search(lowered)
    return _WH_KIND[found.group(1)] if found else head


def last_question(text: str) -> str:
    """The last of several questions in text (a follow-up after the question it leans on); text
    itself when it asks one."""
    asked = [part for part in re.split(r"\?\s+", text.strip()) if _ASKS.search(part)]
    return asked[-1] if asked else text


def which_kind(question: str) -> str | None:
    """The kind named by "which/what HEAD": the head noun's kind, "name" for another noun."""
    words = head_phrase(question)
    if not words:
        return None
    return _HEAD_KIND.get(words[-1]) or _HEAD_KIND.get(singular(words[-1])) or "name"


def copula_kind(question: str) -> str | None:
    """The kind named by "what is the HEAD (of ...)": "what was the target percentage of ..."
    asks for a number, "what is the name of ..." for a name; None for other heads ("what is the
    goal of ..."), whose answer is a phrase."""
    match = _COPULA.search(question)
    if match is None:
        return None
    for word in match.group(1).lower().split():
        if word in _PREPOSITIONS:
            break
        kind = _HEAD_KIND.get(word) or _HEAD_KIND.get(singular(word))
        if kind or word in ("name", "nationality"):
            return kind or "name"
    return None


def name_kind(question: str) -> str | None:
    """The kind asked for by "what is her name?" (a person), "what is its name?" (a name) or
    "what is the mission called?" (its head noun's kind, else a name); None for other questions."""
    pronoun = _PRONOUN_NAME.search(question)
    if pronoun is not None:
        return "name" if pronoun.group(1).lower() == "its" else "person"
    called = _CALLED.search(question)
    if called is None:
        return None
    word = (called.group(1) or "").lower().split()[-1:] or [""]
    return _HEAD_KIND.get(word[0]) or _HEAD_KIND.get(singular(word[0])) or "name"


def head_phrase(question: str) -> list[str]:
    """The words after "which/what" that name what is asked for, up to the noun that names its
    kind or the verb: "which US national park was ..." -> [us, national, park]; "which
    company's stock ..." -> [company]; [] for "what is ...", "what did ..." or no which/what."""
    question = last_question(question)
    for match in _WHICH.finditer(question):
        words = [w.removesuffix("’s").removesuffix("'s") for w in match.group(1).lower().split()]
        if words[0] in _AUXILIARIES or words[0] in _NOT_HEADS:
            continue  # "what is ...", "what did ...", "do what this week": no head noun to read
        phrase = []
        for word in words:
            if word in _AUXILIARIES:
                break  # "which measure did lawmakers ...": the head came before the verb
            phrase.append(word)
            if _HEAD_KIND.get(word) or _HEAD_KIND.get(singular(word)):
                break
        return phrase
    return []


def place_type(question: str) -> str | None:
    """ "country" or "continent" when the question asks for one ("which country", "what
    nations"), else None: any place answers it."""
    words = head_phrase(question)
    head = singular(words[-1]) if words else ""
    return head if head in ("country", "continent") else "country" if head == "nation" else None

def asks_for_several(question: str) -> bool:
    """Whether "which/what HEAD" names more than one thing: "which two countries", "which
    teams"."""
    return any(word in _SEVERAL or (singular(word) != word and singular(word) in _HEAD_KIND)
               for word in head_phrase(question))


def singular(word: str) -> str:
    """A head noun's singular: "countries" -> "country", "teams" -> "team"; a word that names
    no kind (or already does: "series") as it is."""
    if word in _HEAD_KIND:
        return word
    for plural, one in (("ies", "y"), ("es", ""), ("s", "")):
        if word.endswith(plural) and word[:-len(plural)] + one in _HEAD_KIND:
            return word[:-len(plural)] + one
    return word


def leans_back(question: str) -> bool:
    """Whether a pronoun of the question points outside it: "how many did it kill?" does, but
    in "Which country elected its first leftist leader?" or "Did Biden sign his bill?" the
    question names what "its" or "his" stands for (the asked-for noun, a name) before it."""
    pronoun = ANAPHORA.search(question)
    if pronoun is None:
        return False
    before = question[:pronoun.start()]
    noun = (head_phrase(before) or [""])[-1]  # "Which country ..." names one; "Which of ..." not
    return not ((noun.isalpha() and noun not in _NOT_NOUNS) or _NAME_AFTER_FIRST.search(before))
