"""Task metrics while training: at every evaluation, the task's own score on its dev split, put into the trainer's
logs, so that ``trainer_state.json``, LLaMA-Factory's loss plots, TensorBoard, ``metric_for_best_model``,
``load_best_model_at_end`` and ``early_stopping_steps`` all see it.

LLaMA-Factory evaluates with loss (and token accuracy) only. The scores here are the ones ``scripts/label_eval.py``
and ``scripts/evaluate.py`` report on a finished adapter, computed on the model as it is at that step:

* label tasks: label scoring (one forward pass per batch; accuracy, macro-F1, ROC-AUC, ECE) on the whole dev split;
* generation tasks: greedy answers through the prediction engine on the first ``samples`` dev examples, scored by
  the task (ROUGE-L, BLEU-4, ...);
* meeting tasks: greedy answers for the windows of the first ``samples`` dev meetings, merged per meeting and
  ranked by the challenge's rules.

How the scores reach every consumer: ``Trainer.evaluate`` logs its metrics dict and then hands the *same* dict to
``on_evaluate`` and to the best-checkpoint logic. ``TaskMetrics.on_log`` adds the task's scores to that dict (and to
the log-history entry just written), so it must run before the reporting callbacks: ``reporting_after`` moves them
behind it (``scripts/train.py`` does this)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from qwen_recipes.data import dataset_info
from qwen_recipes.errors import DataError
from qwen_recipes.eval.label_scoring import read_records
from qwen_recipes.eval.mug_eval import read_golds
from qwen_recipes.eval.prediction import Example, encode, generate_answers, load_examples, settings_of, stop_token_ids
from qwen_recipes.io import read_jsonl
from qwen_recipes.tasks import Task, task_for_dataset

DEFAULT_SAMPLES = 64  # generation examples (or meetings) per evaluation: minutes on one GPU, not hours


@dataclass
class DevSplit:
    """What one evaluation scores: the task, its dev examples (as ``do_predict`` reads them) and, for meetings,
    each window's meta and each meeting's gold."""

    task: Task
    dataset: str
    examples: list[Example]
    records: list[dict[str, str]] | None = None  # label tasks: the Alpaca records, as scripts/label_eval.py reads them
    metas: list[dict[str, Any]] | None = None
    golds: dict[str, dict[str, Any]] | None = None

    @classmethod
    def from_args(cls, args: dict[str, Any], config: Path, samples: int = DEFAULT_SAMPLES) -> DevSplit:
        """The ``eval_dataset`` of a train config's arguments (the dict ``llamafactory-cli`` builds from the YAML
        and its overrides), read as ``do_predict`` reads it."""
        names = args.get("eval_dataset")
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names or [])
        if not names:
            raise DataError("task metrics need an eval_dataset (the task's dev split)", path=config, field="eval_dataset")
        if len(names) > 1:
            raise DataError(f"task metrics score one dev split, not {len(names)} ({', '.join(names)})", path=config,
                            field="eval_dataset", hint="train one task per run, or pass eval_dataset=<one split>")
        name, data_dir = names[0], str(args.get("dataset_dir", "data"))
        task = task_for_dataset(name)
        path, _ = dataset_info.entry(data_dir, name)
        shared = {k: args[k] for k in ("model_name_or_path", "template", "cutoff_len", "max_new_tokens") if k in args}
        examples = load_examples(settings_of({**shared, "dataset_dir": data_dir, "eval_dataset": name}, config))
        split = cls(task, name, examples)
        if task.kind == "label":
            split.records = read_records(path)
        elif task.kind == "meeting":
            metas = read_jsonl(path.with_name(f"{path.stem}.meta.jsonl"))
            golds = read_golds(path.with_name(f"{path.stem}.gold.jsonl"))
            keep = set(list(dict.fromkeys(m["meeting"] for m in metas))[:samples])
            rows = [i for i, m in enumerate(metas) if m["meeting"] in keep]
            split.examples, split.metas = [examples[i] for i in rows], [metas[i] for i in rows]
            split.golds = {k: g for k, g in golds.items() if k in keep}
        elif task.kind == "generation":
            split.examples = examples[:samples]
        return split


class TaskMetrics(TrainerCallback):
    """Adds ``eval_<metric>`` of the dev split's task to each evaluation's logs (see the module docstring)."""

    def __init__(self, split: DevSplit, *, template: str = "qwen", cutoff_len: int = 2048,
                 max_new_tokens: int | None = None, batch_size: int = 16, log: Callable[[str], None] = print) -> None:
        self.split, self.template_name, self.cutoff_len = split, template, cutoff_len
        self.max_new_tokens = max_new_tokens or split.task.max_new_tokens
        self.batch_size, self.log = batch_size, log
        self.history: list[dict[str, Any]] = []

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, model: Any = None,
               processing_class: Any = None, **_: Any) -> None:
        if not logs or "eval_loss" not in logs or model is None:
            return
        started = time.perf_counter()
        scores = self.compute(model, processing_class)
        entry = {f"eval_{k}": v for k, v in scores.items()}
        logs.update(entry)
        if state.log_history and "eval_loss" in state.log_history[-1]:
            state.log_history[-1].update(entry)
        self.history.append({"step": state.global_step, **entry})
        shown = ", ".join(f"{k} {v:.4g}" for k, v in scores.items() if k in self.headline())
        self.log(f"[task metrics] step {state.global_step}: {self.split.task.name} {shown} "
                 f"({time.perf_counter() - started:.1f} s)")

    def headline(self) -> tuple[str, ...]:
        kind = self.split.task.kind
        return {"label": ("accuracy", "macro_f1", "roc_auc"), "generation": ("rouge-l", "bleu-4"),
                "meeting": ("rank",)}[kind]

    def compute(self, model: Any, tokenizer: Any) -> dict[str, float]:
        import torch

        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                if self.split.task.kind == "label":
                    return self._label(model, tokenizer)
                return self._generated(model, tokenizer)
        finally:
            model.train(was_training)

    def _label(self, model: Any, tokenizer: Any) -> dict[str, float]:
        import numpy as np

        from qwen_recipes.eval.label_eval import label_metrics
        from qwen_recipes.eval.label_scoring import LabelScorer

        labels = list(self.split.task.labels)
        gold = np.array([labels.index(r["output"]) for r in self.split.records])
        scorer = LabelScorer(model, tokenizer, self.split.task, self.template_name)
        probs = scorer.score(self.split.records, self.batch_size)["probs"]
        return _numbers(label_metrics(probs, gold, labels), ("accuracy", "macro_f1", "roc_auc", "ece"))

    def _generated(self, model: Any, tokenizer: Any) -> dict[str, float]:
        from llamafactory.data import get_template_and_fix_tokenizer
        from llamafactory.hparams import DataArguments

        template = get_template_and_fix_tokenizer(tokenizer, DataArguments(template=self.template_name))
        encoded = [encode(ex, template, tokenizer, self.cutoff_len) for ex in self.split.examples]
        gen = generate_answers(model, [p for p, _ in encoded], pad_token_id=tokenizer.pad_token_id,
                               stop_ids=stop_token_ids(tokenizer, template), max_new_tokens=self.max_new_tokens,
                               batch_size=self.batch_size, log=self.log)
        answers = tokenizer.batch_decode(gen.tokens, skip_special_tokens=True)
        references = [ex.messages[-1]["content"] for ex in self.split.examples]
        task = self.split.task
        if task.kind == "meeting":
            scores = task.score(answers, references, metas=self.split.metas, golds=self.split.golds)
        else:
            scores = task.score(answers, references)
            scores = {**scores.get("overall", {}), **scores}
        return _numbers(scores)


def _numbers(metrics: dict[str, Any], keys: tuple[str, ...] | None = None) -> dict[str, float]:
    """Top-level numeric scores (what a logger can plot), finite ones only, optionally a chosen few."""
    out = {}
    for k, v in metrics.items():
        if (keys is None or k in keys) and isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            out[k] = float(v)
    return out


def reporting_after(report_to: Any) -> tuple[str, list[Any]]:
    """``report_to`` for the trainer ("none") and the reporting callbacks to add after ``TaskMetrics``: the
    trainer would otherwise put them first, and they would log an evaluation before its task scores are in."""
    from transformers.integrations import get_reporting_integration_callbacks

    names = [report_to] if isinstance(report_to, str) else list(report_to or [])
    names = [n.strip() for name in names for n in str(name).split(",") if n.strip()]
    if not names or names == ["none"]:
        return "none", []
    if "all" in names:
        from transformers.integrations import get_available_reporting_integrations

        names = get_available_reporting_integrations()
    return "none", [cls() for cls in get_reporting_integration_callbacks(names)]
