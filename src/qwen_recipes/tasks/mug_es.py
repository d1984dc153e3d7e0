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

from qwen_recipes.readers.alimeeting import Meeting
from qwen_recipes.tasks.mug_base import MeetingTask, counter, numbered, pack


class MugExtractiveSummary(MeetingTask):
    name = "mug_es"
    requires = ("topics",)  # the challenge gives the gold topics as part of the input
    instruction = ("下面是一次会议中一个议题的发言，每句前有编号。请选出最能概括这个议题的关键句（通常两到三句），"
                   "只输出编号组成的 JSON 列表，例如 [12, 15]。")
    session_instruction = ("下面是一次会议的部分发言，每句前有编号。请选出其中最能概括整场会议内容的关键句，"
                           "只输出编号组成的 JSON 列表，例如 [12, 15]；没有则输出 []。")

    def build_records(self, example: Meeting, tokenizer: str | None = None, cutoff_len: int = 2048,
                      split: str = "train", **_: Any) -> list[dict[str, Any]]:
        count = counter(tokenizer)
        budget = self.budget(cutoff_len, count)
        records, cut_total = [], 0
        for (first, last), topic in zip(example.topic_spans(), example.topics, strict=True):
            choices = [c.key_sentences for c in topic.candidates if c.key_sentences]
            if not choices:
                continue
            sents = example.sentences[first - 1: last]
            windows, texts, cut = pack([numbered(s) for s in sents], budget, count)
            shown = windows[0]
            cut_total += cut + sum(len(texts[i]) for w in windows[1:] for i in w)
            ids = [sents[i].id for i in shown]
            meta = {"meeting": example.key, "level": "topic", "topic": last, "span": [ids[0], ids[-1]]}
            targets = choices if split == "train" else choices[:1]
            text = "\n".join(texts[i] for i in shown)
            records += [{"instruction": self.instruction, "input": text,
                         "output": json.dumps([k for k in t if k in set(ids)] or t[:1]), "meta": meta} for t in targets]
        choices = [c.key_sentences for c in example.session if c.key_sentences]
        if choices:
            windows, texts, cut = pack([numbered(s) for s in example.sentences], budget, count)
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

