"""Token-length statistics of written records, so that users pick ``cutoff_len`` from data, not guesswork.

Lengths are counted the way LLaMA-Factory will see the records: its own template (``encode_multiturn``) with
the chosen tokenizer, system prompt and special tokens included. A record longer than ``cutoff_len`` would
be truncated by LLaMA-Factory (it cuts source and target in proportion), so its answer loses its end; in a
multi-turn conversation the exchanges past the budget are left out whole. With ``packing`` / ``neat_packing``
LLaMA-Factory lowers its cutoff by one token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from qwen_recipes.tasks.base import alpaca_messages

PERCENTILES = (50, 90, 95, 99)


def _summary(values: list[int]) -> dict[str, Any]:
    arr = np.array(values) if values else np.zeros(1)
    return {"mean": float(arr.mean()), **{f"p{p}": int(np.percentile(arr, p)) for p in PERCENTILES}, "max": int(arr.max())}


Messages = Callable[[dict[str, Any]], tuple[str, list[dict[str, str]]]]


def exchange_lengths(records: dict[str, list[dict[str, Any]]], tokenizer: str, template: str = "qwen",
                     messages: Messages = alpaca_messages) -> dict[str, list[list[tuple[int, int]]]]:
    """(prompt, answer) token counts of every exchange of every record, per split, as LLaMA-Factory's template
    encodes a conversation (``encode_multiturn``: the system prompt and the template's tokens sit in the first prompt)."""
    from llamafactory.data import get_template_and_fix_tokenizer
    from llamafactory.hparams import DataArguments

    from qwen_recipes.hub import load_tokenizer

    tok = load_tokenizer(tokenizer)
    tmpl = get_template_and_fix_tokenizer(tok, DataArguments(template=template))
    out: dict[str, list[list[tuple[int, int]]]] = {}
    for split, rows in records.items():
        out[split] = []
        for r in rows:
            system, turns = messages(r)
            pairs = tmpl.encode_multiturn(tok, turns, system or None)
            out[split].append([(len(p), len(a)) for p, a in pairs])
    return out


def token_lengths(records: dict[str, list[dict[str, Any]]], tokenizer: str, template: str = "qwen",
                  messages: Messages = alpaca_messages) -> dict[str, list[tuple[int, int]]]:
    """(prompt, answer) token counts of every record, per split; a conversation's are summed over its exchanges."""
    return {split: [(sum(p for p, _ in ex), sum(a for _, a in ex)) for ex in rows]
            for split, rows in exchange_lengths(records, tokenizer, template, messages).items()}


def _cut_exchanges(exchanges: list[tuple[int, int]], cutoff_len: int) -> int:
    """How many exchanges of one record lose tokens to ``cutoff_len``. LLaMA-Factory fills the budget exchange by
    exchange and truncates the one that crosses it; every later exchange is left out whole."""
    total = 0
    for n, (p, a) in enumerate(exchanges):
        if total + p + a > cutoff_len:
            return len(exchanges) - n
        total += p + a
    return 0


def length_report(records: dict[str, list[dict[str, Any]]], tokenizer: str, cutoff_len: int, template: str = "qwen",
                  messages: Messages = alpaca_messages) -> dict[str, Any]:
    """Token lengths per split. Conversations (any record with more than one exchange) add how many exchanges they
    have and how many of those lose tokens at ``cutoff_len``: in a long conversation the last turns go first."""
    out: dict[str, Any] = {"tokenizer": str(tokenizer), "template": template, "cutoff_len": cutoff_len, "splits": {}}
    for split, rows in exchange_lengths(records, tokenizer, template, messages).items():
        pairs = [(sum(p for p, _ in ex), sum(a for _, a in ex)) for ex in rows]
        prompt_lens, answer_lens = [p for p, _ in pairs], [a for _, a in pairs]
        totals = [p + a for p, a in pairs]
        stats = out["splits"][split] = {
            "n": len(pairs),
            "prompt_tokens": _summary(prompt_lens),
            "answer_tokens": _summary(answer_lens),
            "total_tokens": _summary(totals),
            "truncated": sum(t > cutoff_len for t in totals),
            "truncated_share": (sum(t > cutoff_len for t in totals) / len(totals)) if totals else 0.0,
        }
        if any(len(ex) > 1 for ex in rows):
            cut = [_cut_exchanges(ex, cutoff_len) for ex in rows]
            stats["exchanges"] = {**_summary([len(ex) for ex in rows]), "total": sum(len(ex) for ex in rows),
                                  "cut_at_cutoff": sum(cut)}
    return out
