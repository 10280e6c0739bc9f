"""Fit and check the extractive step's settings on the dev sets: `python -m bot.measurement.tuning`.

For every dev question the retrieved candidate sentences become rows of features
(bot.answering.ranking.sentence_features), labelled by whether they contain a gold answer.
- Weights: a logistic regression over all rows. The printout compares top-1 accuracy of the
  current and fitted weights under 5-fold cross-validation (folds by question) and across data
  sets (fit on one, test on the other), so a change is kept only when it generalises.
- Runner-up margin: answer accuracy and the share of two-sentence answers per margin.
- Lede weight: answer accuracy per weight of the lede feature.
- Abstention: answer accuracy (answerable) and abstain accuracy (unanswerable) per similarity floor.
- With --retrieval: the answer step over other choices of candidate chunks (k, MMR, one or two
  chunks per article, neighbouring chunks around the best hits), each against the shipped top k.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from langchain_core.vectorstores.utils import maximal_marginal_relevance

from bot.measurement.eval_runner import as_of_date
from bot.measurement.evaluation import contains_phrase, is_correct, load_questions
from bot.answering.extractive import SECOND_MARGIN, ExtractiveAnswerer, fits_together
from bot.answering.ranking import (FEATURES, WEIGHTS, candidates, question_cue,
                                   sentence_features)
from bot.answering.terms import term_list
from bot.answering.retrieval import HybridRetriever
from index.store import unpack_vectors

DEV_SETS = {
    "realtimeqa": ("realtimeqa/articles.jsonl", "realtimeqa/questions-dev.jsonl"),
    "squad2": ("squad2/passages.jsonl", "squad2/questions-dev.jsonl"),
}


@dataclass
class Case:
    """One dev question's candidates: features, labels, lengths, and its best similarity."""

    x: np.ndarray
    y: np.ndarray
    lengths: np.ndarray
    answerable: bool
    max_cos: float


def collect(answerer, questions) -> list[Case]:
    """Candidate features for every dev question, from the live retriever."""
    cases = []
    for q in questions:
        docs = answerer.retriever.search(q.question, as_of_date(q))
        terms, cue = term_list(q.question), question_cue(q.question)
        found = candidates(docs)
        if not found:
            continue
        max_cos = max(s["score"] for _, s in found)
        x = [[sentence_features(s, n, terms, cue, max_cos)[f] for f in FEATURES] for n, s in found]
        y = [any(contains_phrase(s["text"], a) for a in q.answers) for _, s in found]
        cases.append(Case(np.array(x), np.array(y), np.array([len(s["text"]) for _, s in found]),
                          bool(q.answers), max_cos))
    return cases


def answered(case: Case, weights: np.ndarray, margin: float) -> tuple[bool, int]:
    """(answer holds a gold string, sentences used) for one case under the extractive rules."""
    scores = case.x @ weights
    order = np.argsort(-scores)
    used = [order[0]]
    if len(order) > 1 and scores[order[0]] - scores[order[1]] <= margin and fits_together(
            case.lengths[order[0]], case.lengths[order[1]]):
        used.append(order[1])
    return bool(case.y[used].any()), len(used)


def top1(cases: list[Case], weights: np.ndarray) -> float:
    """Share of answerable cases whose best-scored candidate contains a gold answer."""
    return float(np.mean([answered(c, weights, -1.0)[0] for c in cases if c.answerable]))


def fit(cases: list[Case]) -> np.ndarray:
    """Logistic-regression weights over all candidate rows of answerable cases."""
    from sklearn.linear_model import LogisticRegression

    rows = [c for c in cases if c.answerable]
    x = np.vstack([c.x for c in rows])
    y = np.concatenate([c.y for c in rows])
    return LogisticRegression(max_iter=2000).fit(x, y).coef_[0]


def cross_validated(cases: list[Case], folds: int = 5) -> float:
    """Top-1 accuracy with weights fitted on the other folds (folds by question)."""
    rows = [c for c in cases if c.answerable]
    hits = 0.0
    for k in range(folds):
        train = [c for i, c in enumerate(rows) if i % folds != k]
        test = [c for i, c in enumerate(rows) if i % folds == k]
        hits += top1(test, fit(train)) * len(test)
    return hits / len(rows)


def report(data: dict[str, list[Case]], weights: np.ndarray) -> None:
    """Print margin and abstention sweeps for the given weights."""
    for name, cases in data.items():
        ans = [c for c in cases if c.answerable]
        for margin in (0.0, 0.25, 0.5, 0.75, 1.0):
            results = [answered(c, weights, margin) for c in ans]
            print(f"  {name} margin {margin:.2f}: answer accuracy "
                  f"{np.mean([r[0] for r in results]):.3f}, two-sentence answers "
                  f"{np.mean([r[1] == 2 for r in results]):.2f}")
    lede = FEATURES.index("lede")
    for weight in (0.0, 1.0, 2.0, 3.0):
        swept = weights.copy()
        swept[lede] = weight
        print(f"  lede weight {weight:.1f}: " + " · ".join(
            f"{name} answer accuracy "
            f"{np.mean([answered(c, swept, SECOND_MARGIN)[0] for c in cases if c.answerable]):.3f}"
            for name, cases in data.items()))
    for floor in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
        parts = []
        for name, cases in data.items():
            ans = [c.max_cos >= floor for c in cases if c.answerable]
            unans = [c.max_cos < floor for c in cases if not c.answerable]
            parts.append(f"{name} answered {np.mean(ans):.3f}"
                         + (f", abstained {np.mean(unans):.3f}" if unans else ""))
        print(f"  similarity floor {floor:.2f}: " + " · ".join(parts))


class PerArticle(HybridRetriever):
    """Top k chunks, at most `cap` from any one article (diversity by source)."""

    cap: int = 1

    def select(self, ranked, rows, q_vec):
        taken: dict[str, int] = {}
        out = []
        for cid in ranked:
            article = rows[cid][1]["article_id"]
            if taken.get(article, 0) < self.cap:
                taken[article] = taken.get(article, 0) + 1
                out.append(cid)
        return out[: self.k]


class Neighbours(HybridRetriever):
    """Top k chunks, then the chunks before and after each of the best `around` of them."""

    around: int = 1

    def select(self, ranked, rows, q_vec):
        out = ranked[: self.k]
        for cid in ranked[: self.around]:
            article, n = cid.rsplit("#", 1)
            near = [f"{article}#{int(n) + d}" for d in (-1, 1)]
            for chunk_id, row in self.store.current_chunks([i for i in near if i not in out]).items():
                rows.setdefault(chunk_id, row)
                out.append(chunk_id)
        return out


class MMR(HybridRetriever):
    """k chunks by maximal marginal relevance (LangChain's) over the best `pool` fused chunks.

    A chunk's vector is the mean of its stored sentence vectors.
    """

    pool: int = 15
    lambda_mult: float = 0.5

    def select(self, ranked, rows, q_vec):
        pool = ranked[: self.pool]
        vectors = []
        for cid in pool:
            packed = rows[cid][1].get("sent_vecs", "")
            found = unpack_vectors(packed, len(q_vec)) if packed else np.zeros((1, len(q_vec)))
            mean = found.mean(axis=0)
            vectors.append((mean / (np.linalg.norm(mean) or 1.0)).tolist())
        picks = maximal_marginal_relevance(q_vec, vectors, lambda_mult=self.lambda_mult, k=self.k)
        return [pool[i] for i in picks]


def retrieval_variants(store, embedder, keyword) -> dict[str, HybridRetriever]:
    """The shipped retriever (top 5) and the alternatives compared by --retrieval."""
    base = {"store": store, "embedder": embedder, "keyword": keyword}
    return {
        "top 5 (shipped)": HybridRetriever(**base),
        "top 3": HybridRetriever(**base, k=3),
        "top 8": HybridRetriever(**base, k=8),
        "MMR, lambda 0.5": MMR(**base),
        "MMR, lambda 0.7": MMR(**base, lambda_mult=0.7),
        "one chunk per article": PerArticle(**base),
        "two chunks per article": PerArticle(**base, cap=2),
        "neighbours of the best chunk": Neighbours(**base),
        "neighbours of the best 2": Neighbours(**base, around=2),
        "neighbours of all 5": Neighbours(**base, around=5),
    }


def compare_retrieval(store, embedder, keyword, questions) -> None:
    """Print answer accuracy, candidate recall and abstain accuracy per retrieval variant."""
    step = ExtractiveAnswerer()
    for name, retriever in retrieval_variants(store, embedder, keyword).items():
        right = recall = abstained = 0
        for q in questions:
            docs = retriever.search(q.question, as_of_date(q))
            draft = step.extract(q.question, docs)
            if q.answers:
                right += is_correct(draft.text, q.answers, draft.abstained)
                recall += any(contains_phrase(s["text"], a)
                              for _, s in candidates(docs) for a in q.answers)
            else:
                abstained += draft.abstained
        n_ans = sum(bool(q.answers) for q in questions)
        n_unans = len(questions) - n_ans
        print(f"  {name:30s} answer accuracy {right / n_ans:.3f} · a candidate holds the answer "
              f"{recall / n_ans:.3f}" + (f" · abstained {abstained / n_unans:.3f}" if n_unans else ""))


def main(argv: list[str] | None = None) -> int:
    """Collect features on both dev sets, fit, and print the comparisons and sweeps."""
    from bot.measurement.eval_runner import prepare_index
    from bot.factories import build_answerer, make_embedder, make_keyword_index
    from bot.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m bot.measurement.tuning")
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--retrieval", action="store_true",
                        help="compare choices of candidate chunks instead of fitting the scorer")
    args = parser.parse_args(argv)
    settings = load_settings()
    embedder = make_embedder(settings)
    data = {}
    for name, (corpus, questions) in DEV_SETS.items():
        store = prepare_index(settings, args.eval_dir / corpus, embedder, None)
        if args.retrieval:
            print(name)
            keyword = make_keyword_index(settings, store)
            keyword.catch_up(store)
            compare_retrieval(store, embedder, keyword, load_questions(args.eval_dir / questions))
            continue
        answerer = build_answerer(settings, store=store, embedder=embedder)
        data[name] = collect(answerer, load_questions(args.eval_dir / questions))
    if args.retrieval:
        return 0
    current = np.array([WEIGHTS[f] for f in FEATURES])
    for name, cases in data.items():
        other = [c for n, cs in data.items() if n != name for c in cs]
        print(f"{name}: top-1 current {top1(cases, current):.3f} · cross-validated "
              f"{cross_validated(cases):.3f} · fitted on the other set {top1(cases, fit(other)):.3f}")
    weights = fit([c for cs in data.values() for c in cs])
    print("weights fitted on all:",
          json.dumps({f: round(float(w), 2) for f, w in zip(FEATURES, weights)}))
    print("current weights:")
    report(data, current)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
