"""Reading LLaMA-Factory's ``generated_predictions.jsonl`` ({prompt, predict, label} per line)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qwen_recipes.errors import DataError
from qwen_recipes.readers.common import read_text

FILE_NAME = "generated_predictions.jsonl"


@dataclass
class Prediction:
    line: int
    prompt: str
    predict: str
    label: str


def resolve(path: str | Path) -> Path:
    """Accept the predict output_dir or the file itself."""
    path = Path(path)
    if path.is_dir():
        path = path / FILE_NAME
    if not path.exists():
        raise DataError("predictions not found", path=path,
                        hint="run llamafactory-cli train <predict config> first")
    return path


def read(path: str | Path) -> list[Prediction]:
    path = resolve(path)
    text = read_text(path)
    rows: list[Prediction] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last record
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            raise DataError("empty line", path=path, line=lineno)
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as err:
            raise DataError(f"invalid JSON ({err.msg})", path=path, line=lineno) from None
        if not isinstance(obj, dict):
            raise DataError("expected a JSON object", path=path, line=lineno)
        for key in ("predict", "label"):
            if key not in obj:
                raise DataError("missing", path=path, line=lineno, field=key)
            if not isinstance(obj[key], str):
                raise DataError(f"expected a string, got {type(obj[key]).__name__}", path=path, line=lineno, field=key)
        rows.append(Prediction(lineno, str(obj.get("prompt", "")), obj["predict"], obj["label"]))
    if not rows:
        raise DataError("no predictions in file", path=path)
    return rows


def check_against(rows: list[Prediction], records: list[dict[str, str]], pred_path: Path, data_path: Path) -> None:
    """Predictions must line up with the data they claim to answer: same count, same gold output on each line.
    A mismatch (the wrong split, a truncated run) would otherwise score silently against the wrong labels."""
    if len(rows) != len(records):
        raise DataError(f"{len(rows)} predictions but {len(records)} records in {data_path}", path=pred_path,
                        hint="was the predict run interrupted, or run on another split?")
    for row, rec in zip(rows, records, strict=True):
        if row.label.strip() != rec["output"].strip():
            raise DataError(f"label {row.label.strip()!r} but {data_path} record {row.line} has output "
                            f"{rec['output']!r}", path=pred_path, line=row.line, field="label")


@dataclass
class Comparison:
    """How two generated_predictions.jsonl files agree, line by line."""

    n_a: int
    n_b: int
    same_predict: int
    same_prompt: int
    same_label: int
    first_difference: int | None  # 0-based line index of the first row whose prompt, predict or label differ

    @property
    def identical(self) -> bool:
        return self.n_a == self.n_b and self.first_difference is None


def compare(a: str | Path, b: str | Path) -> tuple[Comparison, list[Any], list[Any]]:
    """Compare two prediction files (each a file or the folder holding it); also returns both rows for display."""
    rows_a, rows_b = read(a), read(b)
    pairs = list(zip(rows_a, rows_b, strict=False))
    first = next((i for i, (x, y) in enumerate(pairs) if (x.prompt, x.predict, x.label) != (y.prompt, y.predict, y.label)),
                 None)
    if first is None and len(rows_a) != len(rows_b):
        first = len(pairs)
    result = Comparison(len(rows_a), len(rows_b), sum(x.predict == y.predict for x, y in pairs),
                        sum(x.prompt == y.prompt for x, y in pairs), sum(x.label == y.label for x, y in pairs), first)
    return result, rows_a, rows_b
