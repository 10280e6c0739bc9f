"""The memory benchmarks' parts: synthetic articles, the fake-embedder switch, the heap helpers."""

from __future__ import annotations

import json
from pathlib import Path

from bot.factories import make_embedder
from bot.measurement.bench_memory import synthesize
from bot.measurement.bench_soak import slopes
from bot.settings import load_settings
from index.articles import load_path
from index.heap import limit_arenas, release_free_memory
from index.limits import CORPUS_LIMITS
from index.stories import StoryBook


def _corpus(tmp_path: Path) -> Path:
    sentences = [f"Officials in town {i} said the bridge would reopen on day {i}." for i in range(400)]
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"c{i}", "title": f"Bridge {i}", "source": "X",
                                          "date": "2022-06-01", "url": None,
                                          "text": " ".join(sentences[i * 20:(i + 1) * 20])})
                              for i in range(20)))
    return path


def test_synthetic_articles_are_distinct_stories_of_real_sentences(tmp_path):
    folder = synthesize(_corpus(tmp_path), 30, tmp_path / "articles")
    articles = [a for f in sorted(folder.iterdir()) for a in load_path(f, CORPUS_LIMITS)]
    assert len({a.id for a in articles}) == 30
    assert all(a.text.count("Officials in town") == 20 for a in articles)
    placed, _ = StoryBook().assign(articles)
    assert len({a.story for a in placed}) == 30


def test_the_fake_embedder_switch_gives_vectors_of_the_model_size(monkeypatch):
    monkeypatch.setenv("NEWSBOT_FAKE_EMBEDDER", "1")
    vectors = make_embedder(load_settings()).embed_documents(["one", "two"])
    assert [len(v) for v in vectors] == [384, 384] and vectors[0] != vectors[1]


def test_heap_helpers_run_here_and_zero_arenas_changes_nothing():
    assert limit_arenas(0) is False
    release_free_memory()  # True on glibc, False elsewhere; it must not raise either way


def test_soak_slopes_fit_growth_per_thousand_after_warm_up():
    samples = [{"t": t, "rss_mb": 100 + 0.05 * t, "polls": 10 * t, "articles": 2 * t}
               for t in range(0, 101)]
    out = slopes(samples, 10.0)
    assert (out["mb_per_1k_polls"], out["mb_per_1k_articles"]) == (5.0, 25.0)
