#!/usr/bin/env python
"""Prediction speed: LLaMA-Factory do_predict vs scripts/predict.py before vs the engine, on one model.

Examples:
  python scripts/benchmark_predict.py benchmarks/h200_predict_qwen2.5-7b.yaml
  python scripts/benchmark_predict.py benchmarks/h200_predict_qwen2.5-1.5b.yaml
  python scripts/benchmark_predict.py benchmarks/cpu_tiny_predict_smoke.yaml      # the harness on CPU (numbers mean nothing)
  python scripts/benchmark_predict.py SUITE --stage do_predict --tasks psyqa    # one task, one half (time-limited machines)

For each task of the suite: the real records (../shared/real-data when present, else the project's samples)
preprocessed by the project, a random-weight model of the config's shape whose stop-token logit is calibrated per
task so that greedy answers end at the reference answers' lengths, then llamafactory-cli train <predict config>
(do_predict), model.generate in sorted batches (scripts/predict.py before the engine), and the engine (4-bit +
adapter, merged, under a memory cap). Writes results.json and results.md (examples/s, generated tokens/s, percent
of the decode ceiling, speed-up over do_predict, peak memory, output lengths, agreement between paths) into
outputs/bench/<suite> (or --out); copy them to benchmarks/results/ to record them.
"""

from __future__ import annotations

from pathlib import Path

from qwen_recipes.cli import console, outputs, parser, run


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("suite", help="a prediction suite, benchmarks/*predict*.yaml")
    ap.add_argument("--out", help="output folder (default: outputs/bench/<suite name>)")
    ap.add_argument("--stage", choices=("do_predict", "project"),
                    help="run one half: do_predict (data, model, calibration, LLaMA-Factory) or project (the "
                         "project's paths and the results), where one command's time is limited (default: both)")
    ap.add_argument("--tasks", help="comma-separated task names of the suite to run; the others' earlier state and "
                                    "rows in --out are kept (default: all)")
    args = ap.parse_args()

    from qwen_recipes.bench import predict_suite

    try:
        suite = predict_suite.load_suite(args.suite)
    except ValueError as err:
        console.print(f"[bold red]error:[/] {err}")
        return 2
    suite["label"] = Path(args.suite).stem
    out = Path(args.out or f"outputs/bench/{suite['label']}")
    console.print(f"[bold]prediction benchmark[/] {suite['label']}: {len(suite['tasks'])} tasks")
    stages = (args.stage,) if args.stage else predict_suite.STAGES
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None
    rows = predict_suite.run_suite(suite, out, log=console.print, stages=stages, tasks=tasks)
    if "project" not in stages:
        outputs("outputs (next: --stage project):", [out / "state.json", out / "runs"])
        return 0 if all("error" not in r for r in rows) else 1
    console.print((out / "results.md").read_text(encoding="utf-8"))
    outputs("outputs:", [out / "results.json", out / "results.md", out / "runs"])
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    run(main)
