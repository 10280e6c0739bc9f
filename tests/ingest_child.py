"""Real processes for the crash tests, each opening the embedded store as a product process would.

`python -m tests.ingest_child index HOME PATH [--prune]` runs the product's ingest with a cheap
deterministic embedder (what is under test is the store's write protocol, not the model), so a
test can kill it many times in a few seconds. `python -m tests.ingest_child read HOME` prints, as
JSON, each live article's served text, and exits 3 if one is missing chunks, plus the number of
chunk rows, so the test process itself never holds the store open while a writer runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from langchain_core.embeddings import DeterministicFakeEmbedding

from index.ingest import ingest
from index.connection import open_store


def main(argv: list[str]) -> int:
    """index HOME PATH [--prune] | read HOME"""
    command, home = argv[0], Path(argv[1])
    store = open_store(home)
    if command == "index":
        report = ingest([Path(argv[2])], store, DeterministicFakeEmbedding(size=384),
                        prune="--prune" in argv)
        print(f"new {len(report.new)} updated {len(report.updated)} pruned {len(report.pruned)}")
        return 0
    texts = {}
    for article in store.articles().values():
        chunks = store.current_chunks(article.chunk_ids)
        if len(chunks) != article.n_chunks:
            print(f"{article.article_id} has {len(chunks)} of {article.n_chunks} chunks")
            return 3
        texts[article.article_id] = " ".join(chunks[i][0] for i in article.chunk_ids)
    print(json.dumps({"texts": texts, "rows": store.count(),
                      "chunks": sum(a.n_chunks for a in store.articles().values())}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
