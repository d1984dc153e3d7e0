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


def existing(dataset_dir: str | Path) -> dict[str, Any]:
    """The entries of ``dataset_dir/dataset_info.json`` ({} when there is none). Anything else there (a folder, text
    that is not JSON, JSON that is not an object) is a DataError: preprocessing checks this before any work."""
    path = Path(dataset_dir) / FILE_NAME
    if not path.exists() and not path.is_symlink():
        return {}
    if path.is_dir():
        raise DataError("is a folder, not a file", path=path, hint="move it away to have it generated")
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        line = getattr(err, "lineno", None)
        raise DataError(f"not valid JSON ({err})", path=path, line=line, hint="fix it or delete it to regenerate") from None
    except OSError as err:
        raise DataError(f"cannot be read ({err.strerror})", path=path) from None
    if not isinstance(current, dict):
        raise DataError("expected a JSON object of dataset entries", path=path)
    return current


def merge(dataset_dir: str | Path, entries: dict[str, Any]) -> Path:
    """Add or replace ``entries`` in ``dataset_dir/dataset_info.json``, keeping the user's other datasets."""
    current = existing(dataset_dir)
    current.update(entries)
    return write_text(Path(dataset_dir) / FILE_NAME, render(current))


def entry(dataset_dir: str | Path, name: str, field: str = "eval_dataset") -> tuple[Path, dict[str, Any]]:
    """The data file of dataset ``name`` (``file_name`` relative to ``dataset_dir``, as LLaMA-Factory resolves it)
    and its entry. Only what the preprocessors write is accepted: a local Alpaca .json / .jsonl file."""
    dataset_dir = Path(dataset_dir)
    info_path = dataset_dir / FILE_NAME
    if not info_path.exists():
        raise DataError("not found", path=info_path, hint="run scripts/preprocess.py, or fix dataset_dir in the config")
    info = existing(dataset_dir)
    if name not in info:
        raise DataError(f"no dataset {name!r} (known: {', '.join(sorted(info)) or 'none'})", path=info_path, field=field)
    found = info[name]
    if not isinstance(found, dict) or not found.get("file_name"):
        raise DataError(f"entry {name!r} has no file_name (only local files are supported)", path=info_path,
                        field=f"{name}.file_name")
    if found.get("formatting", "alpaca") != "alpaca" or found.get("ranking"):
        raise DataError(f"entry {name!r}: only Alpaca-format SFT data is supported", path=info_path,
                        field=f"{name}.formatting")
    if found.get("num_samples") is not None:
        raise DataError(f"entry {name!r}: num_samples draws a random sample; use max_samples in the config instead",
                        path=info_path, field=f"{name}.num_samples")
    data_path = dataset_dir / found["file_name"]
    if data_path.is_dir() or (data_path.exists() and data_path.suffix not in (".json", ".jsonl")):
        raise DataError(f"data file of dataset {name!r} must be one .json or .jsonl file", path=data_path)
    if not data_path.is_file():
        raise DataError(f"data file of dataset {name!r} not found", path=data_path,
                        hint=f"{info_path} names it; run scripts/preprocess.py first")
    return data_path, found
