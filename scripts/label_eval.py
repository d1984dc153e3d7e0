#!/usr/bin/env python
"""Evaluate a label task the way users of LLM classifiers ask for: probabilities, calibration, robustness,
and the zero-shot base model beside the fine-tuned adapter, on the same prompts.

Example:
  python scripts/label_eval.py configs/predict/tiny_qlora_chnsenticorp.yaml
  python scripts/label_eval.py configs/predict/qwen2.5-1.5b-instruct_qlora_chnsenticorp.yaml --batch-size 64

Reads model, adapter, quantization, template and data from the predict config. Writes metrics.json,
report.md, label_scores.jsonl, the robustness sets and PNGs (confusion matrix, reliability diagram,
robustness bars, training loss) into <train output_dir>/label_eval/<dataset>/ (or --out-dir).
"""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from qwen_recipes.cli import console, outputs, parser, run


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("predict_config", help="a configs/predict/*.yaml of a label task")
    ap.add_argument("--out-dir", help="report folder (default: <train output_dir>/label_eval/<dataset>)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--limit", type=int, help="score only the first N examples (a quick look)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the zero-shot base model")
    ap.add_argument("--no-robustness", action="store_true", help="skip the perturbed sets")
    ap.add_argument("--seed", type=int, default=0, help="seed of the perturbations (default: 0)")
    ap.add_argument("--truncate-to", type=int, default=32, help="characters kept by the truncation set (default: 32)")
    ap.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    args = ap.parse_args()

    from qwen_recipes.eval.label_eval import run as evaluate

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        def progress(total: int, description: str):
            task_id = bar.add_task(description, total=total)
            return lambda n: bar.advance(task_id, n)

        paths = evaluate(args.predict_config, args.out_dir, baseline=not args.no_baseline,
                         robustness=not args.no_robustness, batch_size=args.batch_size, limit=args.limit,
                         seed=args.seed, truncate_to=args.truncate_to, device=args.device, progress=progress,
                         log=console.print)
    import json

    metrics = json.loads(paths["metrics"].read_text(encoding="utf-8"))
    for model, m in metrics["clean"].items():
        auc = "n/a" if m["roc_auc"] is None else f"{m['roc_auc']:.3f}"
        console.print(f"  {model}: accuracy {m['accuracy']:.2%}, macro-F1 {m['macro_f1']:.2%}, AUC {auc}, "
                      f"ECE {m['ece']:.3f}, invalid {m['invalid_output_rate']:.1%}, {m['examples_per_second']:.1f} ex/s")
    outputs("outputs:", [paths["report"], paths["metrics"], paths["scores"]])
    return 0


if __name__ == "__main__":
    run(main)
