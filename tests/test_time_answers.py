"""Stories, freshness and filters at answer time, over a real Chroma index in a temp home."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.answering.citations import Citation, as_of_line
from bot.answering.dates import Filters
from bot.answering.retrieval import HybridRetriever
from index.articles import make_article
from index.ingest import write_articles
from index.stories import open_stories
from index.connection import open_store
from tests.conftest import retriever_parts
from tests.test_live_fetch import records

WIRE_DAY = "2025-11-03"


@pytest.fixture(scope="module")
def news(tmp_path_factory, embedder):
    """A home with one wire story from three outlets (AP's longer version is the lead), and
    three other reports: one old, one undated, one recent."""
    home = tmp_path_factory.mktemp("news-home")
    wire, old, undated, recent = records(4)

    def article(rec, id, source, day, extra=""):
        return make_article(rec["text"] + extra, f"https://{source.lower()}.example/{id}", id=id,
                            title=rec["title"], source=source, date=day)

    write_articles([article(wire, "w-reuters", "Reuters", WIRE_DAY),
                    article(wire, "w-cnn", "CNN", WIRE_DAY),
                    article(wire, "w-ap", "AP", WIRE_DAY, "\nLater the ministry gave new figures."),
                    article(old, "old", "BBC", "2024-06-01"),
                    article(undated, "undated", "Local Paper", "date unknown"),
                    article(recent, "recent", "BBC", "2025-11-05")],
                   open_store(home), embedder, stories=open_stories(home))
    return {"home": home, "wire": wire, "old": old, "recent": recent}


@pytest.fixture(scope="module")
def retriever(news, embedder):
    return HybridRetriever(**retriever_parts(news["home"]), embedder=embedder, k=10)


def test_a_story_comes_back_once_as_its_lead(news, retriever):
    docs = retriever.search(news["wire"]["title"], date(2025, 11, 6))
    ids = [d.metadata["article_id"] for d in docs]
    assert "w-ap" in ids and "w-reuters" not in ids and "w-cnn" not in ids
    assert set(ids) - {"w-ap"}  # room left for the other reports


def test_without_story_groups_every_copy_would_compete(news, retriever, embedder):
    import numpy as np

    q_vec = np.asarray(embedder.embed_query(news["wire"]["title"]), dtype=np.float32)
    fused, rows = retriever.fuse(news["wire"]["title"], q_vec)
    assert {rows[c][1]["article_id"] for c, _ in fused} >= {"w-ap"}
    copies = {m["article_id"] for _, m in rows.values() if m.get("story") == "w-reuters"}
    assert copies == {"w-reuters", "w-cnn", "w-ap"}  # all three were candidates


def test_the_citation_names_the_quoted_version_and_the_other_outlets(news, embedder):
    from bot.factories import build_answerer
    from bot.settings import Settings

    answerer = build_answerer(Settings(home=news["home"]), embedder=embedder)
    answer = answerer.answer(news["wire"]["title"], as_of=date(2025, 11, 6))
    wire = [c for c in answer.citations if c.article_id.startswith("w-")]
    assert not answer.abstained and wire, answer
    assert wire[0].article_id == "w-ap" and wire[0].source == "AP"
    assert wire[0].also == ["Reuters", "CNN"] or sorted(wire[0].also) == ["CNN", "Reuters"]
    first = answer.citations[0]
    assert answer.as_of == as_of_line(first) and answer.as_of.endswith(f"({first.source})")
    payload = json.loads(answer.model_dump_json())
    assert payload["as_of"].startswith("As of ") and "also" in payload["citations"][0]


def test_as_of_lines_for_dated_and_undated_sources():
    cite = Citation(n=1, article_id="a", title="t", source="Reuters", date="2025-11-03",
                    location="", quote="")
    assert as_of_line(cite) == "As of 3 Nov 2025 (Reuters)"
    undated = cite.model_copy(update={"date": "date unknown"})
    assert as_of_line(undated) == "Date unknown (Reuters)"


def test_source_and_date_filters_hold_over_every_candidate(news, retriever):
    query = news["wire"]["title"]
    bbc = retriever.search(query, filters=Filters(source="bbc"))
    assert bbc and {d.metadata["source"] for d in bbc} == {"BBC"}
    since = retriever.search(query, filters=Filters(since=date(2025, 11, 4)))
    assert since and {d.metadata["article_id"] for d in since} == {"recent"}
    until = retriever.search(query, filters=Filters(until=date(2025, 1, 1)))
    assert {d.metadata["article_id"] for d in until} == {"old"}  # undated is out too
    assert retriever.search(query, filters=Filters(source="nobody")) == []


def test_date_words_narrow_to_their_window_when_it_holds_reports(news, retriever):
    docs = retriever.search(news["old"]["title"] + " this week", date(2025, 11, 6))
    assert docs and all("2025-10-31" <= d.metadata["date"] <= "2025-11-06" for d in docs)
    assert docs[0].metadata["date_window"] == "this week: 2025-10-31 to 2025-11-06"
    # a window with nothing in it does not empty the answer: the words are only a hint
    fallback = retriever.search(news["old"]["title"] + " this week", date(2030, 1, 1))
    assert "old" in {d.metadata["article_id"] for d in fallback}
    assert not any(d.metadata.get("date_window") for d in fallback)


def test_a_question_asked_on_a_past_day_sees_only_the_reports_published_by_then(news, retriever):
    query = news["recent"]["title"]
    ids = lambda day: {d.metadata["article_id"] for d in retriever.search(query, day)}  # noqa: E731
    assert "recent" in ids(date(2025, 11, 4))  # dated 11-05: a day's slack for time zones
    before = ids(date(2025, 11, 3))
    assert "recent" not in before and "undated" in before and "old" in before


def test_a_year_in_the_question_needs_a_report_from_that_year_or_naming_it():
    from langchain_core.documents import Document

    from bot.answering.answer import out_of_time
    from bot.answering.extractive import Draft

    docs = [Document(page_content="", metadata={"date": "2021-09-01", "source": "CNN"})]
    said = "The Penguins have won five Stanley Cups in their history."
    ask = lambda q, quote=said: out_of_time(  # noqa: E731
        {"question": q, "as_of": date(2022, 7, 1), "docs": docs},
        Draft(text=f"{quote} [1]", quotes={1: [quote]}))
    assert ask("Which team won the 2022 Stanley Cup Finals?") == (
        "I couldn't find a report on that from 2022-01-01 on (\"2022\") in the indexed articles;"
        " the closest is dated 2021-09-01 (CNN).")
    assert ask("Which team won the 2021 Stanley Cup Finals?") is None
    assert ask("Which team won the 2022 Stanley Cup Finals?",
               "The 2022 Stanley Cup Finals open in June.") is None  # a preview names the year
    assert ask("How many Cups had they won before 2022?") is None  # a bound, not the subject


def test_a_report_on_a_named_month_may_come_after_it_or_name_it():
    from langchain_core.documents import Document

    from bot.answering.answer import out_of_time
    from bot.answering.extractive import Draft

    def ask(dated: str, quote: str) -> str | None:
        docs = [Document(page_content="", metadata={"date": dated, "source": "CNN"})]
        return out_of_time({"question": "What was the US inflation rate in June 2022?",
                            "as_of": date(2026, 11, 30), "docs": docs},
                           Draft(text=f"{quote} [1]", quotes={1: [quote]}))

    assert ask("2022-07-13", "Prices rose 9.1% from a year earlier.") is None  # the next month
    assert ask("2023-02-01", "Inflation peaked at 9.1% in June.") is None  # it names the month
    assert ask("2023-02-01", "Inflation eased to 6.4% in January.") == (
        "I couldn't find a report on that from 2022-05-29 to 2022-07-31 (\"in june 2022\") in the "
        "indexed articles; the closest is dated 2023-02-01 (CNN).")


def test_latest_puts_the_newest_report_first_among_equals(news, retriever):
    plain = retriever.search("BBC report", date(2025, 11, 6))
    latest = retriever.search("latest BBC report", date(2025, 11, 6))
    dated = [d.metadata["date"] for d in latest if d.metadata["date"][:1].isdigit()]
    assert dated[0] == max(dated)
    assert plain  # both searches answer; the order differs only by the recency vote


def test_the_repl_keeps_filters_in_the_prompt_and_echoes_them(news, embedder):
    from bot.factories import build_answerer
    from bot.settings import Settings
    from bot.surfaces.repl import PROMPT, Repl

    lines = iter([":since 2025-13-01", ":source bbc", news["recent"]["title"], ":source",
                  ":until 2025-01-01", ":clear"])
    prompts, out = [], []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    answerer = build_answerer(Settings(home=news["home"]), embedder=embedder)
    assert Repl(answerer, read, lambda x: out.append(str(x))).run() == 0
    text = "\n".join(out)
    assert "'2025-13-01' is not a date" in out[0] and "\n" not in out[0]
    assert prompts[2] == "newsbot [source bbc]> " and prompts[4] == PROMPT
    assert prompts[5] == "newsbot [until 2025-01-01]> " and prompts[6] == PROMPT
    assert "filters: source bbc" in text and "As of 5 Nov 2025 (BBC)" in text


def test_ask_takes_filters_and_prints_them_in_json(news, capsys):
    from bot.surfaces.cli import main

    home = str(news["home"])
    assert main(["--home", home, "ask", news["recent"]["title"], "--since", "2025-11-04",
                 "--source", "BBC", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["filters"] == {"since": "2025-11-04", "source": "BBC"}
    assert payload["as_of"] == "As of 5 Nov 2025 (BBC)"
    assert main(["--home", home, "ask", "anything", "--until", "soon"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "newsbot: --until 'soon' is not a date: use YYYY-MM-DD, e.g. 2025-11-01"


def test_slack_reads_filter_words_and_shows_freshness(news, embedder, tmp_path):
    from bot.factories import build_answerer
    from bot.settings import Settings
    from bot.surfaces.slack.limits import RateLimiter
    from bot.surfaces.slack.replies import Replier
    from bot.surfaces.slack.state import open_state

    answerer = build_answerer(Settings(home=news["home"]), embedder=embedder)
    replier = Replier(answerer, RateLimiter(100), open_state(tmp_path / "state.sqlite"))
    sent: list[dict] = []
    replier.answer_privately(lambda **kw: sent.append(kw), "U1", "since:2025-02-30 what?")
    assert sent[-1]["text"] == "since: '2025-02-30' is not a date: use YYYY-MM-DD, e.g. 2025-11-01"
    replier.answer_privately(lambda **kw: sent.append(kw), "U1",
                             f"source:reuters {news['wire']['title']}")
    blocks = json.dumps(sent[-1]["blocks"])
    assert "filters: source reuters" in blocks and "As of 3 Nov 2025 (Reuters)" in blocks
    assert "also: AP, CNN" in blocks or "also: CNN, AP" in blocks


def test_a_question_about_a_time_is_not_answered_from_a_report_of_another(tmp_path, embedder):
    from bot.factories import build_answerer
    from bot.settings import Settings

    text = ("The Harbor Bridge will close for repairs costing 45 million dollars, the city "
            "council of Portvale said. Engineers found cracks in two of the bridge's towers. "
            "Ferries will carry commuters while the bridge is closed.")
    write_articles([make_article(text, "https://bbc.example/bridge", id="bridge",
                                 title="Portvale closes Harbor Bridge for repairs",
                                 source="BBC", date="2024-06-01"),
                    make_article(text.replace("Portvale", "Dunmore"), "https://paper.example/b",
                                 id="undated", title="Dunmore closes Harbor Bridge for repairs",
                                 source="Local Paper", date="date unknown"),
                    make_article(text.replace("Portvale", "Riverton").replace(
                        "will close", "will close in 2026"), "https://bbc.example/riverton",
                        id="riverton", title="Riverton to close Harbor Bridge in 2026",
                        source="BBC", date="2024-06-01")],
                   open_store(tmp_path), embedder)
    answerer = build_answerer(Settings(home=tmp_path), embedder=embedder)
    asked = "How much will the Portvale Harbor Bridge repairs cost"
    plain = answerer.answer(f"{asked}?", as_of=date(2025, 11, 6))
    assert not plain.abstained and "45 million" in plain.answer  # no time named: old may answer
    for question in (f"{asked} this week?", f"{asked}, announced on Tuesday?",
                     f"{asked}, as recently announced?"):
        stale = answerer.answer(question, as_of=date(2025, 11, 6))
        assert stale.abstained and not stale.citations, question
        assert "the closest is dated 2024-06-01 (BBC)" in stale.answer
    then = answerer.answer(f"{asked} this week?", as_of=date(2024, 6, 3))
    assert not then.abstained and then.citations[0].article_id == "bridge"
    year = answerer.answer("How much will the 2025 Portvale Harbor Bridge repairs cost?",
                           as_of=date(2025, 11, 6))
    assert year.abstained and '"2025"' in year.answer, year.answer  # no report mentions it
    assert not answerer.answer("How much will the 2024 Portvale Harbor Bridge repairs cost?",
                               as_of=date(2025, 11, 6)).abstained
    preview = answerer.answer("How much will the 2026 Riverton Harbor Bridge repairs cost?",
                              as_of=date(2025, 11, 6))
    assert not preview.abstained and "2026" in preview.answer  # a report naming the year
    undated = answerer.answer("How much will the Dunmore bridge repairs cost this week?",
                              as_of=date(2030, 1, 1))
    assert not undated.abstained  # an undated report's time is unknown, so it may answer
