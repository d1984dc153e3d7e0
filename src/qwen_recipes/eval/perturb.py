"""Robustness sets: seeded perturbations of an evaluation split, each a list of Alpaca records.

- ``punctuation``: every punctuation mark is dropped, or swapped between its full- and half-width form.
- ``typos``: about ``rate`` of the CJK characters get an edit: insert (a character from the same text),
  delete, or swap with the next CJK character.
- ``traditional``: simplified -> traditional Chinese with OpenCC (s2t), as users in Taiwan and Hong Kong write.
- ``truncate<N>``: the first N characters only (reviews cut by a length limit).
Labels never change: a robust model keeps its answer.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

FULL_TO_HALF = {"，": ",", "。": ".", "！": "!", "？": "?", "；": ";", "：": ":", "（": "(", "）": ")", "“": '"', "”": '"'}
HALF_TO_FULL = {v: k for k, v in FULL_TO_HALF.items() if k not in "“"}
PUNCT = set(FULL_TO_HALF) | set(HALF_TO_FULL) | set("、…—·「」《》【】")
CJK = re.compile(r"[\u4e00-\u9fff]")


def punctuation(text: str, rng: random.Random) -> str:
    out = []
    for ch in text:
        if ch in PUNCT:
            if rng.random() < 0.5:
                continue
            ch = FULL_TO_HALF.get(ch) or HALF_TO_FULL.get(ch) or ch
        out.append(ch)
    return "".join(out)


def typos(text: str, rng: random.Random, rate: float = 0.1) -> str:
    chars = list(text)
    positions = [i for i, c in enumerate(chars) if CJK.match(c)]
    if not positions:
        return text
    pool = [chars[i] for i in positions]
    for _ in range(max(1, round(rate * len(positions)))):
        positions = [i for i, c in enumerate(chars) if CJK.match(c)]
        if not positions:
            break
        i = rng.choice(positions)
        op = rng.choice(("insert", "delete", "swap"))
        if op == "insert":
            chars.insert(i, rng.choice(pool))
        elif op == "delete" and len(positions) > 1:
            del chars[i]
        elif op == "swap" and i + 1 < len(chars) and CJK.match(chars[i + 1]):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def traditional(text: str, _rng: random.Random) -> str:
    return _opencc().convert(text)


def _opencc():
    global _CONVERTER
    if _CONVERTER is None:
        import opencc

        _CONVERTER = opencc.OpenCC("s2t")
    return _CONVERTER


_CONVERTER = None


def truncate(n: int) -> Callable[[str, random.Random], str]:
    return lambda text, _rng: text[:n]


def perturbation_sets(records: list[dict[str, str]], seed: int = 0, truncate_to: int = 32) -> dict[str, list[dict[str, str]]]:
    """name -> perturbed copy of ``records`` (same order, same outputs); deterministic for a seed."""
    makers: dict[str, Callable[[str, random.Random], str]] = {
        "punctuation": punctuation, "typos": typos, "traditional": traditional, f"truncate{truncate_to}": truncate(truncate_to),
    }
    sets = {}
    for name, fn in makers.items():
        rng = random.Random(f"{seed}-{name}")
        sets[name] = [{**r, "input": fn(r["input"], rng) or r["input"]} for r in records]
    return sets
