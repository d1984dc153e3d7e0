"""Alpaca reader: instruction-following records, optionally with a system prompt and earlier turns.

Fields, as LLaMA-Factory's Alpaca format names them: ``instruction`` and ``output`` (required), ``input`` (optional,
joined to the instruction with a newline, as LLaMA-Factory joins them), ``system`` (optional) and ``history``
(optional: earlier turns as ``[[instruction, answer], ...]``). ms-swift's own layout (``query``, ``response``,
optional ``system`` and ``history``) is read as instruction and output. Other fields (ids, categories) are ignored;
the file's variant lists the fields seen.

A record is rejected, with file, line and field, when a required field is missing, a field is not text, the prompt
(instruction and input) or the output is empty, or ``history`` is not a list of two-string pairs. An empty turn inside
``history`` drops that earlier exchange only, and is listed with the record (``dropped_inside_items`` in report.json).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qwen_recipes.readers.common import FileRead, Rejected, SplitFiles, preview, text_problem
from qwen_recipes.readers.conversations import Bad, Conversation, Raw, read_with, where
from qwen_recipes.readers.conversations import find_files as _find_files
from qwen_recipes.readers.conversations import type_name as _type
from qwen_recipes.readers.sharegpt import TURN_KEYS

ALPACA = {"instruction": "instruction", "input": "input", "output": "output"}
SWIFT = {"instruction": "query", "input": None, "output": "response"}  # ms-swift's query/response/history layout
OPTIONAL = ("system", "history")


def _text(item: dict[str, Any], name: str | None) -> str:
    value = item.get(name) if name else None
    if value is not None and not isinstance(value, str):
        raise Bad(f"not text but {_type(value)}", name)
    return "" if text_problem(value) else value.strip()


def _names(item: dict[str, Any]) -> dict[str, str | None]:
    """Which fields hold the prompt and the answer: Alpaca's, or ms-swift's ``query`` / ``response`` when a record has
    those and none of Alpaca's."""
    if not {"instruction", "output"} & set(item) and {"query", "response"} <= set(item):
        return SWIFT
    for name in ("instruction", "output"):
        if name not in item:
            hint = " (this record has ShareGPT turns: use the sharegpt source)" if set(TURN_KEYS) & set(item) else ""
            raise Bad(f"missing{hint}", name)
    return ALPACA


def parse(item: Any, raw: Raw, path: str) -> tuple[Conversation, str]:
    """A conversation (earlier turns from ``history``, then the record's own prompt and answer) and the fields seen."""
    if not isinstance(item, dict):
        raise Bad(f"record is not a JSON object but {_type(item)}", None)
    names = _names(item)
    instruction, query, output = (_text(item, names[k]) for k in ("instruction", "input", "output"))
    system = _text(item, "system")
    if not instruction and not query:
        raise Bad(f"empty prompt ({'instruction and input are' if names is ALPACA else 'query is'} empty)",
                  names["instruction"])
    if not output:
        problem = text_problem(item[names["output"]]) or "empty"
        raise Bad(f"{problem} output: nothing to train on", names["output"])
    history = item.get("history")
    if history is not None and not isinstance(history, list):
        raise Bad(f"not a list of (instruction, answer) pairs but {_type(history)}", "history")
    conv = Conversation(system, [], path, raw.line, raw.end_line if raw.end_line != raw.line else None, (instruction, query))
    for i, pair in enumerate(history or []):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise Bad(f"not an (instruction, answer) pair but {_type(pair)}"
                      + (f" of {len(pair)}" if isinstance(pair, list) else ""), f"history[{i}]")
        for j, value in enumerate(pair):
            if value is not None and not isinstance(value, str):
                raise Bad(f"not text but {_type(value)}", f"history[{i}][{j}]")
        empty = [(problem, j) for j, value in enumerate(pair) if (problem := text_problem(value))]
        if empty:
            conv.dropped_turns.append(Rejected(path, raw.line, f"{empty[0][0]} turn in history: that earlier exchange "
                                               "dropped", where(raw, f"history[{i}][{empty[0][1]}]"),
                                               preview(pair[0] or pair[1] or "")))
            continue
        conv.turns += [("user", pair[0].strip()), ("assistant", pair[1].strip())]
    conv.turns += [("user", "\n".join(x for x in (instruction, query) if x)), ("assistant", output)]
    fields = "/".join(n for n in names.values() if n and n in item) + "".join(f"+{n}" for n in OPTIONAL if n in item)
    return conv, fields


def read_file(path: str | Path, encoding: str = "utf-8") -> FileRead:
    return read_with(parse, "alpaca", path, encoding)


def find_files(path: str | Path) -> SplitFiles:
    return _find_files(path, "pass a .json / .jsonl file of Alpaca records, or a folder of them (train/dev/test files "
                             "keep their split)")
