"""AliMeeting4MUG action item detection (AID).

- Source: AliMeeting4MUG (ICASSP 2023 MUG challenge; ModelScope dataset `modelscope/Alimeeting4MUG`): Mandarin
  meetings, 295 train / 65 dev / 82 test1 (labels of test withheld). Reader: `qwen_recipes.readers.alimeeting`.
- License: research use under the dataset terms (CC BY-NC-SA 4.0 on ModelScope); users download it themselves.
- Framing: windows of numbered sentences (meeting-wide ids) -> a JSON list of the ids of sentences that assign
  an action item ([] when none). Window answers are merged per meeting.
- Metric (official): sentence-level binary labels pooled over meetings; positive-class precision, recall and
  F1; rank = F1. Dev baseline: F1 69.43 (dev has 222 action items in 65 meetings; 10 meetings have none).
"""

from __future__ import annotations

import json
from typing import Any

from qwen_recipes.metrics import mug
from qwen_recipes.readers.alimeeting import Meeting
from qwen_recipes.tasks.mug.base import (
    MeetingTask,
    MergeCounts,
    collect_ids,
    n_sentences,
    numbered,
    sentence_texts,
    window_ids,
)

CUES = ("负责", "交给", "安排", "落实")  # assignment cues of the trivial baseline


class MugActionItems(MeetingTask):
    name = "mug_aid"
    short = "aid"
    headline = ("precision", "recall", "f1")
    instruction = ("下面是一次会议的部分发言，每句前有编号。请找出布置了具体待办事项（谁去做什么）的句子，"
                   "只输出编号组成的 JSON 列表；没有则输出 []。")

    def build_records(self, example: Meeting, tokenizer: str | None = None, cutoff_len: int = 2048,
                      **_: Any) -> list[dict[str, Any]]:
        windows, texts, cut = self.windows([numbered(s) for s in example.sentences], tokenizer, cutoff_len)
        actions = set(example.action_ids)
        records = []
        for w in windows:
            ids = [example.sentences[i].id for i in w]
            records.append({"instruction": self.instruction, "input": "\n".join(texts[i] for i in w),
                            "output": json.dumps([i for i in ids if i in actions]),
                            "meta": {"meeting": example.key, "span": [ids[0], ids[-1]]}})
        self.stats.add(example.key, len(windows), cut)
        return records

    def merge_meeting(self, key: str, gold: dict[str, Any], items: list[tuple[dict[str, Any], str]],
                      counts: MergeCounts) -> dict[str, Any]:
        actions = collect_ids(items, window_ids, counts)
        return {"meeting_key": key, "action_ids": [{"id": i} for i in sorted(actions)]}

    def score_meetings(self, golds: dict[str, dict[str, Any]], rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return mug.score_aid(golds, rows, n_sentences(golds))

    def perfect(self, gold: dict[str, Any]) -> dict[str, Any]:
        return {"meeting_key": gold["meeting_key"], "action_ids": gold["action_ids"]}

    def trivial(self, gold: dict[str, Any]) -> dict[str, Any]:
        """Sentences with an assignment cue (负责, 交给, 安排, 落实)."""
        return {"meeting_key": gold["meeting_key"],
                "action_ids": [{"id": i} for i, t in sentence_texts(gold).items() if any(c in t for c in CUES)]}
