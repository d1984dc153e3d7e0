"""AliMeeting4MUG submission files: JSON Lines, one object per meeting with only the official fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from qwen_recipes.errors import DataError
from qwen_recipes.io import atomic_open
from qwen_recipes.metrics.mug.text import rouge_text, text_for_rouge

TASKS = (
    "topic_segmentation",
    "extractive_summarization",
    "topic_title_generation",
    "keyphrase_extraction",
    "action_item_detection",
)
TASK_ALIASES = {
    "ts": "topic_segmentation",
    "es": "extractive_summarization",
    "ttg": "topic_title_generation",
    "kpe": "keyphrase_extraction",
    "aid": "action_item_detection",
}

# --------------------------------------------------------------------------------------------------------------------
# Submission files


def _task_name(task: str) -> str:
    name = TASK_ALIASES.get(task, task)
    if name not in TASKS:
        raise ValueError(f"task must be one of {TASKS} (or {tuple(TASK_ALIASES)}), not {task!r}")
    return name


class _Where:
    """Where a row is, for errors: the file and its 1-based line."""

    def __init__(self, path: str | Path, line: int) -> None:
        self.path, self.line = path, line

    def fail(self, message: str, field: str | None = None, hint: str | None = None) -> DataError:
        return DataError(message, path=self.path, line=self.line, field=field, hint=hint)


def _row_id(value: Any, where: _Where, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise where.fail(f"expected a 1-based sentence id (int), got {value!r}", field)
    return value


def _row_list(obj: Mapping[str, Any], name: str, where: _Where, field: str | None = None) -> list[Any]:
    field = field or name
    if name not in obj:
        raise where.fail("missing", field)
    value = obj[name]
    if not isinstance(value, list):
        raise where.fail(f"expected a list, got {type(value).__name__}", field)
    return value


def _key_sentences(obj: Mapping[str, Any], where: _Where, field: str) -> list[str]:
    out = []
    for i, value in enumerate(_row_list(obj, "key_sentence", where, field)):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        out.append(str(_row_id(value, where, f"{field}[{i}]")))
    return out


def _topics(obj: Mapping[str, Any], where: _Where, extra: str | None) -> list[dict[str, Any]]:
    topics: list[dict[str, Any]] = []
    seen: set[int] = set()
    for i, entry in enumerate(_row_list(obj, "topic_segment_ids", where)):
        field = f"topic_segment_ids[{i}]"
        if not isinstance(entry, Mapping):
            raise where.fail(f"expected an object, got {type(entry).__name__}", field)
        if "id" not in entry:
            raise where.fail("missing", f"{field}.id")
        tid = _row_id(entry["id"], where, f"{field}.id")
        if tid in seen:
            raise where.fail(f"topic id {tid} appears twice", f"{field}.id")
        seen.add(tid)
        topic: dict[str, Any] = {"id": tid}
        if extra == "key_sentence":
            topic["key_sentence"] = _key_sentences(entry, where, f"{field}.key_sentence")
        elif extra == "title":
            if not isinstance(entry.get("title"), str):
                raise where.fail("expected a string", f"{field}.title")
            topic["title"] = entry["title"]
        topics.append(topic)
    return topics


def _ids_row(obj: Mapping[str, Any], name: str, where: _Where) -> list[dict[str, int]]:
    ids = set()
    for i, entry in enumerate(_row_list(obj, name, where)):
        if not isinstance(entry, Mapping) or "id" not in entry:
            raise where.fail("expected an object with 'id'", f"{name}[{i}]")
        ids.add(_row_id(entry["id"], where, f"{name}[{i}].id"))
    # Boundaries and action items are sets of sentences: written sorted, once each.
    return [{"id": i} for i in sorted(ids)]


def _canonical_row(task: str, obj: Any, where: _Where) -> dict[str, Any]:
    """The official shape of one row: only the task's fields, ids as ints, ES key sentences as id strings."""
    if not isinstance(obj, Mapping):
        raise where.fail(f"expected a JSON object, got {type(obj).__name__}")
    key = obj.get("meeting_key")
    if not isinstance(key, str) or not key:
        raise where.fail("expected a non-empty string", "meeting_key")
    row: dict[str, Any] = {"meeting_key": key}
    if task == "topic_segmentation":
        row["topic_segment_ids"] = _ids_row(obj, "topic_segment_ids", where)
    elif task == "extractive_summarization":
        row["topic_segment_ids"] = _topics(obj, where, "key_sentence")
        row["key_sentence"] = _key_sentences(obj, where, "key_sentence")
    elif task == "topic_title_generation":
        row["topic_segment_ids"] = _topics(obj, where, "title")
    elif task == "keyphrase_extraction":
        words = _row_list(obj, "key_word", where)
        for i, w in enumerate(words):
            if not isinstance(w, str):
                raise where.fail(f"expected a string, got {type(w).__name__}", f"key_word[{i}]")
        row["key_word"] = list(words)
    else:
        row["action_ids"] = _ids_row(obj, "action_ids", where)
    return row


def _empty_fields(task: str, row: Mapping[str, Any]) -> list[str]:
    """Fields the official scorer would crash on (an empty hypothesis), as field paths."""
    bad = []
    if task == "extractive_summarization":
        bad = [f"topic_segment_ids[{i}].key_sentence" for i, t in enumerate(row["topic_segment_ids"]) if not t["key_sentence"]]
        if not row["key_sentence"]:
            bad.append("key_sentence")
    elif task == "topic_title_generation":
        bad = [
            f"topic_segment_ids[{i}].title" for i, t in enumerate(row["topic_segment_ids"]) if text_for_rouge(t["title"]).empty
        ]
    elif task == "keyphrase_extraction" and rouge_text(" ".join(row["key_word"])).empty:
        bad = ["key_word"]
    return bad


def write_submission(
    task: str,
    rows: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
    path: str | Path,
    allow_empty: bool = False,
) -> Path:
    """Write one task's official submission file (JSON Lines, one object per meeting), atomically.

    ``rows`` are per-meeting dicts (or a dict of them keyed by meeting_key) with at least the official fields; other
    keys are left out. An empty hypothesis (ES key sentences, a TTG title, KPE words) raises DataError unless
    ``allow_empty``: the official scorer crashes on one, so a file holding it could not be scored there.
    """
    name = _task_name(task)
    items = list(rows.values()) if isinstance(rows, Mapping) else list(rows)
    canonical = []
    seen: set[str] = set()
    for line, obj in enumerate(items, 1):
        where = _Where(path, line)
        row = _canonical_row(name, obj, where)
        if row["meeting_key"] in seen:
            raise where.fail(f"meeting {row['meeting_key']!r} appears twice", "meeting_key")
        seen.add(row["meeting_key"])
        bad = _empty_fields(name, row)
        if bad and not allow_empty:
            raise where.fail(
                "empty hypothesis",
                bad[0],
                hint="the official scorer crashes on empty output: write a fallback (or allow_empty=True)",
            )
        canonical.append(row)
    with atomic_open(path) as handle:
        for row in canonical:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return Path(path)


def _infer_task(objects: Sequence[Any]) -> str | None:
    rows = [o for o in objects if isinstance(o, Mapping)]

    def any_topic_has(field: str) -> bool:
        return any(
            isinstance(t, Mapping) and field in t
            for r in rows
            if isinstance(r.get("topic_segment_ids"), list)
            for t in r["topic_segment_ids"]
        )

    if any("key_sentence" in r for r in rows) or any_topic_has("key_sentence"):
        return "extractive_summarization"
    if any_topic_has("title"):
        return "topic_title_generation"
    if any("key_word" in r for r in rows):
        return "keyphrase_extraction"
    if any("action_ids" in r for r in rows):
        return "action_item_detection"
    if any("topic_segment_ids" in r for r in rows):
        return "topic_segmentation"
    return None


def read_submission(path: str | Path, task: str | None = None) -> dict[str, dict[str, Any]]:
    """Read a submission file into ``{meeting_key: row}`` (file order), each row in the official shape.

    ``task`` None infers it from the fields (ES: ``key_sentence``; TTG: topic ``title``; KPE: ``key_word``;
    AID: ``action_ids``; TS: ``topic_segment_ids`` alone). Blank lines are skipped, as the script does. A malformed
    line raises DataError naming the file, the line and the field.
    """
    path = Path(path)
    parsed: list[tuple[int, Any]] = []
    with open(path, encoding="utf-8-sig") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                parsed.append((line_no, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DataError(f"not valid JSON ({exc.msg}, column {exc.colno})", path=path, line=line_no) from None
    name = _task_name(task) if task is not None else _infer_task([o for _, o in parsed])
    if name is None:
        raise DataError(
            "cannot tell which task this file is for", path=path, hint=f"no task field found; pass task= one of {TASKS}"
        )
    rows: dict[str, dict[str, Any]] = {}
    for line_no, obj in parsed:
        where = _Where(path, line_no)
        row = _canonical_row(name, obj, where)
        if row["meeting_key"] in rows:
            raise where.fail(f"meeting {row['meeting_key']!r} appears twice", "meeting_key")
        rows[row["meeting_key"]] = row
    return rows
