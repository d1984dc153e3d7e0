"""Bring your own data: the user's own conversations, in Alpaca or ShareGPT layout (two tasks, ``alpaca`` and
``sharegpt``).

- Source: whatever the user brings, e.g. the Chinese mental-health counseling ShareGPT sets that ms-swift's
  Qwen2.5-7B recipe trains on; one JSON array or JSON Lines file, or a folder of them (files named train / dev / test
  keep their split). Readers: ``qwen_recipes.readers.alpaca`` and ``qwen_recipes.readers.sharegpt``.
- License: the user's. Nothing of it is shipped; the samples under ``dataset/samples/{alpaca,sharegpt}`` are the
  project's own text.
- Fields: Alpaca ``instruction``, ``input``, ``output``, optional ``system`` and ``history``; ShareGPT turns under
  ``conversations`` (``from``/``value``: human, gpt, system) or ``messages`` (``role``/``content``: user, assistant,
  system), optional ``system`` field.
- Framing: none of the project's. The prompt is the user's data: records are written back in their own layout (Alpaca
  stays Alpaca, so the project's Alpaca-only tools read it; ShareGPT is written with one tag style) with the system
  prompt they carry; a record without one gets LLaMA-Factory's template default (Qwen's). Every assistant turn of a
  conversation is trained (LLaMA-Factory's default, ``mask_history: false``); prediction answers the last user turn
  with the earlier turns as history. Split by conversation (seeded 80/10/10 when the input has no split), never one
  conversation in two splits; exact copies (same system prompt and turns, whatever the tags) are dropped first.
- Metric: LLaMA-Factory's text metric (jieba + rouge-chinese ROUGE-1/2/L, character BLEU-4, method-3 smoothing, x100)
  on the last answer, Distinct-1/2 and length ratio; English word tokenisation when the references are not Chinese.
  Counseling quality needs a judge or people: these numbers only say how close the answers are to the user's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from qwen_recipes.readers.conversations import Conversation
from qwen_recipes.tasks.base import ALPACA_COLUMNS, Task

# The one ShareGPT tag style written, whatever the input used: the entry in dataset_info.json names these tags.
SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "system_tag": "system"}
_ROLE_TAG = {"user": SHAREGPT_TAGS["user_tag"], "assistant": SHAREGPT_TAGS["assistant_tag"]}
_TAG_ROLE = {tag: role for role, tag in _ROLE_TAG.items()}


def _language(texts: list[str]) -> str:
    """"zh" when CJK characters outnumber Latin letters in the references, else "en" (word tokenisation)."""
    joined = "".join(texts)
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in joined)
    latin = sum(ch.isascii() and ch.isalpha() for ch in joined)
    return "zh" if cjk >= latin else "en"


class _Conversations(Task):
    kind = "generation"
    dedupe_by = "key"
    instruction = ""
    prompt_from_data = True
    max_new_tokens = 1024  # counseling answers run long; the user's own data may be longer still

    def parse(self, text: str) -> str | None:
        text = text.strip()
        return text or None

    def score(self, predictions: list[str], references: list[str], **_: Any) -> dict[str, Any]:
        from qwen_recipes.metrics.generation import generation_metrics

        preds, refs = [p.strip() for p in predictions], [r.strip() for r in references]
        language = _language(refs)
        metrics = generation_metrics(preds, refs, language=language)
        metrics["empty_outputs"] = sum(not p for p in preds)
        metrics["language"] = language
        return metrics


class Alpaca(_Conversations):
    name = "alpaca"
    source = "alpaca"
    columns: ClassVar[dict[str, str]] = {**ALPACA_COLUMNS, "system": "system", "history": "history"}

    def build_record(self, example: Conversation) -> dict[str, Any]:
        instruction, query = example.alpaca or (example.turns[-2][1], "")
        return {"instruction": instruction, "input": query, "output": example.turns[-1][1], "system": example.system,
                "history": [list(pair) for pair in example.exchanges[:-1]]}

    def dataset_info(self) -> dict[str, dict[str, Any]]:
        return {self.dataset_name(split): {"file_name": self.data_file(split), "formatting": "alpaca",
                                           "columns": dict(self.columns)} for split in self.splits}


class ShareGPT(_Conversations):
    name = "sharegpt"
    source = "sharegpt"

    def build_record(self, example: Conversation) -> dict[str, Any]:
        return {"conversations": [{"from": _ROLE_TAG[role], "value": text} for role, text in example.turns],
                "system": example.system}

    def messages(self, record: dict[str, Any]) -> tuple[str, list[dict[str, str]]]:
        return record.get("system") or "", [{"role": _TAG_ROLE[t["from"]], "content": t["value"]}
                                            for t in record["conversations"]]

    def dataset_info(self) -> dict[str, dict[str, Any]]:
        return {self.dataset_name(split): {"file_name": self.data_file(split), "formatting": "sharegpt",
                                           "columns": {"messages": "conversations", "system": "system"},
                                           "tags": dict(SHAREGPT_TAGS)} for split in self.splits}
