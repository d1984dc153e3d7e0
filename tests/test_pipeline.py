"""End to end with LLaMA-Factory's own commands on the tiny model: train (QLoRA 4-bit on CPU), predict,
score, export, check the merge, chat. The shipped tiny configs are used with only their paths moved
into a temporary folder, so the demo's outputs are not touched."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import run_script

from qwen_recipes import configs

NAME = "tiny_qlora_chnsenticorp.yaml"


def relocate(stage: str, tmp, tiny_model, name: str = NAME) -> str:
    """Write the shipped config with its paths moved under ``tmp``; returns the new file's path."""
    cfg = configs.load(f"configs/{stage}/{name}")
    cfg["model_name_or_path"] = str(tiny_model)
    for key in ("output_dir", "adapter_name_or_path", "export_dir", "dataset_dir"):
        if key in cfg:
            cfg[key] = str(tmp / cfg[key])
    path = tmp / "configs" / stage / name  # same layout as the project, so stages still find their train config
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return str(path)


@pytest.mark.slow
def test_train_predict_score_export_chat(tmp_path, tiny_model):
    train_cfg = configs.load(f"configs/train/{NAME}")
    data_dir = tmp_path / train_cfg["dataset_dir"]
    proc = run_script("scripts/preprocess.py", "chnsenticorp", "--input", "dataset/samples/chnsenticorp",
                      "--data-dir", str(data_dir))
    assert proc.returncode == 0, proc.stdout + proc.stderr

    proc = run_script("llamafactory-cli", "train", relocate("train", tmp_path, tiny_model))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / train_cfg["output_dir"]
    assert (out / "adapter_model.safetensors").exists()
    log = [json.loads(line) for line in (out / "trainer_log.jsonl").read_text().splitlines()]
    losses = [row["loss"] for row in log if "loss" in row]
    assert losses[-1] < losses[0] / 2, f"training did not learn: {losses}"

    proc = run_script("llamafactory-cli", "train", relocate("predict", tmp_path, tiny_model))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    pred_dir = tmp_path / configs.load(f"configs/predict/{NAME}")["output_dir"]
    proc = run_script("scripts/evaluate.py", "chnsenticorp", str(pred_dir))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    metrics = json.loads((pred_dir / "metrics.json").read_text())
    assert metrics["n"] == 60
    # The samples are easy; a trained adapter beats always answering the majority class (32/60).
    assert metrics["accuracy"] > 0.7, metrics

    # Label scoring builds exactly the prompt LLaMA-Factory's own predict used (same template, same instruction).
    from transformers import AutoTokenizer

    from qwen_recipes.eval.label_scoring import LabelScorer, read_records
    from qwen_recipes.tasks import get_task

    scorer = LabelScorer(None, AutoTokenizer.from_pretrained(tiny_model), get_task("chnsenticorp"))
    lf_prompts = [json.loads(line)["prompt"] for line in (pred_dir / "generated_predictions.jsonl").open()]
    ours = [scorer.tokenizer.decode(scorer.prompt_ids(r)) for r in read_records(data_dir / "chnsenticorp" / "test.json")]
    assert ours == lf_prompts

    predict_cfg = relocate("predict", tmp_path, tiny_model)
    proc = run_script("scripts/label_eval.py", predict_cfg, "--limit", "40", "--out-dir", str(tmp_path / "label_eval"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    label = json.loads((tmp_path / "label_eval" / "metrics.json").read_text())
    assert set(label["clean"]) == {"zero-shot base", "fine-tuned"} and label["n"] == 40
    tuned = label["clean"]["fine-tuned"]
    assert tuned["accuracy"] > 0.7 and tuned["roc_auc"] > 0.8 and tuned["invalid_output_rate"] < 0.1
    assert set(label["robustness_accuracy"]["fine-tuned"]) == {"clean", "punctuation", "typos", "traditional", "truncate32"}
    report = (tmp_path / "label_eval" / "report.md").read_text()
    for png in ("confusion_matrix.png", "reliability.png", "robustness.png", "training_loss.png"):
        assert (tmp_path / "label_eval" / png).stat().st_size > 2000 and png in report
    assert "RoBERTa-wwm-ext-large" in report

    export_cfg = relocate("export", tmp_path, tiny_model)
    proc = run_script("llamafactory-cli", "export", export_cfg)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    proc = run_script("scripts/check_merge.py", export_cfg)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check = json.loads((tmp_path / configs.load(f"configs/export/{NAME}")["export_dir"] / "merge_check.json").read_text())
    assert check["ok"] and check["weights_changed"] > 0

    # The known failure class: an "export" that is just the base model must fail the check.
    from qwen_recipes.models.merge_check import check as merge_check

    bad = merge_check(tiny_model, out, tiny_model)
    assert not bad.ok and bad.weights_changed == 0

    proc = run_script("llamafactory-cli", "chat", relocate("chat", tmp_path, tiny_model), input="房间很干净\nexit\n")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    reply = proc.stdout.split("Assistant:", 1)[1].split("User:", 1)[0].strip()
    assert reply, proc.stdout[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize(("task", "source"), [("psyqa", "dataset/samples/psyqa/PsyQA_sample.json"),
                                              ("emotion_summary", "dataset/samples/longemotion")])
def test_generation_task_step(tmp_path, tiny_model, task, source):
    """One short QLoRA step, predictions and scores for each counseling task, with the shipped tiny configs."""
    name = f"tiny_qlora_{task}.yaml"
    train_cfg = configs.load(f"configs/train/{name}")
    data_dir = tmp_path / train_cfg["dataset_dir"]
    proc = run_script("scripts/preprocess.py", task, "--input", source, "--data-dir", str(data_dir),
                      "--tokenizer", str(tiny_model), "--cutoff-len", str(train_cfg["cutoff_len"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lengths = json.loads((data_dir / task / "report.json").read_text())["lengths"]
    assert lengths["splits"]["train"]["truncated"] == 0, "the tiny config's cutoff_len must fit the samples"

    proc = run_script("llamafactory-cli", "train", relocate("train", tmp_path, tiny_model, name))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    proc = run_script("llamafactory-cli", "train", relocate("predict", tmp_path, tiny_model, name))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    pred_dir = tmp_path / configs.load(f"configs/predict/{name}")["output_dir"]
    proc = run_script("scripts/evaluate.py", task, str(pred_dir))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    metrics = json.loads((pred_dir / "metrics.json").read_text())
    n = sum(1 for _ in (pred_dir / "generated_predictions.jsonl").open())
    assert metrics["n"] == n > 0
    head = metrics.get("overall", metrics)
    assert 0 <= head["rouge-l"] <= 100 and 0 <= head["bleu-4"] <= 100
    if task == "emotion_summary":
        assert 0 <= metrics["json_valid_rate"] <= 1 and set(metrics["per_field"]) == {
            "causes", "symptoms", "treatment_process", "characteristics_of_illness", "treatment_effect"}


@pytest.mark.slow
def test_meeting_task_step(tmp_path, tiny_model):
    """AliMeeting4MUG action items on the tiny model: windows from the train config, train, predict, official score."""
    name = "tiny_qlora_mug_aid.yaml"
    train_path = relocate("train", tmp_path, tiny_model, name)
    proc = run_script("scripts/preprocess.py", "mug_aid", "--input", "dataset/samples/alimeeting4mug", "--config", train_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data_dir = tmp_path / configs.load(f"configs/train/{name}")["dataset_dir"]
    report = json.loads((data_dir / "mug_aid" / "report.json").read_text())
    assert report["windows"]["windows"] > report["windows"]["meetings"]  # 512 tokens: meetings span several windows
    proc = run_script("llamafactory-cli", "train", train_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    proc = run_script("llamafactory-cli", "train", relocate("predict", tmp_path, tiny_model, name))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    pred_dir = tmp_path / configs.load(f"configs/predict/{name}")["output_dir"]
    proc = run_script("scripts/evaluate.py", "mug_aid", str(pred_dir), "--data", str(data_dir / "mug_aid" / "test.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    metrics = json.loads((pred_dir / "metrics.json").read_text())
    assert metrics["meetings"] == 1 and 0 <= metrics["f1"] <= 100 and metrics["rank"] == metrics["f1"]
    assert (pred_dir / "action_item_detection_test_submit.json").exists()
