"""The answering chain (LCEL) and the Answerer facade that every surface uses.

    question, history --condense--> query --retrieve--> docs --answer step--> Draft
      --assemble--> Answer(text with [n], citations, abstained)

The answer step is any runnable from {"question", "query", "history", "docs", "on_token"} to a
Draft: the extractive step by default, a chat model later. Retrieval and rendering do not change
with it. A step that generates text may call on_token(text_so_far_piece) as tokens arrive; the
surfaces show those as a preview and then replace them with the final, checked Answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date

import httpx
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough
from pydantic import BaseModel, Field

from bot.answering.citations import Citation, as_of_line, assemble
from bot.answering.dates import Filters, is_dated, named_year, names_period, report_dates, within
from bot.answering.figures import earlier_figures
from bot.answering.kinds import ANAPHORA, leans_back
from bot.errors import StoreUnavailableError, UsageError
from bot.answering.extractive import Draft, content_terms

ABSTAIN_TEXT = "I couldn't find that in the indexed articles."
MAX_QUESTION_CHARS = 2000
# Control characters (a line of NUL bytes) are not text; lone surrogates come from bytes that
# were not UTF-8 (argv decodes them with surrogateescape) and cannot be encoded again.
_NOT_TEXT = re.compile("[\x00-\x1f\x7f-\x9f]")
# Terminal escape sequences (CSI "\x1b[31m", OSC "\x1b]0;title\x07", two-character ones): gone
# whole, so no "31m" is left behind to be read as a figure.
_ESCAPE = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI
                     r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC
                     r"|\x1b[ -/]*[0-~]")
# Invisible format characters: zero-width spaces and joiners, byte order marks, soft hyphens and
# the bidirectional overrides that would turn printed text around.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
_SURROGATES = re.compile("[\ud800-\udfff]+")
_FOLLOWUP_LEAD = re.compile(r"^\W*(and|but|also|so|then|what about|how about|and what about)\b",
                            re.I)


class Turn(BaseModel):
    """One earlier exchange, for follow-up questions."""

    question: str
    answer: str = ""


class Answer(BaseModel):
    """An answer as every surface shows it; `ask --json` prints exactly these fields."""

    question: str
    answer: str
    abstained: bool
    # The name, number, date or phrase that answers the question, shown before the quotes;
    # None when abstaining.
    short_answer: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    answered_by: str = "extractive"
    verified: bool = True
    warnings: list[str] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    as_of: str = ""  # how fresh the first source is: "As of 3 Nov 2025 (Reuters)"
    filters: dict[str, str] = Field(default_factory=dict)  # the filters and date words used
    earlier: list[str] = Field(default_factory=list)  # older reports' other figures, newest first


def condense(question: str, history: list[Turn]) -> str:
    """A follow-up that cannot stand alone borrows the previous question's words."""
    if not history:
        return question
    own = content_terms(question)
    leans = bool(_FOLLOWUP_LEAD.search(question)) or bool(ANAPHORA.search(question))
    if len(own) >= 3 and not _FOLLOWUP_LEAD.search(question) and not leans_back(question):
        return question
    if len(own) >= 2 and not leans:
        return question
    return f"{history[-1].question} {question}"


def build_chain(retriever: BaseRetriever, answer_step: Runnable | Callable,
                condense_step: Runnable | Callable | None = None) -> Runnable:
    """question/history in, Answer out: condense -> retrieve -> answer step -> citations."""
    condense_step = condense_step or (lambda x: condense(x["question"], x.get("history") or []))

    def _retrieve(x: dict) -> list[Document]:
        if x.get("filters") is not None and hasattr(retriever, "search"):
            return retriever.search(x["query"], x.get("as_of"), x["filters"])
        if x.get("as_of") is not None and hasattr(retriever, "search"):
            return retriever.search(x["query"], x["as_of"])
        return retriever.invoke(x["query"])

    return (
        RunnablePassthrough.assign(query=_timed("condense", condense_step))
        | RunnablePassthrough.assign(docs=_timed("retrieve", _retrieve))
        | RunnablePassthrough.assign(draft=_timed("answer", answer_step))
        | RunnableLambda(to_answer)
    )


def to_answer(x: dict) -> Answer:
    """Turn a Draft and the retrieved docs into the final Answer with numbered citations."""
    draft: Draft = x["draft"]
    timings = x.get("timings", {})
    stale = out_of_time(x, draft)
    if draft.abstained or stale:
        why = stale or (draft.abstained and draft.text) or ABSTAIN_TEXT
        return Answer(question=x["question"], answer=why, abstained=True,
                      answered_by=draft.answered_by, verified=draft.verified,
                      warnings=draft.warnings, timings_ms=timings, filters=filters_used(x))
    text, citations = assemble(draft.text, x["docs"], draft.quotes)
    return Answer(question=x["question"], answer=text, abstained=False, citations=citations,
                  short_answer=draft.short_answer or None, answered_by=draft.answered_by,
                  verified=draft.verified,
                  warnings=draft.warnings, timings_ms=timings,
                  as_of=as_of_line(citations[0]) if citations else "",
                  filters=filters_used(x), earlier=earlier_figures(citations, x["docs"]))


def out_of_time(x: dict, draft: Draft) -> str | None:
    """Why the answer's reports cannot answer a question about a time, or None when they can.

    A question about this week, Tuesday or "recently" is about an event that a report from
    another time does not cover (news the index does not hold), however similar its words. Each
    quoted report must be dated, and none may fall in the question's dates (dates.report_dates).
    A question naming a year ("the 2022 Stanley Cup Finals") is not answered by reports all
    published before that year, unless a quote names the year itself (a preview of the event).
    """
    if draft.abstained or not draft.quotes or x.get("as_of") is None:
        return None
    question = x.get("query") or x["question"]
    metas = [x["docs"][n - 1].metadata for n in draft.quotes if 0 < n <= len(x["docs"])]
    if not metas or not all(is_dated(m.get("date", "")) for m in metas):
        return None
    wanted = report_dates(question, x["as_of"])
    year = named_year(question)
    if wanted is None and year is not None and all(m["date"] < f"{year}-01-01" for m in metas) \
            and not any(str(year) in quote for quotes in draft.quotes.values() for quote in quotes) \
            and str(year) not in draft.text:
        wanted = (date(year, 1, 1), None, str(year))
    if wanted is None:
        return None
    since, until, words = wanted
    if any(within(m["date"], since, until) for m in metas):
        return None
    quoted = [(x["docs"][n - 1].metadata["date"], " ".join(quotes))
              for n, quotes in draft.quotes.items() if 0 < n <= len(x["docs"])]
    if any(names_period(words, text, day) for day, text in quoted):
        return None
    span = " to ".join(str(d) for d in (since, until) if d)
    if since and not until:
        span = f"{since} on"
    closest = metas[0]
    return (f"I couldn't find a report on that from {span} (\"{words}\") in the indexed articles;"
            f" the closest is dated {closest['date']} ({closest.get('source') or 'outlet unknown'}).")


def filters_used(x: dict) -> dict[str, str]:
    """The explicit filters, and the date words' window where retrieval applied it."""
    used = x["filters"].echo() if x.get("filters") is not None else {}
    window = next((d.metadata["date_window"] for d in x.get("docs") or []
                   if d.metadata.get("date_window")), None)
    return {**used, "dates": window} if window else used


class Answerer:
    """The one entry point for surfaces: answer(question, history) -> Answer."""

    def __init__(self, chain: Runnable, retriever: BaseRetriever | None = None) -> None:
        self.chain = chain
        self.retriever = retriever  # exposed for evaluation's retrieval metrics only

    def answer(self, question: str, history: list[Turn] | None = None,
               on_token: Callable[[str], None] | None = None, *,
               as_of: date | None = None, filters: Filters | None = None) -> Answer:
        """Answer a question, with earlier turns for follow-ups.

        on_token, if given, receives generated text pieces while an LLM answer step writes them
        (the extractive step never calls it). Only the returned Answer is checked and final.
        as_of is the day the question is asked (default today): articles from the days before
        it are preferred when several report on the same thing. filters (since, until,
        source) limit which articles may answer.
        """
        question = validate_question(question)
        started = time.perf_counter()
        timings: dict[str, float] = {}
        try:
            result: Answer = self.chain.invoke({"question": question, "history": history or [],
                                                "timings": timings, "on_token": on_token,
                                                "as_of": as_of or date.today(),
                                                "filters": filters})
        except httpx.TransportError as exc:  # a Chroma server that is down or restarting
            reason = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
            raise StoreUnavailableError(f"The index's Chroma server cannot be reached ({reason}); "
                                        "ask again when it is back.") from exc
        timings["total"] = round((time.perf_counter() - started) * 1000, 1)
        return result.model_copy(update={"timings_ms": timings})


def validate_question(question: str | None) -> str:
    """A usable question, or a UsageError saying what is wrong with it."""
    text = " ".join(clean_input(question).split())
    if not text:
        raise UsageError("The question is empty: ask something, e.g. "
                         "\"How many US troops are in Korea?\"")
    if len(text) > MAX_QUESTION_CHARS:
        raise UsageError(f"The question is too long ({len(text)} characters; "
                         f"the limit is {MAX_QUESTION_CHARS}).")
    return text


def clean_input(text: str | None) -> str:
    """Typed or received text as plain text: terminal escape sequences and invisible format
    characters go, other control characters become spaces, undecodable bytes one replacement
    character."""
    text = _ESCAPE.sub("", _SURROGATES.sub("\ufffd", text or ""))
    return _NOT_TEXT.sub(" ", visible(text))


def visible(text: str) -> str:
    """text without invisible format characters (bidirectional overrides, zero-width spaces),
    for printing what an article says: it cannot turn the terminal's text around."""
    return _INVISIBLE.sub("", text)


def _timed(name: str, step: Runnable | Callable) -> Runnable:
    runnable = step if isinstance(step, Runnable) else RunnableLambda(step)

    def _run(x: dict) -> object:
        started = time.perf_counter()
        out = runnable.invoke(x)
        x["timings"][name] = round((time.perf_counter() - started) * 1000, 1)
        return out

    return RunnableLambda(_run)
