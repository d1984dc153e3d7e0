"""PsyQA: long-form Chinese psychological counseling answers (two tasks).

- Source: PsyQA (Sun et al., ACL Findings 2021, thu-coai/PsyQA): ~22K questions / 56K answers from the Yixinli
  community; a 100-question example file is public, the full release needs a signed agreement (pass its path).
- License: research use under the authors' agreement; not redistributed here.
- Fields: question, description, keywords (one comma-separated string), answers[] with answer_text, has_label
  and labels_sequence (character spans of seven support strategies). Reader: ``qwen_recipes.readers.psyqa``.
- Framing: ``psyqa``: question + description + keywords -> an answer (``answers=all``: every answer a target;
  ``answers=labeled``: the one strategy-labeled answer per question). ``psyqa_strategy``: the labeled answers,
  rendered with a strategy marker before each span (e.g. ``[解释]``), so a model learns to plan its support
  strategies; markers are stripped before text metrics.
- Metric: LLaMA-Factory's text metric (jieba + rouge-chinese ROUGE-1/2/L, character BLEU-4, method-3
  smoothing, x100, averaged), Distinct-1/2 and length ratio, as in the paper's line of work (BLEU, ROUGE-L,
  Distinct-n; human ratings are out of scope). Split by question id, never one question in two splits.
"""

from __future__ import annotations

import re
from typing import Any

from qwen_recipes.readers.psyqa import STRATEGIES, Question
from qwen_recipes.tasks.base import Task

STRATEGY_ZH = {
    "Information": "信息", "Direct Guidance": "直接指导", "Approval and Reassurance": "认可与安慰", "Restatement": "复述",
    "Interpretation": "解释", "Self-disclosure": "自我表露", "Others": "其他",
}
MARKER = re.compile(r"\[(" + "|".join(STRATEGY_ZH[s] for s in STRATEGIES) + r")\]")


def render_question(q: Question) -> str:
    parts = [f"问题：{q.question}"]
    if q.description:
        parts.append(f"描述：{q.description}")
    if q.keywords:
        parts.append(f"关键词：{'，'.join(q.keywords)}")
    return "\n".join(parts)


def render_strategies(text: str, spans) -> str:
    """Answer text with a marker where each strategy starts; consecutive spans of one strategy share a marker,
    and text outside any span stays with the span before it (nothing of the answer is lost)."""
    out, last_type, pos = [], None, 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start > pos:
            out.append(text[pos: span.start])
        if span.type != last_type:
            out.append(f"[{STRATEGY_ZH[span.type]}]")
            last_type = span.type
        out.append(text[max(span.start, pos): span.end])
        pos = max(pos, span.end)
    out.append(text[pos:])
    return "".join(out)


def strip_markers(text: str) -> str:
    return MARKER.sub("", text)


class _PsyQABase(Task):
    kind = "generation"
    source = "psyqa"
    dedupe_by = "key"
    max_new_tokens = 1024  # answers run to ~900 tokens (p95) on the public example

    def parse(self, text: str) -> str | None:
        text = text.strip()
        return text or None

    def score(self, predictions: list[str], references: list[str], **_: Any) -> dict[str, Any]:
        from qwen_recipes.metrics.generation import generation_metrics

        preds = [strip_markers(p).strip() for p in predictions]
        refs = [strip_markers(r).strip() for r in references]
        metrics = generation_metrics(preds, refs, language="zh")
        metrics["empty_outputs"] = sum(not p for p in preds)
        return metrics


class PsyQA(_PsyQABase):
    name = "psyqa"
    instruction = "你是一名心理咨询师。请阅读来访者的提问，给出温暖、专业、具体的回答。"

    def build_record(self, example: Question) -> dict[str, str]:
        return self.build_records(example)[0]

    def build_records(self, example: Question, answers: str = "all", **_: Any) -> list[dict[str, str]]:
        if answers not in ("all", "labeled"):
            raise ValueError(f"answers must be 'all' or 'labeled', got {answers!r}")
        chosen = example.answers if answers == "all" else [a for a in example.answers if a.has_label]
        return [{"instruction": self.instruction, "input": render_question(example), "output": a.text} for a in chosen]


class PsyQAStrategy(_PsyQABase):
    name = "psyqa_strategy"
    instruction = (
        "你是一名心理咨询师。请阅读来访者的提问并回答；在每一段之前用方括号标出所用的支持策略，"
        "可选：[信息] [直接指导] [认可与安慰] [复述] [解释] [自我表露] [其他]。"
    )

    def build_record(self, example: Question) -> dict[str, str]:
        return self.build_records(example)[0]

    def build_records(self, example: Question, **_: Any) -> list[dict[str, str]]:
        return [{"instruction": self.instruction, "input": render_question(example),
                 "output": render_strategies(a.text, a.spans)} for a in example.answers if a.has_label and a.spans]

    def score(self, predictions: list[str], references: list[str], **_: Any) -> dict[str, Any]:
        metrics = super().score(predictions, references)
        metrics["marker_rate"] = sum(bool(MARKER.search(p)) for p in predictions) / max(1, len(predictions))
        return metrics
