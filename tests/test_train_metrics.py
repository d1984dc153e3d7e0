"""Task metrics while training (scripts/train.py), on the tiny model (CPU): the dev accuracy logged at an evaluation
equals what scripts/label_eval.py reports on that checkpoint, the checkpoint kept as best is the one with the best
logged accuracy, early stopping finds the metric, and TensorBoard's event files hold it.

The run is LoRA over the float32 tiny model, not QLoRA: on CPUs with AVX512-BF16, bitsandbytes 0.50 repacks 4-bit
weights at the first evaluation and training then fails (the tiny train config says so); on a GPU the QLoRA configs
evaluate as usual."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_script

CONFIG = "configs/train/tiny_qlora_chnsenticorp.yaml"
STEPS, EVERY = 12, 4


@pytest.fixture(scope="module")
def trained(tiny_model, tmp_path_factory) -> tuple[Path, Path, str]:
    tmp = tmp_path_factory.mktemp("train-metrics")
    data = tmp / "data"
    proc = run_script("scripts/preprocess.py", "chnsenticorp", "--input", "dataset/samples/chnsenticorp",
                      "--data-dir", str(data))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = tmp / "run"
    proc = run_script("scripts/train.py", CONFIG, f"model_name_or_path={tiny_model}", f"dataset_dir={data}",
                      f"output_dir={out}", "quantization_bit=null", "eval_dataset=chnsenticorp_dev",
                      "eval_strategy=steps", f"eval_steps={EVERY}", "save_strategy=steps", f"save_steps={EVERY}",
                      "save_total_limit=10", f"max_steps={STEPS}", "per_device_train_batch_size=8",
                      "per_device_eval_batch_size=16", "logging_steps=2", "learning_rate=2.0e-3",
                      "metric_for_best_model=accuracy", "load_best_model_at_end=true", "early_stopping_steps=5",
                      "report_to=tensorboard", "plot_loss=false")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out, data, proc.stdout + proc.stderr


@pytest.mark.slow
def test_logged_accuracy_is_label_evals_and_the_best_checkpoint_is_kept(trained, tiny_model, tmp_path):
    out, data, log = trained
    state = json.loads((out / "trainer_state.json").read_text(encoding="utf-8"))
    evals = {e["step"]: e for e in state["log_history"] if "eval_loss" in e}
    assert sorted(evals) == [EVERY, 2 * EVERY, 3 * EVERY]
    for e in evals.values():
        assert {"eval_accuracy", "eval_macro_f1", "eval_roc_auc"} <= set(e), e
    accuracy = {step: e["eval_accuracy"] for step, e in evals.items()}
    best_step = max(accuracy, key=lambda s: (accuracy[s], -s))  # the first of equals: the trainer keeps the earlier
    assert state["best_metric"] == pytest.approx(accuracy[best_step])
    assert Path(state["best_model_checkpoint"]).name == f"checkpoint-{best_step}"
    assert "did not find eval_accuracy so early stopping is disabled" not in log
    # After training LLaMA-Factory evaluates once more, on the best checkpoint it loaded: the same accuracy again.
    record = json.loads((out / "task_metrics.json").read_text(encoding="utf-8"))
    assert [e["step"] for e in record["evaluations"]] == [*sorted(evals), STEPS] and record["examples"] > 0
    final = json.loads((out / "eval_results.json").read_text(encoding="utf-8"))
    assert final["eval_accuracy"] == record["evaluations"][-1]["eval_accuracy"] == pytest.approx(accuracy[best_step])

    # label_eval.py on the best checkpoint, through a predict config like the shipped one
    predict = yaml.safe_load((ROOT / "configs/predict/tiny_qlora_chnsenticorp.yaml").read_text(encoding="utf-8"))
    predict.update(model_name_or_path=str(tiny_model), adapter_name_or_path=str(out / f"checkpoint-{best_step}"),
                   quantization_bit=None, dataset_dir=str(data), eval_dataset="chnsenticorp_dev",
                   output_dir=str(tmp_path / "predict"))
    config = tmp_path / "predict.yaml"
    config.write_text(yaml.safe_dump(predict), encoding="utf-8")
    proc = run_script("scripts/label_eval.py", str(config), "--no-baseline", "--no-robustness",
                      "--out-dir", str(tmp_path / "label_eval"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "label_eval" / "metrics.json").read_text(encoding="utf-8"))
    (clean,) = metrics["clean"].values()
    assert clean["accuracy"] == pytest.approx(accuracy[best_step], abs=1e-9)
    assert clean["macro_f1"] == pytest.approx(evals[best_step]["eval_macro_f1"], abs=1e-9)
    assert clean["roc_auc"] == pytest.approx(evals[best_step]["eval_roc_auc"], abs=1e-6)
    figures = ROOT / "outputs" / "train_metrics" / "agreement.json"
    figures.parent.mkdir(parents=True, exist_ok=True)
    figures.write_text(json.dumps({"logged": {s: {k: e[k] for k in ("eval_accuracy", "eval_macro_f1", "eval_roc_auc")}
                                              for s, e in evals.items()}, "best_step": best_step,
                                   "label_eval": {k: clean[k] for k in ("accuracy", "macro_f1", "roc_auc")},
                                   "dev_examples": record["examples"]}, indent=1) + "\n", encoding="utf-8")


@pytest.mark.parametrize(("task", "source", "options"), [
    ("psyqa", "dataset/samples/psyqa/PsyQA_sample.json", []),
    ("mug_aid", "dataset/samples/alimeeting4mug", ["--tokenizer", "{tiny}", "--cutoff-len", "512"]),
])
def test_generation_and_meeting_tasks_score_their_dev_answers(task, source, options, tiny_model, tmp_path):
    """The callback's other two paths, on the tiny model without training: greedy dev answers, then the task's score
    (ROUGE-L for PsyQA; the merged per-meeting official rank for action items), bounded to 3 examples / meetings."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from qwen_recipes.eval import during_training as dt

    data = tmp_path / "data"
    proc = run_script("scripts/preprocess.py", task, "--input", source, "--data-dir", str(data),
                      *[o.format(tiny=tiny_model) for o in options])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    args = {"model_name_or_path": str(tiny_model), "dataset_dir": str(data), "eval_dataset": f"{task}_dev",
            "template": "qwen", "cutoff_len": 512}
    split = dt.DevSplit.from_args(args, Path(CONFIG), samples=3)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).train()  # as the trainer holds it
    callback = dt.TaskMetrics(split, cutoff_len=512, max_new_tokens=16, log=lambda _: None)
    scores = callback.compute(model, AutoTokenizer.from_pretrained(tiny_model))
    assert model.training, "the model goes back to training mode"
    if task == "psyqa":
        assert 0 < len(split.examples) <= 3 and {"rouge-l", "bleu-4"} <= set(scores)
    else:
        assert len(split.golds) <= 3 and len(split.metas) == len(split.examples) > 0 and "rank" in scores
    assert all(isinstance(v, float) for v in scores.values())


@pytest.mark.slow
def test_tensorboard_shows_the_task_metric(trained):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out, _, _ = trained
    (events,) = {p.parent for p in out.rglob("events.out.tfevents.*")}
    acc = EventAccumulator(str(events))
    acc.Reload()
    assert "eval/accuracy" in acc.Tags()["scalars"], acc.Tags()["scalars"]
    # the three evaluations, then LLaMA-Factory's final one on the best checkpoint (logged at the last step)
    assert [e.step for e in acc.Scalars("eval/accuracy")] == [EVERY, 2 * EVERY, 3 * EVERY, STEPS]


def test_a_config_without_an_evaluation_schedule_is_refused(tmp_path):
    proc = run_script("scripts/train.py", CONFIG)
    assert proc.returncode == 2 and "eval_strategy" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
