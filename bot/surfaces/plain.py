"""Plain lines for people: whatever bytes came in, what goes out is one printable line.

Paths, titles and questions may hold rich markup ("[/x]"), control characters or bytes that
were not UTF-8; none of them may turn into a MarkupError, a UnicodeError or a second line.
"""

from __future__ import annotations

import re
import sys


def tolerate_bad_bytes() -> None:
    """Undecodable input becomes U+FFFD, and unprintable output a '?', instead of an error."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")
        except (AttributeError, ValueError, OSError):  # not a text file, or already closed
            pass


def one_line(text: object) -> str:
    """Any text as one printable line: no control characters, no undecodable bytes."""
    from bot.answering.answer import clean_input

    return " ".join(clean_input(str(text)).split())


def say(text: str, style: str | None = None, indent: str = "") -> None:
    """Print a line as plain text: brackets in paths or titles are not rich markup."""
    from rich.text import Text

    from bot.surfaces.progress import console

    console().print(Text(indent + one_line(text), style=style or ""))


# Lines made only of these words (and emoji) thank or agree: there is nothing to look up.
_CHATTER = set("""thanks thank thx ty you cheers ok okay k great cool nice good got it perfect
    awesome lol haha wow makes sense interesting understood noted yes no yep nope sure very much
    so a lot all right alright""".split())


def without_emoji_codes(text: str) -> str:
    """text without Slack's emoji codes (":+1:", ":pray:")."""
    return re.sub(r":[\w+-]+:", " ", text)


def is_chatter(text: str) -> bool:
    """Whether a line only thanks or agrees ("thanks!", "ok :+1:", "got it 👍"): no question."""
    words = re.findall(r"[a-z']+", without_emoji_codes(text.lower()))
    return bool(words) and all(word in _CHATTER for word in words) and "?" not in text
