"""The naive pipeline a LangChain tutorial user would build, measured beside newsbot.

RecursiveCharacterTextSplitter(1000, 200), the same MiniLM, Chroma similarity top-4; the answer
is the retrieved sentence most similar to the question; it never abstains.
"""

from __future__ import annotations

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from bot.answering.answer import Answer
from bot.answering.citations import Citation
from index.articles import Article
from index.chunking import split_sentences
from index.store import ChunkStore

TOP_K = 4
BATCH = 256


class BaselinePipeline:
    """Fixed-size chunks, dense top-4, most-similar sentence as the answer."""

    def __init__(self, store: ChunkStore, embedder: Embeddings) -> None:
        self.store = store
        self.embedder = embedder
        self.splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)

    def index(self, articles: list[Article]) -> int:
        """Split, embed and store every article; returns the number of chunks."""
        ids, texts, metas = [], [], []
        for article in articles:
            for i, text in enumerate(self.splitter.split_text(article.text)):
                ids.append(f"{article.id}#{i}")
                texts.append(text)
                metas.append({"article_id": article.id, "title": article.title,
                              "source": article.source, "date": article.date,
                              "location": article.location})
        for i in range(0, len(ids), BATCH):
            sl = slice(i, i + BATCH)
            vectors = np.asarray(self.embedder.embed_documents(texts[sl]), dtype=np.float32)
            self.store.upsert(ids[sl], texts[sl], metas[sl], vectors)
        return len(ids)

    def answer(self, question: str) -> tuple[Answer, list[str]]:
        """(answer, distinct article ids of the top-4 chunks)."""
        # embed_documents: the full sentence-transformers model, as a tutorial would use it
        # (newsbot's embed_query may take the int8 fast path).
        q_vec = np.asarray(self.embedder.embed_documents([question])[0])
        hits = self.store.query(q_vec.tolist(), TOP_K)
        candidates = [(hit, s.text) for hit in hits for s in split_sentences(hit.text)]
        ranked = list(dict.fromkeys(h.metadata["article_id"] for h in hits))
        if not candidates:
            return Answer(question=question, answer="", abstained=False), ranked
        vecs = np.asarray(self.embedder.embed_documents([text for _, text in candidates]))
        hit, sentence = candidates[int(np.argmax(vecs @ q_vec))]
        meta = hit.metadata
        citation = Citation(n=1, article_id=meta["article_id"], title=meta["title"],
                            source=meta["source"], date=meta["date"],
                            location=meta["location"], quote=sentence)
        answer = Answer(question=question, answer=f"{sentence} [1]", abstained=False,
                        citations=[citation], answered_by="baseline")
        return answer, ranked
