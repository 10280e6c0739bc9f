"""`newsbot eval`: answer a question set over a corpus and score it by ../shared/eval's conventions.

Scoring (see ../shared/eval/README.md):
- hit@k / MRR@10: a gold article among the top-k *distinct articles* retrieved (answerable
  questions with gold ids);
- answer accuracy: not abstained, answer text <= 400 characters, and an acceptable answer occurs
  in it as a whole word or phrase, case-insensitively (answerable questions);
- abstain accuracy: abstained with no citations (questions whose answers are []);
- citation accuracy: the first citation's article is gold or contains an answer string;
- short-answer accuracy: the answer rule applied to the short answer alone; exact match and F1:
  SQuAD's, of the short answer against the best gold answer (answerable questions; an abstention
  scores 0). A pipeline without a short answer is scored on its whole answer text.

When a model writes the answers (`--llm`), more figures say how far its text was shown
(they are None for the extractive step and the baseline, which have no model):
- model_verified_share: of the answers shown (not abstaining), the share that are the model's
  answer passed by the citation check (answered_by is the model, verified): its own sentences,
  or its short answer with the source sentence that holds it;
- model_fallbacks: answers whose model text failed the check (or whose model failed), so the
  extractive answer (or an abstention) was shown instead (verified false);
- model_unsupported_numbers: shown model answers stating a number (in the answer or the short
  answer) that none of their cited articles holds, read from the corpus; the check should make
  this 0;
- model_shown_wrong: shown model answers to answerable questions that are not correct;
- model_short_quoted: shown model answers whose own sentences failed the check (or were none), so
  the model's short answer is shown with the source sentence that holds it;
- seconds_per_answer: mean wall time per question (reported for every pipeline).
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import string
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, ValidationError, field_validator

from bot.answering.answer import Answer
from bot.answering.citations import MARKER
from bot.answering.generative import QUOTED_SHORT
from bot.answering.terms import numbers, numbers_with_text
from bot.errors import UsageError

MAX_ANSWER_CHARS = 400
METRIC_KEYS = ("n", "n_answerable", "n_unanswerable", "hit@1", "hit@5", "mrr@10",
               "answer_accuracy", "short_answer_accuracy", "exact_match", "f1",
               "abstain_accuracy", "citation_accuracy", "latency_ms_p50", "latency_ms_p95",
               "model_verified_share", "model_fallbacks", "model_unsupported_numbers",
               "model_shown_wrong", "model_short_quoted", "seconds_per_answer")
NO_MODEL = {"extractive", "baseline"}  # answerers that write no text of their own
_PUNCTUATION = set(string.punctuation) | set("“”‘’–—…")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


class EvalQuestion(BaseModel):
    """One question of an eval set; only question and question_date may reach the bot."""

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    # Required: [] says the corpus does not answer it; a file that leaves it out says nothing.
    answers: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]]
    gold_doc_ids: list[str] = Field(default_factory=list)
    question_date: str | None = None

    @field_validator("question_date")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        """A date the bot can be given as the day it is asked (YYYY-MM-DD)."""
        if value is not None:
            date.fromisoformat(value)  # a ValueError becomes the line's one-line error
        return value


@dataclass
class Response:
    """What a pipeline returned for one question."""

    answer: Answer
    ranked_articles: list[str]  # distinct article ids, best first
    latency_ms: float


@dataclass
class Scored:
    """One question's response and its grades, as written by --out."""

    question: EvalQuestion
    response: Response
    correct: bool | None  # answer accuracy (None for unanswerable questions)
    short: tuple[bool, float, float] | None  # short answer: (rule, exact match, F1)
    abstain_ok: bool | None  # abstain accuracy (None for answerable questions)
    citation_ok: bool | None
    gold_rank: int | None  # 1-based rank of the first gold article, None if not in the list
    # Numbers (as written) of a shown model answer that no cited article holds; None when the
    # answer shown is not the model's.
    unsupported: list[str] | None = None

    def record(self) -> dict:
        """A JSON-ready row for error analysis."""
        a = self.response.answer
        return {"id": self.question.id, "question": self.question.question,
                "gold_answers": self.question.answers, "gold_doc_ids": self.question.gold_doc_ids,
                "answer": a.answer, "short_answer": a.short_answer, "abstained": a.abstained,
                "citations": [c.model_dump() for c in a.citations],
                "ranked_articles": self.response.ranked_articles[:10],
                "correct": self.correct, "short": self.short, "abstain_ok": self.abstain_ok,
                "citation_ok": self.citation_ok, "gold_rank": self.gold_rank,
                "answered_by": a.answered_by, "verified": a.verified, "warnings": a.warnings,
                "unsupported_numbers": self.unsupported,
                "latency_ms": round(self.response.latency_ms, 1)}


def load_questions(path: Path) -> list[EvalQuestion]:
    """Questions from a JSONL file, or a UsageError naming the bad line."""
    if not path.is_file():
        raise UsageError(f"no such questions file: {path}")
    questions, seen = [], set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            questions.append(EvalQuestion.model_validate_json(line))
        except ValidationError as exc:
            problem = exc.errors()[0]
            field = ".".join(map(str, problem["loc"])) or "line"
            raise UsageError(f"{path} line {lineno}: {field}: {problem['msg']}") from exc
        if questions[-1].id in seen:
            raise UsageError(f"{path} line {lineno}: id {questions[-1].id!r} is used twice")
        seen.add(questions[-1].id)
    if not questions:
        raise UsageError(f"{path} holds no questions")
    return questions


def corpus_collection(corpus: Path, prefix: str = "eval") -> tuple[str, str]:
    """(collection name, content hash) for a corpus file: a changed corpus gets a new collection."""
    digest = hashlib.sha256(corpus.read_bytes()).hexdigest()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{corpus.parent.name}-{corpus.stem}")[:40]
    return f"{prefix}-{stem}-{digest[:10]}", digest


def is_correct(text: str, answers: Iterable[str], abstained: bool) -> bool:
    """The eval README's answer rule: whole word or phrase, case-insensitive, <= 400 chars."""
    if abstained or len(text) > MAX_ANSWER_CHARS:
        return False
    return any(contains_phrase(text, a) for a in answers)


def contains_phrase(text: str, phrase: str) -> bool:
    """Phrase occurs in text, case-insensitively, not glued to a letter or digit."""
    phrase = phrase.strip()
    if not phrase:
        return False
    pattern = r"(?<![A-Za-z0-9])" + re.escape(phrase.lower()) + r"(?![A-Za-z0-9])"
    return re.search(pattern, text.lower()) is not None


def grade(q: EvalQuestion, r: Response, article_text: Callable[[str], str]) -> Scored:
    """Grade one response."""
    a = r.answer
    answerable = bool(q.answers)
    gold_rank = next((i for i, aid in enumerate(r.ranked_articles, start=1)
                      if aid in q.gold_doc_ids), None)
    citation_ok = None
    if answerable:
        first = a.citations[0] if a.citations else None
        citation_ok = first is not None and (
            first.article_id in q.gold_doc_ids
            or any(contains_phrase(article_text(first.article_id), ans) for ans in q.answers))
    return Scored(
        question=q, response=r,
        correct=is_correct(a.answer, q.answers, a.abstained) if answerable else None,
        short=grade_short(a, q.answers) if answerable else None,
        abstain_ok=None if answerable else (a.abstained and not a.citations),
        citation_ok=citation_ok, gold_rank=gold_rank if q.gold_doc_ids else None,
        unsupported=unsupported_numbers(a, article_text) if shows_model(a) else None)


def shows_model(a: Answer) -> bool:
    """The answer shown is a model's answer that passed the citation check."""
    return a.answered_by not in NO_MODEL and a.verified and not a.abstained


def unsupported_numbers(a: Answer, article_text: Callable[[str], str]) -> list[str]:
    """Numbers of the answer and short answer that none of its cited articles holds."""
    cited = "\n".join(f"{c.title}\n{c.date}\n{c.quote}\n{article_text(c.article_id)}"
                      for c in a.citations)
    held = numbers(cited)
    stated = numbers_with_text(MARKER.sub(" ", f"{a.answer}\n{a.short_answer or ''}"))
    return sorted({written for written, value in stated if value not in held})


def grade_short(a: Answer, answers: list[str]) -> tuple[bool, float, float]:
    """(answer rule, exact match, F1) of the short answer, or of the whole answer without one."""
    text = "" if a.abstained else (a.short_answer or a.answer)
    return (is_correct(text, answers, a.abstained),
            max(float(squad_normal(text) == squad_normal(g)) for g in answers),
            max(token_f1(text, g) for g in answers))


def squad_normal(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD's token-overlap F1 of two answers after normalisation."""
    pred, ref = squad_normal(prediction).split(), squad_normal(gold).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or not common:
        return float(pred == ref)
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def summarize(rows: list[Scored]) -> dict:
    """The metrics object: exactly METRIC_KEYS."""
    answerable = [s for s in rows if s.question.answers]
    unanswerable = [s for s in rows if not s.question.answers]
    ranked = [s for s in answerable if s.question.gold_doc_ids]
    latencies = sorted(s.response.latency_ms for s in rows)
    return {
        "n": len(rows), "n_answerable": len(answerable), "n_unanswerable": len(unanswerable),
        "hit@1": _mean([s.gold_rank == 1 for s in ranked]),
        "hit@5": _mean([s.gold_rank is not None and s.gold_rank <= 5 for s in ranked]),
        "mrr@10": _mean([1 / s.gold_rank if s.gold_rank and s.gold_rank <= 10 else 0.0
                         for s in ranked]),
        "answer_accuracy": _mean([s.correct for s in answerable]),
        "short_answer_accuracy": _mean([s.short[0] for s in answerable]),
        "exact_match": _mean([s.short[1] for s in answerable]),
        "f1": _mean([s.short[2] for s in answerable]),
        "abstain_accuracy": _mean([s.abstain_ok for s in unanswerable]),
        "citation_accuracy": _mean([s.citation_ok for s in answerable]),
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p95": percentile(latencies, 95),
        **model_figures(rows),
        "seconds_per_answer": round(statistics.fmean(latencies) / 1000, 2) if latencies else None,
    }


def model_figures(rows: list[Scored]) -> dict:
    """How far a model's own text was shown; None for a run without a model."""
    answers = [s.response.answer for s in rows]
    if all(a.answered_by in NO_MODEL and a.verified for a in answers):
        return dict.fromkeys(("model_verified_share", "model_fallbacks",
                              "model_unsupported_numbers", "model_shown_wrong",
                              "model_short_quoted"))
    shown = [a for a in answers if not a.abstained]
    return {"model_verified_share": _mean([shows_model(a) for a in shown]),
            "model_fallbacks": sum(not a.verified for a in answers),
            "model_unsupported_numbers": sum(bool(s.unsupported) for s in rows),
            "model_shown_wrong": sum(shows_model(s.response.answer) and s.correct is False
                                     for s in rows),
            "model_short_quoted": sum(shows_model(a) and any(QUOTED_SHORT in w for w in a.warnings)
                                      for a in answers)}


def run_pipeline(respond: Callable[[EvalQuestion], Response], questions: list[EvalQuestion],
                 article_text: Callable[[str], str],
                 progress: Callable[[int, int], None] | None = None) -> list[Scored]:
    """Ask every question through one pipeline and grade the responses."""
    rows = []
    for i, q in enumerate(questions, start=1):
        rows.append(grade(q, respond(q), article_text))
        if progress:
            progress(i, len(questions))
    return rows


def ratios(ours: dict, baseline: dict) -> dict:
    """ours / baseline for every metric both have as a positive number."""
    out = {}
    for key in METRIC_KEYS:
        a, b = ours.get(key), baseline.get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
            out[key] = round(a / b, 3)
        else:
            out[key] = None
    return out


def write_rows(out_dir: Path, name: str, rows: list[Scored]) -> Path:
    """Per-question results as JSONL, for error analysis."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row.record(), ensure_ascii=False) + "\n")
    return path


def timed(fn: Callable[[], Answer]) -> tuple[Answer, float]:
    """Call fn and return its result with the wall time in milliseconds."""
    started = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - started) * 1000


def _mean(values: list[bool | float | None]) -> float | None:
    values = [float(v) for v in values if v is not None]
    return round(statistics.fmean(values), 4) if values else None


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    k = (len(values) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return round(values[lo] + (values[hi] - values[lo]) * (k - lo), 1)
