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

from qwen_recipes.readers.alimeeting import Meeting
from qwen_recipes.tasks.mug_base import MeetingTask, counter, pack


class MugTopicTitle(MeetingTask):
    name = "mug_ttg"
    requires = ("topics",)  # the challenge gives the gold topics as part of the input
    instruction = "下面是一次会议中一个议题的讨论记录。请为这个议题拟一个简短的标题（不超过二十个字），只输出标题。"
    max_new_tokens = 48

    def build_records(self, example: Meeting, tokenizer: str | None = None, cutoff_len: int = 2048,
                      split: str = "train", **_: Any) -> list[dict[str, Any]]:
        count = counter(tokenizer)
        budget = self.budget(cutoff_len, count)
        records, cut_total = [], 0
        for (first, last), topic in zip(example.topic_spans(), example.topics, strict=True):
            titles = [c.title for c in topic.candidates if c.title]
            if not titles:
                continue
            lines = [f"{s.speaker}：{s.text}" for s in example.sentences[first - 1: last]]
            windows, texts, cut = pack(lines, budget, count)
            text = "\n".join(texts[i] for i in windows[0])  # a title needs the topic's opening, not every window
            cut_total += cut + sum(len(texts[i]) for w in windows[1:] for i in w)
            meta = {"meeting": example.key, "topic": last, "references": titles,
                    "fallback": example.sentences[first - 1].text[:20]}
            targets = titles if split == "train" else titles[:1]
            records += [{"instruction": self.instruction, "input": text, "output": t, "meta": meta} for t in targets]
        self.stats.add(example.key, len(example.topics), cut_total)
        return records

    def parse(self, text: str) -> str | None:
        title = text.strip().splitlines()[0].strip(" \"'“”《》。") if text.strip() else ""
        return title or None
