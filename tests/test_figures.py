"""Older reports with other figures for the same thing, shown as earlier."""

from __future__ import annotations

from datetime import date

from bot.answering.figures import figures
from index.articles import make_article
from index.ingest import write_articles
from index.connection import open_store

OLD = ("Floods in the river valley of Freedonia have displaced 28,000 people, the interior "
       "ministry said on Sunday. Rescue teams reached villages cut off by the water. Aid groups "
       "asked for tents, blankets and clean water for the families in the camps.")
NEW = ("The interior ministry now says 31,500 people have been displaced by the Freedonia floods. "
       "Water levels began to fall in the north of the country. Schools reopened in the capital "
       "on Monday, and the main road to the coast is open again.")


def test_figures_pair_numbers_with_their_unit_word():
    assert figures("About 28,000 troops and 3.5% inflation") == {"troop": "28,000", "percent": "3.5"}
    assert figures("In 2022 the 12 of them met") == {}
    assert figures("a 4.2 percent rise in 15 cities") == {"percent": "4.2", "citie": "15"}


def test_an_older_report_with_another_figure_is_shown_as_earlier(tmp_path, embedder):
    from bot.factories import build_answerer
    from bot.settings import Settings

    home = tmp_path / "home"
    write_articles([make_article(OLD, "https://ap.example/old", id="old", title="Floods displace "
                                 "thousands in Freedonia", source="AP", date="2025-10-12"),
                    make_article(NEW, "https://reuters.example/new", id="new", title="Freedonia "
                                 "flood toll rises", source="Reuters", date="2025-11-03")],
                   open_store(home), embedder)
    answerer = build_answerer(Settings(home=home), embedder=embedder)
    answer = answerer.answer("How many people have been displaced by the Freedonia floods?",
                             as_of=date(2025, 11, 5))
    assert answer.as_of == "As of 3 Nov 2025 (Reuters)", answer
    assert answer.earlier == ["28,000 people, 12 Oct 2025 (AP)"]
    unrelated = answerer.answer("When did schools reopen in the capital?", as_of=date(2025, 11, 5))
    assert unrelated.earlier == []
