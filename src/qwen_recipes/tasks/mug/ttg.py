"""AliMeeting4MUG topic title generation (TTG).

- Source: AliMeeting4MUG (ICASSP 2023 MUG challenge; ModelScope dataset `modelscope/Alimeeting4MUG`): Mandarin
  meetings, 295 train / 65 dev / 82 test1 (labels of test withheld). Reader: `qwen_recipes.readers.alimeeting`.
- License: research use under the dataset terms (CC BY-NC-SA 4.0 on ModelScope); users download it themselves.
- Framing: one gold topic, its sentences tagged with speakers (cut to the token budget) -> a short title. On
  train every annotator's title is a target (one record each); on dev/test all titles are references.
- Metric (official): character-level ROUGE-1/2/L against the ~3 reference titles, average and best reference;
  rank = mean of {avg, max} x {R1, R2, RL}. Dev baselines: R1 31.28, RL 29.43.
"""

from __future__ import annotations

from typing import Any

from qwen_recipes.metrics import mug
from qwen_recipes.readers.alimeeting import Meeting
from qwen_recipes.tasks.mug.base import MeetingTask, MergeCounts, sentence_texts, topic_starts


class MugTopicTitle(MeetingTask):
    name = "mug_ttg"
    short = "ttg"
    headline = ("avg_rouge-1", "max_rouge-1")
    requires = ("topics",)  # the challenge gives the gold topics as part of the input
    instruction = "下面是一次会议中一个议题的讨论记录。请为这个议题拟一个简短的标题（不超过二十个字），只输出标题。"
    max_new_tokens = 48

    def build_records(self, example: Meeting, tokenizer: str | None = None, cutoff_len: int = 2048,
                      split: str = "train", **_: Any) -> list[dict[str, Any]]:
        openings, cut_total = self.topic_openings(  # a title needs the topic's opening, not every window
            example, lambda t: [c.title for c in t.candidates if c.title], lambda s: f"{s.speaker}：{s.text}", tokenizer,
            cutoff_len)
        records = []
        for o in openings:
            meta = {"meeting": example.key, "topic": o.last, "references": o.picked, "fallback": o.sentences[0].text[:20]}
            targets = o.picked if split == "train" else o.picked[:1]
            text = "\n".join(o.texts[i] for i in o.shown)
            records += [{"instruction": self.instruction, "input": text, "output": t, "meta": meta} for t in targets]
        self.stats.add(example.key, len(example.topics), cut_total)
        return records

    def parse(self, text: str) -> str | None:
        title = text.strip().splitlines()[0].strip(" \"'“”《》。") if text.strip() else ""
        return title or None

    def merge_meeting(self, key: str, gold: dict[str, Any], items: list[tuple[dict[str, Any], str]],
                      counts: MergeCounts) -> dict[str, Any]:
        topics = []
        for meta, title in self.answers(items, counts):
            if not title:
                counts.fallbacks += 1
                title = meta.get("fallback") or "会议讨论"
            topics.append({"id": meta["topic"], "title": title})
        return {"meeting_key": key, "topic_segment_ids": sorted(topics, key=lambda t: t["id"])}

    def score_meetings(self, golds: dict[str, dict[str, Any]], rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return mug.score_ttg(golds, rows)

    def perfect(self, gold: dict[str, Any]) -> dict[str, Any]:
        return {"meeting_key": gold["meeting_key"], "topic_segment_ids": [
            {"id": t["id"], "title": t["candidate"][0]["title"]} for t in gold["topic_segment_ids"] if t["candidate"]]}

    def trivial(self, gold: dict[str, Any]) -> dict[str, Any]:
        """Each topic's first sentence, cut to 15 characters."""
        texts = sentence_texts(gold)
        return {"meeting_key": gold["meeting_key"], "topic_segment_ids": [
            {"id": t["id"], "title": texts[s][:15] or "会议"}
            for t, s in zip(gold["topic_segment_ids"], topic_starts(gold), strict=True)]}
