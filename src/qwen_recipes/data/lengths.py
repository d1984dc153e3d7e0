"""Token-length statistics of written records, so that users pick ``cutoff_len`` from data, not guesswork.

Lengths are counted the way LLaMA-Factory will see the records: its own template (``encode_oneturn``) with
the chosen tokenizer, system prompt and special tokens included. A record longer than ``cutoff_len`` would
be truncated by LLaMA-Factory (it cuts source and target in proportion), so its answer loses its end.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PERCENTILES = (50, 90, 95, 99)


def _summary(values: list[int]) -> dict[str, Any]:
    arr = np.array(values) if values else np.zeros(1)
    return {"mean": float(arr.mean()), **{f"p{p}": int(np.percentile(arr, p)) for p in PERCENTILES}, "max": int(arr.max())}


def token_lengths(records: dict[str, list[dict[str, str]]], tokenizer: str, template: str = "qwen",
                  ) -> dict[str, list[tuple[int, int]]]:
    """(prompt, answer) token counts of every record, per split, as LLaMA-Factory's template encodes them."""
    from llamafactory.data import get_template_and_fix_tokenizer
    from llamafactory.hparams import DataArguments

    from qwen_recipes.hub import load_tokenizer

    tok = load_tokenizer(tokenizer)
    tmpl = get_template_and_fix_tokenizer(tok, DataArguments(template=template))
    out: dict[str, list[tuple[int, int]]] = {}
    for split, rows in records.items():
        out[split] = []
        for r in rows:
            user = "\n".join(x for x in (r["instruction"], r.get("input", "")) if x)
            p, a = tmpl.encode_oneturn(tok, [{"role": "user", "content": user}, {"role": "assistant", "content": r["output"]}])
            out[split].append((len(p), len(a)))
    return out


def length_report(records: dict[str, list[dict[str, str]]], tokenizer: str, cutoff_len: int, template: str = "qwen",
                  ) -> dict[str, Any]:
    out: dict[str, Any] = {"tokenizer": str(tokenizer), "template": template, "cutoff_len": cutoff_len, "splits": {}}
    for split, pairs in token_lengths(records, tokenizer, template).items():
        prompt_lens, answer_lens = [p for p, _ in pairs], [a for _, a in pairs]
        totals = [p + a for p, a in pairs]
        out["splits"][split] = {
            "n": len(pairs),
            "prompt_tokens": _summary(prompt_lens),
            "answer_tokens": _summary(answer_lens),
            "total_tokens": _summary(totals),
            "truncated": sum(t > cutoff_len for t in totals),
            "truncated_share": (sum(t > cutoff_len for t in totals) / len(totals)) if totals else 0.0,
        }
    return out
