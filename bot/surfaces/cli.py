"""Command line: parse arguments, make one call per command, turn domain errors into messages."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from bot.errors import NewsbotError, UsageError
from bot.settings import Settings, load_settings

log = logging.getLogger("newsbot")
SAMPLE_QUESTION = "How many US troops are in Korea?"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `newsbot` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        settings = load_settings(home=args.home, llm=getattr(args, "llm", None))
        return args.run(args, settings)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # every error reaches the user as one line, never a traceback
        return report_error(exc, args.verbose)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per surface."""
    parser = argparse.ArgumentParser(prog="newsbot", description=(
        "Answers questions about news articles, with numbered citations. Offline by default."))
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)")
    parser.add_argument("--home", type=Path, help="index folder (default $NEWSBOT_HOME or ./.newsbot)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("index", help="add or update articles from files and folders")
    p.add_argument("paths", nargs="*", type=Path, default=[Path("seeds")],
                   help="files or folders (default: seeds/)")
    p.add_argument("--prune", action="store_true", help="remove articles whose source is gone")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", nargs="?", default="", help="the question, in quotes")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("-k", type=int, default=None, help="how many chunks to retrieve (default 5)")
    add_llm_option(p)
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("chat", help="interactive questions and follow-ups (reads stdin if piped)")
    p.add_argument("--index", dest="index_paths", type=Path, nargs="+", metavar="PATH",
                   help="index these files or folders first")
    p.add_argument("--ask", dest="first_question", metavar="QUESTION",
                   help="answer this question before reading input")
    add_llm_option(p)
    p.set_defaults(run=cmd_chat)

    p = sub.add_parser("eval", help="score answers on a question set (../shared/eval shape)")
    p.add_argument("--corpus", type=Path, required=True, help="articles JSONL")
    p.add_argument("--questions", type=Path, required=True, help="questions JSONL")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--baseline", action="store_true", help="also run the naive tutorial pipeline")
    p.add_argument("--out", type=Path, help="write per-question results (JSONL) here")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--holdout-gold", action="store_true",
                   help="ask each answerable question with the articles that report its answer "
                        "out of reach; abstaining is right (abstain_accuracy)")
    add_llm_option(p)
    p.set_defaults(run=cmd_eval)

    shared = Path("../shared/eval/realtimeqa")
    p = sub.add_parser("bench", help="speed figures against baselines measured in the same run")
    p.add_argument("--corpus", type=Path, default=shared / "articles.jsonl")
    p.add_argument("--questions", type=Path, default=shared / "questions-dev.jsonl")
    p.add_argument("--ingest-limit", type=int, default=100, metavar="N",
                   help="articles used for the ingest-throughput figure (default 100)")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(run=cmd_bench)

    p = sub.add_parser("status", help="what is indexed, and where")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_status)

    p = sub.add_parser("slack", help="answer in Slack (Socket Mode if SLACK_APP_TOKEN is set, "
                                     "else HTTP at /slack/events)")
    p.add_argument("--port", type=port_number, default=3000, help="HTTP port (default 3000)")
    p.add_argument("--host", default="0.0.0.0", help="HTTP address to bind (default 0.0.0.0)")
    add_llm_option(p)
    p.set_defaults(run=cmd_slack)
    return parser


def add_llm_option(parser: argparse.ArgumentParser) -> None:
    """--llm on a sub-command; main() passes it to the settings, over $NEWSBOT_LLM."""
    parser.add_argument("--llm", metavar="MODEL", help=(
        "who writes the answer: extractive (default, offline), smollm2 (bundled small model) or "
        "PROVIDER:MODEL, e.g. ollama:llama3.1, openai:gpt-4o-mini (default $NEWSBOT_LLM)"))


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot index [PATH ...] [--prune]"""
    from bot.factories import make_embedder, make_store
    from bot.surfaces.progress import console, index_with_progress

    report = index_with_progress(args.paths, make_store(settings), make_embedder(settings),
                                 prune=args.prune)
    console().print(summary_line(report, args.paths))
    for where, why in report.skipped:
        console().print(f"  skipped {where}: {why}", style="yellow", highlight=False)
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot ask "QUESTION" [--json] [-k N]"""
    from bot.answering.answer import validate_question

    question = validate_question(args.question)  # before any slow loading
    if args.k is not None:
        if not 1 <= args.k <= 50:
            raise UsageError("-k must be between 1 and 50")
        settings = settings.model_copy(update={"top_k": args.k})
    from bot.factories import build_answerer

    answer = build_answerer(settings).answer(question)
    if args.json:
        print(answer.model_dump_json())
    else:
        from bot.surfaces.progress import console
        from bot.surfaces.render import answer_text

        console().print(answer_text(answer))
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot chat [--index PATH ...] [--ask QUESTION]"""
    from bot.factories import build_answerer, make_embedder, make_store
    from bot.surfaces.progress import console
    from bot.surfaces.repl import ConsolePreview, Repl, stream_reader, terminal_reader

    store, embedder = make_store(settings), make_embedder(settings)
    if args.index_paths:
        from bot.surfaces.progress import index_with_progress

        report = index_with_progress(args.index_paths, store, embedder)
        console().print(summary_line(report, args.index_paths))
    answerer = build_answerer(settings, store=store, embedder=embedder)
    interactive = sys.stdin.isatty()
    read = terminal_reader(settings.home / "history") if interactive else stream_reader(sys.stdin)
    repl = Repl(answerer, read, console().print, echo=not interactive,
                preview=ConsolePreview(console()))
    if interactive:
        console().print("newsbot: ask about the indexed articles (:help for commands)", style="dim")
    if args.first_question:
        repl.ask(args.first_question)
    return repl.run()


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot eval --corpus F --questions F [--json] [--baseline] [--out DIR] [--limit N]"""
    from bot.measurement.eval_runner import evaluate, write_rows
    from bot.measurement.evaluation import ratios
    from bot.factories import build_answerer, make_embedder
    from bot.surfaces.progress import console, stage_progress
    from bot.surfaces.render import metrics_table

    embedder = make_embedder(settings)
    with stage_progress() as progress:
        result = evaluate(settings, args.corpus, args.questions, embedder=embedder,
                          answerer_factory=lambda store, retriever=None: build_answerer(
                              settings, store=store, embedder=embedder, retriever=retriever),
                          baseline=args.baseline, limit=args.limit, progress=progress,
                          holdout_gold=args.holdout_gold)
    if args.out:
        write_rows(args.out, "newsbot", result.rows)
        if result.baseline_rows:
            write_rows(args.out, "baseline", result.baseline_rows)
    if args.json:
        payload = dict(result.metrics)
        if result.baseline is not None:
            payload["baseline"] = result.baseline
        print(json.dumps(payload))
        return 0
    table = {"newsbot": result.metrics}
    if result.baseline is not None:
        table["baseline"] = result.baseline
        table["ratio"] = ratios(result.metrics, result.baseline)
    console().print(metrics_table(table))
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot bench [--corpus F] [--questions F] [--ingest-limit N] [--json]"""
    from bot.measurement.benchmark import run_bench
    from bot.factories import build_answerer, make_embedder
    from bot.surfaces.progress import console

    embedder = make_embedder(settings)
    figures = run_bench(settings, args.corpus, args.questions, embedder=embedder,
                        answerer_factory=lambda store: build_answerer(settings, store=store,
                                                                      embedder=embedder),
                        ingest_limit=args.ingest_limit,
                        report=lambda line: console().print(line, highlight=False))
    if args.json:
        print(json.dumps(figures))
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot status [--json]"""
    from bot.factories import make_store
    from bot.surfaces.status import index_status, status_text

    status = index_status(make_store(settings, must_exist=True))
    if args.json:
        print(json.dumps(status))
    else:
        from bot.surfaces.progress import console

        console().print(status_text(status), highlight=False)
    return 0


def cmd_slack(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot slack [--port N] [--host ADDR]"""
    from bot.settings import load_slack_settings
    from bot.surfaces.slack.app import serve

    return serve(settings, load_slack_settings(), host=args.host, port=args.port)


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return int(text)


def summary_line(report, paths: list[Path]) -> str:
    """One line that says what an ingest did."""
    where = ", ".join(str(p) for p in paths)
    return (f"Indexed {where}: {len(report.new)} new, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.pruned)} pruned, "
            f"{len(report.skipped)} skipped · {report.chunks_written} chunks written, "
            f"{report.chunks_total} in the index · {report.seconds:.1f} s")


def configure_logging(verbose: int) -> None:
    """Logging to stderr, once; quiet third-party chatter unless -vv."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        # slack_bolt logs request bodies (message text) at INFO: only -vv may show them
        for noisy in ("bm25s", "chromadb", "httpx", "sentence_transformers", "slack_bolt",
                      "slack_sdk", "transformers", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def report_error(exc: Exception, verbose: int) -> int:
    """Print one line for any error (a traceback only with -v) and return the exit code."""
    from index.articles import LoadError
    from index.ingest import IngestError
    from index.store import StoreError

    if verbose:
        log.exception("failed")
    if isinstance(exc, NewsbotError):
        print(f"newsbot: {exc}", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, (IngestError, StoreError, LoadError)):
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, IngestError) else 1
    first = (str(exc).splitlines() or [""])[0][:300]
    print(f"newsbot: unexpected error: {type(exc).__name__}: {first} (run with -v for details)",
          file=sys.stderr)
    return 1
