"""From window predictions to one official AliMeeting4MUG submission row per meeting.

Each prediction line of LLaMA-Factory lines up with one record of ``<split>.meta.jsonl`` (meeting, window
ids, references). Answers are parsed by the task, limited to the ids their window showed, and merged per
meeting. Nothing empty reaches a scorer: an unreadable or empty answer falls back to a stated default and is
counted, so a report says how much of a score rests on fallbacks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from qwen_recipes.tasks.mug_base import parse_ids
from qwen_recipes.tasks.mug_kpe import merge_keyphrases


@dataclass
class MergeCounts:
    records: int = 0
    unreadable: int = 0  # the answer could not be read at all
    fallbacks: int = 0  # an empty or unreadable answer replaced by the task's default
    outside_window: int = 0  # ids the model named that its window did not show (dropped)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "unreadable": self.unreadable, "fallbacks": self.fallbacks,
                "outside_window": self.outside_window}


def _window_ids(meta: dict[str, Any]) -> set[int]:
    first, last = meta["span"]
    return set(range(first, last + 1))


def merge(task_name: str, task, predictions: list[str], metas: list[dict[str, Any]],
          golds: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], MergeCounts]:
    """Submission rows (official shape, one per gold meeting, in gold order) and what merging had to do."""
    if len(predictions) != len(metas):
        raise ValueError(f"{len(predictions)} predictions but {len(metas)} meta records")
    counts = MergeCounts(records=len(predictions))
    per_meeting: dict[str, list[tuple[dict, str]]] = defaultdict(list)
    for pred, meta in zip(predictions, metas, strict=True):
        per_meeting[meta["meeting"]].append((meta, pred))
    rows = []
    for key, gold in golds.items():
        items = per_meeting.get(key, [])
        if task_name == "mug_ts":
            bounds: set[int] = set()
            for meta, pred in items:
                ids, outside = parse_ids(pred, set(meta["paragraph_ends"]))
                counts.outside_window += outside
                counts.unreadable += ids is None
                bounds |= set(ids or [])
            bounds.add(gold["n_sentences"])  # the last sentence always closes a topic
            rows.append({"meeting_key": key, "topic_segment_ids": [{"id": i} for i in sorted(bounds)]})
        elif task_name == "mug_aid":
            actions: set[int] = set()
            for meta, pred in items:
                ids, outside = parse_ids(pred, _window_ids(meta))
                counts.outside_window += outside
                counts.unreadable += ids is None
                actions |= set(ids or [])
            rows.append({"meeting_key": key, "action_ids": [{"id": i} for i in sorted(actions)]})
        elif task_name == "mug_kpe":
            lists = []
            for _, pred in items:
                phrases = task.parse(pred)
                counts.unreadable += phrases is None
                lists.append(phrases or [])
            words = merge_keyphrases(lists)
            if not words:
                counts.fallbacks += 1
                words = ["会议"]  # the scorer needs a phrase; the generic word "meeting" scores ~0, visibly
            rows.append({"meeting_key": key, "key_word": words})
        elif task_name == "mug_ttg":
            topics = []
            for meta, pred in items:
                title = task.parse(pred)
                counts.unreadable += title is None
                if not title:
                    counts.fallbacks += 1
                    title = meta.get("fallback") or "会议讨论"
                topics.append({"id": meta["topic"], "title": title})
            rows.append({"meeting_key": key, "topic_segment_ids": sorted(topics, key=lambda t: t["id"])})
        elif task_name == "mug_es":
            topics, session = [], set()
            for meta, pred in items:
                ids, outside = parse_ids(pred, _window_ids(meta))
                counts.outside_window += outside
                counts.unreadable += ids is None
                if meta.get("level") == "session":
                    session |= set(ids or [])  # a window with nothing to add may rightly answer []
                    continue
                if not ids:
                    counts.fallbacks += 1
                    ids = [meta["span"][0]]  # the topic's first sentence: a summary is never empty
                topics.append({"id": meta["topic"], "key_sentence": [str(i) for i in ids]})
            if not session:  # no session answer at all: the first key sentence of each topic, counted
                counts.fallbacks += 1
                session = {int(t["key_sentence"][0]) for t in topics} or {1}
            rows.append({"meeting_key": key, "topic_segment_ids": sorted(topics, key=lambda t: t["id"]),
                         "key_sentence": [str(i) for i in sorted(session)]})
        else:
            raise ValueError(f"{task_name} is not an AliMeeting4MUG task")
    return rows, counts
