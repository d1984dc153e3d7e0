"""Probability metrics for label scores: ROC-AUC, expected calibration error, reliability bins."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> list[dict[str, Any]]:
    """Equal-width bins over the confidence of the predicted label (the usual ECE / reliability-diagram binning)."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Each bin is (low, high]; a confidence of exactly 0 joins the first bin.
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        sel = index == b
        count = int(sel.sum())
        bins.append({
            "low": float(edges[b]), "high": float(edges[b + 1]), "count": count,
            "accuracy": float(correct[sel].mean()) if count else None,
            "confidence": float(confidence[sel].mean()) if count else None,
        })
    return bins


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> float:
    n = len(confidence)
    return float(sum(b["count"] / n * abs(b["accuracy"] - b["confidence"])
                     for b in reliability_bins(confidence, correct, n_bins) if b["count"]))


def probability_metrics(probs: np.ndarray, gold_index: np.ndarray, n_bins: int = 10) -> dict[str, Any]:
    """``probs``: n x labels (rows sum to 1); ``gold_index``: index of the gold label per row.
    AUC is for the first label (positive) against the rest; None when only one class is present."""
    pred = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    correct = (pred == gold_index).astype(float)
    positive = (gold_index == 0).astype(int)
    auc = float(roc_auc_score(positive, probs[:, 0])) if 0 < positive.sum() < len(positive) else None
    return {
        "roc_auc": auc,
        "ece": expected_calibration_error(confidence, correct, n_bins),
        "mean_confidence": float(confidence.mean()),
        "reliability": reliability_bins(confidence, correct, n_bins),
    }
