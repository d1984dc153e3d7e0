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

from pathlib import Path

from qwen_recipes.cli import console, outputs, parser, run
from qwen_recipes.errors import DataError
from qwen_recipes.eval import predictions as P
from qwen_recipes.eval.report import write_classification_report, write_generation_report
from qwen_recipes.readers.common import preview
from qwen_recipes.tasks import all_tasks, get_task

MAX_ERRORS_SHOWN = 10


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("task", choices=sorted(all_tasks()))
    ap.add_argument("predictions", help="predict output_dir, or the generated_predictions.jsonl file")
    ap.add_argument("--out-dir", help="where to write the report (default: beside the predictions)")
    ap.add_argument("--data", help="the Alpaca file that was predicted (e.g. data/chnsenticorp/test.json): checks that "
                                   "predictions and records line up before scoring")
    args = ap.parse_args()

    task = get_task(args.task)
    path = P.resolve(args.predictions)
    rows = P.read(path)
    if args.data:
        from qwen_recipes.eval.label_scoring import read_records

        P.check_against(rows, read_records(args.data), path, Path(args.data))
    for r in rows:
        if task.parse(r.label) is None and not task.name.startswith("mug_"):
            raise DataError(f"reference {preview(r.label, 40)!r} is not a valid {task.name} answer (unlabeled split?)",
                            path=path, line=r.line, field="label")
    out_dir = Path(args.out_dir) if args.out_dir else path.parent
    if task.name.startswith("mug_"):
        return meeting(task, rows, path, out_dir, args.data)
    if not hasattr(task, "labels"):
        return generation(task, rows, path, out_dir)
    metrics = task.score([r.predict for r in rows], [r.label for r in rows])
    errors = []
    for r in rows:
        if task.parse(r.predict) != task.parse(r.label) and len(errors) < MAX_ERRORS_SHOWN:
            user = r.prompt.split(task.instruction, 1)[-1].split("<|im_end|>", 1)[0]
            errors.append({"line": r.line, "gold": r.label.strip(), "predict": preview(r.predict, 30),
                           "input": preview(user, 50)})
    paths = write_classification_report(
        out_dir, title=f"{task.name}: evaluation", source=str(path), metrics=metrics,
        names=getattr(task, "plot_names", {}), errors=errors, references=list(getattr(task, "published", ())),
    )
    console.print(
        f"[bold]{task.name}[/] n={metrics['n']} accuracy {metrics['accuracy']:.2%} "
        f"macro-F1 {metrics['macro_f1']:.2%} invalid {metrics['invalid_rate']:.2%}"
    )
    outputs("outputs:", paths.values())
    return 0


def meeting(task, rows: list[P.Prediction], path: Path, out_dir: Path, data: str | None) -> int:
    """AliMeeting4MUG: windows merged per meeting, the official submission file, the challenge's scores."""
    if not data:
        raise DataError("AliMeeting4MUG tasks are scored per meeting: pass --data data/<task>/<split>.json",
                        path=path)
    from qwen_recipes.eval.mug_eval import evaluate

    metrics, submission = evaluate(task, [r.predict for r in rows], Path(data), out_dir)
    examples = [{"line": r.line, "reference": preview(r.label, 60), "predict": preview(r.predict, 60)}
                for r in rows[:MAX_ERRORS_SHOWN]]
    paths = write_generation_report(out_dir, title=f"{task.name}: official AliMeeting4MUG scores", source=str(path),
                                    metrics=metrics, examples=examples, note=(task.__doc__ or "").strip().split("\n")[0])
    m = metrics["merge"]
    console.print(f"[bold]{task.name}[/] {metrics['meetings']} meetings, rank {metrics['rank']:.2f}; unreadable answers "
                  f"{m['unreadable']}, fallbacks {m['fallbacks']}, ids outside their window {m['outside_window']}")
    outputs("outputs:", [*paths.values(), submission])
    return 0


def generation(task, rows: list[P.Prediction], path: Path, out_dir: Path) -> int:
    metrics = task.score([r.predict for r in rows], [r.label for r in rows])
    metrics.setdefault("n", len(rows))
    examples = [{"line": r.line, "reference": preview(r.label, 60), "predict": preview(r.predict, 60)}
                for r in rows[:MAX_ERRORS_SHOWN]]
    paths = write_generation_report(out_dir, title=f"{task.name}: evaluation", source=str(path), metrics=metrics,
                                    examples=examples, note=(task.__doc__ or "").strip().split("\n")[0])
    headline = metrics.get("overall", metrics)
    console.print(f"[bold]{task.name}[/] n={len(rows)} ROUGE-L {headline['rouge-l']:.2f} BLEU-4 {headline['bleu-4']:.2f}"
                  + (f" JSON-valid {metrics['json_valid_rate']:.1%}" if "json_valid_rate" in metrics else ""))
    outputs("outputs:", paths.values())
    return 0


if __name__ == "__main__":
    run(main)
