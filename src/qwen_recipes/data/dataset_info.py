"""LLaMA-Factory's ``dataset_info.json``, generated from the task registry and never edited by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qwen_recipes.errors import DataError
from qwen_recipes.io import write_text
from qwen_recipes.tasks import Task, all_tasks

FILE_NAME = "dataset_info.json"


def build(tasks: list[Task] | None = None) -> dict[str, Any]:
    entries: dict[str, Any] = {}
    for task in tasks if tasks is not None else all_tasks().values():
        entries.update(task.dataset_info())
    return dict(sorted(entries.items()))


def render(entries: dict[str, Any]) -> str:
    """The exact text written to disk, so a test can compare the committed file with the generator."""
    return json.dumps(dict(sorted(entries.items())), ensure_ascii=False, indent=2) + "\n"


def merge(dataset_dir: str | Path, entries: dict[str, Any]) -> Path:
    """Add or replace ``entries`` in ``dataset_dir/dataset_info.json``, keeping the user's other datasets."""
    path = Path(dataset_dir) / FILE_NAME
    current: dict[str, Any] = {}
    if path.exists():
        try:
            current = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            line = getattr(err, "lineno", None)
            raise DataError(f"not valid JSON ({err})", path=path, line=line,
                            hint="fix it or delete it to regenerate") from None
        if not isinstance(current, dict):
            raise DataError("expected a JSON object of dataset entries", path=path)
    current.update(entries)
    return write_text(path, render(current))
