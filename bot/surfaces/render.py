"""Answer -> text for people. Pure functions: no I/O, no state."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from bot.answering.answer import Answer, visible
from bot.answering.citations import Citation
from bot.answering.dates import filters_line


def answer_text(answer: Answer, *, quotes: bool = True) -> Text:
    """The short answer in bold, how fresh its source is, the quoted answer, then its sources:
    '[n] title · outlet · date', location, and the quote."""
    out = Text()
    if answer.short_answer and not answer.abstained:
        out.append(visible(answer.short_answer) + "\n", style="bold")
    freshness = freshness_text(answer)
    if freshness is not None:  # how fresh the source is (and the filters used), before the quote
        out.append_text(freshness)
        out.append("\n")
    if answer.abstained:
        out.append(visible(answer.answer), style="yellow")
    else:
        out.append(visible(answer.answer), style=None if answer.short_answer else "bold")
    for warning in answer.warnings:
        out.append(f"\n! {visible(warning)}", style="yellow")
    if answer.citations:
        out.append("\n\nSources", style="dim")
        for c in answer.citations:
            out.append("\n")
            out.append_text(citation_text(c, quote=quotes))
    return out


def preview_note(answer: Answer) -> Text:
    """What became of the streamed preview, said just before the final answer."""
    if answer.verified and answer.answered_by != "extractive":
        return Text("✓ checked against the sources:", style="green")
    return Text("✗ the model's answer was withdrawn: it did not pass the citation check. "
                "Shown instead:", style="yellow")


def citation_text(c: Citation, *, quote: bool = True, full: bool = False) -> Text:
    """One citation as a few plain lines."""
    out = Text()
    out.append(f"[{c.n}] ", style="cyan")
    out.append(visible(c.title), style="bold")
    out.append(visible(f" · {c.source or 'outlet unknown'} · {c.date}"), style="dim")
    out.append(visible(f"\n    {c.location}"), style="dim")
    if c.also:
        out.append(visible(f"\n    also: {', '.join(c.also)}"), style="dim")
    if full:
        out.append(f"\n    article id: {c.article_id}", style="dim")
    if quote:
        for said in c.quotes or [c.quote]:
            out.append(f"\n    “{visible(said)}”", style="italic")
    return out


def sources_text(answer: Answer | None) -> Text:
    """Every citation of an answer in full, for the REPL's :sources."""
    if answer is None or not answer.citations:
        return Text("No sources yet: the last answer cited nothing.", style="dim")
    out = Text()
    for i, c in enumerate(answer.citations):
        if i:
            out.append("\n")
        out.append_text(citation_text(c, quote=True, full=True))
    return out


def freshness_text(answer: Answer) -> Text | None:
    """The line above an answer: how fresh its first source is, and the filters it used."""
    parts = [answer.as_of] if answer.as_of and not answer.abstained else []
    if answer.earlier:
        parts.append("earlier reports: " + "; ".join(answer.earlier))
    if answer.filters:
        parts.append(filters_line(answer.filters))
    return Text(visible(" · ".join(parts)), style="dim") if parts else None


def metrics_table(columns: dict[str, dict]) -> Table:
    """Eval metrics: one row per metric, one column per pipeline (newsbot, baseline, ratio)."""
    from bot.measurement.evaluation import METRIC_KEYS

    table = Table(show_edge=False, pad_edge=False)
    table.add_column("metric")
    for name in columns:
        table.add_column(name, justify="right")
    for key in METRIC_KEYS:
        table.add_row(key, *(_cell(metrics.get(key)) for metrics in columns.values()))
    return table


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)
