"""What the two generic readers (``alpaca`` and ``sharegpt``) share: reading a JSON array or JSON Lines file with
the line of every record, the plain conversation record, and the folder rule.

Users bring their own conversations in whatever shape their exporter wrote: a JSON array (often pretty-printed, so a
record spans many lines) or JSON Lines, sometimes with the wrong suffix. The layout is taken from the text (an array
opens with ``[``), not from the name. Every record keeps the physical line it starts on (and ends on), so a
rejection points at a line a user can open; inside a JSON array the field path also starts with the record's index
(``[3].conversations[1].value``, 0-based as in jq). A JSON Lines line that is not JSON is rejected like any bad
record; a JSON array that does not parse stops the run (nothing after the break can be read).

A file none of whose records can be used is not a conversation file: the run stops with the first rejection's file,
line and field (exit status 2), rather than writing empty splits.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_recipes.errors import DataError
from qwen_recipes.readers.common import FileRead, Rejected, SplitFiles, find_split_files, read_text, split_of

SUFFIXES = (".json", ".jsonl")
_WS = re.compile(r"[ \t\n]*")


class Bad(Exception):
    """A record a reader cannot take: the reason, and the field path inside the record."""

    def __init__(self, reason: str, fld: str | None) -> None:
        super().__init__(reason)
        self.reason, self.field = reason, fld


def type_name(value: Any) -> str:
    return type(value).__name__ if value is not None else "null"


@dataclass
class Raw:
    """One record as read, before any reader looked at its fields."""

    line: int
    end_line: int
    prefix: str  # "[3]." inside a JSON array, "" in JSON Lines: where field paths start
    value: Any
    problem: str | None = None  # JSON Lines: the line is not JSON


@dataclass
class Conversation:
    """A validated conversation: ``turns`` alternate user / assistant, start with the user and end with the assistant.

    ``history`` and the split of the first prompt into instruction and input are kept for Alpaca records, so that the
    Alpaca task writes back what the user wrote; the ShareGPT reader leaves them empty."""

    system: str
    turns: list[tuple[str, str]]  # (role, text): role is "user" or "assistant"
    path: str
    line: int
    end_line: int | None = None
    alpaca: tuple[str, str] | None = None  # (instruction, input) of the last prompt, Alpaca records only
    dropped_turns: list[Rejected] = field(default_factory=list)  # exchanges dropped inside a kept record

    label = None  # conversations carry no class label: cleaning de-duplicates them by content (``key``)

    @property
    def key(self) -> str:
        """Same system prompt and same turns (each trimmed) = the same conversation, whatever tags it was written with."""
        canon = json.dumps([self.system, self.turns, self.alpaca], ensure_ascii=False)
        return hashlib.sha1(canon.encode("utf-8")).hexdigest()[:16]

    @property
    def text(self) -> str:
        return self.turns[0][1] if self.turns else ""

    @property
    def exchanges(self) -> list[tuple[str, str]]:
        return [(self.turns[i][1], self.turns[i + 1][1]) for i in range(0, len(self.turns), 2)]


class _Lines:
    """Offsets -> 1-based line numbers, without rescanning the text for every record."""

    def __init__(self, text: str) -> None:
        self.breaks = [m.start() for m in re.finditer("\n", text)]

    def __call__(self, offset: int) -> int:
        return bisect.bisect_left(self.breaks, offset) + 1


def _array(text: str, path: Path) -> Iterator[Raw]:
    decoder = json.JSONDecoder()
    line_of = _Lines(text)
    pos = _WS.match(text, text.index("[") + 1).end()
    index = 0
    if text[pos: pos + 1] == "]":
        pos += 1
    else:
        while True:
            try:
                value, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as err:
                raise DataError(f"invalid JSON ({err.msg}, column {err.colno})", path=path, line=err.lineno) from None
            yield Raw(line_of(pos), line_of(end - 1), f"[{index}].", value)
            index += 1
            pos = _WS.match(text, end).end()
            if text[pos: pos + 1] == ",":
                pos = _WS.match(text, pos + 1).end()
                continue
            if text[pos: pos + 1] == "]":
                pos += 1
                break
            raise DataError("invalid JSON (expected ',' or ']' after a record)", path=path, line=line_of(pos))
    pos = _WS.match(text, pos).end()
    if pos < len(text):
        raise DataError("invalid JSON (text after the closing ']')", path=path, line=line_of(pos))


def _jsonl(text: str) -> Iterator[Raw]:
    for lineno, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            yield Raw(lineno, lineno, "", json.loads(raw))
        except json.JSONDecodeError as err:
            yield Raw(lineno, lineno, "", raw, f"invalid JSON ({err.msg}, column {err.colno}); JSON Lines hold one "
                                               "record per line, a .json file one array")


def records(path: str | Path, encoding: str = "utf-8") -> tuple[str, list[Raw]]:
    """("json-array" | "jsonl", the file's records with their lines)."""
    path = Path(path)
    text = read_text(path, encoding)
    if text.lstrip().startswith("["):
        return "json-array", list(_array(text, path))
    return "jsonl", list(_jsonl(text))


Parser = Callable[[Any, Raw, str], tuple[Conversation, str]]


def read_with(parse: Parser, source: str, path: str | Path, encoding: str = "utf-8") -> FileRead:
    """Every record of the file through ``parse`` (a conversation and its layout, or ``Bad``); the variant names the
    file's shape and the layouts seen, most frequent first."""
    shape, raws = records(path, encoding)
    out = FileRead(str(path), f"{source}:{shape}")
    layouts: Counter[str] = Counter()
    for raw in raws:
        if raw.problem:
            reject(out, raw, raw.problem, None)
            continue
        try:
            conv, layout = parse(raw.value, raw, str(path))
        except Bad as bad:
            reject(out, raw, bad.reason, bad.field)
            continue
        layouts[layout] += 1
        out.records.append(conv)
    if layouts:
        seen = [layout for layout, _ in layouts.most_common()]
        out.variant += " " + ", ".join(seen[:3]) + (f" (+{len(seen) - 3} more)" if len(seen) > 3 else "")
    # A file that gave rejections but no record is not a file of this source: stop, naming the first rejection.
    if out.rejected and not out.records:
        first = out.rejected[0]
        raise DataError(first.reason, path=first.path, line=first.line, field=first.field,
                        hint=f"none of the file's {len(out.rejected)} records is usable; this is the first")
    return out


def where(raw: Raw, fld: str | None) -> str | None:
    """A field path inside the file: ``[3].messages[0].role`` in a JSON array, ``messages[0].role`` in JSON Lines."""
    if fld is None:
        return raw.prefix.rstrip(".") or None
    return raw.prefix + fld


def reject(out: FileRead, raw: Raw, reason: str, fld: str | None, text: str = "") -> None:
    end = raw.end_line if raw.end_line != raw.line else None
    out.rejected.append(Rejected(out.path, raw.line, reason, where(raw, fld), text or _preview_of(raw.value), end))


def _preview_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:200]


def find_files(path: str | Path, hint: str) -> SplitFiles:
    """A folder whose files are named by split keeps that split. A folder of files that name no split (shards, one
    file per export) is one dataset, split by conversation with a seed; so is a single file."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES
                       and not p.name.startswith("."))
        if len(files) > 1 and not any(split_of(f) for f in files):
            ignored = [{"path": str(p), "reason": "a folder" if p.is_dir() else "a hidden file" if p.name.startswith(".")
                        else f"not a {' / '.join(SUFFIXES)} file"} for p in sorted(path.iterdir()) if p not in files]
            return SplitFiles({"all": files}, ignored)
    return find_split_files(path, SUFFIXES, hint)
