"""One story, many copies: near-duplicate articles grouped at ingest with MinHash/LSH.

Two articles are one story when their word 5-shingles overlap by Jaccard >= 0.5, or when one
is (almost) contained in the other, containment >= 0.8: a wire story republished with small
edits, or a short first version later extended. Both thresholds sit in empty gaps of the
RealTime QA corpus (../shared/eval): its same-story pairs score Jaccard >= 0.95 or containment
>= 0.99, while its most similar different stories (CNN's daily "5 things to know") reach
Jaccard 0.39 and containment 0.64.

Each group's id is its first member's id; its lead (the version to quote) is the longest
member, so a later, longer version takes over. Signatures, groups and the LSH buckets (one row
per article and band) live in SQLite under NEWSBOT_HOME and are looked up there, so the book's
memory does not grow with the archive (held in dicts and datasketch's MinHashLSH it cost 21 KB
per article: 210 MB at 10,000 articles).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.articles import Article
from index.damaged import open_or_begin_again

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
  signature blob not null, seq integer not null);
create index if not exists members_story on members (story, seq);
create table if not exists bands (key integer not null, article_id text not null,
  primary key (key, article_id)) without rowid;"""
_ROW = "article_id, story, outlet, words, date, shingles, signature, seq"
# Odd 64-bit multipliers: a band's two hash values and its number mixed into one bucket key.
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)


@dataclass(frozen=True)
class StoryRef:
    """A group as chunk metadata shows it."""

    story: str
    outlets: str
    lead: str


class StoryBook:
    """The story groups of an index; assign() places new or changed articles in them."""

    def __init__(self, path: Path | None = None) -> None:
        self._db = sqlite3.connect(path or ":memory:", check_same_thread=False,
                                   isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._backfill_bands()
        self._seq = self._db.execute("select coalesce(max(seq), -1) from members").fetchone()[0] + 1

    def assign(self, articles: list[Article]) -> tuple[list[Article], set[str]]:
        """The articles with story fields set, and the groups whose outlets or lead changed."""
        with self._lock:
            before: dict[str, StoryRef | None] = {}
            story_of: dict[str, str] = {}
            self._db.execute("begin")
            try:
                for article in articles:
                    story_of[article.id] = self._place(article, before)
                self._db.execute("commit")
            except BaseException:
                self._db.execute("rollback")
                raise
            refs = {story: self.ref(story) for story in before}
            touched = {s for s, old in before.items() if old is not None and old != refs[s]}
            placed = [a.model_copy(update=_fields(refs[story_of[a.id]])) for a in articles]
        return placed, touched

    def ref(self, story: str) -> StoryRef:
        """The group's outlets (lead's first) and lead."""
        with self._lock:
            rows = self._db.execute("select article_id, story, outlet, words, date, seq from "
                                    "members where story = ? order by seq", (story,)).fetchall()
        lead = max(rows, key=lambda r: (r[3], r[4], r[5]))
        outlets = [lead[2]] + [r[2] for r in rows if r is not lead]
        return StoryRef(story, ", ".join(dict.fromkeys(o for o in outlets if o)), lead[0])

    def members(self, story: str) -> list[str]:
        """Ids of the group's articles, in the order they joined."""
        with self._lock:
            return [r[0] for r in self._db.execute(
                "select article_id from members where story = ? order by seq", (story,))]

    def groups(self) -> dict[str, list[str]]:
        """Every group with more than one member."""
        with self._lock:
            stories = [r[0] for r in self._db.execute(
                "select story from members group by story having count(*) > 1")]
        return {s: self.members(s) for s in stories}

    def forget(self, article_ids: list[str]) -> None:
        """Drop articles that left the index."""
        with self._lock:
            for article_id in article_ids:
                row = self._row(article_id)
                if row is not None:
                    self._drop_bands(article_id, row[6])
                    self._db.execute("delete from members where article_id = ?", (article_id,))

    def _place(self, article: Article, before: dict[str, StoryRef | None]) -> str:
        """Put the article in its group, noting the group as it was first (None: a new group)."""
        shingles = shingle(article.text)
        signature = _minhash_of(shingles).hashvalues.astype(np.uint64)
        known = self._row(article.id)
        story = known[1] if known else self._match(signature, len(shingles)) or article.id
        if story not in before:
            exists = self._db.execute("select 1 from members where story = ? limit 1", (story,))
            before[story] = self.ref(story) if exists.fetchone() else None
        if known:
            self._drop_bands(article.id, known[6])
        else:
            self._seq += 1
        row = (article.id, story, article.source, len(article.text.split()), article.date,
               len(shingles), signature.tobytes(), known[7] if known else self._seq)
        self._db.execute("insert or replace into members values (?, ?, ?, ?, ?, ?, ?, ?)", row)
        self._db.executemany("insert or ignore into bands values (?, ?)",
                             [(key, article.id) for key in band_keys(signature)])
        return story

    def _row(self, article_id: str) -> tuple | None:
        return self._db.execute(f"select {_ROW} from members where article_id = ?",
                                (article_id,)).fetchone()

    def _drop_bands(self, article_id: str, signature: bytes) -> None:
        self._db.executemany("delete from bands where key = ? and article_id = ?",
                             [(key, article_id) for key in
                              band_keys(np.frombuffer(signature, dtype=np.uint64))])

    def _match(self, signature: np.ndarray, size: int) -> str | None:
        """The group of the most similar article that shares an LSH bucket and passes the rule."""
        keys = band_keys(signature)
        candidates = self._db.execute(
            f"select story, shingles, signature from members where article_id in (select "
            f"article_id from bands where key in ({','.join('?' * len(keys))})) order by seq",
            keys)
        best, best_score = None, 0.0
        for story, shingles, other in candidates:
            jaccard = float(np.mean(signature == np.frombuffer(other, np.uint64)))
            if same_story(jaccard, size, shingles) and jaccard > best_score:
                best, best_score = story, jaccard
        return best

    def _backfill_bands(self) -> None:
        """A book written before buckets were stored: fill them in from the signatures once."""
        if self._db.execute("select 1 from bands limit 1").fetchone() is not None:
            return
        self._db.execute("begin")
        for article_id, signature in self._db.execute("select article_id, signature from "
                                                      "members").fetchall():
            self._db.executemany("insert or ignore into bands values (?, ?)", [
                (key, article_id) for key in band_keys(np.frombuffer(signature, np.uint64))])
        self._db.execute("commit")


def band_keys(signature: np.ndarray) -> list[int]:
    """One LSH bucket key per band of the signature (LSH_BANDS), as signed 64-bit integers."""
    bands, rows = LSH_BANDS
    hv = signature[:bands * rows].reshape(bands, rows).astype(np.uint64)
    with np.errstate(over="ignore"):  # wrapping multiplication is the point
        mixed = np.arange(bands, dtype=np.uint64) * _MIX[2]
        for j in range(rows):
            mixed ^= hv[:, j] * (_MIX[j % 2] + np.uint64(2 * j))
    return mixed.view(np.int64).tolist()


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
    """The story groups kept under NEWSBOT_HOME. A damaged book is begun again (it only groups
    new articles with old ones; no article or answer depends on it)."""
    home.mkdir(parents=True, exist_ok=True)
    return open_or_begin_again(home / "stories.sqlite", StoryBook,
                               "new copies of stories indexed before are not grouped with them")


def _minhash_of(shingles: set[str]) -> object:
    from datasketch import MinHash

    signature = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    signature.update_batch([s.encode() for s in shingles])
    return signature


def _fields(ref: StoryRef) -> dict[str, str]:
    return {"story": ref.story, "story_outlets": ref.outlets, "story_lead": ref.lead}
