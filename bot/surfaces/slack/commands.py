"""The slash command: an answer only the asker sees, and the button that shares it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import App

from bot.surfaces.slack import render
from bot.surfaces.slack.events import SlashCommand, ack_now, parse, parse_click, plain_text
from bot.surfaces.slack.limits import channel_allowed
from bot.surfaces.slack.replies import Replier, try_call

log = logging.getLogger(__name__)


def register(app: App, replier: Replier, allowlist: list[str]) -> None:
    """`/newsbot QUESTION` (any command name the app is given) and the share button."""

    def on_command(body: dict, respond: Callable[..., object]) -> None:
        cmd = parse(SlashCommand, body, "slash command")
        if cmd is None:
            return
        if not channel_allowed(cmd.channel_id, allowlist):
            try_call(respond, text=render.NOT_ENABLED, response_type="ephemeral")
            return
        question = plain_text(cmd.text)
        if question.lower() in render.HELP_WORDS:
            try_call(respond, text=render.HELP, response_type="ephemeral")
            return
        replier.answer_privately(respond, cmd.user_id, question)

    def on_share(body: dict, respond: Callable[..., object]) -> None:
        click = parse_click(body)
        if click is None or not replier.answered.claim(("share", click.value)):
            return  # malformed, or a second click on the same answer
        asked = replier.asked(click.value)
        if asked is None:
            try_call(respond, text=render.EXPIRED, response_type="ephemeral",
                     replace_original=False)
            return
        shared = try_call(
            respond, text=render.fallback_text(asked.answer), response_type="in_channel",
            replace_original=False,
            blocks=render.answer_blocks(asked.answer, key=click.value,
                                        asked=render.asked_line(asked.question, click.user_id)))
        if shared:  # the private copy, with its share button, goes away
            try_call(respond, delete_original=True)
            log.info("shared answer %s in %s", click.value, click.channel_id)

    app.command(re.compile(r"^/"))(ack=ack_now, lazy=[on_command])
    app.action("share_answer")(ack=ack_now, lazy=[on_share])
