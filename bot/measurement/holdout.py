"""News the index does not hold: answer questions with their source articles kept out of reach.

For each answerable question, the retriever skips the question's gold articles and every article
that contains one of its answer strings, so the corpus no longer reports the answer and the
right reply is an abstention. `newsbot eval --holdout-gold` reports the share abstained as
`abstain_accuracy`, beside the same set's answerable accuracy from a plain `newsbot eval`.
`python -m bot.measurement.holdout [EVAL_DIR]` prints the sweeps that chose the coverage floor
and the score floor (bot.answering.extractive.MIN_COVERAGE, MIN_SCORE) on both dev sets and the
held-out check together.
"""

from __future__ import annotations

import sys
from pathlib import Path

from langchain_core.documents import Document
from pydantic import Field

from bot.answering.extractive import MIN_COVERAGE, ExtractiveAnswerer
from bot.answering.retrieval import HybridRetriever
from bot.measurement.evaluation import EvalQuestion, contains_phrase, is_correct, load_questions


class HoldoutRetriever(HybridRetriever):
    """The shipped retriever, blind to the articles in `blocked` (set per question)."""

    blocked: set[str] = Field(default_factory=set)

    def select(self, ranked: list[str], rows: dict[str, tuple[str, dict]], q_vec) -> list[str]:
        """The top k chunks of the articles that are not blocked."""
        return super().select([cid for cid in ranked if rows[cid][1]["article_id"]
                               not in self.blocked], rows, q_vec)

    def rank_articles(self, query: str, n: int = 10, as_of=None) -> list[str]:
        """Distinct article ids in fused rank order, blocked ones left out."""
        return [a for a in super().rank_articles(query, n + len(self.blocked), as_of)
                if a not in self.blocked][:n]

    def search_without(self, query: str, blocked: set[str], as_of=None) -> list[Document]:
        """search(query) with the given articles out of reach."""
        self.blocked = blocked
        return self.search(query, as_of)


def held_out(q: EvalQuestion, texts: dict[str, str]) -> set[str]:
    """The articles that report q's answer: its gold articles and any holding an answer string."""
    holding = {aid for aid, text in texts.items()
               if any(contains_phrase(text, a) for a in q.answers)}
    return set(q.gold_doc_ids) | holding


def as_unanswerable(q: EvalQuestion) -> EvalQuestion:
    """The question as graded in the held-out check: the right reply is to abstain."""
    return q.model_copy(update={"answers": [], "gold_doc_ids": []})


def sweep(eval_dir: Path, floors: tuple[float, ...] = (0.0, 0.2, 0.3, 0.4, 0.5),
          score_floors: tuple[float, ...] = (2.5, 2.6, 2.7, 2.8, 2.9, 3.0, 3.1, 3.2)) -> None:
    """Print, per coverage floor (without a score floor), then per floor on the best sentence's
    score (with the shipped coverage floor), answer accuracy and abstentions on both dev sets and
    on RealTime QA with its answers held out: the tables behind MIN_COVERAGE and MIN_SCORE."""
    from bot.factories import make_embedder, make_keyword_index
    from bot.measurement.eval_runner import as_of_date, load_corpus, prepare_index
    from bot.measurement.tuning import DEV_SETS
    from bot.settings import load_settings

    settings = load_settings()
    embedder = make_embedder(settings)
    cases: dict[str, list[tuple[EvalQuestion, list[Document]]]] = {}
    for name, (corpus, questions) in DEV_SETS.items():
        store = prepare_index(settings, eval_dir / corpus, embedder, None)
        texts = {a.id: a.text for a in load_corpus(eval_dir / corpus)}
        retriever = HoldoutRetriever(store=store, embedder=embedder, k=settings.top_k,
                                     keyword=make_keyword_index(settings, store))
        asked = load_questions(eval_dir / questions)
        cases[name] = [(q, retriever.search_without(q.question, set(), as_of_date(q)))
                       for q in asked]
        if name == "realtimeqa":
            cases["held out"] = [(as_unanswerable(q), retriever.search_without(
                q.question, held_out(q, texts), as_of_date(q))) for q in asked if q.answers]
    for floor in floors:
        step = ExtractiveAnswerer(min_coverage=floor, min_score=float("-inf"))
        print(f"coverage floor {floor:.1f}: " + " · ".join(
            f"{name} {figures(step, rows)}" for name, rows in cases.items()))
    for floor in score_floors:
        step = ExtractiveAnswerer(min_score=floor)
        print(f"score floor {floor:.1f} (coverage floor {MIN_COVERAGE}): " + " · ".join(
            f"{name} {figures(step, rows)}" for name, rows in cases.items()))


def figures(step: ExtractiveAnswerer, rows: list[tuple[EvalQuestion, list[Document]]]) -> str:
    """Answer accuracy and share abstained (answerable), share abstained (unanswerable)."""
    drafts = [(q, step.extract(q.question, docs)) for q, docs in rows]
    answerable = [(q, d) for q, d in drafts if q.answers]
    unanswerable = [d for q, d in drafts if not q.answers]
    parts = []
    if answerable:
        right = sum(is_correct(d.text, q.answers, d.abstained) for q, d in answerable)
        parts.append(f"accuracy {right / len(answerable):.3f}, answerable abstained "
                     f"{sum(d.abstained for _, d in answerable) / len(answerable):.3f}")
    if unanswerable:
        parts.append(f"abstained {sum(d.abstained for d in unanswerable) / len(unanswerable):.3f}")
    return ", ".join(parts)


if __name__ == "__main__":
    sweep(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/eval"))
