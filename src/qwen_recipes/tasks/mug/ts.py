"""AliMeeting4MUG topic segmentation (TS).

- Source: AliMeeting4MUG (ICASSP 2023 MUG challenge; ModelScope dataset `modelscope/Alimeeting4MUG`): Mandarin
  meetings, 295 train / 65 dev / 82 test1 (labels of test withheld). Reader: `qwen_recipes.readers.alimeeting`.
- License: research use under the dataset terms (CC BY-NC-SA 4.0 on ModelScope); users download it themselves.
- Framing: a window of paragraphs, each shown as "[P<id>]" with <id> the meeting-wide id of its last sentence,
  -> a JSON list of the paragraph ids after which a new topic starts. Windows do not overlap; their answers
  are merged into one boundary list per meeting (the last sentence always closes a topic).
- Needs: paragraph ids in every meeting; topic ids in every meeting of an annotated split (a meeting without them
  is rejected, not trained on "no boundary"); a split where no meeting has topic ids is prediction only (empty
  outputs: the challenge's test files withhold them).
- Rule for a topic end that is not a paragraph end (the official scorer keeps only paragraph-end positions, so such
  a boundary can never be predicted nor scored): it is dropped, the same way in the training target and in
  scoring; `gold.jsonl` keeps the dataset's own ids, which the scorer (ours and the official one) filters alike.
  The report lists each dropped boundary under `windows.topic_ends_not_paragraph_ends`.
- Metric (official): positive-class F1 over paragraph ends pooled across meetings, Pk and WindowDiff (segeval)
  per meeting, averaged; rank = 0.5 F1 + 0.25 (1 - Pk) + 0.25 (1 - WD). Dev baseline (PoNet): F1 25.10.
"""

from __future__ import annotations

import json
from typing import Any

from qwen_recipes.metrics import mug
from qwen_recipes.readers.alimeeting import Meeting
from qwen_recipes.tasks.mug.base import MeetingTask, MergeCounts, collect_ids, n_sentences


class MugTopicSegmentation(MeetingTask):
    name = "mug_ts"
    requires = ("paragraphs",)
    targets = ("topics",)
    short = "ts"
    headline = ("f1", "pk", "windowdiff")
    instruction = ("下面是一次会议的连续若干段发言，每段前标有编号 [P编号]。请找出哪些段落之后会议转入了新的议题，"
                   "只输出这些段落编号组成的 JSON 列表，例如 [45, 98]；没有则输出 []。")

    def build_records(self, example: Meeting, tokenizer: str | None = None, cutoff_len: int = 2048,
                      **_: Any) -> list[dict[str, Any]]:
        paragraphs = example.paragraphs()
        ends = [p[-1].id for p in paragraphs]
        units = [f"[P{p[-1].id}] " + " ".join(f"{s.speaker}：{s.text}" for s in p) for p in paragraphs]
        windows, texts, cut = self.windows(units, tokenizer, cutoff_len)
        boundaries = {t.end for t in example.topics}
        records = []
        for w in windows:
            ids = [ends[i] for i in w]
            gold = [i for i in ids if i in boundaries and i != len(example.sentences)]
            output = json.dumps(gold) if example.topics else ""  # unannotated split: nothing to learn or score
            records.append({"instruction": self.instruction, "input": "\n".join(texts[i] for i in w),
                            "output": output, "meta": {"meeting": example.key, "paragraph_ends": ids}})
        self.stats.add(example.key, len(windows), cut)
        self.stats.note("topic_ends_not_paragraph_ends", example.key, sorted(boundaries - set(ends)))
        return records

    def merge_meeting(self, key: str, gold: dict[str, Any], items: list[tuple[dict[str, Any], str]],
                      counts: MergeCounts) -> dict[str, Any]:
        bounds = collect_ids(items, lambda meta: set(meta["paragraph_ends"]), counts)
        bounds.add(gold["n_sentences"])  # the last sentence always closes a topic
        return {"meeting_key": key, "topic_segment_ids": [{"id": i} for i in sorted(bounds)]}

    def score_meetings(self, golds: dict[str, dict[str, Any]], rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return mug.score_ts(golds, rows, n_sentences(golds), {k: g["paragraph_ends"] for k, g in golds.items()})

    def perfect(self, gold: dict[str, Any]) -> dict[str, Any]:
        return {"meeting_key": gold["meeting_key"], "topic_segment_ids": [{"id": t["id"]} for t in gold["topic_segment_ids"]]}

    def trivial(self, gold: dict[str, Any]) -> dict[str, Any]:
        """Every 4th paragraph end a boundary."""
        ends = set(gold["paragraph_ends"][3::4]) | {gold["n_sentences"]}
        return {"meeting_key": gold["meeting_key"], "topic_segment_ids": [{"id": i} for i in sorted(ends)]}
