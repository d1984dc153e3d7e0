"""AliMeeting4MUG extractive summarization (ES).

- Source: AliMeeting4MUG (ICASSP 2023 MUG challenge; ModelScope dataset `modelscope/Alimeeting4MUG`): Mandarin
  meetings, 295 train / 65 dev / 82 test1 (labels of test withheld). Reader: `qwen_recipes.readers.alimeeting`.
- License: research use under the dataset terms (CC BY-NC-SA 4.0 on ModelScope); users download it themselves.
- Framing: one gold topic as numbered sentences (meeting-wide ids, cut to the token budget) -> a JSON list of
  the ids of its key sentences; the summary is the chosen sentences concatenated. On train every annotator's
  choice is a target. Session level: windows of the whole meeting's numbered sentences -> the ids of the
  sentences that summarise the meeting (targets: the session annotators' key sentences inside the window); the
  window answers are merged into one session summary.
- Metric (official): character-level ROUGE-1/2/L, topic level and session level, average and best reference;
  rank = mean of {topic, session} x {avg, max} x {R1, R2, RL}. Dev baselines: topic avg 52.52/35.50/45.87,
  max 66.43/53.77/63.03; session avg 56.82/29.73/37.52, max 61.66/36.89/46.20.
"""

from __future__ import annotations

import json
from typing import Any

from qwen_recipes.metrics import mug
from qwen_recipes.readers.alimeeting import Meeting
from qwen_recipes.tasks.mug.base import (
    MeetingTask,
    MergeCounts,
    numbered,
    parse_ids,
    sentence_texts,
    topic_starts,
    window_ids,
)


class MugExtractiveSummary(MeetingTask):
    name = "mug_es"
    short = "es"
    headline = ("topic_max_rouge-l", "session_max_rouge-l")
    requires = ("topics",)  # the challenge gives the gold topics as part of the input
    instruction = ("下面是一次会议中一个议题的发言，每句前有编号。请选出最能概括这个议题的关键句（通常两到三句），"
                   "只输出编号组成的 JSON 列表，例如 [12, 15]。")
    session_instruction = ("下面是一次会议的部分发言，每句前有编号。请选出其中最能概括整场会议内容的关键句，"
                           "只输出编号组成的 JSON 列表，例如 [12, 15]；没有则输出 []。")

    def build_records(self, example: Meeting, tokenizer: str | None = None, cutoff_len: int = 2048,
                      split: str = "train", **_: Any) -> list[dict[str, Any]]:
        openings, cut_total = self.topic_openings(
            example, lambda t: [c.key_sentences for c in t.candidates if c.key_sentences], numbered, tokenizer, cutoff_len)
        records = []
        for o in openings:
            ids = [o.sentences[i].id for i in o.shown]
            meta = {"meeting": example.key, "level": "topic", "topic": o.last, "span": [ids[0], ids[-1]]}
            targets = o.picked if split == "train" else o.picked[:1]
            text = "\n".join(o.texts[i] for i in o.shown)
            records += [{"instruction": self.instruction, "input": text,
                         "output": json.dumps([k for k in t if k in set(ids)] or t[:1]), "meta": meta} for t in targets]
        choices = [c.key_sentences for c in example.session if c.key_sentences]
        if choices:
            windows, texts, cut = self.windows([numbered(s) for s in example.sentences], tokenizer, cutoff_len)
            cut_total += cut
            for w in windows:
                ids = {example.sentences[i].id for i in w}
                targets = choices if split == "train" else choices[:1]
                meta = {"meeting": example.key, "level": "session", "span": [min(ids), max(ids)]}
                text = "\n".join(texts[i] for i in w)
                records += [{"instruction": self.session_instruction, "input": text,
                             "output": json.dumps(sorted(k for k in t if k in ids)), "meta": meta} for t in targets]
            self.stats.add(example.key, len(windows), 0)
        self.stats.add(example.key, len(example.topics), cut_total)
        return records

    def merge_meeting(self, key: str, gold: dict[str, Any], items: list[tuple[dict[str, Any], str]],
                      counts: MergeCounts) -> dict[str, Any]:
        topics, session = [], set()
        for meta, pred in items:
            ids, outside = parse_ids(pred, window_ids(meta))
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
        return {"meeting_key": key, "topic_segment_ids": sorted(topics, key=lambda t: t["id"]),
                "key_sentence": [str(i) for i in sorted(session)]}

    def score_meetings(self, golds: dict[str, dict[str, Any]], rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return mug.score_es(golds, rows, {k: sentence_texts(g) for k, g in golds.items()})

    def perfect(self, gold: dict[str, Any]) -> dict[str, Any]:
        topics = gold["topic_segment_ids"]
        first = [c["key_sentence"] for t in topics for c in t["candidate"][:1]]
        session = gold["candidate"][0]["key_sentence"] if gold["candidate"] else [k[0] for k in first]
        return {"meeting_key": gold["meeting_key"], "key_sentence": session,
                "topic_segment_ids": [{"id": t["id"], "key_sentence": t["candidate"][0]["key_sentence"]}
                                      for t in topics if t["candidate"]]}

    def trivial(self, gold: dict[str, Any]) -> dict[str, Any]:
        """Each topic's first sentence as its summary, and all of them as the session summary."""
        starts = topic_starts(gold)
        return {"meeting_key": gold["meeting_key"], "key_sentence": [str(s) for s in starts],
                "topic_segment_ids": [{"id": t["id"], "key_sentence": [str(s)]}
                                      for t, s in zip(gold["topic_segment_ids"], starts, strict=True)]}
