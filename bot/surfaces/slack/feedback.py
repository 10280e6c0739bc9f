"""👍/👎 on an answer: appended as one JSON line per vote under NEWSBOT_HOME."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from slack_bolt import App

from bot.surfaces.slack import render
from bot.surfaces.slack.events import ButtonClick, ack_now, parse_click
from bot.surfaces.slack.replies import Asked, Replier, try_call

log = logging.getLogger(__name__)
VOTES = {"feedback_up": "up", "feedback_down": "down"}


class FeedbackLog:
    """An append-only JSONL file of votes, safe to write from many threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, vote: str, click: ButtonClick, asked: Asked | None) -> dict:
        """Append one vote with its question, answer and citations; returns the record."""
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="seconds"), "vote": vote,
            "user": click.user_id, "channel": click.channel_id, "message_ts": click.message_ts,
            "question": asked.question if asked else None,
            # after a restart the answer is gone from memory; the message text is what is left
            "answer": asked.answer.answer if asked else click.message_text,
            "citations": [c.model_dump() for c in asked.answer.citations] if asked else [],
        }
        with self._lock, open_private(self.path) as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return record


def open_private(path: Path) -> TextIO:
    """Open a file for appending that only its owner can read (0600, also if it existed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)  # votes and questions: a file an older newsbot made 0644 is fixed too
    return os.fdopen(fd, "a", encoding="utf-8")


def register(app: App, replier: Replier, feedback: FeedbackLog) -> None:
    """The two feedback buttons under every answer."""

    def on_vote(body: dict, respond) -> None:
        click = parse_click(body)
        if click is None or click.action_id not in VOTES:
            return
        feedback.record(VOTES[click.action_id], click, replier.asked(click.value))
        log.info("feedback %s from %s on answer %s", VOTES[click.action_id], click.user_id,
                 click.value)
        try_call(respond, text=render.THANKS, response_type="ephemeral", replace_original=False)

    app.action(re.compile(r"^feedback_(up|down)$"))(ack=ack_now, lazy=[on_vote])
