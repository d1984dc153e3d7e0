"""Trustworthy evaluation of a label task: label probabilities, calibration, robustness, zero-shot baseline, report.

Driven by a predict config (the same model, adapter, quantization, template and data that LLaMA-Factory's
predict uses), so nothing is configured twice. For the zero-shot base and the fine-tuned adapter alike, on the
same prompts: label scoring on the clean split and on each robustness set, and greedy generation for the
invalid-output rate.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from qwen_recipes import configs
from qwen_recipes.data import dataset_info
from qwen_recipes.errors import DataError
from qwen_recipes.eval import plots
from qwen_recipes.eval.label_scoring import LabelScorer, ModelSpec, check_adapter, load, read_records
from qwen_recipes.eval.perturb import perturbation_sets
from qwen_recipes.io import markdown_table, write_json, write_jsonl, write_text
from qwen_recipes.metrics.calibration import probability_metrics
from qwen_recipes.metrics.classification import classification_metrics
from qwen_recipes.tasks import Task, task_for_dataset


def dataset_file(data_dir: str | Path, name: str) -> Path:
    return dataset_info.entry(data_dir, name)[0]


def label_metrics(probs: np.ndarray, gold: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 and the rest, plus ROC-AUC and calibration, of label probabilities against gold indices:
    the figures of a report and of an evaluation during training alike."""
    pred = [labels[i] for i in probs.argmax(axis=1)]
    metrics = classification_metrics([labels[i] for i in gold], pred, labels)
    metrics.update(probability_metrics(probs, gold))
    return metrics


def evaluate_model(spec: ModelSpec, task: Task, sets: dict[str, list[dict[str, str]]], gold: np.ndarray, *,
                   batch_size: int, max_new_tokens: int, device: str | None, advance: Callable[[int], None]) -> dict[str, Any]:
    model, tokenizer = load(spec, device)
    scorer = LabelScorer(model, tokenizer, task, spec.template)
    scorer.score(sets["clean"][:batch_size], batch_size)  # warm-up, so examples/second is the steady state
    result: dict[str, Any] = {"model": spec.label, "base": spec.base, "adapter": spec.adapter,
                              "quantization_bit": spec.quantization_bit, "sets": {}}
    labels = list(task.labels)
    for name, records in sets.items():
        scored = scorer.score(records, batch_size, advance)
        probs = scored["probs"]
        metrics = label_metrics(probs, gold, labels)
        metrics["mean_label_mass"] = float(scored["label_mass"].mean())
        metrics["examples_per_second"] = scored["examples_per_second"]
        result["sets"][name] = {"metrics": metrics, "probs": probs.tolist()}
    answers = scorer.generate(sets["clean"], batch_size, max_new_tokens, advance)
    parsed = [task.parse(a) for a in answers]
    result["generation"] = {
        "invalid_rate": sum(p is None for p in parsed) / len(parsed),
        "accuracy": sum(p == labels[g] for p, g in zip(parsed, gold, strict=True)) / len(parsed),
        "answers": answers,
    }
    del model, scorer
    gc.collect()
    return result


def run(predict_config: str | Path, out_dir: str | Path | None = None, *, baseline: bool = True, robustness: bool = True,
        batch_size: int = 16, limit: int | None = None, seed: int = 0, truncate_to: int = 32, max_new_tokens: int = 16,
        device: str | None = None, progress: Callable[[int, str], Callable[[int], None]] | None = None,
        log: Callable[[str], None] = print) -> dict[str, Path]:
    cfg = configs.load(predict_config)
    train_path = configs.train_config_for(predict_config)
    train_cfg = configs.load(train_path) if train_path.exists() else {}
    dataset = cfg["eval_dataset"]
    task = task_for_dataset(dataset)
    if task.kind != "label":
        raise DataError(f"task {task.name} has no label set: label scoring needs a classification task")
    records = read_records(dataset_file(cfg["dataset_dir"], dataset))[:limit]
    gold_labels = [task.parse(r["output"]) for r in records]
    if any(g is None for g in gold_labels):
        raise DataError(f"{dataset} has unlabeled records: nothing to score against")
    gold = np.array([list(task.labels).index(g) for g in gold_labels])
    sets = {"clean": records}
    if robustness:
        sets.update(perturbation_sets(records, seed=seed, truncate_to=truncate_to))
    adapter = cfg.get("adapter_name_or_path")
    spec = ModelSpec(cfg["model_name_or_path"], adapter, cfg.get("quantization_bit"), template=cfg.get("template", "qwen"))
    if adapter:
        check_adapter(spec.base, adapter)  # before any batch: a mismatched adapter must not cost a baseline run first
    specs = ([ModelSpec(spec.base, None, spec.quantization_bit, template=spec.template)] if baseline or not adapter else [])
    specs += [spec] if adapter else []
    out = Path(out_dir) if out_dir else Path(train_cfg.get("output_dir", cfg["output_dir"])) / "label_eval" / dataset
    per_model = len(records) * (len(sets) + 1)
    advance = progress(per_model * len(specs), f"label scoring {dataset}") if progress else (lambda _n: None)
    results = []
    for s in specs:
        log(f"  {s.label}: {s.base}{' + ' + s.adapter if s.adapter else ''} ({len(records)} examples, {len(sets)} sets)")
        results.append(evaluate_model(s, task, sets, gold, batch_size=batch_size, max_new_tokens=max_new_tokens,
                                      device=device, advance=advance))
    return write_report(out, task, dataset, records, sets, gold, results, train_cfg, seed, truncate_to)


def write_report(
    out: Path, task: Task, dataset: str, records, sets, gold, results, train_cfg, seed: int, truncate_to: int
) -> dict[str, Path]:
    labels = list(task.labels)
    names = task.plot_names
    paths: dict[str, Path] = {}
    summary = {r["model"]: {**{k: v for k, v in r["sets"]["clean"]["metrics"].items() if k != "reliability"},
                            "invalid_output_rate": r["generation"]["invalid_rate"],
                            "generation_accuracy": r["generation"]["accuracy"]} for r in results}
    robustness = {r["model"]: {name: s["metrics"]["accuracy"] for name, s in r["sets"].items()} for r in results}
    metrics = {
        "dataset": dataset, "task": task.name, "n": len(records), "seed": seed, "truncate_to": truncate_to,
        "models": {r["model"]: {"base": r["base"], "adapter": r["adapter"], "quantization_bit": r["quantization_bit"]}
                   for r in results},
        "clean": summary,
        "reliability": {r["model"]: r["sets"]["clean"]["metrics"]["reliability"] for r in results},
        "robustness_accuracy": robustness,
        "published": [{"model": m, "accuracy": a} for m, a in task.published],
        "published_note": task.published_note,
    }
    paths["metrics"] = write_json(out / "metrics.json", metrics)
    rows = []
    for i, rec in enumerate(records):
        row = {"index": i, "gold": labels[gold[i]], "input": rec["input"]}
        for r in results:
            row[r["model"]] = {"probs": dict(zip(labels, r["sets"]["clean"]["probs"][i], strict=True)),
                               "answer": r["generation"]["answers"][i]}
        rows.append(row)
    paths["scores"] = write_jsonl(out / "label_scores.jsonl", rows)
    for name, recs in sets.items():
        if name != "clean":
            paths[f"set_{name}"] = write_json(out / "robustness" / f"{name}.json", recs)
    main = results[-1]["sets"]["clean"]["metrics"]
    paths["confusion_matrix"] = plots.confusion(main, names, out / "confusion_matrix.png",
                                                title=f"{results[-1]['model']}: accuracy {main['accuracy']:.1%}")
    paths["reliability"] = plots.reliability(metrics["reliability"], out / "reliability.png")
    if len(sets) > 1:
        paths["robustness"] = plots.robustness(robustness, out / "robustness.png")
    log_file = Path(train_cfg.get("output_dir", "")) / "trainer_log.jsonl"
    if train_cfg and log_file.exists():
        paths["training_loss"] = plots.training_loss(log_file, out / "training_loss.png")
    paths["report"] = write_text(out / "report.md", render_report(metrics, results, paths, out))
    return paths


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}"


def render_report(metrics: dict[str, Any], results: list[dict[str, Any]], paths: dict[str, Path], out: Path) -> str:
    clean = metrics["clean"]
    md = [f"# {metrics['task']}: label-scoring evaluation on {metrics['dataset']} ({metrics['n']} examples)", "",
          "Probabilities are read from the label words' first tokens after the exact training prompt (LLaMA-Factory's "
          "template, the task's instruction); accuracy and F1 use the most probable label. The invalid-output rate "
          "comes from greedy generation on the same prompts.", "", "## Models side by side", ""]
    header = ["model", "accuracy", "macro-F1", "ROC-AUC", "ECE", "invalid-output rate", "examples/s (label scoring)"]
    rows = [[m, _pct(c["accuracy"]), _pct(c["macro_f1"]), _pct(c["roc_auc"]), _pct(c["ece"]), _pct(c["invalid_output_rate"]),
             f"{c['examples_per_second']:.1f}"] for m, c in clean.items()]
    rows += [[f"*{p['model']}*", p["accuracy"], "", "", "", "", ""] for p in metrics["published"]]
    md += markdown_table(header, rows)
    if metrics.get("published_note"):
        md += ["", f"Rows in italics: {metrics['published_note']}", ""]
    rob = metrics["robustness_accuracy"]
    models = list(rob)
    sets = [s for s in next(iter(rob.values())) if s != "clean"]
    if sets:
        md += ["## Robustness (accuracy; drop from clean in points)", ""]
        header = ["set", *[f"{m}" for m in models], *[f"{m} drop" for m in models]]
        rows = [["clean", *[_pct(rob[m]["clean"]) for m in models], *["" for _ in models]]]
        rows += [[s, *[_pct(rob[m][s]) for m in models], *[f"{100 * (rob[m]['clean'] - rob[m][s]):+.2f}" for m in models]]
                 for s in sets]
        md += markdown_table(header, rows)
        md += ["", f"Sets are built from the clean split with seed {metrics['seed']} (files under `robustness/`): punctuation "
               "dropped or swapped between full and half width; CJK typos (insert/delete/swap); simplified to traditional "
               f"(OpenCC s2t); truncation to the first {metrics['truncate_to']} characters.", ""]
    md += ["## Plots", ""]
    for key, title in (("confusion_matrix", "Confusion matrix (fine-tuned, argmax of label scores)"),
                       ("reliability", "Reliability diagram"), ("robustness", "Robustness"),
                       ("training_loss", "Training loss (from the trainer log)")):
        if key in paths:
            md += [f"### {title}", "", f"![{key}]({paths[key].relative_to(out).as_posix()})", ""]
    md += ["## Files", "", "- `metrics.json`: every number above, with the reliability bins",
           "- `label_scores.jsonl`: per-example probabilities and generated answers for each model", ""]
    return "\n".join(md)
