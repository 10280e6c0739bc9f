"""The one place where components are chosen and built from Settings."""

from __future__ import annotations

import logging
from collections.abc import Callable

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable

from bot.answering.answer import Answerer, build_chain
from bot.errors import ConfigError, IndexMissingError
from bot.answering.extractive import ExtractiveAnswerer
from bot.answering.retrieval import HybridRetriever
from bot.settings import Settings
from index.keyword import KeywordIndex, keyword_folder
from index.connection import open_store
from index.store import ChunkStore

log = logging.getLogger(__name__)

EXTRACTIVE = "extractive"
SMOLLM2 = "smollm2"
# Providers with a newsbot extra; any other init_chat_model provider needs langchain-<provider>.
PROVIDER_EXTRAS = {"openai": "openai", "ollama": "ollama", "anthropic": "anthropic"}
# Remote clients that take these options; a dead server should cost seconds, not minutes.
RETRYING_PROVIDERS = {"openai", "anthropic"}
LLM_CHOICES = "extractive, smollm2 or PROVIDER:MODEL (e.g. ollama:llama3.1, openai:gpt-4o-mini)"


def make_embedder(settings: Settings) -> Embeddings:
    """The sentence-transformers embedder (bundled all-MiniLM-L6-v2), or with
    NEWSBOT_FAKE_EMBEDDER (benchmarks only) langchain's deterministic fake of the same size."""
    if settings.fake_embedder:
        from langchain_core.embeddings import DeterministicFakeEmbedding

        from index.embedding import DIMENSIONS

        return DeterministicFakeEmbedding(size=DIMENSIONS)
    from index.embedding import MiniLMEmbeddings

    return MiniLMEmbeddings()


def make_store(settings: Settings, *, must_exist: bool = False,
               name: str | None = None) -> ChunkStore:
    """The Chroma store: a server when NEWSBOT_CHROMA_URL is set, else under NEWSBOT_HOME."""
    if must_exist and not settings.chroma_url and not (settings.home / "chroma").exists():
        raise IndexMissingError(f"No index at {settings.home}. "
                                "Run `newsbot index seeds/` (or any folder of articles) first.")
    token = settings.chroma_token.get_secret_value() if settings.chroma_token else None
    return open_store(settings.home, settings.chroma_url, name or settings.collection,
                      token=token, ca_file=settings.chroma_ca)


def make_keyword_index(settings: Settings, store: ChunkStore) -> KeywordIndex:
    """The store's keyword index: a tantivy folder under NEWSBOT_HOME, kept current from it."""
    return KeywordIndex.open(keyword_folder(settings.home, store))


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """The chat model named by NEWSBOT_LLM, or None for the extractive step."""
    spec = settings.llm
    if spec == EXTRACTIVE:
        return None
    if spec == SMOLLM2:
        from bot.answering.smollm2 import load_smollm2

        return load_smollm2()
    provider, _, model = spec.partition(":")
    if not provider or not model:
        raise ConfigError(f"the model {spec!r} (--llm or NEWSBOT_LLM) is not a model; "
                          f"use {LLM_CHOICES}.")
    from langchain.chat_models import init_chat_model

    options = ({"timeout": settings.llm_timeout, "max_retries": 1}
               if provider in RETRYING_PROVIDERS else {})
    try:
        return init_chat_model(model, model_provider=provider, **options)
    except ImportError as exc:
        raise ConfigError(f"the model {spec} (--llm or NEWSBOT_LLM) needs the {provider} provider: "
                          f"pip install {install_hint(provider)}") from exc
    except Exception as exc:  # unknown provider, missing API key, bad option: one line each
        first = (str(exc).splitlines() or [""])[0][:200]
        raise ConfigError(f"the model {spec} (--llm or NEWSBOT_LLM) could not be set up: "
                          f"{first}") from exc


def install_hint(provider: str) -> str:
    """What to pip install for a provider's LangChain integration."""
    extra = PROVIDER_EXTRAS.get(provider)
    return f"'newsbot[{extra}]'" if extra else f"langchain-{provider.replace('_', '-')}"


def make_answer_step(settings: Settings, *,
                     model: BaseChatModel | None = None) -> Runnable | Callable:
    """The answer step named by NEWSBOT_LLM: extractive, or a chat model checked by bot.answering.verify."""
    if settings.llm == EXTRACTIVE:
        return ExtractiveAnswerer()
    from bot.answering.generative import GenerativeAnswerer

    model = model if model is not None else make_chat_model(settings)
    return GenerativeAnswerer(model, settings.llm)


def make_condense_step(settings: Settings, model: BaseChatModel | None) -> Callable | None:
    """The follow-up rewriter: the chat model with the condense prompt, or None (the heuristic)."""
    if model is None:
        return None
    from bot.answering.generative import Condenser

    return Condenser(model, settings.llm)


def build_answerer(settings: Settings, *, store: ChunkStore | None = None,
                   embedder: Embeddings | None = None,
                   model: BaseChatModel | None = None, follow: bool = False,
                   retriever: HybridRetriever | None = None) -> Answerer:
    """Wire store, embedder, retriever, chat model and answer step into an Answerer.

    follow: the answerer serves for a long time (chat, Slack) and keeps up with the store.
    """
    store = store or make_store(settings, must_exist=True)
    # A replica of a server-mode deployment may start before the writer's first commit: it
    # serves, abstaining, and follows the store like any other change.
    if store.count() == 0 and follow and settings.chroma_url:
        log.warning("the index at %s has no articles yet: answers will come from what the "
                    "writer adds", store.where)
    elif store.count() == 0:
        raise IndexMissingError(f"The index at {store.where} is empty. "
                                "Run `newsbot index seeds/` (or any folder of articles) first.")
    retriever = retriever or HybridRetriever(
        store=store, embedder=embedder or make_embedder(settings),
        keyword=make_keyword_index(settings, store), k=settings.top_k)
    if model is None:
        model = make_chat_model(settings)  # loads a local model now, not on the first question
    answer_step = make_answer_step(settings, model=model)
    retriever.warm_up(follow=follow)  # load the model and keyword index now, not on question 1
    return Answerer(build_chain(retriever, answer_step, make_condense_step(settings, model)),
                    retriever)
