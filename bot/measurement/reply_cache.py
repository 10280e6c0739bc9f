"""A model's replies kept on disk, so an eval can re-run the answer check without the model.

A small local model takes 5-25 s an answer here; changing how its answers are checked should not
cost another hour of generation. `newsbot eval --llm ... --replies FILE` puts this cache in front
of every chat model call (LangChain's global cache): a prompt asked before is answered from the
file, a new one goes to the model and is written. The file is SQLite, one row per prompt, holding
the reply's text (what the answer check reads).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from langchain_core.caches import BaseCache
from langchain_core.globals import set_llm_cache
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, Generation

from bot.errors import UsageError

_SCHEMA = "CREATE TABLE IF NOT EXISTS replies (prompt TEXT, llm TEXT, reply TEXT, " \
          "PRIMARY KEY (prompt, llm))"


class ReplyCache(BaseCache):
    """LangChain's cache interface over one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute(_SCHEMA)

    def lookup(self, prompt: str, llm_string: str) -> Sequence[Generation] | None:
        """The recorded generations for this prompt and model, or None."""
        row = self.db.execute("SELECT reply FROM replies WHERE prompt = ? AND llm = ?",
                              (prompt, model_key(llm_string))).fetchone()
        return [ChatGeneration(message=AIMessage(content=row[0]))] if row else None

    def update(self, prompt: str, llm_string: str, return_val: Sequence[Generation]) -> None:
        """Record the model's reply (the text of its generations) for this prompt."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO replies VALUES (?, ?, ?)",
                            (prompt, model_key(llm_string), "".join(g.text for g in return_val)))

    def clear(self, **kwargs: object) -> None:
        """Forget every reply."""
        with self.db:
            self.db.execute("DELETE FROM replies")

    def replies(self) -> list[str]:
        """Every recorded reply's text, oldest first (for reading the model's answers)."""
        return [reply for (reply,) in
                self.db.execute("SELECT reply FROM replies ORDER BY rowid")]


def model_key(llm_string: str) -> str:
    """The model a reply came from: its LangChain class and model name. Client options (timeout,
    retries) are left out, so a re-check with other options still finds the replies."""
    try:
        spec = json.loads(llm_string.split("---", 1)[0])
        kwargs = spec.get("kwargs", {})
        return json.dumps([spec.get("id"), kwargs.get("model_name") or kwargs.get("model")])
    except (ValueError, AttributeError):  # not LangChain's serialised form: the whole string
        return llm_string


def use_reply_cache(path: Path) -> ReplyCache:
    """Put a ReplyCache at path in front of every chat model in this process; a path that
    cannot hold one is a UsageError (one line)."""
    try:
        cache = ReplyCache(path)
    except (sqlite3.Error, OSError) as exc:
        raise UsageError(f"--replies {path}: not a replies file ({exc})") from exc
    set_llm_cache(cache)
    return cache
