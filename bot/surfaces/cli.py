"""Command line: parse arguments, make one call per command, turn domain errors into messages."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from bot.errors import UsageError
from bot.settings import Settings, load_settings
from bot.measurement.commands import cmd_bench, cmd_eval
from bot.surfaces.arguments import (OneLineParser, iso_day, port_number, positive,
                                  source_argument)
from bot.surfaces.plain import say, tolerate_bad_bytes
from bot.surfaces.reporting import configure_logging, report_error

log = logging.getLogger("newsbot")
SAMPLE_QUESTION = "How many US troops are in Korea?"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `newsbot` command; returns the exit code."""
    tolerate_bad_bytes()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or one line from OneLineParser.error (2)
        return exc.code if isinstance(exc.code, int) else 2
    configure_logging(args.verbose)
    settings = None
    try:
        settings = load_settings(home=args.home, llm=getattr(args, "llm", None))
        from index import entities
        from index.heap import limit_arenas

        limit_arenas(settings.malloc_arenas)  # before Chroma, tantivy or torch start threads
        entities.switch(settings.entities)
        return args.run(args, settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `newsbot ask ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 141
    except Exception as exc:  # every error reaches the user as one line, never a traceback
        return report_error(exc, args.verbose, settings.home if settings else None)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per surface."""
    parser = OneLineParser(prog="newsbot", description=(
        "Answers questions about news articles, with numbered citations. Offline by default."))
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)")
    parser.add_argument("--home", type=Path, help="index folder (default $NEWSBOT_HOME or ./.newsbot)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("index", help="add or update articles from files, folders and URLs")
    p.add_argument("paths", nargs="*", type=source_argument, default=["seeds"], help=(
        "files or folders, or http(s) URLs of articles, RSS/Atom feeds or sitemaps "
        "(default: seeds/)"))
    p.add_argument("--prune", action="store_true", help="remove articles whose source is gone")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", nargs="?", default="", help="the question, in quotes")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("-k", type=int, default=None, help="how many chunks to retrieve (default 5)")
    p.add_argument("--since", metavar="DATE", help="only articles dated DATE (YYYY-MM-DD) or later")
    p.add_argument("--until", metavar="DATE", help="only articles dated DATE (YYYY-MM-DD) or earlier")
    p.add_argument("--source", metavar="NAME", help="only outlets whose name contains NAME")
    add_llm_option(p)
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("chat", help="interactive questions and follow-ups (reads stdin if piped)")
    p.add_argument("--index", dest="index_paths", type=source_argument, nargs="+",
                   metavar="PATH", help="index these files, folders or URLs first")
    p.add_argument("--ask", dest="first_question", metavar="QUESTION",
                   help="answer this question before reading input")
    p.add_argument("--watch", action="store_true",
                   help="also poll the sources (newsbot sources) and index what is new, in this "
                        "process: how an embedded index stays fresh while it serves")
    add_llm_option(p)
    p.set_defaults(run=cmd_chat)

    p = sub.add_parser("eval", help="score answers on a question set (../shared/eval shape)")
    p.add_argument("--corpus", type=Path, required=True, help="articles JSONL")
    p.add_argument("--questions", type=Path, required=True, help="questions JSONL")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--baseline", action="store_true", help="also run the naive tutorial pipeline")
    p.add_argument("--out", type=Path, help="write per-question results (JSONL) here")
    p.add_argument("--limit", type=positive, help="only the first N questions")
    p.add_argument("--holdout-gold", action="store_true",
                   help="ask each answerable question with the articles that report its answer "
                        "out of reach; abstaining is right (abstain_accuracy)")
    p.add_argument("--replies", type=Path, metavar="FILE",
                   help="with --llm: keep the model's replies in this SQLite file and reuse them "
                        "when the same prompt comes again (re-check answers without the model)")
    p.add_argument("--today", type=iso_day, metavar="YYYY-MM-DD",
                   help="the day a question without its own date is asked (default: today); "
                        "keeps the prompt, and so --replies, the same on another day")
    add_llm_option(p)
    p.set_defaults(run=cmd_eval)

    shared = Path("../shared/eval/realtimeqa")
    p = sub.add_parser("bench", help="speed figures against baselines measured in the same run")
    p.add_argument("--corpus", type=Path, default=shared / "articles.jsonl")
    p.add_argument("--questions", type=Path, default=shared / "questions-dev.jsonl")
    p.add_argument("--ingest-limit", type=positive, default=100, metavar="N",
                   help="articles used for the ingest-throughput figure (default 100)")
    p.add_argument("--scale", type=positive, nargs="+", metavar="N",
                   help="instead: synthetic indexes of N chunks, embedded and on a chroma run "
                        "server (start-up, RSS, warm latency, freshness)")
    p.add_argument("--mode", choices=["embedded", "server"], action="append", dest="modes",
                   help="with --scale, --memory or --soak: only this mode (repeatable; default "
                        "both)")
    p.add_argument("--memory", type=positive, nargs="*", metavar="N", help=(
        "instead: peak RSS of `newsbot index` over N synthetic articles (default 1000 10000), "
        "embedded and on a chroma run server"))
    p.add_argument("--soak", type=float, metavar="SECONDS", help=(
        "instead: RSS of a `newsbot watch` child polling a local site whose feeds change all "
        "the time, for SECONDS in each mode (embedded, chroma run server)"))
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.add_argument("--live", action="store_true", help="only the live-news figures (feeds, "
                   "extraction, stories)")
    p.set_defaults(run=cmd_bench)

    p = sub.add_parser("status", help="what is indexed, and where")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_status)

    p = sub.add_parser("watch", help="poll the sources (newsbot sources) and index what is new")
    p.add_argument("-v", dest="each", action="store_true", help="a line per source and cycle")
    p.add_argument("--once", action="store_true", help="one cycle over every due source, then exit")
    p.set_defaults(run=cmd_watch)

    p = sub.add_parser("sources", help="the feeds, sitemaps and pages `newsbot watch` polls")
    p.add_argument("action", choices=["add", "remove", "list"])
    p.add_argument("url", nargs="?", help="http(s) URL of a feed, sitemap or page")
    p.add_argument("--every", metavar="INTERVAL", help="poll this source every 30s, 10m, 2h ...")
    p.set_defaults(run=cmd_sources)

    p = sub.add_parser("slack", help="answer in Slack (Socket Mode if SLACK_APP_TOKEN is set, "
                                     "else HTTP at /slack/events)")
    p.add_argument("--port", type=port_number, default=3000, help="HTTP port (default 3000)")
    p.add_argument("--host", default="0.0.0.0", help="HTTP address to bind (default 0.0.0.0)")
    p.add_argument("--watch", action="store_true",
                   help="also poll the sources (newsbot sources) and index what is new, in this "
                        "process: how an embedded index stays fresh while it serves")
    add_llm_option(p)
    p.set_defaults(run=cmd_slack)
    return parser


def add_llm_option(parser: argparse.ArgumentParser) -> None:
    """--llm on a sub-command; main() passes it to the settings, over $NEWSBOT_LLM."""
    parser.add_argument("--llm", metavar="MODEL", help=(
        "who writes the answer: extractive (default, offline), smollm2 (bundled small model) or "
        "PROVIDER:MODEL, e.g. ollama:llama3.1, openai:gpt-4o-mini (default $NEWSBOT_LLM)"))


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot index [PATH|URL ...] [--prune]"""
    from bot.factories import make_embedder, make_store

    return index_sources(args.paths, settings, make_store(settings), make_embedder(settings),
                         prune=args.prune)


def index_sources(sources: list[str], settings: Settings, store, embedder, *,
                  prune: bool = False) -> int:
    """Index files, folders and page/feed URLs (`index`, `chat --index`), say what was done,
    and bring the keyword index up to date; the exit code (1 when every URL failed)."""
    from bot.factories import make_keyword_index
    from bot.surfaces.progress import console, index_with_progress
    from bot.surfaces.watching import index_urls
    from index.stories import open_stories
    from index.web import is_url

    urls = [p for p in sources if is_url(p)]
    paths = [Path(p) for p in sources if not is_url(p)]
    if prune and urls:  # said, not silently ignored
        say("--prune applies to files and folders: articles read from the web are kept",
            "yellow")
    if urls:
        read = index_urls(urls, settings, store, embedder, console().print)
        failed = [r for r in read if r.error]
        if not paths:
            make_keyword_index(settings, store).catch_up(store)
            return 1 if len(failed) == len(urls) else 0
    report = index_with_progress(paths, store, embedder, prune=prune,
                                 limits=settings.load_limits(), stories=open_stories(settings.home))
    say_report(report, paths)
    make_keyword_index(settings, store).catch_up(store)  # so the next bot starts with it current
    return 0


def say_report(report, paths: list[Path]) -> None:
    """The summary line, then one line per skipped file or record and per warning."""
    say(summary_line(report, paths))
    for where, why in report.skipped:
        say(f"skipped {where}: {why}", "yellow", indent="  ")
    for where, why in report.warnings:
        say(f"warning {where}: {why}", "dim", indent="  ")


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot ask "QUESTION" [--json] [-k N]"""
    from bot.answering.answer import validate_question

    question = validate_question(args.question)  # before any slow loading
    filters = ask_filters(args)
    if args.k is not None:
        if not 1 <= args.k <= 50:
            raise UsageError("-k must be between 1 and 50")
        settings = settings.model_copy(update={"top_k": args.k})
    from bot.factories import build_answerer

    answer = build_answerer(settings).answer(question, **filters.as_kwargs())
    if args.json:
        print(answer.model_dump_json())
    else:
        from bot.surfaces.progress import console
        from bot.surfaces.render import answer_text

        console().print(answer_text(answer))
    return 0


def ask_filters(args: argparse.Namespace):
    """`ask --since/--until/--source` as Filters; a bad date is a UsageError."""
    from bot.answering.dates import Filters, parse_date

    filters = Filters(since=parse_date(args.since, "--since") if args.since else None,
                      until=parse_date(args.until, "--until") if args.until else None,
                      source=args.source or None)
    if filters.problem():
        raise UsageError(f"--since {filters.since} is after --until {filters.until}: "
                         "no report can match")
    return filters


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot chat [--index PATH ...] [--ask QUESTION] [--watch]"""
    from bot.factories import build_answerer, make_embedder, make_store
    from bot.surfaces.progress import console
    from bot.surfaces.repl import ConsolePreview, Repl, stream_reader, terminal_reader

    store, embedder = make_store(settings), make_embedder(settings)
    if args.index_paths:  # before the first question
        index_sources(args.index_paths, settings, store, embedder)
    answerer = build_answerer(settings, store=store, embedder=embedder, follow=True)
    if args.watch:
        from bot.surfaces.watching import watch_in_background

        watch_in_background(settings, store, embedder,
                            lambda line: console().print(line, style="dim", highlight=False,
                                                         markup=False))
    interactive = sys.stdin.isatty()
    read = terminal_reader(settings.home / "history") if interactive else stream_reader(sys.stdin)
    repl = Repl(answerer, read, console().print, echo=not interactive,  # no preview on a pipe:
                preview=ConsolePreview(console()) if console().is_terminal else None)  # kept text
    if interactive:
        console().print("newsbot: ask about the indexed articles (:help for commands)", style="dim")
    if args.first_question:
        repl.ask(args.first_question)
    return repl.run()


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot status [--json]"""
    from bot.factories import make_keyword_index, make_store
    from bot.surfaces.status import index_status, status_text
    from bot.surfaces.watching import sources_status, sources_text

    store = make_store(settings, must_exist=True)
    status = index_status(store, make_keyword_index(settings, store))
    status["sources"] = sources_status(settings)
    if args.json:
        print(json.dumps(status))
    else:
        from bot.surfaces.progress import console

        text = status_text(status) + ("\n" + sources_text(status["sources"])
                                      if status["sources"] else "")
        console().print(text, highlight=False, markup=False)
    return 0


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot watch [-v] [--once]"""
    from bot.factories import make_embedder, make_store
    from bot.surfaces.progress import console
    from bot.surfaces.watching import watch

    return watch(settings, make_store(settings), make_embedder(settings),
                 lambda line: console().print(line, highlight=False),
                 verbose=bool(args.each or args.verbose), once=args.once)


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot sources add URL [--every 15m] | remove URL | list"""
    from bot.surfaces.watching import change_sources

    return change_sources(settings, args.action, args.url, args.every, print)


def cmd_slack(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot slack [--port N] [--host ADDR]"""
    from bot.settings import load_slack_settings
    from bot.surfaces.slack.app import serve

    return serve(settings, load_slack_settings(), host=args.host, port=args.port,
                 watch=args.watch)


def summary_line(report, paths: list[Path]) -> str:
    """One line that says what an ingest did."""
    where = ", ".join(str(p) for p in paths)
    return (f"Indexed {where}: {len(report.new)} new, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.pruned)} pruned, "
            f"{len(report.skipped)} skipped, {len(report.warnings)} warnings · "
            f"{report.chunks_written} chunks written, "
            f"{report.chunks_total} in the index · {report.seconds:.1f} s")
