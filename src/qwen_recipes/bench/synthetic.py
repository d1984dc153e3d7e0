"""Length-controlled synthetic SFT data for benchmarks.

Speed depends on how many tokens a batch holds and how they split into sequences, not on what they say, so the
benchmark writes Alpaca records whose token lengths (prompt + answer, in the benchmark model's tokenizer and
LLaMA-Factory's template) are drawn uniformly from a range: ~1k tokens for the stock comparison at cutoff 2048,
3-8k for Emotion Summary at cutoff 8192. The text is random characters each of which is one token, so lengths
land close to their targets; the actual lengths are measured and returned.

A suite may instead name a task and its raw input (``data: {task: psyqa, input: [paths]}``): where one of the
paths exists, the benchmark trains on that source's real records (preprocessed by the project, repeated to the
number of rows needed) and the results say so (``data.kind``); otherwise it falls back to synthetic lengths.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from qwen_recipes.io import write_json

ANSWER_SHARE = 0.25  # counselling and summary answers are a quarter or so of the record


def single_token_chars(tokenizer: Any) -> list[str]:
    """CJK characters the tokenizer keeps as exactly one token."""
    chars = []
    for token_id in range(len(tokenizer)):
        text = tokenizer.decode([token_id])
        if len(text) == 1 and "\u4e00" <= text <= "\u9fff" and tokenizer.encode(text, add_special_tokens=False) == [token_id]:
            chars.append(text)
    if len(chars) < 50:
        raise ValueError(f"tokenizer has only {len(chars)} single-token CJK characters; cannot make benchmark text")
    return chars


def write_dataset(tokenizer: Any, out_dir: str | Path, name: str, count: int, min_tokens: int, max_tokens: int,
                  seed: int = 0) -> dict[str, Any]:
    """Write ``<out_dir>/<name>.json`` and its ``dataset_info.json`` entry; returns length statistics."""
    rng = random.Random(seed)
    chars = single_token_chars(tokenizer)
    overhead = 30  # template tokens around the two turns (ChatML system + user + assistant headers)
    rows = []
    for _ in range(count):
        total = max(8, rng.randint(min_tokens, max_tokens) - overhead)
        answer = max(1, int(total * ANSWER_SHARE))
        rows.append({
            "instruction": "".join(rng.choices(chars, k=total - answer)),
            "input": "",
            "output": "".join(rng.choices(chars, k=answer)),
        })
    lengths = [len(tokenizer.encode(r["instruction"] + r["output"], add_special_tokens=False)) + overhead for r in rows]
    out_dir = Path(out_dir)
    _register(out_dir, name, rows)
    return {"kind": "synthetic", "records": count, "mean_tokens": sum(lengths) / count, "min_tokens": min(lengths),
            "max_tokens": max(lengths)}


def _register(out_dir: Path, name: str, rows: list[dict[str, str]]) -> None:
    write_json(out_dir / f"{name}.json", rows)
    info_path = out_dir / "dataset_info.json"
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.exists() else {}
    info[name] = {"file_name": f"{name}.json"}
    write_json(info_path, info)


def write_real_dataset(tokenizer: Any, out_dir: str | Path, name: str, count: int, task: str, source: str | Path,
                       ) -> dict[str, Any]:
    """``count`` rows of ``task``'s real train records from ``source`` (repeated in order), registered as ``name``."""
    import tempfile

    from qwen_recipes.data.prepare import prepare
    from qwen_recipes.io import read_json

    with tempfile.TemporaryDirectory() as tmp:
        train = read_json(prepare(task, source, tmp, log=lambda _: None).outputs["train"])
    rows = [train[i % len(train)] for i in range(count)]
    lengths = [len(tokenizer.encode("\n".join(x for x in (r["instruction"], r["input"]) if x) + r["output"],
                                    add_special_tokens=False)) + 30 for r in train]
    _register(Path(out_dir), name, rows)
    return {"kind": "real records", "task": task, "source": str(source), "records": count, "distinct": len(train),
            "mean_tokens": sum(lengths) / len(lengths), "min_tokens": min(lengths), "max_tokens": max(lengths)}
