"""Cleaning and splitting for labeled text: duplicates, conflicting labels, leakage, seeded splits.

Every record that is not kept is returned as a ``Rejected`` with its reason, so the caller can show
that read = kept + dropped for each part.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from qwen_recipes.readers.common import Rejected

R = TypeVar("R")


def text_key(text: str) -> str:
    """Two reviews are the same text when they differ only in whitespace."""
    return " ".join(text.split())


def dedupe(
    records: Sequence[R], key: Callable[[R], Hashable], label: Callable[[R], Any], what: str = "text"
) -> tuple[list[R], list[Rejected]]:
    """Keep the first copy of each key; drop every copy of a key whose copies disagree on ``label``.

    Reviews are keyed by text and ``label`` is the class. Questions and cases are keyed by id and ``label`` is their
    whole content (``what="id"``): the same id with other content is a conflict, never a duplicate. Unlabeled
    records (label None) are only de-duplicated.
    """
    groups: dict[Hashable, list[R]] = defaultdict(list)
    for rec in records:
        groups[key(rec)].append(rec)
    kept: list[R] = []
    dropped: list[Rejected] = []
    for rec in records:
        group = groups[key(rec)]
        labels = {label(r) for r in group}
        first = group[0]
        if len(labels) > 1:
            lines = ", ".join(str(r.line) for r in group)
            reason = (f"same text with labels {sorted(map(str, labels))} (lines {lines})" if what == "text"
                      else f"same id with different content (records {lines})")
            dropped.append(_drop(rec, "conflict", reason))
        elif rec is not first:
            where = f"line {first.line}" if first.path == rec.path else f"{first.path}:{first.line}"
            dropped.append(_drop(rec, "duplicate", f"duplicate of {where}"))
        else:
            kept.append(rec)
    return kept, dropped


def remove_leaks(
    records: Sequence[R], seen: dict[Hashable, tuple[str, R]], key: Callable[[R], Hashable]
) -> tuple[list[R], list[Rejected]]:
    """Drop evaluation records whose text already occurs in an earlier split (``seen``: key -> (split, record))."""
    kept, dropped = [], []
    for rec in records:
        hit = seen.get(key(rec))
        if hit is None:
            kept.append(rec)
        else:
            split, other = hit
            dropped.append(_drop(rec, "leak", f"also in {split} ({other.path}:{other.line})"))
    return kept, dropped


def stratified_split(
    records: Sequence[R], ratios: dict[str, float], label: Callable[[R], Any], seed: int
) -> dict[str, list[R]]:
    """Seeded split that keeps the label mix in every part (sources such as htl_all are sorted by label)."""
    if abs(sum(ratios.values()) - 1.0) > 1e-6 or any(r < 0 for r in ratios.values()):
        raise ValueError(f"split ratios must be non-negative and sum to 1, got {ratios}")
    by_label: dict[Any, list[R]] = defaultdict(list)
    for rec in records:
        by_label[label(rec)].append(rec)
    out: dict[str, list[R]] = {name: [] for name in ratios}
    rng = random.Random(seed)
    for lab in sorted(by_label, key=str):
        group = list(by_label[lab])
        rng.shuffle(group)
        start = 0
        names = list(ratios)
        for i, name in enumerate(names):
            end = len(group) if i == len(names) - 1 else start + round(ratios[name] * len(group))
            out[name].extend(group[start:end])
            start = end
    for name in out:
        rng.shuffle(out[name])
    return out


def kfold_split(records: Sequence[R], k: int, fold: int, seed: int) -> dict[str, list[R]]:
    """Seeded k-fold: fold ``fold`` is test, the next fold is dev, the rest is train (for small test-only sets)."""
    if k < 3 or not 0 <= fold < k:
        raise ValueError(f"k-fold needs k >= 3 and 0 <= fold < k, got k={k}, fold={fold}")
    order = list(records)
    random.Random(seed).shuffle(order)
    folds = [order[i::k] for i in range(k)]
    dev = (fold + 1) % k
    return {"train": [r for i, f in enumerate(folds) if i not in (fold, dev) for r in f], "dev": folds[dev], "test": folds[fold]}


def _drop(rec: Any, reason: str, detail: str) -> Rejected:
    return Rejected(rec.path, rec.line, f"{reason}: {detail}", None, getattr(rec, "text", ""))
