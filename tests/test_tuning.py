"""The candidate-chunk alternatives that `python -m bot.measurement.tuning --retrieval` compares."""

from __future__ import annotations

from bot.settings import Settings
from bot.measurement.tuning import MMR, Neighbours, PerArticle
from tests.conftest import HEADLINE, retriever_parts


def _base(seed_home, embedder) -> dict:
    return {**retriever_parts(Settings(home=seed_home).home), "embedder": embedder}


def _chunk_number(doc) -> int:
    return int(doc.metadata["chunk_id"].rsplit("#", 1)[1])


def test_neighbours_adds_the_chunks_on_either_side_of_the_best(seed_home, embedder):
    from bot.answering.retrieval import HybridRetriever

    base = _base(seed_home, embedder)
    shipped = [d.id for d in HybridRetriever(**base, k=2).search(HEADLINE)]
    docs = Neighbours(**base, k=2, around=1).search(HEADLINE)
    assert [d.id for d in docs[:2]] == shipped
    best = _chunk_number(docs[0])
    added = {_chunk_number(d) for d in docs[2:]}
    assert added and added <= {best - 1, best + 1}
    assert all(d.metadata["sentences"] for d in docs)  # neighbours are scored like the rest


def test_per_article_keeps_one_chunk_of_the_single_seed_article(seed_home, embedder):
    docs = PerArticle(**_base(seed_home, embedder), k=5, cap=1).search(HEADLINE)
    assert len(docs) == 1


def test_mmr_picks_k_distinct_chunks_from_its_pool(seed_home, embedder):
    docs = MMR(**_base(seed_home, embedder), k=3, pool=6).search(HEADLINE)
    ids = [d.id for d in docs]
    assert len(ids) == 3 and len(set(ids)) == 3
