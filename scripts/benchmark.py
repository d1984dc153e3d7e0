#!/usr/bin/env python
"""Training speed and memory of train configs, side by side: tokens/s, MFU and peak GPU memory.

Give a suite (benchmarks/*.yaml: runs of configs x profiles x overrides) or train configs with --profile.
Each run trains a random-weight model of the config's real architecture (built offline, cached under
outputs/bench/models) on synthetic data of controlled length, for --warmup + --steps optimizer steps through
LLaMA-Factory's run_exp, in a fresh process (torchrun for `nproc` > 1). Reported figures are steady state
(warm-up excluded), tokens counted from the data (padding excluded). On CPU with the tiny model it is a smoke
run; the numbers mean something only on a GPU.

Examples:
  python scripts/benchmark.py benchmarks/h100_qwen2.5-7b_qlora.yaml
  python scripts/benchmark.py configs/train/qwen2.5-1.5b-instruct_qlora_psyqa.yaml --profile 24gb 80gb
  python scripts/benchmark.py benchmarks/h100_qwen2.5-1.5b_qlora.yaml --only 80gb --merge   (re-measure one row)
"""

from __future__ import annotations

from pathlib import Path

from qwen_recipes.cli import console, outputs, parser, run


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("inputs", nargs="+", help="a suite .yaml under benchmarks/, or train configs under configs/train/")
    ap.add_argument("--profile", nargs="+", default=None, help="with train configs: profiles to compare ('none' = as is)")
    ap.add_argument("--steps", type=int, default=None, help="measured optimizer steps (default: suite's, else 6)")
    ap.add_argument("--warmup", type=int, default=None, help="steps left out of the figures (default: suite's, else 2)")
    ap.add_argument("--only", nargs="+", default=None, help="run only these run names of the suite")
    ap.add_argument("--out", default=None, help="output folder (default: outputs/bench/<suite or 'adhoc'>)")
    ap.add_argument("--merge", action="store_true",
                    help="keep the rows of an earlier results.json in --out that this call does not rerun")
    args = ap.parse_args()

    from qwen_recipes.bench import suite as bench

    try:  # the suite and every config in it are checked before any model is built
        if len(args.inputs) == 1 and bench.is_suite(args.inputs[0]):
            spec, label = bench.load_suite(args.inputs[0]), Path(args.inputs[0]).stem
        else:
            for path in args.inputs:
                if not Path(path).exists():
                    raise FileNotFoundError(f"{path}: no such train config")
            profiles = [None if p == "none" else p for p in (args.profile or ["none"])]
            spec, label = bench.suite_from_configs(args.inputs, profiles), "adhoc"
    except ValueError as err:
        console.print(f"[bold red]error:[/] {err}")
        return 2
    out = Path(args.out or f"outputs/bench/{label}")
    steps = args.steps or int(spec.get("steps", 6))
    warmup = args.warmup if args.warmup is not None else int(spec.get("warmup", 2))
    console.print(f"[bold]benchmark[/] {label}: {len(spec['runs'])} runs, {warmup} warm-up + {steps} measured steps each")
    results = bench.run_suite(spec, out, steps=steps, warmup=warmup, only=args.only, log=console.print,
                              merge=args.merge)
    console.print((out / "results.md").read_text(encoding="utf-8"))
    outputs("outputs:", [out / "results.json", out / "results.md", *(out / r["name"] / "train.log" for r in results)])
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    run(main)
