#!/usr/bin/env python
"""Compare two generated_predictions.jsonl files line by line (e.g. scripts/predict.py's against LLaMA-Factory's).

Examples:
  python scripts/compare_predictions.py outputs/train/tiny_qlora_psyqa/predict/psyqa_test/batched \\
      outputs/train/tiny_qlora_psyqa/predict/psyqa_test

Each argument is a generated_predictions.jsonl or the folder holding it. Prints how many rows have identical
predict, prompt and label strings and shows the first row that differs. Exit status 0 when the files are
identical, 1 when they differ, 2 when a file is missing or malformed.
"""

from __future__ import annotations

from qwen_recipes.cli import console, parser, run

SHOWN = 400  # characters of each differing string shown


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN] + f"... ({len(text)} characters)"


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("ours", help="first predictions file or folder (e.g. scripts/predict.py's)")
    ap.add_argument("theirs", help="second predictions file or folder (e.g. llamafactory-cli's do_predict)")
    args = ap.parse_args()

    from qwen_recipes.eval.predictions import compare

    result, ours, theirs = compare(args.ours, args.theirs)
    n = min(result.n_a, result.n_b)
    console.print(f"rows: {result.n_a} vs {result.n_b}")
    console.print(f"identical predict: {result.same_predict}/{n}")
    console.print(f"identical prompt:  {result.same_prompt}/{n}")
    console.print(f"identical label:   {result.same_label}/{n}")
    if result.identical:
        console.print("[bold green]identical[/]")
        return 0
    i = result.first_difference
    console.print(f"[bold red]first difference: line {i + 1}[/]")
    a = ours[i] if i < len(ours) else None
    b = theirs[i] if i < len(theirs) else None
    for key in ("prompt", "predict", "label"):
        va, vb = (getattr(a, key) if a else "<no row>"), (getattr(b, key) if b else "<no row>")
        if va != vb:
            console.print(f"  {key} (ours):   {_clip(va)!r}", markup=False)
            console.print(f"  {key} (theirs): {_clip(vb)!r}", markup=False)
    return 1


if __name__ == "__main__":
    run(main)
