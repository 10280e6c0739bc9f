"""Answer -> Block Kit: escaping of every outside text, Slack's size limits, the message kinds."""

from __future__ import annotations

import json
import re

import pytest

from bot.answering.answer import ABSTAIN_TEXT, Answer
from bot.answering.citations import Citation
from bot.surfaces.slack import render


def cite(n: int, **fields: str) -> Citation:
    values = {"article_id": f"a{n}", "title": f"Title {n}", "source": "Reuters",
              "date": "2025-11-03", "location": f"https://example.com/{n}",
              "quote": f"Quote {n}."}
    return Citation(n=n, **{**values, **fields})


def answer(text: str = "About 28,500 soldiers. [1]", citations: list[Citation] | None = None,
           **fields: object) -> Answer:
    return Answer(question="q", answer=text, abstained=False,
                  citations=[cite(1)] if citations is None else citations, **fields)


def test_a_source_shows_every_sentence_quoted_from_it():
    line = render.source_line(cite(1, quotes=["Quote 1.", "<!here> Later quote."]))
    assert line.endswith("\n“Quote 1.”\n“&lt;!here&gt; Later quote.”")


def test_every_article_and_user_text_is_escaped_so_nothing_pings():
    hostile = answer("<!channel> says 5 < 6 & 7 > 2 [1]", citations=[cite(
        1, title="<!here> council", source="<@U024BE7LH> Gazette", date="<!date^1|x>",
        location="https://example.com/?a=1&b=2", quote="<!everyone> look <https://evil|ok>")],
        warnings=["<!subteam^S1> unverified"])
    blocks = render.answer_blocks(hostile, key="k", share=True,
                                  asked=render.asked_line("<!channel> what?"))
    posted = json.dumps(blocks) + render.fallback_text(hostile)
    assert "<!" not in posted and "<@" not in posted and "<https://evil" not in posted
    assert "&lt;!channel&gt; says 5 &lt; 6 &amp; 7 &gt; 2 [1]" in posted
    assert "<https://example.com/?a=1&amp;b=2|&lt;!here&gt; council>" in posted  # the one link


def test_a_source_line_names_title_outlet_date_and_quotes_the_sentence():
    line = render.source_line(cite(2, location="seeds/a.txt", source=""))
    assert line == "[2] *Title 2* · outlet unknown · 2025-11-03 · `a.txt`\n“Quote 2.”"


@pytest.mark.parametrize("location", ["/srv/newsroom/private/2025/a.txt", "file:///srv/x/a.txt",
                                      "C:\\newsroom\\a.txt", "../archive/a.txt"])
def test_a_file_source_shows_its_name_never_the_servers_path(location):
    line = render.source_line(cite(1, location=location, source="Reuters"))
    assert line.startswith("[1] *Title 1* · Reuters · 2025-11-03 · `a.txt`")
    assert "srv" not in line and "newsroom" not in line and "archive" not in line


def test_a_long_answer_is_split_into_sections_within_the_limit():
    text = " ".join(["a & b < c."] * 1200)  # 13,200 characters, 24,000 once escaped
    blocks = render.answer_blocks(answer(text), key="k")
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) == render.MAX_ANSWER_SECTIONS
    assert all(len(s) <= render.MAX_TEXT for s in sections)
    assert not any(re.search(r"&[a-z]{0,3}$", s) for s in sections)  # no entity cut in two
    assert " ".join(sections) == render.escape(text)[: len(" ".join(sections))]


def test_many_sources_stay_within_fifty_blocks():
    blocks = render.answer_blocks(answer(citations=[cite(n) for n in range(1, 81)]), key="k")
    texts = [b["elements"][0].get("text") for b in blocks if b["type"] == "context"]
    assert len(blocks) == render.MAX_BLOCKS
    assert texts[-1] == "…and 34 more sources" and texts[0] == "*Sources*"


def test_clip_never_cuts_an_entity():
    assert render.clip("ab&amp;cd", 5) == "ab…"
    assert render.clip("abcdef", 6) == "abcdef" and render.clip("abcdefg", 6) == "abcde…"


def test_an_abstention_says_so_plainly_with_no_sources():
    abstained = Answer(question="q", answer=ABSTAIN_TEXT, abstained=True)
    blocks = render.answer_blocks(abstained, key="k")
    assert blocks[0]["text"]["text"] == f":mag: *{ABSTAIN_TEXT}*"
    assert blocks[1]["elements"][0]["text"] == render.ABSTAIN_HINT
    assert "Sources" not in json.dumps(blocks) and blocks[-1]["type"] == "actions"


def test_an_answer_that_cites_nothing_is_flagged():
    blocks = render.answer_blocks(answer("28,500.", citations=[]), key="k")
    assert blocks[1]["elements"][0]["text"] == render.NO_SOURCE


def test_buttons_carry_the_answer_key_and_share_only_when_private():
    public = render.answer_blocks(answer(), key="k1")[-1]["elements"]
    private = render.answer_blocks(answer(), key="k2", share=True)[-1]["elements"]
    assert [(b["action_id"], b["value"]) for b in public] == [("feedback_up", "k1"),
                                                              ("feedback_down", "k1")]
    assert [b["action_id"] for b in private] == ["feedback_up", "feedback_down", "share_answer"]


def test_the_short_answer_leads_the_first_block_in_bold():
    blocks = render.answer_blocks(answer(short_answer="About 28,500 <!channel>"), key="k")
    first = blocks[0]["text"]["text"]
    assert first.startswith("*About 28,500 &lt;!channel&gt;*\nAbout 28,500 soldiers.")
