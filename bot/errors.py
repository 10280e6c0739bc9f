"""Domain errors. Each carries a one-line message for the user; the edges (CLI, Slack) convert them."""

from __future__ import annotations


class NewsbotError(Exception):
    """Base class: something the user can fix, described in one line."""

    exit_code = 1


class UsageError(NewsbotError):
    """The request itself is wrong: an empty question, a bad option value."""

    exit_code = 2


class IndexMissingError(NewsbotError):
    """There is nothing to answer from yet."""

    exit_code = 3


class StoreUnavailableError(NewsbotError):
    """The index's Chroma server cannot be reached for now; asking again later may work."""

    exit_code = 1


class ConfigError(NewsbotError):
    """A setting is missing or invalid."""

    exit_code = 2


class LocalModelError(NewsbotError):
    """The opt-in local model (bot.surfaces.local_llm) could not be fetched, checked or started."""

    exit_code = 1
