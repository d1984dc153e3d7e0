"""Reports for classification tasks: metrics.json, report.md and a confusion-matrix PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qwen_recipes.eval import plots
from qwen_recipes.io import markdown_table, write_json, write_text


def _table(header: list[str], rows: list[list[Any]]) -> str:
    return "\n".join(markdown_table(header, rows))


def write_classification_report(
    out_dir: str | Path,
    *,
    title: str,
    source: str,
    metrics: dict[str, Any],
    names: dict[str, str],
    errors: list[dict[str, str]],
    references: list[tuple[str, str]],
) -> dict[str, Path]:
    """Write metrics.json, report.md and confusion_matrix.png into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    paths = {
        "metrics": write_json(out_dir / "metrics.json", metrics),
        "confusion_matrix": plots.confusion(metrics, names, out_dir / "confusion_matrix.png"),
    }
    pct = lambda x: f"{100 * x:.2f}"  # noqa: E731
    cm = metrics["confusion_matrix"]
    md = [
        f"# {title}",
        "",
        f"Predictions: `{source}` ({metrics['n']} examples). Labels are parsed from the generated text; "
        "an output that names no label (or both) is invalid and counts as wrong.",
        "",
        "## Metrics",
        "",
        _table(
            ["accuracy", "macro P", "macro R", "macro F1", "invalid rate"],
            [[pct(metrics["accuracy"]), pct(metrics["macro_precision"]), pct(metrics["macro_recall"]),
              pct(metrics["macro_f1"]), pct(metrics["invalid_rate"])]],
        ),
        "",
        "## Per class",
        "",
        _table(
            ["class", "precision", "recall", "F1", "support"],
            [[c, pct(v["precision"]), pct(v["recall"]), pct(v["f1"]), v["support"]]
             for c, v in metrics["per_class"].items()],
        ),
        "",
        "## Confusion matrix (rows: gold, columns: predicted)",
        "",
        _table(["gold \\ predicted", *cm["columns"]], [[r, *row] for r, row in zip(cm["rows"], cm["matrix"], strict=True)]),
        "",
        "![confusion matrix](confusion_matrix.png)",
        "",
    ]
    if references:
        md += ["## Published reference points (test accuracy, encoder fine-tunes)", "",
               _table(["model", "accuracy"], [list(r) for r in references]), ""]
    if errors:
        md += ["## First errors", "", _table(["line", "gold", "predicted", "input"],
                                              [[e["line"], e["gold"], e["predict"], e["input"]] for e in errors]), ""]
    paths["report"] = write_text(out_dir / "report.md", "\n".join(md))
    return paths


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value


def write_generation_report(out_dir: str | Path, *, title: str, source: str, metrics: dict[str, Any],
                            examples: list[dict[str, str]], note: str = "") -> dict[str, Path]:
    """metrics.json and report.md (every metric in one table, then a few examples side by side)."""
    out_dir = Path(out_dir)
    paths = {"metrics": write_json(out_dir / "metrics.json", metrics)}
    flat: dict[str, Any] = {}
    _flatten("", metrics, flat)
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    md = [f"# {title}", "", f"Predictions: `{source}` ({metrics.get('n', '?')} examples).", ""]
    if note:
        md += [note, ""]
    md += ["## Metrics", "", _table(["metric", "value"], [[k, fmt(v)] for k, v in flat.items()]), ""]
    if examples:
        md += ["## Examples", "", _table(["line", "reference", "prediction"],
                                         [[e["line"], e["reference"], e["predict"]] for e in examples]), ""]
    paths["report"] = write_text(out_dir / "report.md", "\n".join(md))
    return paths
