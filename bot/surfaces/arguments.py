"""argparse pieces of the command line: a parser whose errors are one line, and the types that
check each option's value before any work starts."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from bot.surfaces.plain import one_line


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad command line gets one line (and --help), like every other error."""

    def error(self, message: str) -> None:
        """Print one line naming the problem, then exit 2."""
        print(f"{self.prog}: {one_line(message)} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def source_argument(text: str) -> str:
    """An argparse type: a file or folder path, or an http(s) URL; never empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path names no file or folder")
    return text


def iso_day(text: str) -> date:
    """An argparse type: a day written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day written YYYY-MM-DD") from None


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return int(text)
