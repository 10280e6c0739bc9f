"""Answer -> Slack Block Kit. Pure functions: no I/O, no state.

Every piece of article or user text goes through `escape`, so `<!channel>`, `<!here>` or `<@U...>`
inside an article or a question is shown as text and can never ping anyone. Only markup built
here (links to sources, the asker's own mention) stays live.
"""

from __future__ import annotations

import re

from slack_sdk.models.blocks import (ActionsBlock, Block, ButtonElement, ContextBlock,
                                     MarkdownTextObject, SectionBlock)

from bot.answering.answer import Answer
from bot.answering.citations import Citation
from bot.answering.dates import filters_line

MAX_BLOCKS = 50
MAX_TEXT = 3000  # section text, and any text object
MAX_ANSWER_SECTIONS = 5
FALLBACK_CHARS = 3000
_URL = re.compile(r"^https?://[^\s<>|]+$")

HELP_WORDS = {"", "help", "?"}
HELP = ("Ask me about the indexed news articles and I'll answer with numbered sources.\n"
        "• Mention me with a question: `@newsbot How many US troops are in Korea?`\n"
        "• Reply in my thread to ask a follow-up; no need to mention me again.\n"
        "• Send me a direct message, or use `/newsbot QUESTION` for an answer only you see.\n"
        "• Narrow the articles: `since:2025-11-01`, `until:2025-11-30`, `source:reuters` "
        "before the question.")
FRIENDLY_ERROR = ("Sorry, something went wrong while I was answering. "
                  "Please try again in a moment.")
RATE_LIMITED = ("You're asking faster than I can keep up. "
                "Please wait a minute and ask again.")
NOT_ENABLED = "I'm not enabled in this conversation. Ask an admin to add it to my channel list."
TOO_LONG = "That question is too long for me. Please ask it in fewer than {limit:,} characters."
EXPIRED = "That answer is no longer available to share. Please ask again."
THANKS = "Thanks for the feedback!"
NO_SOURCE = ":warning: This answer cites no source; treat it with care."
ABSTAIN_HINT = ("The articles I have don't say, so I won't guess. "
                "Try rephrasing, or ask about something they report.")
WRITING = ":hourglass_flowing_sand: Writing… the sources follow once the answer is checked."


def escape(text: str) -> str:
    """Slack's three control characters as entities: text stays text, nothing pings."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Escaped text cut to at most `limit` characters, never inside an entity."""
    if len(text) <= limit:
        return text
    return _safe_cut(text, limit - 1).rstrip() + "…"


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Escaped text in pieces of at most `limit`, cut at line or word breaks where possible."""
    pieces = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        piece = text[:cut] if cut > limit // 2 else _safe_cut(text, limit)
        pieces.append(piece)
        text = text[len(piece):].lstrip()
    return pieces + [text] if text else pieces


def answer_blocks(answer: Answer, *, key: str, share: bool = False,
                  asked: str | None = None) -> list[dict]:
    """The answer with [n] markers, its Sources, and feedback (and share) buttons; <= 50 blocks."""
    blocks: list[Block] = [_context(asked)] if asked else []
    sections = _answer_sections(answer)  # the short answer leads; how fresh it is, right below
    blocks += sections[:1] + freshness_blocks(answer) + sections[1:]
    notes = [f":warning: {escape(w)}" for w in answer.warnings]
    if not answer.abstained and not answer.citations:
        notes.append(NO_SOURCE)
    if notes:
        blocks.append(_context("\n".join(notes)))
    room = MAX_BLOCKS - len(blocks) - 1  # the buttons come last
    blocks += _sources(answer.citations, room)
    blocks.append(_buttons(key, share))
    return [b.to_dict() for b in blocks]


def fallback_text(answer: Answer) -> str:
    """The plain text Slack shows in notifications and to clients without blocks."""
    short = f"{answer.short_answer}: " if answer.short_answer else ""
    return clip(escape(short + answer.answer), FALLBACK_CHARS)


def asked_line(question: str, user_id: str | None = None) -> str:
    """'You asked: ...' (or '@user asked: ...') for answers shown away from the question."""
    who = f"<@{user_id}> asked" if user_id else "You asked"
    return clip(f"*{who}:* {escape(question)}", MAX_TEXT)


def note_blocks(text: str) -> list[dict]:
    """A fixed note (help, apology) as blocks, so it also replaces a preview's blocks."""
    return [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]


def preview_blocks(partial: str) -> list[dict]:
    """An answer still being written: the text so far and a note that sources follow."""
    text = clip(escape(partial), MAX_TEXT) or "…"
    return [SectionBlock(text=MarkdownTextObject(text=text)).to_dict(),
            _context(WRITING).to_dict()]


def source_line(c: Citation) -> str:
    """'[n] <url|title> · outlet · date' (a file: its name only) and the quote, as mrkdwn."""
    title = escape(" ".join(c.title.split())) or "Untitled"
    is_url = bool(_URL.match(c.location or ""))
    parts = [f"[{c.n}] " + (f"<{escape(c.location)}|{title}>" if is_url else f"*{title}*"),
             escape(c.source or "outlet unknown"), escape(c.date)]
    if c.location and not is_url:
        parts.append(f"`{escape(file_name(c.location))}`")
    if c.also:
        parts.append("also: " + escape(", ".join(c.also)))
    quote = "".join(f"\n“{escape(' '.join(said.split()))}”" for said in c.quotes or [c.quote]
                    if said)
    return clip(" · ".join(parts) + quote, MAX_TEXT)


def freshness_blocks(answer: Answer) -> list[Block]:
    """A context block with the answer's "As of ..." line and the filters it used, if any."""
    parts = [f":calendar: {escape(answer.as_of)}"] if answer.as_of and not answer.abstained else []
    if answer.earlier:
        parts.append(escape("earlier reports: " + "; ".join(answer.earlier)))
    if answer.filters:
        parts.append(escape(filters_line(answer.filters)))
    return [_context(" · ".join(parts))] if parts else []


def file_name(location: str) -> str:
    """The last part of a path or file: URL: a Slack user never sees where the server keeps it."""
    return re.split(r"[\\/]", location.rstrip("/\\"))[-1] or "file"


def _answer_sections(answer: Answer) -> list[Block]:
    if answer.abstained:
        return [SectionBlock(text=MarkdownTextObject(text=f":mag: *{escape(answer.answer)}*")),
                _context(ABSTAIN_HINT)]
    short = f"*{escape(answer.short_answer)}*\n" if answer.short_answer else ""
    pieces = split_text(short + escape(answer.answer))[:MAX_ANSWER_SECTIONS] or ["…"]
    return [SectionBlock(text=MarkdownTextObject(text=p)) for p in pieces]


def _sources(citations: list[Citation], room: int) -> list[Block]:
    if not citations or room < 2:
        return []
    shown = citations if len(citations) <= room - 1 else citations[: room - 2]
    blocks = [_context("*Sources*")] + [_context(source_line(c)) for c in shown]
    if len(shown) < len(citations):
        blocks.append(_context(f"…and {len(citations) - len(shown)} more sources"))
    return blocks


def _buttons(key: str, share: bool) -> ActionsBlock:
    buttons = [ButtonElement(text=":thumbsup: Helpful", action_id="feedback_up", value=key),
               ButtonElement(text=":thumbsdown: Not helpful", action_id="feedback_down",
                             value=key)]
    if share:
        buttons.append(ButtonElement(text="Share in channel", action_id="share_answer",
                                     value=key, style="primary"))
    return ActionsBlock(block_id="newsbot_answer", elements=buttons)


def _context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(mrkdwn, MAX_TEXT))])


def _safe_cut(text: str, limit: int) -> str:
    head = text[:limit]
    amp = head.rfind("&", max(0, limit - 5))  # the longest entity, "&amp;", is 5 characters
    return head[:amp] if amp != -1 and ";" not in head[amp:] else head
