"""AliMeeting4MUG keyphrase extraction (KPE).

- Source: AliMeeting4MUG (ICASSP 2023 MUG challenge; ModelScope dataset `modelscope/Alimeeting4MUG`): Mandarin
  meetings, 295 train / 65 dev / 82 test1 (labels of test withheld). Reader: `qwen_recipes.readers.alimeeting`.
- License: research use under the dataset terms (CC BY-NC-SA 4.0 on ModelScope); users download it themselves.
- Framing: windows of the meeting's sentences -> a JSON list of keyphrases, most important first. Targets are
  the annotators' keywords that occur in the window (most annotators first). Window answers are merged per
  meeting: ranked by how many windows named a phrase, then by first appearance, de-duplicated.
- Metric (official): gold = union of all annotators' keywords; top 10/15/20 predictions; exact F1 (whole
  phrases) and partial F1 (longest common substring >= 2 characters); rank = mean of the six. Dev baselines:
  exact/partial F1 @10 35.9/47.7, @15 40.1/52.2, @20 39.4/51.1.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from qwen_recipes.metrics import mug
from qwen_recipes.readers.alimeeting import Meeting
from qwen_recipes.tasks.mug.base import MeetingTask, MergeCounts, sentence_texts

FALLBACK = "会议"  # the scorer needs a phrase; the generic word "meeting" scores ~0, visibly


def merge_keyphrases(per_window: list[list[str]]) -> list[str]:
    """Phrases named by more windows first, then in order of first appearance; exact duplicates removed."""
    votes: Counter[str] = Counter()
    first: dict[str, int] = {}
    for w, phrases in enumerate(per_window):
        for rank, p in enumerate(dict.fromkeys(x.strip() for x in phrases if x.strip())):
            votes[p] += 1
            first.setdefault(p, w * 1000 + rank)
    return sorted(votes, key=lambda p: (-votes[p], first[p]))


class MugKeyphrase(MeetingTask):
    name = "mug_kpe"
    short = "kpe"
    headline = ("exact_f1@10", "partial_f1@10")
    instruction = "下面是一次会议的部分发言。请提取最能代表讨论内容的关键词（最多十个，重要的在前），只输出 JSON 字符串列表。"
    max_new_tokens = 96

    def build_records(self, example: Meeting, tokenizer: str | None = None, cutoff_len: int = 2048,
                      **_: Any) -> list[dict[str, Any]]:
        windows, texts, cut = self.windows([f"{s.speaker}：{s.text}" for s in example.sentences], tokenizer, cutoff_len)
        votes = Counter(w for c in example.session for w in dict.fromkeys(c.keywords))
        records = []
        for w in windows:
            text = "\n".join(texts[i] for i in w)
            present = sorted((k for k in votes if k in text), key=lambda k: -votes[k])
            records.append({"instruction": self.instruction, "input": text, "output": json.dumps(present, ensure_ascii=False),
                            "meta": {"meeting": example.key, "span": [example.sentences[w[0]].id, example.sentences[w[-1]].id]}})
        self.stats.add(example.key, len(windows), cut)
        return records

    def parse(self, text: str) -> list[str] | None:
        text = text.strip()
        try:
            value = json.loads(text)
            if isinstance(value, list):
                return [str(v).strip() for v in value if str(v).strip()]
        except json.JSONDecodeError:
            pass
        flat = text.replace("，", ",").replace("、", ",").replace("\n", ",")
        parts = [p.strip(" \"'“”[]-*0123456789.、") for p in flat.split(",")]
        parts = [p for p in parts if p]
        return parts or None

    def merge_meeting(self, key: str, gold: dict[str, Any], items: list[tuple[dict[str, Any], str]],
                      counts: MergeCounts) -> dict[str, Any]:
        words = merge_keyphrases([phrases or [] for _, phrases in self.answers(items, counts)])
        if not words:
            counts.fallbacks += 1
            words = [FALLBACK]
        return {"meeting_key": key, "key_word": words}

    def score_meetings(self, golds: dict[str, dict[str, Any]], rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return mug.score_kpe(golds, rows)

    def perfect(self, gold: dict[str, Any]) -> dict[str, Any]:
        votes = Counter(w for c in gold["candidate"] for w in dict.fromkeys(c["key_word"]))
        return {"meeting_key": gold["meeting_key"], "key_word": [w for w, _ in votes.most_common()] or [FALLBACK]}

    def trivial(self, gold: dict[str, Any]) -> dict[str, Any]:
        """The 20 most frequent jieba words of two characters or more."""
        import jieba

        words = Counter(w for t in sentence_texts(gold).values() for w in jieba.cut(t) if len(w) >= 2)
        return {"meeting_key": gold["meeting_key"], "key_word": [w for w, _ in words.most_common(20)] or [FALLBACK]}
