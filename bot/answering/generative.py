"""The LLM answer step: prompt any LangChain chat model, stream its tokens, check, or fall back.

The extractive answer is made first: where it abstains (no source close enough), the model is
not asked, so both steps abstain at the same operating point.

A drop-in for the extractive step: {"question", "query", "history", "docs", "on_token"} -> Draft.
The model's sentences reach the Answer only when bot.answering.verify passes them. Otherwise its
short answer may, quoted with the one source sentence that holds it (a warning says so); failing
that the Draft is the extractive one, and its warnings say what failed. A model that cannot be
reached is handled the same way, so a question still gets an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate

from bot.answering.answer import condense
from bot.answering.citations import MARKER, markers, number_sources
from bot.answering.extractive import (MAX_ANSWER_CHARS, Draft, ExtractiveAnswerer, content_terms,
                                      shorten)
from bot.answering.short_answer import MAX_WORDS, kind_span, short_from_text
from bot.answering.verify import (attribute, check_answer, check_short_answer, holds,
                                  is_abstention, quote_for_short, quotes_for_short, sole_source,
                                  split_short_answer, strip_scaffolding)
from index.chunking import split_sentences
from prompts import load_prompt

log = logging.getLogger(__name__)
MAX_QUERY_CHARS = 300
# Ends the warning of an answer that shows the model's short answer with a source's own sentence.
QUOTED_SHORT = "its short answer is, with the source sentence that holds it."

TokenSink = Callable[[str], None]


class GenerativeAnswerer:
    """Answer from the numbered sources with a chat model; show its text only if it checks out."""

    def __init__(self, model: BaseChatModel, model_id: str, *,
                 fallback: Callable[[dict], Draft] | None = None) -> None:
        self.model = model
        self.model_id = model_id
        self.fallback = fallback or ExtractiveAnswerer()
        self.prompt = ChatPromptTemplate.from_messages([
            ("system", load_prompt("answer_system.txt").strip()),
            ("human", load_prompt("answer_question.txt").strip()),
        ])

    def __call__(self, inputs: dict) -> Draft:
        """LCEL entry point: generate, check, and return the checked or the fallback Draft."""
        docs = inputs["docs"]
        if not docs:
            return Draft(text="", abstained=True, answered_by=self.model_id)
        quoted = self.fallback(inputs)
        if quoted.abstained:  # no source is close enough: small models answer whatever they are
            return quoted     # given, so the model is not asked
        try:
            text = self.generate(self.messages(inputs), inputs.get("on_token"))
        except Exception as exc:  # any provider error: the extractive answer still stands
            log.warning("model %s failed: %s", self.model_id, type(exc).__name__)
            return self.fall_back(quoted, [f"The model {self.model_id} could not be reached or "
                                           f"failed ({_describe(exc)})."])
        if is_abstention(text):
            return Draft(text="", abstained=True, answered_by=self.model_id)
        question = inputs.get("query") or inputs["question"]
        written, body = split_short_answer(text)
        short = written if written and len(written.split()) <= MAX_WORDS else None
        whole = written and short is None and written not in body
        n = sole_source(written, docs) if whole else None
        if n is not None:  # a whole sentence on the short answer's line that one source holds,
            stop = written[-1] if written.endswith((".", "!", "?")) else "."  # cited as
            body = f"{written.rstrip('.!?')} [{n}]{stop}\n{body}"  # attribute would cite it
        cited, body = strip_scaffolding(body)
        failures = ["the reply states nothing but its short answer"]
        if MARKER.sub("", body).strip(" .\n"):
            check = check_answer(attribute(body, docs), docs)
            failures = check.failures + check_short_answer(short, check.text, docs)
            if not failures and not any(on_topic(question, docs, n) for n in check.quotes):
                failures = ["the sources it cites do not speak of what the question names"]
            if not failures:  # no short answer line, or a sentence: what the answer names
                short = short or short_from_text(question, MARKER.sub("", check.text))
                return self.shown(check.text, check.quotes, short, docs)
        proved = self.with_proof(question, written, short, cited or markers(body), docs)
        if proved is not None:
            return proved.model_copy(update={"warnings": [
                f"The sentences from {self.model_id} are not shown ({failures[0]}); "
                f"{QUOTED_SHORT}"]})
        log.info("answer from %s failed %d checks", self.model_id, len(failures))
        return self.fall_back(quoted, [f"The answer from {self.model_id} failed the citation "
                                       f"check and is not shown: {f}." for f in failures])

    def shown(self, text: str, quotes: dict[int, list[str]], short: str | None,
              docs: list[Document]) -> Draft:
        """The checked answer, led by the source sentence that holds its short answer when the
        model's sentences do not state it (so the proof of the short answer is on show)."""
        if short and not holds(MARKER.sub("", text), short):
            held = quote_for_short(short, markers(text), docs)
            if held is not None:
                n, quote = held
                text = f"{shorten(quote)} [{n}] {text}"
                quotes = {**quotes, n: [quote, *(q for q in quotes.get(n, []) if q != quote)]}
        return Draft(text=within_limit(text), quotes=quotes, answered_by=self.model_id,
                     short_answer=short)

    def with_proof(self, question: str, written: str | None, short: str | None,
                   cited: list[int], docs: list[Document]) -> Draft | None:
        """The model's short answer, quoted with the one source sentence that holds it (or,
        for several things, one sentence each, verify.quotes_for_short); a sentence written as
        the short answer gives the thing of the asked-for kind it names ("The Avalanche won the
        Cup." -> "The Avalanche"). None when no sentence holds it."""
        held = quotes_for_short(short, cited, docs)
        if held is None and written:
            short = kind_span(question, written)
            held = quotes_for_short(short, cited, docs)
        if held is None or not any(on_topic(question, docs, n) for n, _ in held):
            return None  # none, or a report on something else that holds the same words
        room = MAX_ANSWER_CHARS // len(held) - 8  # each proof shown, each cut to fit
        text = " ".join(f"{shorten(quote, room)} [{n}]" for n, quote in held)
        proofs: dict[int, list[str]] = {}
        for n, quote in held:
            proofs.setdefault(n, []).append(quote)
        return Draft(text=text, quotes=proofs, short_answer=short, answered_by=self.model_id)

    def messages(self, inputs: dict) -> list[BaseMessage]:
        """The rendered prompt: system rules with the day the question is asked (as_of, which an
        eval sets to the question's date), the fenced sources, the question."""
        today = inputs.get("as_of") or date.today()
        return self.prompt.format_messages(today=today.isoformat(),
                                           sources=number_sources(inputs["docs"]),
                                           question=inputs.get("query") or inputs["question"])

    def generate(self, messages: list[BaseMessage], on_token: TokenSink | None) -> str:
        """The model's whole reply; streamed piece by piece to on_token when one is given."""
        if on_token is None:
            return self.model.invoke(messages).text
        pieces = []
        for chunk in self.model.stream(messages):
            if chunk.text:
                pieces.append(chunk.text)
                on_token(chunk.text)
        return "".join(pieces)

    @staticmethod
    def fall_back(draft: Draft, warnings: list[str]) -> Draft:
        """The extractive Draft, marked as a replacement for an unverified model answer."""
        return draft.model_copy(update={
            "answered_by": "extractive", "verified": False,
            "warnings": [*warnings, "The answer shown is quoted from the sources instead."]})


def on_topic(question: str, docs: list[Document], n: int) -> bool:
    """Whether source n (its headline and retrieved text) shares a content word with the
    question: a model's answer proved only by reports on something else ("About 28,500 American
    soldiers ..." for "How many snowy owls were counted?", the prompt's own example) is not
    shown. The report, not the sentence: "“Squid Game” is officially coming back." proves an
    answer to "Which show was green lit for a new season?" from a report that says "season"."""
    if not 1 <= n <= len(docs):
        return False
    doc = docs[n - 1]
    return bool(content_terms(question)
                & content_terms(f"{doc.metadata.get('title', '')}\n{doc.page_content}"))


class Condenser:
    """The condense step for LLM mode: a follow-up becomes a standalone question."""

    def __init__(self, model: BaseChatModel, model_id: str) -> None:
        self.model = model
        self.model_id = model_id
        self.prompt = ChatPromptTemplate.from_messages([("human", load_prompt("condense.txt").strip())])

    def __call__(self, inputs: dict) -> str:
        """LCEL entry point: {"question", "history"} -> the query to retrieve with."""
        question, history = inputs["question"], inputs.get("history") or []
        if not history:
            return question
        lines = [f"User: {t.question}\nnewsbot: {t.answer}" for t in history]
        try:
            reply = self.model.invoke(self.prompt.format_messages(
                history="\n".join(lines), question=question)).text
        except Exception as exc:
            log.warning("model %s could not condense: %s", self.model_id, type(exc).__name__)
            return condense(question, history)
        query = _first_line(reply)
        known = content_terms(" ".join([question, *(t.question for t in history)]))
        if not query or len(query) > MAX_QUERY_CHARS or not content_terms(query) & known:
            return condense(question, history)  # a rewrite about something else entirely
        return query


def within_limit(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """The checked answer's leading sentences that fit in limit characters (the first always):
    a fact and its proof, not the four paragraphs a small model may write. Each sentence was
    checked on its own, so the ones kept still are."""
    sentences = split_sentences(text)
    end = sentences[0].end if sentences else len(text)
    for sentence in sentences[1:]:
        if sentence.end > limit:
            break
        end = sentence.end
    return text[:end].strip()


def _first_line(text: str) -> str:
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    return line.strip().strip("\"'“”").removeprefix("Standalone question:").strip()


def _describe(exc: Exception) -> str:
    first = (str(exc).splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
