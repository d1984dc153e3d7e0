"""Scoring AliMeeting4MUG predictions the official way, and the reference rows to read the scores against.

``evaluate``: the task merges its window answers per meeting (``MeetingTask.merge``), the official submission
file is written, and the task scores it with the challenge's rules. ``baselines``: each meeting task's perfect
row (from the gold) and trivial row, scored the same way, so a model's score has a floor and a ceiling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qwen_recipes.errors import DataError
from qwen_recipes.io import markdown_table, read_jsonl
from qwen_recipes.metrics import mug
from qwen_recipes.tasks import all_tasks
from qwen_recipes.tasks.mug.base import MeetingTask

HINT = "re-run scripts/preprocess.py: it writes meta and gold beside the data"


def meeting_tasks() -> list[MeetingTask]:
    return [t for t in all_tasks().values() if isinstance(t, MeetingTask)]


def read_golds(path: Path) -> dict[str, dict[str, Any]]:
    return {g["meeting_key"]: g for g in read_jsonl(path, hint=HINT)}


def evaluate(task: MeetingTask, predictions: list[str], data_file: Path, out_dir: Path) -> tuple[dict[str, Any], Path]:
    """Official scores (x100, with "rank") plus merge counts; returns them and the submission file written."""
    split = data_file.stem
    metas = read_jsonl(data_file.with_name(f"{split}.meta.jsonl"), hint=HINT)
    if len(metas) != len(predictions):
        raise DataError(f"{len(predictions)} predictions but {len(metas)} records in {data_file}", path=data_file,
                        hint="were the predictions made on this split?")
    golds = read_golds(data_file.with_name(f"{split}.gold.jsonl"))
    metrics, rows = task.merge_and_score(predictions, metas, golds)
    name = f"{mug.TASK_ALIASES[task.short]}_{split}_submit.json"
    return metrics, mug.write_submission(task.short, rows, out_dir / name)


def baselines(data_dir: Path, split: str, log=print) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Perfect and trivial rows of every meeting task on ``<data_dir>/<task>/<split>.gold.jsonl``: the scores per
    task and a markdown table."""
    results: dict[str, dict[str, Any]] = {}
    table: list[list[Any]] = []
    for task in meeting_tasks():
        path = data_dir / task.name / f"{split}.gold.jsonl"
        if not path.exists():
            raise DataError("not found", path=path, hint=f"run scripts/preprocess.py {task.name} first")
        golds = read_golds(path)
        for label, make in (("perfect", task.perfect), ("trivial", task.trivial)):
            scores = task.score_meetings(golds, {g["meeting_key"]: make(g) for g in golds.values()})
            results.setdefault(task.name, {})[label] = scores
            head = ", ".join(f"{k} {scores[k]:.2f}" for k in task.headline if k in scores)
            table.append([task.name, label, f"{scores['rank']:.2f}", head])
            log(f"  {task.name:8} {label:8} rank {scores['rank']:6.2f}  {head}")
    return results, markdown_table(["task", "submission", "rank", "headline"], table)
