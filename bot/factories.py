"""The one place where components are chosen and built from Settings."""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.embeddings import Embeddings
from langchain_core.runnables import Runnable

from bot.answer import Answerer, build_chain
from bot.errors import ConfigError, IndexMissingError
from bot.extractive import ExtractiveAnswerer
from bot.retrieval import HybridRetriever
from bot.settings import Settings
from index.store import ChunkStore, open_store


def make_embedder(settings: Settings) -> Embeddings:
    """The sentence-transformers embedder (bundled all-MiniLM-L6-v2)."""
    from index.embedding import MiniLMEmbeddings

    return MiniLMEmbeddings()


def make_store(settings: Settings, *, must_exist: bool = False) -> ChunkStore:
    """The Chroma store: a server when NEWSBOT_CHROMA_URL is set, else under NEWSBOT_HOME."""
    if must_exist and not settings.chroma_url and not (settings.home / "chroma").exists():
        raise IndexMissingError(f"No index at {settings.home}. "
                                "Run `newsbot index seeds/` (or any folder of articles) first.")
    return open_store(settings.home, settings.chroma_url, settings.collection)


def make_answer_step(settings: Settings) -> Runnable | Callable:
    """The answer step named by NEWSBOT_LLM (only `extractive` so far)."""
    if settings.llm == "extractive":
        return ExtractiveAnswerer()
    raise ConfigError(f"NEWSBOT_LLM={settings.llm!r} is not supported; use 'extractive'.")


def build_answerer(settings: Settings, *, store: ChunkStore | None = None,
                   embedder: Embeddings | None = None) -> Answerer:
    """Wire store, embedder, retriever and answer step into an Answerer."""
    store = store or make_store(settings, must_exist=True)
    if store.count() == 0:
        raise IndexMissingError(f"The index at {store.where} is empty. "
                                "Run `newsbot index seeds/` (or any folder of articles) first.")
    retriever = HybridRetriever(store=store, embedder=embedder or make_embedder(settings),
                                k=settings.top_k)
    answer_step = make_answer_step(settings)
    retriever.warm_up()  # load the model and keyword index now, not on the first question
    return Answerer(build_chain(retriever, answer_step), retriever)
