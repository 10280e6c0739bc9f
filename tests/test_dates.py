"""Date words in questions, explicit filters and their parsing."""

from __future__ import annotations

from datetime import date

import pytest

from bot.answering.dates import (Filters, date_window, named_year, names_period, parse_date,
                                 report_dates, split_filters, within)
from bot.errors import UsageError

TODAY = date(2025, 11, 30)  # a Sunday


@pytest.mark.parametrize("question, since, until", [
    ("What happened today in Paris?", date(2025, 11, 30), date(2025, 11, 30)),
    ("Who won yesterday?", date(2025, 11, 29), date(2025, 11, 29)),
    ("Which show was green lit this week?", date(2025, 11, 24), date(2025, 11, 30)),
    ("What did the senate pass last week?", date(2025, 11, 17), date(2025, 11, 23)),
    # a named year or month: reported during it or in the month after
    ("How much did prices rise in 2022?", date(2022, 1, 1), date(2023, 1, 31)),
    ("What happened in March 2024 in Gaza?", date(2024, 3, 1), date(2024, 4, 30)),
    ("What was the inflation rate in December 2024?", date(2024, 12, 1), date(2025, 1, 31)),
    ("How many strikes since March?", date(2025, 3, 1), None),
    ("How many strikes since December?", date(2024, 12, 1), None),  # not begun yet this year
    ("Who has led since 2020?", date(2020, 1, 1), None),
    ("Layoffs this month?", date(2025, 11, 1), date(2025, 11, 30)),
])
def test_date_words_become_a_window_relative_to_the_question_date(question, since, until):
    window = date_window(question, TODAY)
    assert (window.since, window.until) == (since, until)
    assert window.words and window.words in question.lower()


@pytest.mark.parametrize("question, recent", [
    ("What is the latest death toll?", True),
    ("Who is president now?", True),
    ("Who currently leads the polls?", True),
    ("How many troops are in Korea?", False),
    ("Do you know the snowfall record?", False),  # "know" is not "now"
])
def test_latest_and_now_ask_for_the_newest_reports(question, recent):
    window = date_window(question, TODAY)
    assert window.recent is recent and window.since is None and window.until is None


def test_plain_questions_get_no_window():
    window = date_window("How many US troops are in Korea?", TODAY)
    assert window == type(window)()


def test_filters_admit_by_outlet_substring_and_inclusive_dates():
    f = Filters(since=date(2025, 11, 1), until=date(2025, 11, 30), source="reuters")
    assert f.admits({"source": "Thomson Reuters", "date": "2025-11-01"})
    assert f.admits({"source": "REUTERS", "date": "2025-11-30"})
    assert not f.admits({"source": "CNN", "date": "2025-11-10"})
    assert not f.admits({"source": "Reuters", "date": "2025-12-01"})
    assert not f.admits({"source": "Reuters", "date": "date unknown"})  # undated: out
    assert Filters(source="cnn").admits({"source": "CNN", "date": "date unknown"})
    assert f.echo() == {"since": "2025-11-01", "until": "2025-11-30", "source": "reuters"}


def test_within_without_bounds_admits_undated():
    assert within("date unknown", None, None)
    assert not within("date unknown", date(2020, 1, 1), None)


def test_dates_parse_or_fail_in_one_line():
    assert parse_date("2025-11-01") == date(2025, 11, 1)
    assert parse_date("2025-11") == date(2025, 11, 1)
    assert parse_date("2022") == date(2022, 1, 1)
    for bad in ("yesterday", "2025-13-01", "01/11/2025", ""):
        with pytest.raises(UsageError) as err:
            parse_date(bad, "--since")
        assert "--since" in str(err.value) and "\n" not in str(err.value)


def test_filter_words_are_split_off_a_slack_question():
    filters, question = split_filters("since:2025-11-01 source:reuters How many troops? until:2025-11-20")
    assert question == "How many troops?"
    assert filters == Filters(since=date(2025, 11, 1), until=date(2025, 11, 20), source="reuters")
    assert split_filters("What is a source: of truth?") == (Filters(), "What is a source: of truth?")
    with pytest.raises(UsageError, match="since:"):
        split_filters("since:lastweek what happened?")


@pytest.mark.parametrize("question, year", [
    ("Which team won the 2022 NHL Stanley Cup Finals?", 2022),
    ("How long did violence play out at the Capitol on January 6, 2021?", 2021),
    ("What changed between 2019 and 2020?", 2020),
    ("How many troops were there before 2020?", None),  # a bound, not the subject's year
    ("Are prices back to pre-2020 levels?", None),
    ("Why did 3000 troops leave?", None),
])
def test_the_year_a_question_names(question, year):
    assert named_year(question) == year


@pytest.mark.parametrize("question, words", [
    ("Which country just elected a leftist president?", "just"),
    ("Who has just been named coach?", "just"),
    ("What did Just Stop Oil protesters throw on the painting?", None),  # a name
    ("Why was Watson suspended just six games?", None),  # an amount
    ("How many launches has North Korea made this year as of October 2022?", None),
    ("Which team won the 2022 Stanley Cup this week?", None),  # the year named is not today's
    ("How many launches has North Korea made this year?", "this year"),
    ("Which team won the 2025 Stanley Cup this week?", "this week"),  # today's year
])
def test_words_about_the_present_and_a_year_named_elsewhere(question, words):
    found = report_dates(question, TODAY)
    assert (found[2] if found else None) == words


def test_a_quote_may_look_back_on_the_period_a_question_names():
    assert names_period("in june 2022", "Inflation rose 9.1% in June.", "2022-07-13")
    assert names_period("in 2021", "They won the Cup in 2020 and 2021.", "2022-06-27")
    assert not names_period("in 2021", "They won the Cup in 2020.", "2022-06-27")
    assert not names_period("in june 2022", "Inflation rose in June.", "2021-07-13")  # before it
    assert not names_period("this week", "This week the bridge closed.", "2022-07-13")
