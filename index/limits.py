"""Bounds on the work one file may cause: bytes read, records, title and text kept, parse depth.

Hostile or broken files (an alias bomb in front matter, a 50 MB single line, HTML nested ten
thousand deep) must cost a bounded amount of memory and time, and never stop the other files.
bot/settings.py maps each field to a NEWSBOT_ setting of the same name in upper case.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoadLimits:
    """Per-file bounds for the loaders; the defaults suit news articles with a wide margin."""

    max_file_bytes: int = 5_000_000  # larger files are skipped, never read
    max_records_per_file: int = 10_000  # .json/.jsonl records after this many are skipped
    max_title_chars: int = 300  # longer titles are cut, with a warning
    max_text_chars: int = 100_000  # longer article text is cut at a sentence, with a warning
    max_sentences_per_file: int = 50_000  # what embedding costs; later text and records are cut
    max_front_matter_bytes: int = 16_384  # YAML front matter; anchors and aliases are refused
    max_html_depth: int = 256  # deeper HTML nesting is refused before a tree is built
    max_html_elements: int = 50_000  # so are pages with more elements (~1 KB each in the tree)

    def setting(self, field: str) -> str:
        """The environment variable that changes one limit, for messages."""
        return f"NEWSBOT_{field.upper()}"


DEFAULT_LIMITS = LoadLimits()
# Evaluation corpora are files the operator names for measurement (one 6 MB JSONL of 1,000
# articles, say): trusted, so only the size bounds are relaxed.
CORPUS_LIMITS = LoadLimits(max_file_bytes=512_000_000, max_records_per_file=1_000_000,
                           max_sentences_per_file=100_000_000)
