"""The offline answer step: pick the sentence that answers the question, or abstain.

The retrieved sentences come scored (bot.answering.ranking); this step takes the short answer and
the sentence that holds it, adds the best sentence when that is another one, and abstains when
even the best candidate is not similar enough to the question, or a rule of
bot.answering.abstention says the reports do not answer it.
"""

from __future__ import annotations

from langchain_core.documents import Document
from pydantic import BaseModel, Field

from bot.answering.abstention import (headed_text, is_roundup, roundup_only, says_nothing_of_it,
                                      says_otherwise, unnamed_country, unstated_figure)
from bot.answering.kinds import leans_back
from bot.answering.ranking import answer_spans, question_cue, rank_sentences
from bot.answering.short_answer import ShortAnswer, choose_short_answer
from bot.answering.terms import content_terms, coverage

MAX_ANSWER_CHARS = 400
# Abstain when no retrieved sentence reaches this cosine similarity to the question. The highest
# floor (in steps of 0.05) that still answers >= 95 % of the answerable dev questions of both
# sets (`python -m bot.measurement.tuning`; see README "Abstention threshold").
MIN_SIMILARITY = 0.45
# ... and when the chunk of the best sentence holds less than this share of the question's words:
# a report about something similar, not the event asked about (news the index does not hold).
# Chosen on RealTime QA with its gold articles held out and SQuAD 2.0 (README "Abstention").
MIN_COVERAGE = 0.3
# ... and when even the best sentence's fitted score (ranking.WEIGHTS) is under this: no sentence
# has the question's words, its word pairs and the asked-for kind together, as the report of the
# event asked about would. The highest floor (in steps of 0.1) that still answers >= 95 % of the
# answerable dev questions of both sets (`python -m bot.measurement.holdout`; README "Abstention").
MIN_SCORE = 2.8
# A runner-up sentence joins the answer when its score is within this margin of the best.
SECOND_MARGIN = 0.5
# A short answer whose sentence scores this much below the best one gives way to the best
# sentence's own when the two cannot both be quoted. Swept on both dev sets with retrieval fixed
# (0.5 to 3; README "Short answers"): RealTime QA answer accuracy 0.684 -> 0.694, SQuAD 2.0
# 0.770 -> 0.817 at 0.5 and 2.0, 0.810 at 1.0-1.5, 0.802 at 2.5-3.
HOLDER_GAP = 2.0
# How many of the best-scored sentences may supply the answer's name or number.
COMPANION_POOL = 20


class Draft(BaseModel):
    """What an answer step returns: text whose [n] are 1-based positions in the retrieved docs
    (or, abstaining, why, when that is more than that nothing answers)."""

    text: str
    quotes: dict[int, list[str]] = Field(default_factory=dict)  # each doc's quoted sentences
    short_answer: str | None = None
    abstained: bool = False
    answered_by: str = "extractive"
    verified: bool = True
    warnings: list[str] = Field(default_factory=list)


class ExtractiveAnswerer:
    """Choose the best supporting sentence from the retrieved chunks and cite it."""

    def __init__(self, min_similarity: float = MIN_SIMILARITY,
                 min_coverage: float = MIN_COVERAGE, min_score: float = MIN_SCORE) -> None:
        self.min_similarity = min_similarity
        self.min_coverage = min_coverage
        self.min_score = min_score

    def __call__(self, inputs: dict) -> Draft:
        """LCEL entry point: {"question", "query", "docs", ...} -> Draft.

        A follow-up is scored with its condensed query, which carries the earlier subject, and
        when a pronoun of it points back ("who is he?") its short answer leans to what the last
        answer named; "and how many South Korean soldiers?" asks for something else.
        """
        query = inputs.get("query") or inputs["question"]
        history = inputs.get("history") or []
        refers = history and query != inputs["question"] and leans_back(inputs["question"])
        focus = history[-1].answer if refers else ""
        return self.extract(query, inputs["docs"], focus)

    def extract(self, question: str, docs: list[Document], focus: str = "") -> Draft:
        """The short answer, then the sentence holding it (and the best sentence) with their [n];
        or an abstention. An answer that only a roundup supports is made again from the reports;
        without one, newsbot abstains and names the roundup. focus: the answer a follow-up
        leans on."""
        ranked = rank_sentences(question, docs)
        draft = self.compose(question, ranked, docs, focus)
        roundup = roundup_only(question, [docs[n - 1] for n in draft.quotes])
        if roundup is None:
            return draft
        kept = {n for n, doc in enumerate(docs, start=1) if not is_roundup(doc)}
        reports = self.compose(question, [row for row in ranked if row[1] in kept], docs, focus)
        return reports if not reports.abstained else Draft(
            text="I couldn't find a report on that in the indexed articles; the closest is a "
                 f"line in a roundup of several stories: {roundup}.", abstained=True)

    def compose(self, question: str, ranked: list[tuple[float, int, dict]],
                docs: list[Document], focus: str = "") -> Draft:
        """The answer from the ranked candidate sentences of docs, or an abstention."""
        if not ranked or max(s["score"] for _, _, s in ranked) < self.min_similarity or (
                ranked[0][0] < self.min_score) or (
                coverage(question, headed_text(docs[ranked[0][1] - 1])) < self.min_coverage):
            return Draft(text="", abstained=True)
        figure = unstated_figure(question, docs)
        if figure:  # says why: the user may have the figure wrong
            return Draft(text=f"I couldn't find that in the indexed articles: none of the reports "
                              f"closest to the question mentions \"{figure}\".", abstained=True)
        short = settle_short(question, choose_short_answer(question, ranked, docs, focus=focus),
                             ranked, docs)
        chosen = (quote_short(short, ranked) or with_companion(question, ranked)
                  or pick_sentences(ranked))
        quotes: dict[int, list[str]] = {}
        for n, sentence in chosen:
            if sentence["text"] not in quotes.setdefault(n, []):
                quotes[n].append(sentence["text"])
        if says_nothing_of_it(question, [said[0] for said in quotes.values()]):
            return Draft(text="", abstained=True)  # "what did X not do?" needs a source saying so
        if says_otherwise(question, [text for said in quotes.values() for text in said]):
            return Draft(text="", abstained=True)  # "what is so?" is not answered by "it is not"
        country = unnamed_country(question, same_articles(docs, quotes))
        if country:
            return Draft(text=f"I couldn't find that in the indexed articles: the reports closest "
                              f"to the question do not mention {country}.", abstained=True)
        if len(chosen) == 1:
            n, sentence = chosen[0]
            text = f"{shorten(sentence['text'])} [{n}]"
        else:
            text = " ".join(f"{sentence['text']} [{n}]" for n, sentence in chosen)
        return Draft(text=text, quotes=quotes, short_answer=short.text if short else None)


def same_articles(docs: list[Document], quotes: dict[int, list[str]]) -> list[Document]:
    """The retrieved chunks of the articles quoted (by doc number): what they say around it."""
    quoted = {docs[n - 1].metadata.get("article_id") for n in quotes}
    return [doc for doc in docs if doc.metadata.get("article_id") in quoted]


def settle_short(question: str, short: ShortAnswer | None, ranked: list[tuple[float, int, dict]],
                 docs: list[Document]) -> ShortAnswer | None:
    """The short answer to quote: the chosen one, unless its sentence (or headline) scores more
    than HOLDER_GAP below the best sentence and the two do not fit in one answer; then the best
    sentence's own, so the quote keeps the likelier sentence and still holds the short answer."""
    if short is None or short.sentence is ranked[0][2]:
        return short
    top, _, best = ranked[0]
    held = next((score for score, _, s in ranked if s is short.sentence), None)
    if (held is not None and top - held <= HOLDER_GAP) or fits_together(len(short.quote),
                                                                        len(best["text"])):
        return short
    return choose_short_answer(question, ranked[:1], docs, headlines=False)


def quote_short(short: ShortAnswer | None, ranked: list[tuple[float, int, dict]],
                ) -> list[tuple[int, dict]] | None:
    """The text holding the short answer, then the best sentence when that is another one.

    None when the short answer stands in the best sentence (the usual picks then apply).
    """
    if short is None or short.sentence is ranked[0][2]:
        return None
    holder = short.sentence or {"text": short.quote, "start": -1}
    _, n, best = ranked[0]
    return pair_up((short.n, holder), (n, best)) or [(short.n, holder)]


def with_companion(question: str, ranked: list[tuple[float, int, dict]],
                   ) -> list[tuple[int, dict]] | None:
    """The best sentence plus the one naming the most-reported answer, when they differ.

    A quiz-style question often echoes the sentence that reports the event ("the wildly popular
    show is green lit for a second season") while the name asked for stands in another sentence
    ("Squid Game is coming back"). Names or numbers of the asked-for kind are counted over the
    best-scored sentences (higher ranks count more); the best sentence holding the most-counted one
    joins the answer when the best sentence does not hold it.
    """
    cue = question_cue(question)
    if cue is None:
        return None
    terms = content_terms(question)
    counts: dict[str, float] = {}
    holder: dict[str, tuple[int, dict]] = {}
    for rank, (_, n, sentence) in enumerate(ranked[:COMPANION_POOL]):
        for match in answer_spans(sentence["text"], cue, terms):
            key = match.group().lower().strip(".,;:")
            counts[key] = counts.get(key, 0.0) + 1.0 / (1 + 0.2 * rank)
            holder.setdefault(key, (n, sentence))
    if not counts:
        return None
    _, n, anchor = ranked[0]
    m, other = holder[max(counts, key=counts.get)]
    return None if other is anchor else pair_up((n, anchor), (m, other))


def pick_sentences(ranked: list[tuple[float, int, dict]]) -> list[tuple[int, dict]]:
    """The best sentence, plus the runner-up when the scorer cannot tell them apart."""
    best_score, n, best = ranked[0]
    if len(ranked) > 1 and best_score - ranked[1][0] <= SECOND_MARGIN:
        pair = pair_up((n, best), (ranked[1][1], ranked[1][2]))
        if pair:
            return pair
    return [(n, best)]


def pair_up(first: tuple[int, dict], second: tuple[int, dict]) -> list[tuple[int, dict]] | None:
    """Two (doc number, sentence) picks as one answer, in article order when they share a chunk;
    None when together they would not fit the answer limit."""
    if not fits_together(len(first[1]["text"]), len(second[1]["text"])):
        return None
    pair = [first, second]
    if first[0] == second[0]:
        pair.sort(key=lambda row: row[1]["start"])
    return pair


def fits_together(first_chars: int, second_chars: int) -> bool:
    """Whether two sentences and their [n] markers fit in one answer."""
    return first_chars + second_chars + 10 <= MAX_ANSWER_CHARS


def shorten(text: str, limit: int = MAX_ANSWER_CHARS - 8) -> str:
    """Text cut at a word boundary to fit the answer limit (room left for the marker)."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"
