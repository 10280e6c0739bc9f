"""The LLM answer step: prompt any LangChain chat model, stream its tokens, check, or fall back.

A drop-in for the extractive step: {"question", "query", "history", "docs", "on_token"} -> Draft.
The model's text reaches the Answer only when bot.answering.verify passes it. Otherwise the Draft is the
extractive one, and its warnings say what failed; a model that cannot be reached is handled the
same way, so a question still gets an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate

from bot.answering.answer import condense
from bot.answering.citations import MARKER, number_sources
from bot.answering.extractive import Draft, ExtractiveAnswerer, content_terms
from bot.answering.short_answer import MAX_WORDS, short_from_text
from bot.answering.verify import (attribute, check_answer, check_short_answer, is_abstention,
                                  split_short_answer)
from prompts import load_prompt

log = logging.getLogger(__name__)
MAX_QUERY_CHARS = 300

TokenSink = Callable[[str], None]


class GenerativeAnswerer:
    """Answer from the numbered sources with a chat model; show its text only if it checks out."""

    def __init__(self, model: BaseChatModel, model_id: str, *,
                 fallback: Callable[[dict], Draft] | None = None,
                 today: Callable[[], date] = date.today) -> None:
        self.model = model
        self.model_id = model_id
        self.fallback = fallback or ExtractiveAnswerer()
        self.today = today
        self.prompt = ChatPromptTemplate.from_messages([
            ("system", load_prompt("answer_system.txt").strip()),
            ("human", load_prompt("answer_question.txt").strip()),
        ])

    def __call__(self, inputs: dict) -> Draft:
        """LCEL entry point: generate, check, and return the checked or the fallback Draft."""
        docs = inputs["docs"]
        if not docs:
            return Draft(text="", abstained=True, answered_by=self.model_id)
        try:
            text = self.generate(self.messages(inputs), inputs.get("on_token"))
        except Exception as exc:  # any provider error: the extractive answer still stands
            log.warning("model %s failed: %s", self.model_id, type(exc).__name__)
            return self.fall_back(inputs, [f"The model {self.model_id} could not be reached or "
                                           f"failed ({_describe(exc)})."])
        if is_abstention(text):
            return Draft(text="", abstained=True, answered_by=self.model_id)
        short, body = split_short_answer(text)
        check = check_answer(attribute(body, docs), docs)
        failures = check.failures + check_short_answer(short, check.text, docs)
        if failures:
            log.info("answer from %s failed %d checks", self.model_id, len(failures))
            return self.fall_back(inputs, [f"The answer from {self.model_id} failed the citation "
                                           f"check and is not shown: {f}." for f in failures])
        question = inputs.get("query") or inputs["question"]
        if short and len(short.split()) > MAX_WORDS:  # a sentence is no short answer
            short = None
        short = short or short_from_text(question, MARKER.sub("", check.text))
        return Draft(text=check.text, quotes=check.quotes, answered_by=self.model_id,
                     short_answer=short)

    def messages(self, inputs: dict) -> list[BaseMessage]:
        """The rendered prompt: system rules with today's date and the fenced sources, question."""
        return self.prompt.format_messages(today=self.today().isoformat(),
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

    def fall_back(self, inputs: dict, warnings: list[str]) -> Draft:
        """The extractive Draft, marked as a replacement for an unverified model answer."""
        draft = self.fallback(inputs)
        shown = ("No answer is shown." if draft.abstained
                 else "The answer shown is quoted from the sources instead.")
        return draft.model_copy(update={"answered_by": "extractive", "verified": False,
                                        "warnings": [*warnings, shown]})


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


def _first_line(text: str) -> str:
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    return line.strip().strip("\"'“”").removeprefix("Standalone question:").strip()


def _describe(exc: Exception) -> str:
    first = (str(exc).splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
