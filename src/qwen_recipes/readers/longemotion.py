"""LongEmotion "Emotion Summary" (ES) reader: JSONL, one counseling case per line.

Fields: ``id``, ``case_description`` and ``consultation_process`` (a list of strings in the current release,
a plain string in some versions: both accepted and joined by newlines), ``experience_and_reflection``, and
the five targets ``causes``, ``symptoms``, ``treatment_process``, ``characteristics_of_illness``,
``treatment_effect``. A line with a missing or empty field is rejected with its line number and field.
The set has only 150 items and no training split (see the task card).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from qwen_recipes.errors import DataError
from qwen_recipes.readers.common import FileRead, Rejected, find_split_files, id_problem, read_text, text_problem

SOURCE_FIELDS = ("case_description", "consultation_process", "experience_and_reflection")
TARGET_FIELDS = ("causes", "symptoms", "treatment_process", "characteristics_of_illness", "treatment_effect")


@dataclass
class Case:
    id: str
    case_description: str
    consultation_process: str
    experience_and_reflection: str
    targets: dict[str, str]
    path: str
    line: int

    @property
    def key(self) -> str:
        return self.id

    @property
    def text(self) -> str:
        return self.case_description

    label = None


def _as_text(value: object) -> str | None:
    """A list of paragraphs or one string -> one string; anything else -> None."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(v.strip() for v in value if v.strip())
    return None


def read_file(path: str | Path, encoding: str = "utf-8") -> FileRead:
    path = Path(path)
    text = read_text(path, encoding)
    out = FileRead(str(path), "longemotion:es-jsonl")
    for lineno, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as err:
            raise DataError(f"invalid JSON ({err.msg})", path=path, line=lineno) from None
        if not isinstance(item, dict):
            out.rejected.append(Rejected(str(path), lineno, "record is not a JSON object", None, raw))
            continue
        values: dict[str, str] = {}
        problem = None
        for name in ("id", *SOURCE_FIELDS, *TARGET_FIELDS):
            if name not in item:
                problem = ("missing", name)
                break
            if name == "id":
                if id_problem(item[name]):
                    problem = (id_problem(item[name]), name)
                    break
                value = str(item[name])
            else:
                value = _as_text(item[name])
                if value is None:
                    problem = ("expected a string or a list of strings", name)
                    break
                if text_problem(value):
                    problem = (text_problem(value), name)
                    break
            values[name] = value
        if problem:
            out.rejected.append(Rejected(str(path), lineno, problem[0], problem[1], str(item.get("id", ""))))
            continue
        out.records.append(Case(values["id"], values["case_description"], values["consultation_process"],
                                values["experience_and_reflection"], {k: values[k] for k in TARGET_FIELDS},
                                str(path), lineno))
    return out


def find_files(path: str | Path) -> dict[str, list[Path]]:
    """The set is one file with no split: the preprocessor makes a seeded hold-out or k-fold split."""
    return find_split_files(path, (".jsonl",), "pass Emotion_Summary.jsonl")
