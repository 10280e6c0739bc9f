"""The measurement commands of the command line: `newsbot eval` and `newsbot bench`."""

from __future__ import annotations

import argparse
import json

from bot.errors import UsageError
from bot.settings import Settings


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """newsbot eval --corpus F --questions F [--json] [--baseline] [--out DIR] [--limit N]"""
    from bot.measurement.eval_runner import evaluate, write_rows
    from bot.measurement.evaluation import ratios
    from bot.factories import build_answerer, make_embedder
    from bot.surfaces.progress import console, stage_progress
    from bot.surfaces.render import metrics_table

    if args.out is not None:  # found out now, not after the whole run
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {args.out}: cannot make a folder there "
                             f"({exc.strerror or type(exc).__name__})") from exc
    if args.replies:
        from bot.measurement.reply_cache import use_reply_cache

        use_reply_cache(args.replies)
    embedder = make_embedder(settings)
    with stage_progress() as progress:
        result = evaluate(settings, args.corpus, args.questions, embedder=embedder,
                          answerer_factory=lambda store, retriever=None: build_answerer(
                              settings, store=store, embedder=embedder, retriever=retriever),
                          baseline=args.baseline, limit=args.limit, progress=progress,
                          holdout_gold=args.holdout_gold, today=args.today)
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
    from bot.surfaces.progress import console

    asks = args.scale or not (args.memory is not None or args.soak or args.live)
    needed = [("--corpus", args.corpus)] + ([("--questions", args.questions)] if asks else [])
    for flag, path in needed:
        if not path.is_file():  # the defaults lie in ../shared/eval, beside a checkout
            raise UsageError(f"no such {flag.removeprefix('--')} file: {path} (give {flag})")
    if args.scale or args.memory is not None or args.soak:
        from bot.measurement.bench_memory import bench_memory
        from bot.measurement.bench_scale import MODES, bench_scale
        from bot.measurement.bench_soak import bench_soak

        report = lambda line: console().print(line, highlight=False)  # noqa: E731
        modes = tuple(args.modes or MODES)
        if args.scale:
            figures = bench_scale(args.scale, args.corpus, args.questions, report=report,
                                  modes=modes)
        elif args.soak:
            figures = bench_soak(args.soak, args.corpus, report, modes=modes)
        else:
            figures = bench_memory(args.memory or [1000, 10000], args.corpus, report, modes=modes)
        if args.json:
            print(json.dumps(figures))
        return 0
    from bot.measurement.benchmark import run_bench
    from bot.factories import build_answerer, make_embedder

    embedder = make_embedder(settings)
    report = lambda line: console().print(line, highlight=False)  # noqa: E731
    if args.live:
        from bot.measurement.bench_live import run_live_bench

        figures = run_live_bench(args.corpus, embedder, report)
    else:
        figures = run_bench(settings, args.corpus, args.questions, embedder=embedder,
                            answerer_factory=lambda store: build_answerer(settings, store=store,
                                                                          embedder=embedder),
                            ingest_limit=args.ingest_limit, report=report)
    if args.json:
        print(json.dumps(figures))
    return 0
