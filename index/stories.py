"""One story, many copies: near-duplicate articles grouped at ingest with MinHash/LSH.

Two articles are one story when their word 5-shingles overlap by Jaccard >= 0.5, or when one
is (almost) contained in the other, containment >= 0.8: a wire story republished with small
edits, or a short first version later extended. Both thresholds sit in empty gaps of the
RealTime QA corpus (../shared/eval): its same-story pairs score Jaccard >= 0.95 or containment
>= 0.99, while its most similar different stories (CNN's daily "5 things to know") reach
Jaccard 0.39 and containment 0.64.

Each group's id is its first member's id; its lead (the version to quote) is the longest
member, so a later, longer version takes over. Signatures live in SQLite under NEWSBOT_HOME
and the LSH index is rebuilt from them on open (milliseconds for thousands of articles).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.articles import Article

SHINGLE_WORDS = 5
NUM_PERM = 128
SCHEME = "affine32"  # datasketch's hashing scheme; stored signatures are only comparable within one
JACCARD = 0.5
CONTAINMENT = 0.8
# LSH bands x rows: Jaccard 0.2 (a version 80% inside one four times as long) is a candidate
# with probability 0.93, Jaccard 0.3 with 0.998; candidates are then checked by the rule.
LSH_BANDS = (64, 2)
_WORD = re.compile(r"\w+")
_SCHEMA = """create table if not exists members (article_id text primary key, story text not null,
  outlet text not null, words integer not null, date text not null, shingles integer not null,
  signature blob not null, seq integer not null)"""


@dataclass(frozen=True)
class StoryRef:
    """A group as chunk metadata shows it."""

    story: str
    outlets: str
    lead: str


class StoryBook:
    """The story groups of an index; assign() places new or changed articles in them."""

    def __init__(self, path: Path | None = None) -> None:
        from datasketch import MinHashLSH  # imported here: only ingest needs it

        self._db = sqlite3.connect(path or ":memory:", check_same_thread=False,
                                   isolation_level=None)
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()
        self._lsh = MinHashLSH(num_perm=NUM_PERM, params=LSH_BANDS)
        self._rows: dict[str, tuple] = {}
        self._by_story: dict[str, dict[str, None]] = {}
        for row in self._db.execute("select article_id, story, outlet, words, date, shingles, "
                                    "signature, seq from members order by seq"):
            self._keep(row)
            self._lsh.insert(row[0], _minhash(np.frombuffer(row[6], dtype=np.uint64)))
        self._seq = max((r[7] for r in self._rows.values()), default=-1) + 1

    def assign(self, articles: list[Article]) -> tuple[list[Article], set[str]]:
        """The articles with story fields set, and the groups whose outlets or lead changed."""
        with self._lock:
            before: dict[str, StoryRef | None] = {}
            self._db.execute("begin")
            for article in articles:
                self._place(article, before)
            self._db.execute("commit")
            refs = {story: self.ref(story) for story in before}
            touched = {s for s, old in before.items() if old is not None and old != refs[s]}
            placed = [a.model_copy(update=_fields(refs[self._rows[a.id][1]])) for a in articles]
        return placed, touched

    def ref(self, story: str) -> StoryRef:
        """The group's outlets (lead's first) and lead."""
        rows = [self._rows[a] for a in self._by_story[story]]
        lead = max(rows, key=lambda r: (r[3], r[4], r[7]))
        outlets = [lead[2]] + [r[2] for r in rows if r is not lead]
        return StoryRef(story, ", ".join(dict.fromkeys(o for o in outlets if o)), lead[0])

    def members(self, story: str) -> list[str]:
        """Ids of the group's articles, in the order they joined."""
        return sorted(self._by_story.get(story, ()), key=lambda a: self._rows[a][7])

    def groups(self) -> dict[str, list[str]]:
        """Every group with more than one member."""
        return {s: self.members(s) for s, m in self._by_story.items() if len(m) > 1}

    def forget(self, article_ids: list[str]) -> None:
        """Drop articles that left the index."""
        with self._lock:
            for article_id in article_ids:
                row = self._rows.pop(article_id, None)
                if row is not None:
                    self._by_story[row[1]].pop(article_id)
                    self._lsh.remove(article_id)
                    self._db.execute("delete from members where article_id = ?", (article_id,))

    def _place(self, article: Article, before: dict[str, StoryRef | None]) -> None:
        """Put the article in its group, noting the group as it was first (None: a new group)."""
        shingles = shingle(article.text)
        signature = _minhash_of(shingles)
        known = self._rows.get(article.id)
        story = known[1] if known else self._match(signature, len(shingles)) or article.id
        if story not in before:
            before[story] = self.ref(story) if self._by_story.get(story) else None
        if known:
            self._lsh.remove(article.id)
        else:
            self._seq += 1
        row = (article.id, story, article.source, len(article.text.split()), article.date,
               len(shingles), signature.hashvalues.astype(np.uint64).tobytes(),
               known[7] if known else self._seq)
        self._db.execute("insert or replace into members values (?, ?, ?, ?, ?, ?, ?, ?)", row)
        self._keep(row)
        self._lsh.insert(article.id, signature)

    def _keep(self, row: tuple) -> None:
        self._rows[row[0]] = row
        self._by_story.setdefault(row[1], {})[row[0]] = None

    def _match(self, signature: object, size: int) -> str | None:
        best, best_score = None, 0.0
        for other in self._lsh.query(signature):
            row = self._rows[other]
            jaccard = float(np.mean(signature.hashvalues == np.frombuffer(row[6], np.uint64)))
            if same_story(jaccard, size, row[5]) and jaccard > best_score:
                best, best_score = row[1], jaccard
        return best


def same_story(jaccard: float, size_a: int, size_b: int) -> bool:
    """The grouping rule: near-equal texts, or one text (almost) inside the other."""
    overlap = jaccard * (size_a + size_b) / (1 + jaccard)
    return jaccard >= JACCARD or overlap / max(1, min(size_a, size_b)) >= CONTAINMENT


def shingle(text: str) -> set[str]:
    """The article's word 5-grams, lower-cased."""
    words = _WORD.findall(text.lower())
    n = SHINGLE_WORDS
    return {" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


def open_stories(home: Path) -> StoryBook:
    """The story groups kept under NEWSBOT_HOME."""
    home.mkdir(parents=True, exist_ok=True)
    return StoryBook(home / "stories.sqlite")


def _minhash_of(shingles: set[str]) -> object:
    from datasketch import MinHash

    signature = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    signature.update_batch([s.encode() for s in shingles])
    return signature


def _minhash(values: np.ndarray) -> object:
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, hashvalues=values, scheme=SCHEME)


def _fields(ref: StoryRef) -> dict[str, str]:
    return {"story": ref.story, "story_outlets": ref.outlets, "story_lead": ref.lead}
