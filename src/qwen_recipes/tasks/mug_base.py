"""What the five AliMeeting4MUG tasks share: token-budgeted windows, id parsing, and per-record metadata.

A whole meeting (600-1,200 sentences) fits no 2-8K window, so every task works on windows of sentences or
paragraphs, or on one gold topic. A window holds as many whole units as fit the token budget (``cutoff_len``
minus room for the instruction, the template and the answer), counted with the real tokenizer when one is
given (characters otherwise, an upper bound for Chinese). A single unit longer than the budget is cut, and
the characters cut are counted. Sentences are numbered with their meeting-wide ids, so predictions map back
without arithmetic. Each record carries ``meta`` (meeting, window span, references) that the preprocessor
writes to ``<split>.meta.jsonl``; each meeting's gold, in the official submission shape plus what scoring
needs, goes to ``<split>.gold.jsonl``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

from qwen_recipes.readers.alimeeting import Meeting, Sentence
from qwen_recipes.tasks.base import Task

# Annotations a task may depend on: the field a reader takes them from, and whether a meeting has them.
ANNOTATIONS: dict[str, tuple[str, Callable[[Meeting], bool]]] = {
    "paragraphs": ("paragraph_segment_ids", lambda m: bool(m.paragraph_ends)),
    "topics": ("topic_segment_ids", lambda m: bool(m.topics)),
}
TEMPLATE_OVERHEAD = 40  # ChatML system prompt and role markers of LLaMA-Factory's qwen template, in tokens
INT = re.compile(r"\d+")


@cache
def _tokenizer(path: str) -> Any:
    from qwen_recipes.hub import load_tokenizer

    return load_tokenizer(path)


def counter(tokenizer: str | None) -> Callable[[str], int]:
    if tokenizer is None:
        return len
    tok = _tokenizer(tokenizer)
    return lambda text: len(tok(text, add_special_tokens=False).input_ids)


@dataclass
class WindowStats:
    """Per meeting: how many windows it became and how many characters were cut to fit."""

    windows: dict[str, int] = field(default_factory=dict)
    cut_chars: dict[str, int] = field(default_factory=dict)
    notes: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # what a task set aside, per meeting

    def note(self, what: str, meeting: str, ids: list[int]) -> None:
        if ids:
            self.notes.setdefault(what, {})[meeting] = ids

    def add(self, meeting: str, windows: int, cut: int) -> None:
        self.windows[meeting] = self.windows.get(meeting, 0) + windows
        self.cut_chars[meeting] = self.cut_chars.get(meeting, 0) + cut

    def summary(self) -> dict[str, Any]:
        counts = list(self.windows.values()) or [0]
        return {"meetings": len(self.windows), "windows": sum(counts), "windows_per_meeting_max": max(counts),
                "windows_per_meeting_mean": sum(counts) / max(1, len(self.windows)),
                "meetings_with_cuts": sum(1 for c in self.cut_chars.values() if c),
                "cut_chars": sum(self.cut_chars.values()), "per_meeting": dict(sorted(self.windows.items())),
                **{what: dict(sorted(per.items())) for what, per in sorted(self.notes.items())}}


def pack(units: Sequence[str], budget: int, count: Callable[[str], int]) -> tuple[list[list[int]], list[str], int]:
    """Greedy windows of whole units under ``budget``; returns (unit indices per window, unit texts as used, chars cut)."""
    texts, cut = list(units), 0
    for i, text in enumerate(texts):
        if count(text) > budget:  # one unit alone is too long: keep its head
            lo, hi = 0, len(text)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if count(text[:mid]) <= budget else (lo, mid - 1)
            cut += len(text) - lo
            texts[i] = text[:lo]
    windows, current, used = [], [], 0
    for i, text in enumerate(texts):
        size = count(text) + 1  # +1 for the newline between units
        if current and used + size > budget:
            windows.append(current)
            current, used = [], 0
        current.append(i)
        used += size
    if current:
        windows.append(current)
    return windows, texts, cut


def numbered(s: Sentence) -> str:
    return f"[{s.id}] {s.speaker}：{s.text}"


def parse_ids(text: str, allowed: set[int] | None = None) -> tuple[list[int] | None, int]:
    """Sentence ids a model wrote (a JSON list, "3, 5", numbered lines, prose such as "第3句和第5句"):
    returns (sorted unique ids, how many numbers were outside ``allowed``), or (None, 0) when nothing is readable.
    "[]" and "无" read as an empty answer, which is a valid one (a window without action items)."""
    text = text.strip()
    if not text:
        return None, 0
    try:
        value = json.loads(text)
        numbers = [int(v) for v in value] if isinstance(value, list) else None
    except (json.JSONDecodeError, TypeError, ValueError):
        numbers = None
    if numbers is None:
        if text in ("无", "没有", "none", "None", "[]"):
            return [], 0
        numbers = [int(n) for n in INT.findall(text)]
        if not numbers:
            return None, 0
    outside = [n for n in numbers if allowed is not None and n not in allowed]
    return sorted({n for n in numbers if allowed is None or n in allowed}), len(outside)


class MeetingTask(Task):
    """Base of the five AliMeeting4MUG tasks (abstract: the registry skips it)."""

    source = "alimeeting"
    dedupe_by = "key"
    max_new_tokens = 64  # id lists are short; kept free inside cutoff_len for the answer
    # Annotations (keys of ANNOTATIONS) that frame the input: a meeting without one is rejected for this task.
    requires: ClassVar[tuple[str, ...]] = ()
    # Annotations that are the answer: a meeting without one is rejected when other meetings of its split have it
    # (its target would be empty), and kept, with empty outputs, when no meeting of the split has it (the challenge's
    # test files withhold the labels: a submission still needs every meeting).
    targets: ClassVar[tuple[str, ...]] = ()

    def unusable(self, example: Meeting, split_examples: Sequence[Meeting]) -> tuple[str, str] | None:
        for need in self.requires:
            field_name, has = ANNOTATIONS[need]
            if not has(example):
                return f"no {field_name}: {self.name} builds its input from them", field_name
        for need in self.targets:
            field_name, has = ANNOTATIONS[need]
            if not has(example) and any(has(m) for m in split_examples):
                return (f"no {field_name}, which other meetings of this split have: {self.name} would train on or be "
                        "scored against an empty answer"), field_name
        return None

    def __init__(self) -> None:
        self.stats = WindowStats()

    def begin(self) -> None:
        """Called by the preprocessor before a run: window statistics start from zero."""
        self.stats = WindowStats()

    def budget(self, cutoff_len: int, count: Callable[[str], int]) -> int:
        return max(64, cutoff_len - count(self.instruction) - TEMPLATE_OVERHEAD - self.max_new_tokens)

    def build_record(self, example: Meeting) -> dict[str, str]:
        return self.build_records(example)[0]

    def gold(self, meeting: Meeting) -> dict[str, Any]:
        """The meeting's annotations in the dataset's own ``content`` shape (what the official scorer reads: several
        references per topic do not fit a submission row), plus sentence count, paragraph ends and texts."""
        return {
            "meeting_key": meeting.key,
            "n_sentences": len(meeting.sentences),
            "paragraph_ends": sorted(set(meeting.paragraph_ends) | {len(meeting.sentences)}),
            "sentences": {s.id: s.text for s in meeting.sentences},
            "topic_segment_ids": [
                {"id": t.end, "candidate": [{"title": c.title, "key_sentence": [str(k) for k in c.key_sentences]}
                                            for c in t.candidates]}
                for t in meeting.topics
            ],
            "candidate": [{"key_sentence": [str(k) for k in c.key_sentences], "key_word": c.keywords} for c in meeting.session],
            "action_ids": [{"id": i} for i in meeting.action_ids],
        }

    def parse(self, text: str) -> Any | None:
        ids, _ = parse_ids(text)
        return ids

    def score(self, predictions: list[str], references: list[str]) -> dict[str, Any]:
        raise NotImplementedError(f"{self.name} is scored per meeting: use scripts/evaluate.py with --data")
