"""Metrics for label outputs, computed on parsed labels (LLaMA-Factory's own accuracy is token-level)."""

from __future__ import annotations

from typing import Any

from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

INVALID = "<invalid>"


def classification_metrics(gold: list[str], pred: list[str | None], labels: list[str]) -> dict[str, Any]:
    """Accuracy, macro P/R/F1, per-class scores, confusion matrix and invalid-output rate.

    An output that does not parse to a label counts as wrong (it is a miss for its gold class) and gets
    its own column in the confusion matrix, so a model that rambles cannot look better by dropping rows.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} references but {len(pred)} predictions")
    if not gold:
        raise ValueError("no examples to score")
    unknown = sorted({g for g in gold if g not in labels})
    if unknown:
        raise ValueError(f"references {unknown} are not among the labels {labels}")
    pred_filled = [p if p is not None else INVALID for p in pred]
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, pred_filled, labels=labels, average=None, zero_division=0
    )
    matrix = confusion_matrix(gold, pred_filled, labels=[*labels, INVALID])[: len(labels)]
    n = len(gold)
    correct = sum(g == p for g, p in zip(gold, pred_filled, strict=True))
    invalid = sum(p == INVALID for p in pred_filled)
    return {
        "n": n,
        "accuracy": correct / n,
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "invalid_rate": invalid / n,
        "invalid": invalid,
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "confusion_matrix": {"rows": labels, "columns": [*labels, INVALID], "matrix": matrix.tolist()},
    }
