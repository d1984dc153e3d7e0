#!/usr/bin/env python
"""Score LLaMA-Factory predictions (generated_predictions.jsonl) the way the task's field does.

Examples:
  python scripts/evaluate.py chnsenticorp outputs/train/tiny_qlora_chnsenticorp/predict/chnsenticorp_test
  python scripts/evaluate.py psyqa outputs/train/tiny_qlora_psyqa/predict/psyqa_test

Label tasks: accuracy, macro P/R/F1, confusion matrix (PNG), invalid-output rate. Generation tasks: LLaMA-Factory's
own ROUGE/BLEU, Distinct-n, length ratio (and, for Emotion Summary, JSON validity and per-field ROUGE). Writes
metrics.json and report.md next to the predictions (or into --out-dir).
"""

from __future__ import annotations

from qwen_recipes.cli import console, outputs, parser, run
from qwen_recipes.eval.evaluate import evaluate
from qwen_recipes.tasks import all_tasks, get_task


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("task", choices=sorted(all_tasks()))
    ap.add_argument("predictions", help="predict output_dir, or the generated_predictions.jsonl file")
    ap.add_argument("--out-dir", help="where to write the report (default: beside the predictions)")
    ap.add_argument("--data", help="the Alpaca file that was predicted (e.g. data/chnsenticorp/test.json): checks that "
                                   "predictions and records line up before scoring (meeting tasks need it)")
    args = ap.parse_args()
    _, paths, line = evaluate(get_task(args.task), args.predictions, args.out_dir, args.data)
    console.print(line)
    outputs("outputs:", paths)
    return 0


if __name__ == "__main__":
    run(main)
