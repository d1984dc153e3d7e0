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
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar, NamedTuple

from qwen_recipes.errors import DataError
from qwen_recipes.readers.alimeeting import Meeting, Sentence, Topic
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


def opening(units: Sequence[str], budget: int, count: Callable[[str], int]) -> tuple[list[int], list[str], int]:
    """The first window of a topic's units (a topic is framed by its opening): the unit indices shown, the unit
    texts as used, and every character left out (cut from a long unit, or in the windows not shown)."""
    windows, texts, cut = pack(units, budget, count)
    return windows[0], texts, cut + sum(len(texts[i]) for w in windows[1:] for i in w)


def collect_ids(items: Sequence[tuple[dict[str, Any], str]], shown: Callable[[dict[str, Any]], set[int]],
                counts: MergeCounts) -> set[int]:
    """The ids a meeting's window answers name, each answer limited to the ids its window showed (the rest and the
    unreadable answers counted)."""
    found: set[int] = set()
    for meta, pred in items:
        ids, outside = parse_ids(pred, shown(meta))
        counts.outside_window += outside
        counts.unreadable += ids is None
        found |= set(ids or [])
    return found


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

    kind = "meeting"
    sized_by_tokens = True
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

    def windows(self, units: Sequence[str], tokenizer: str | None, cutoff_len: int,
                ) -> tuple[list[list[int]], list[str], int]:
        """``pack`` of ``units`` under this task's budget at ``cutoff_len``, counted with ``tokenizer``."""
        count = counter(tokenizer)
        return pack(units, self.budget(cutoff_len, count), count)

    def topic_openings(self, example: Meeting, pick: Callable[[Topic], list[Any]], render: Callable[[Sentence], str],
                       tokenizer: str | None, cutoff_len: int) -> tuple[list[Opening], int]:
        """Per gold topic with references to ``pick`` (titles, key sentences): its opening within the budget; and
        the characters left out over all topics."""
        count = counter(tokenizer)
        budget = self.budget(cutoff_len, count)
        out, cut_total = [], 0
        for (first, last), topic in zip(example.topic_spans(), example.topics, strict=True):
            picked = pick(topic)
            if picked:
                sentences = example.sentences[first - 1: last]
                shown, texts, cut = opening([render(s) for s in sentences], budget, count)
                out.append(Opening(last, sentences, shown, texts, picked))
                cut_total += cut
        return out, cut_total

    def answers(self, items: Sequence[tuple[dict[str, Any], str]], counts: MergeCounts) -> list[tuple[dict[str, Any], Any]]:
        """Each window's (meta, parsed answer); an unreadable answer is None, and counted."""
        parsed = [(meta, self.parse(pred)) for meta, pred in items]
        counts.unreadable += sum(value is None for _, value in parsed)
        return parsed

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

    def run_report(self) -> dict[str, Any]:
        return {"windows": self.stats.summary()}

    # ---- scoring: window answers -> one official submission row per meeting -> the challenge's rules --------------
    short: ClassVar[str]  # the track's name in the official files: ts, es, ttg, kpe, aid
    headline: ClassVar[tuple[str, ...]]  # the scores a one-line summary shows

    @abstractmethod
    def merge_meeting(self, key: str, gold: dict[str, Any], items: list[tuple[dict[str, Any], str]],
                      counts: MergeCounts) -> dict[str, Any]:
        """One meeting's submission row from its windows' (meta, answer) pairs; fallbacks are counted, never empty."""

    @abstractmethod
    def score_meetings(self, golds: dict[str, dict[str, Any]], rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The challenge's scores (x100, with "rank") of submission rows against the gold, by meeting key."""

    @abstractmethod
    def perfect(self, gold: dict[str, Any]) -> dict[str, Any]:
        """A submission row made from the gold: the ceiling the rules allow (annotators disagree)."""

    @abstractmethod
    def trivial(self, gold: dict[str, Any]) -> dict[str, Any]:
        """A rule-of-thumb row a model must beat to have learnt anything."""

    def merge(self, predictions: Sequence[str], metas: Sequence[dict[str, Any]], golds: dict[str, dict[str, Any]],
              ) -> tuple[list[dict[str, Any]], MergeCounts]:
        """Submission rows (official shape, one per gold meeting, in gold order) and what merging had to do.

        Each prediction lines up with one record of ``<split>.meta.jsonl`` (meeting, window ids, references);
        answers are parsed by the task and limited to the ids their window showed."""
        if len(predictions) != len(metas):
            raise ValueError(f"{len(predictions)} predictions but {len(metas)} meta records")
        counts = MergeCounts(records=len(predictions))
        per_meeting: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)
        for pred, meta in zip(predictions, metas, strict=True):
            per_meeting[meta["meeting"]].append((meta, pred))
        return [self.merge_meeting(key, gold, per_meeting.get(key, []), counts) for key, gold in golds.items()], counts

    def score(self, predictions: list[str], references: list[str], *, metas: Sequence[dict[str, Any]] | None = None,
              golds: dict[str, dict[str, Any]] | None = None, **_: Any) -> dict[str, Any]:
        """Windows merged per meeting, then the official scores; ``references`` are not used (the gold is)."""
        if metas is None or golds is None:
            raise DataError(f"{self.name} is scored per meeting: give the records' meta and the meetings' gold "
                            "(scripts/evaluate.py with --data reads them beside the data file)")
        return self.merge_and_score(predictions, metas, golds)[0]

    def merge_and_score(self, predictions: Sequence[str], metas: Sequence[dict[str, Any]],
                        golds: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The official scores plus the merge counts, and the submission rows they were computed from."""
        rows, counts = self.merge(predictions, metas, golds)
        scores = self.score_meetings(golds, {r["meeting_key"]: r for r in rows})
        return {"n": len(predictions), "meetings": len(golds), **scores, "merge": counts.as_dict()}, rows


class Opening(NamedTuple):
    """A gold topic framed by its opening: last sentence id, its sentences, the unit indices shown, unit texts."""

    last: int
    sentences: list[Sentence]
    shown: list[int]
    texts: list[str]
    picked: list[Any]


@dataclass
class MergeCounts:
    """What merging window answers had to do, so a report says how much of a score rests on fallbacks."""

    records: int = 0
    unreadable: int = 0  # the answer could not be read at all
    fallbacks: int = 0  # an empty or unreadable answer replaced by the task's default
    outside_window: int = 0  # ids the model named that its window did not show (dropped)

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "unreadable": self.unreadable, "fallbacks": self.fallbacks,
                "outside_window": self.outside_window}


def window_ids(meta: dict[str, Any]) -> set[int]:
    first, last = meta["span"]
    return set(range(first, last + 1))


def n_sentences(golds: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {k: g["n_sentences"] for k, g in golds.items()}


def sentence_texts(gold: dict[str, Any]) -> dict[int, str]:
    return {int(i): t for i, t in gold["sentences"].items()}


def topic_starts(gold: dict[str, Any]) -> list[int]:
    """The first sentence of each gold topic."""
    return [1] + [t["id"] + 1 for t in gold["topic_segment_ids"][:-1]]
