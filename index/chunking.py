"""Split articles into sentences and sentence-aligned, overlapping chunks with stable ids."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.articles import Article

# Bump when chunk boundaries or the embedded text change, so re-indexing replaces old chunks.
CHUNKER_VERSION = "2"
MAX_WORDS = 90
OVERLAP_SENTENCES = 1

# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "gen", "col", "lt", "sgt",
    "capt", "cmdr", "adm", "gov", "sen", "rep", "rev", "pres", "supt", "vs", "etc", "no", "nos",
    "inc", "corp", "co", "ltd", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "approx", "dept", "est", "fig", "al", "e.g", "i.e", "u.s", "u.k", "u.n",
    "a.m", "p.m", "d.c", "ph.d",
}
# A sentence ends at . ! ? (plus closing quotes/brackets) before whitespace, or at a line break.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n+")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


@dataclass(frozen=True)
class Sentence:
    """A sentence and its character span in the text it came from."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences from one article, with everything a citation needs."""

    id: str
    article: Article
    number: int
    start: int
    end: int
    first_sentence: int
    last_sentence: int  # inclusive
    n_sentences: int  # in the whole article, so stale sentence vectors can be found later

    @property
    def text(self) -> str:
        """The chunk's text, exactly as it stands in the article."""
        return self.article.text[self.start:self.end]

    def metadata(self) -> dict[str, str | int]:
        """Chroma metadata for this chunk: flat scalars only."""
        a = self.article
        return {
            "article_id": a.id, "title": a.title, "source": a.source, "date": a.date,
            "url": a.url, "origin": a.origin, "location": a.location, "chunk": self.number,
            "start": self.start, "end": self.end, "version": version_of(a),
            "first_sentence": self.first_sentence, "last_sentence": self.last_sentence,
            "n_sentences": self.n_sentences, "author": a.author, "language": a.language,
            "story": a.story or a.id, "story_outlets": a.story_outlets or a.source,
            "story_lead": a.story_lead or a.id,
        }


def index_hash(article: Article) -> str:
    """The article's content hash qualified by the chunker version: equal means nothing to do."""
    return f"{article.content_hash()}.{CHUNKER_VERSION}"


def version_of(article: Article) -> str:
    """The short version tag in the article's chunk ids: a changed article gets new ids."""
    return f"{article.content_hash()[:12]}{CHUNKER_VERSION}"


def split_sentences(text: str, offset: int = 0) -> list[Sentence]:
    """Split text into sentences with character spans (shifted by offset)."""
    sentences: list[Sentence] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end() if match.group().strip() else match.start()
        if match.group().strip() and _is_abbreviation(text, match.start(), match.end()):
            continue
        _append(sentences, text, start, end, offset)
        start = match.end()
    _append(sentences, text, start, len(text), offset)
    return sentences


def split_article(article: Article, max_words: int = MAX_WORDS,
                  sentences: list[Sentence] | None = None) -> list[Chunk]:
    """Pack an article's sentences into chunks of about max_words, overlapping by one sentence."""
    sentences = split_sentences(article.text) if sentences is None else sentences
    chunks: list[Chunk] = []
    version = version_of(article)
    first = 0
    while first < len(sentences):
        last, words = first, 0
        while last < len(sentences):
            words += len(sentences[last].text.split())
            if words > max_words and last > first:
                break
            last += 1
        span = sentences[first:last]
        chunks.append(Chunk(f"{article.id}@{version}#{len(chunks)}", article, len(chunks), span[0].start,
                            span[-1].end, first, last - 1, len(sentences)))
        if last >= len(sentences):
            break
        first = max(first + 1, last - OVERLAP_SENTENCES)
    return chunks


def _append(out: list[Sentence], text: str, start: int, end: int, offset: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    s = start + lead
    out.append(Sentence(stripped, s + offset, s + len(stripped) + offset))


def _is_abbreviation(text: str, dot_start: int, dot_end: int) -> bool:
    if text[dot_start] != "." or dot_end - dot_start > 1:
        return False
    match = _WORD_BEFORE.search(text, max(0, dot_start - 12), dot_start + 1)
    if not match:
        return False
    word = match.group(1).lower()
    if word in _ABBREVIATIONS:
        return True
    # Initials ("J. Smith", "U.S.") end with a single capital letter.
    if len(word) == 1 and match.group(1).isupper():
        return True
    following = text[dot_end:dot_end + 3].lstrip()
    return bool(following) and following[0].islower()
