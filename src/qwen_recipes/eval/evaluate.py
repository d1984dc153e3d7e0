"""Scoring a predictions file the way the task's field does, by the task's kind.

``label``: accuracy, macro P/R/F1, confusion matrix, invalid-output rate, a sample of errors. ``generation``:
LLaMA-Factory's own ROUGE/BLEU, Distinct-n, length ratio (and whatever else the task's scorer adds). ``meeting``:
windows merged per meeting, the official submission file and the challenge's scores (``mug_eval``). Each writes
metrics.json and report.md; ``evaluate`` returns the metrics, the files written and a one-line summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qwen_recipes.errors import DataError
from qwen_recipes.eval import predictions as P
from qwen_recipes.eval.report import write_classification_report, write_generation_report
from qwen_recipes.readers.common import preview
from qwen_recipes.tasks import Task

MAX_EXAMPLES = 10


def evaluate(task: Task, predictions: str | Path, out_dir: str | Path | None = None, data: str | Path | None = None,
             ) -> tuple[dict[str, Any], list[Path], str]:
    path = P.resolve(predictions)
    rows = P.read(path)
    if data:
        from qwen_recipes.eval.label_scoring import read_records

        P.check_against(rows, read_records(data), path, Path(data))
    if task.kind != "meeting":  # a meeting's references are window targets; its gold is read beside the data
        for r in rows:
            if task.parse(r.label) is None:
                raise DataError(f"reference {preview(r.label, 40)!r} is not a valid {task.name} answer (unlabeled split?)",
                                path=path, line=r.line, field="label")
    out = Path(out_dir) if out_dir else path.parent
    runner = {"label": _label, "generation": _generation, "meeting": _meeting}[task.kind]
    return runner(task, rows, path, out, data)


def _examples(rows: list[P.Prediction]) -> list[dict[str, Any]]:
    return [{"line": r.line, "reference": preview(r.label, 60), "predict": preview(r.predict, 60)} for r in rows[:MAX_EXAMPLES]]


def _note(task: Task) -> str:
    return (task.__doc__ or "").strip().split("\n")[0]


def _label(task: Task, rows: list[P.Prediction], path: Path, out: Path, _: Any) -> tuple[dict[str, Any], list[Path], str]:
    metrics = task.score([r.predict for r in rows], [r.label for r in rows])
    errors = []
    for r in rows:
        if task.parse(r.predict) != task.parse(r.label) and len(errors) < MAX_EXAMPLES:
            user = r.prompt.split(task.instruction, 1)[-1].split("<|im_end|>", 1)[0]
            errors.append({"line": r.line, "gold": r.label.strip(), "predict": preview(r.predict, 30),
                           "input": preview(user, 50)})
    paths = write_classification_report(out, title=f"{task.name}: evaluation", source=str(path), metrics=metrics,
                                        names=task.plot_names, errors=errors, references=list(task.published))
    line = (f"[bold]{task.name}[/] n={metrics['n']} accuracy {metrics['accuracy']:.2%} "
            f"macro-F1 {metrics['macro_f1']:.2%} invalid {metrics['invalid_rate']:.2%}")
    return metrics, list(paths.values()), line


def _generation(task: Task, rows: list[P.Prediction], path: Path, out: Path, _: Any,
                ) -> tuple[dict[str, Any], list[Path], str]:
    metrics = task.score([r.predict for r in rows], [r.label for r in rows])
    metrics.setdefault("n", len(rows))
    paths = write_generation_report(out, title=f"{task.name}: evaluation", source=str(path), metrics=metrics,
                                    examples=_examples(rows), note=_note(task))
    head = metrics.get("overall", metrics)
    line = (f"[bold]{task.name}[/] n={len(rows)} ROUGE-L {head['rouge-l']:.2f} BLEU-4 {head['bleu-4']:.2f}"
            + (f" JSON-valid {metrics['json_valid_rate']:.1%}" if "json_valid_rate" in metrics else ""))
    return metrics, list(paths.values()), line


def _meeting(task: Task, rows: list[P.Prediction], path: Path, out: Path, data: str | Path | None,
             ) -> tuple[dict[str, Any], list[Path], str]:
    from qwen_recipes.eval.mug_eval import evaluate as evaluate_meetings

    if not data:
        raise DataError("AliMeeting4MUG tasks are scored per meeting: pass --data data/<task>/<split>.json", path=path)
    metrics, submission = evaluate_meetings(task, [r.predict for r in rows], Path(data), out)
    paths = write_generation_report(out, title=f"{task.name}: official AliMeeting4MUG scores", source=str(path),
                                    metrics=metrics, examples=_examples(rows), note=_note(task))
    m = metrics["merge"]
    line = (f"[bold]{task.name}[/] {metrics['meetings']} meetings, rank {metrics['rank']:.2f}; unreadable answers "
            f"{m['unreadable']}, fallbacks {m['fallbacks']}, ids outside their window {m['outside_window']}")
    return metrics, [*paths.values(), submission], line
