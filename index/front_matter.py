"""YAML front matter, read safely: bounded size, no anchors or aliases, dates kept as text.

PyYAML's safe loader still expands aliases (a 340-byte "billion laughs" becomes millions of
characters) and builds dates itself (2025-13-45 raises ValueError). Refusing anchors and aliases
keeps the parsed result no larger than the front matter, and reading dates as text lets
index.dates decide, so a bad date costs a warning instead of the file.
"""

from __future__ import annotations

import re

import yaml

from index.files import LoadError
from index.limits import LoadLimits

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _TextDatesLoader(yaml.SafeLoader):
    """The safe loader, minus the implicit timestamp type."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def split_front_matter(raw: str, limits: LoadLimits) -> tuple[dict, str]:
    """(the front matter as a dict, the text after it); ({}, raw) when there is none."""
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    block = match.group(1)
    if len(block.encode("utf-8", "surrogatepass")) > limits.max_front_matter_bytes:
        raise LoadError(f"front matter is over {limits.max_front_matter_bytes:,} bytes "
                        f"({limits.setting('max_front_matter_bytes')})")
    return parse_front_matter(block), raw[match.end():]


def parse_front_matter(block: str) -> dict:
    """The YAML mapping in block, or LoadError; anchors and aliases are refused unexpanded."""
    try:
        for event in yaml.parse(block, Loader=_TextDatesLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise LoadError("front matter uses YAML anchors or aliases, which are not read")
        meta = yaml.load(block, Loader=_TextDatesLoader)  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError as exc:
        raise LoadError(f"front matter is not valid YAML ({_first_problem(exc)})") from exc
    except RecursionError as exc:
        raise LoadError("front matter is nested too deeply") from exc
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise LoadError("front matter must be 'key: value' lines")
    return meta


def _first_problem(exc: yaml.YAMLError) -> str:
    return str(getattr(exc, "problem", None) or exc).splitlines()[0]
