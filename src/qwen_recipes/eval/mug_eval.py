"""Scoring AliMeeting4MUG predictions the official way: merge windows per meeting, write the official
submission file, score it with the challenge's rules (``qwen_recipes.metrics.mug``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qwen_recipes.errors import DataError
from qwen_recipes.eval.mug_merge import merge
from qwen_recipes.metrics import mug
from qwen_recipes.tasks import Task

SHORT = {"mug_ts": "ts", "mug_es": "es", "mug_ttg": "ttg", "mug_kpe": "kpe", "mug_aid": "aid"}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise DataError("not found", path=path, hint="re-run scripts/preprocess.py: it writes meta and gold beside the data")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(task: Task, predictions: list[str], data_file: Path, out_dir: Path) -> tuple[dict[str, Any], Path]:
    """Official scores (x100, with "rank") plus merge counts; returns them and the submission file written."""
    split = data_file.stem
    metas = _jsonl(data_file.with_name(f"{split}.meta.jsonl"))
    if len(metas) != len(predictions):
        raise DataError(f"{len(predictions)} predictions but {len(metas)} records in {data_file}", path=data_file,
                        hint="were the predictions made on this split?")
    golds = {g["meeting_key"]: g for g in _jsonl(data_file.with_name(f"{split}.gold.jsonl"))}
    rows, counts = merge(task.name, task, predictions, metas, golds)
    short = SHORT[task.name]
    submission = mug.write_submission(short, rows, out_dir / f"{mug.TASK_ALIASES[short]}_{split}_submit.json")
    pred = {r["meeting_key"]: r for r in rows}
    n_sent = {k: g["n_sentences"] for k, g in golds.items()}
    if short == "ts":
        scores = mug.score_ts(golds, pred, n_sent, {k: g["paragraph_ends"] for k, g in golds.items()})
    elif short == "es":
        texts = {k: {int(i): t for i, t in g["sentences"].items()} for k, g in golds.items()}
        scores = mug.score_es(golds, pred, texts)
    elif short == "ttg":
        scores = mug.score_ttg(golds, pred)
    elif short == "kpe":
        scores = mug.score_kpe(golds, pred)
    else:
        scores = mug.score_aid(golds, pred, n_sent)
    return {"n": len(predictions), "meetings": len(golds), **scores, "merge": counts.as_dict()}, submission
