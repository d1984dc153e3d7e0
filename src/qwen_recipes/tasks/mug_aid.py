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

from qwen_recipes.readers.alimeeting import Meeting
from qwen_recipes.tasks.mug_base import MeetingTask, counter, numbered, pack


class MugActionItems(MeetingTask):
    name = "mug_aid"
    instruction = ("下面是一次会议的部分发言，每句前有编号。请找出布置了具体待办事项（谁去做什么）的句子，"
                   "只输出编号组成的 JSON 列表；没有则输出 []。")

    def build_records(self, example: Meeting, tokenizer: str | None = None, cutoff_len: int = 2048,
                      **_: Any) -> list[dict[str, Any]]:
        count = counter(tokenizer)
        windows, texts, cut = pack([numbered(s) for s in example.sentences], self.budget(cutoff_len, count), count)
        actions = set(example.action_ids)
        records = []
        for w in windows:
            ids = [example.sentences[i].id for i in w]
            records.append({"instruction": self.instruction, "input": "\n".join(texts[i] for i in w),
                            "output": json.dumps([i for i in ids if i in actions]),
                            "meta": {"meeting": example.key, "span": [ids[0], ids[-1]]}})
        self.stats.add(example.key, len(windows), cut)
        return records

