"""Plots for reports (PNG, written atomically). Axis text is English: matplotlib's default fonts lack CJK glyphs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from qwen_recipes.io import atomic_open, read_jsonl  # noqa: E402
from qwen_recipes.metrics.classification import INVALID  # noqa: E402


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png")
    plt.close(fig)
    return path


def confusion(metrics: dict[str, Any], names: dict[str, str], path: Path, title: str | None = None) -> Path:
    cm = metrics["confusion_matrix"]
    matrix = np.array(cm["matrix"])
    rows = [names.get(r, r) for r in cm["rows"]]
    cols = [names.get(c, "invalid" if c == INVALID else c) for c in cm["columns"]]
    fig, ax = plt.subplots(figsize=(1.4 * len(cols) + 1.5, 1.2 * len(rows) + 1.2), dpi=120)
    ax.imshow(matrix, cmap="Blues")
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            light = matrix[i, j] > matrix.max() / 2
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color="white" if light else "black")
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title or f"accuracy {metrics['accuracy']:.1%}, n = {metrics['n']}")
    return _save(fig, path)


def reliability(bins_by_model: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    """Accuracy per confidence bin against the diagonal, one panel per model, with bin counts below."""
    n = len(bins_by_model)
    fig, axes = plt.subplots(2, n, figsize=(4.2 * n, 5.2), dpi=120, squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1]})
    for k, (model, bins) in enumerate(bins_by_model.items()):
        ax, hist = axes[0][k], axes[1][k]
        centers = [(b["low"] + b["high"]) / 2 for b in bins]
        width = bins[0]["high"] - bins[0]["low"]
        acc = [b["accuracy"] if b["accuracy"] is not None else 0 for b in bins]
        ax.bar(centers, acc, width=width * 0.95, color="#4c72b0", edgecolor="white", label="accuracy")
        ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(model)
        ax.set_ylabel("accuracy in bin")
        ax.legend(loc="upper left", fontsize=8)
        hist.bar(centers, [b["count"] for b in bins], width=width * 0.95, color="#999999")
        hist.set_xlim(0, 1)
        hist.set_xlabel("confidence of the predicted label")
        hist.set_ylabel("examples")
    return _save(fig, path)


def robustness(accuracy: dict[str, dict[str, float]], path: Path) -> Path:
    models = list(accuracy)
    sets = list(next(iter(accuracy.values())))
    x = np.arange(len(sets))
    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(1.3 * len(sets) + 2.5, 3.6), dpi=120)
    for k, m in enumerate(models):
        values = [100 * accuracy[m][s] for s in sets]
        bars = ax.bar(x + (k - (len(models) - 1) / 2) * width, values, width, label=m)
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks(x, sets)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 118)  # headroom for the legend above the bars
    ax.legend(fontsize=8, loc="upper right", ncol=len(models))
    ax.set_title("accuracy on perturbed copies of the evaluation split")
    return _save(fig, path)


def training_loss(trainer_log: Path, path: Path) -> Path:
    """Loss per logged step from LLaMA-Factory's trainer_log.jsonl (eval loss too when present)."""
    rows = read_jsonl(trainer_log)
    fig, ax = plt.subplots(figsize=(5.5, 3.4), dpi=120)
    train = [(r["current_steps"], r["loss"]) for r in rows if r.get("loss") is not None]
    if train:
        ax.plot(*zip(*train, strict=True), label="train loss")
    evals = [(r["current_steps"], r["eval_loss"]) for r in rows if r.get("eval_loss") is not None]
    if evals:
        ax.plot(*zip(*evals, strict=True), "o-", label="eval loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    ax.set_title("training loss")
    return _save(fig, path)
