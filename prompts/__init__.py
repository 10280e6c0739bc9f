"""Prompt templates, kept as text files and loaded at run time (works after install too)."""

from __future__ import annotations

from importlib import resources


def load_prompt(name: str) -> str:
    """The text of prompts/<name>, e.g. load_prompt("system.txt")."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
