"""PsyQA reader: the example file, the full release and the public mirror's split files.

All are one JSON array of questions (UTF-8, sometimes CRLF, sometimes ``\\u``-escaped: ``json`` handles both):
``question``, ``description``, ``keywords`` (one comma-separated string), ``questionID`` (int) and
``answers[]`` with ``answer_text``, ``has_label`` and ``labels_sequence`` (null, or a list of
``{start, end, type}`` character spans, ``type`` one of the seven support strategies).

A question that breaks these facts is rejected with its record number and field (the rest go on);
an answer inside an otherwise good question that is empty, or whose spans fall outside its text, is
dropped from that question and listed too. The full release needs a signed agreement: pass its path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from qwen_recipes.errors import DataError
from qwen_recipes.readers.common import FileRead, Rejected, find_split_files, id_problem, read_text, text_problem

STRATEGIES = (
    "Information", "Direct Guidance", "Approval and Reassurance", "Restatement", "Interpretation", "Self-disclosure",
    "Others",
)


@dataclass
class Span:
    start: int
    end: int
    type: str


@dataclass
class Answer:
    text: str
    has_label: bool
    spans: list[Span] | None


@dataclass
class Question:
    qid: str
    question: str
    description: str
    keywords: list[str]
    answers: list[Answer]
    path: str
    line: int  # record number in the array (1-based): JSON arrays have no useful line per record
    dropped_answers: list[Rejected] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.qid

    @property
    def text(self) -> str:
        return self.question

    label = None  # questions carry no class label: cleaning de-duplicates them by id


def _spans(raw: object, text: str) -> list[Span] | None | str:
    """Parsed spans, None when unlabeled, or a reason string when they are malformed."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        return "labels_sequence is not a list"
    spans = []
    for i, s in enumerate(raw):
        if not isinstance(s, dict) or not {"start", "end", "type"} <= set(s):
            return f"labels_sequence[{i}] lacks start/end/type"
        if s["type"] not in STRATEGIES:
            return f"labels_sequence[{i}] has unknown strategy {s['type']!r}"
        if not (isinstance(s["start"], int) and isinstance(s["end"], int) and 0 <= s["start"] < s["end"] <= len(text)):
            return f"labels_sequence[{i}] span {s['start']}-{s['end']} is outside the answer ({len(text)} characters)"
        spans.append(Span(s["start"], s["end"], s["type"]))
    return spans


def read_file(path: str | Path, encoding: str = "utf-8") -> FileRead:
    path = Path(path)
    text = read_text(path, encoding)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"invalid JSON ({err.msg})", path=path, line=err.lineno) from None
    if not isinstance(data, list):
        raise DataError("expected a JSON array of questions", path=path, line=1)
    out = FileRead(str(path), "psyqa:json-array")
    for n, item in enumerate(data, start=1):
        def reject(reason: str, fld: str | None = None, n: int = n, item: object = item) -> None:
            text = str(item.get("question", "")) if isinstance(item, dict) else str(item)
            out.rejected.append(Rejected(str(path), n, reason, fld, text))

        if not isinstance(item, dict):
            reject("record is not a JSON object")
            continue
        missing = [k for k in ("question", "answers", "questionID") if k not in item]
        if missing:
            reject("missing", missing[0])
            continue
        if id_problem(item["questionID"]):
            reject(id_problem(item["questionID"]), "questionID")
            continue
        problem = text_problem(item["question"])
        if problem:
            reject("empty question" if problem == "empty" else problem, "question")
            continue
        description = item.get("description")
        if description is not None and not isinstance(description, str):
            reject(f"not text but {type(description).__name__}", "description")
            continue
        if not isinstance(item["answers"], list):
            reject("answers is not a list", "answers")
            continue
        keywords = item.get("keywords") or ""
        if not isinstance(keywords, str):
            reject("keywords is not a comma-separated string", "keywords")
            continue
        q = Question(str(item["questionID"]), item["question"].strip(), str(item.get("description") or "").strip(),
                     [k.strip() for k in keywords.replace("，", ",").split(",") if k.strip()], [], str(path), n)
        for j, a in enumerate(item["answers"]):
            where = f"answers[{j}]"
            body = a.get("answer_text") if isinstance(a, dict) else None
            problem = text_problem(body)
            if problem:
                q.dropped_answers.append(Rejected(str(path), n, "empty answer" if problem == "empty" else problem,
                                                  f"{where}.answer_text", q.question))
                continue
            spans = _spans(a.get("labels_sequence"), body)
            if isinstance(spans, str):
                q.dropped_answers.append(Rejected(str(path), n, spans, f"{where}.labels_sequence", q.question))
                continue
            q.answers.append(Answer(body, bool(a.get("has_label")) and spans is not None, spans))
        if not q.answers:
            reject("no usable answer", "answers")
            continue
        out.records.append(q)
    return out




def find_files(path: str | Path) -> dict[str, list[Path]]:
    """The example file or the full release is one unsplit file; the mirror's train/valid/test files keep their split."""
    return find_split_files(path, (".json",), "pass PsyQA_example.json, PsyQA_full.json or the mirror's folder")
