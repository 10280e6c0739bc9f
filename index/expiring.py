"""Expiring claims and values shared by every process on one index (the Slack app's
exactly-once memory), kept in a collection beside the index's own."""

from __future__ import annotations

import json
import time
import uuid

from index.store import SCHEMA, ChunkStore, key_point


class ExpiringState:
    """Expiring claims and JSON values in a collection of the store, for state that every
    process using a Chroma server must share (the Slack app's exactly-once memory).

    A claim adds a row carrying a fresh nonce and reads it back: Chroma keeps the first row
    added under an id and ignores later adds, so of any number of processes that claim the same
    key, exactly the one whose nonce it reads back wins. An expired row is deleted before a new
    claim; two claims racing on the same expired key could then both win, which is why keys live
    far longer (a day) than the retries they guard against (minutes).
    """

    def __init__(self, store: ChunkStore, *, clock=time.time) -> None:
        self.collection = store._open(f"{store.name}-{SCHEMA}-state")
        self._clock = clock

    def claim(self, key: str, ttl_s: float) -> bool:
        """True for the one caller, of all processes, that claims a key no live row holds."""
        now = self._clock()
        found = self._row(key)
        if found is not None:
            if found["exp"] > now:
                return False
            self.collection.delete(ids=[key])
        nonce = uuid.uuid4().hex
        self.collection.add(ids=[key], metadatas=[{"owner": nonce, "exp": now + ttl_s}],
                            embeddings=[key_point(key)])
        won = self._row(key)
        return won is not None and won.get("owner") == nonce

    def put(self, key: str, value: object, ttl_s: float) -> None:
        """Store a JSON-serialisable value under key, replacing any earlier one."""
        self.collection.upsert(ids=[key], embeddings=[key_point(key)], metadatas=[
            {"json": json.dumps(value), "exp": self._clock() + ttl_s}])

    def get(self, key: str) -> object | None:
        """The value stored under key, or None when there is none or it expired."""
        found = self._row(key)
        if found is None or found["exp"] <= self._clock() or "json" not in found:
            return None
        return json.loads(found["json"])

    def purge(self) -> int:
        """Delete expired rows; returns how many."""
        res = self.collection.get(where={"exp": {"$lte": self._clock()}}, include=[])
        if res["ids"]:
            self.collection.delete(ids=res["ids"])
        return len(res["ids"])

    def close(self) -> None:
        """Nothing to release: the server holds the rows."""

    def _row(self, key: str) -> dict | None:
        res = self.collection.get(ids=[key], include=["metadatas"])
        return (res["metadatas"] or [None])[0]
