"""Label scoring, calibration metrics, robustness sets, and the adapter check (issue: evaluation users can trust)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qwen_recipes.eval.perturb import perturbation_sets
from qwen_recipes.metrics.calibration import expected_calibration_error, probability_metrics, reliability_bins
from qwen_recipes.tasks import get_task

TASK = get_task("chnsenticorp")


def test_ece_by_hand():
    confidence = np.array([0.95, 0.95, 0.55, 0.55])
    correct = np.array([1.0, 0.0, 1.0, 1.0])
    # bin (0.9, 1.0]: accuracy 0.5 vs confidence 0.95 -> 0.45 * 2/4; bin (0.5, 0.6]: 1.0 vs 0.55 -> 0.45 * 2/4.
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.45)
    bins = reliability_bins(confidence, correct)
    assert [b["count"] for b in bins] == [0, 0, 0, 0, 0, 2, 0, 0, 0, 2]
    assert expected_calibration_error(np.array([0.7, 0.7, 0.7]), np.array([1.0, 1.0, 0.0])) == pytest.approx(
        abs(2 / 3 - 0.7))


def test_auc_and_argmax_by_hand():
    p_pos = np.array([0.9, 0.8, 0.3, 0.2])
    probs = np.stack([p_pos, 1 - p_pos], axis=1)
    gold = np.array([0, 1, 0, 1])  # index 0 = positive
    m = probability_metrics(probs, gold)
    # positives score 0.9 and 0.3, negatives 0.8 and 0.2: 3 of 4 pairs ordered right.
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["mean_confidence"] == pytest.approx(np.mean([0.9, 0.8, 0.7, 0.8]))
    assert probability_metrics(probs, np.array([0, 0, 0, 0]))["roc_auc"] is None  # one class: AUC undefined


RECORDS = [{"instruction": TASK.instruction, "input": t, "output": o} for t, o in [
    ("房间干净整洁，服务员态度很热情，早餐品种丰富。", "正面"),
    ("电池用两个小时就没电了，客服推来推去不解决问题！", "负面"),
    ("这本书印刷清晰（纸张质量好），值得反复阅读。", "正面"),
]]


def test_perturbation_sets_are_seeded_and_keep_labels():
    a, b, c = perturbation_sets(RECORDS, seed=1), perturbation_sets(RECORDS, seed=1), perturbation_sets(RECORDS, seed=2)
    assert set(a) == {"punctuation", "typos", "traditional", "truncate32"}
    assert a == b and a["typos"] != c["typos"]
    for name, recs in a.items():
        assert [r["output"] for r in recs] == [r["output"] for r in RECORDS], name
        assert [r["instruction"] for r in recs] == [TASK.instruction] * 3
    assert a["traditional"][0]["input"] == "房間乾淨整潔，服務員態度很熱情，早餐品種豐富。"
    assert all(len(r["input"]) <= 32 for r in a["truncate32"])
    assert all(r["input"] != o["input"] for r, o in zip(a["typos"], RECORDS, strict=True))
    for r in a["punctuation"]:
        assert not any(ch in r["input"] for ch in "，。！（）") or r["input"] != RECORDS[0]["input"]
    assert all(r["input"] != o["input"] for r, o in zip(a["punctuation"], RECORDS, strict=True))


def test_label_scores_match_unbatched_forward_passes(tiny_model):
    """Both scoring paths, checked against plain one-example forward passes without padding."""
    import torch

    from qwen_recipes.eval.label_scoring import LabelScorer, ModelSpec, load

    model, tokenizer = load(ModelSpec(str(tiny_model)), device="cpu")
    scorer = LabelScorer(model, tokenizer, TASK)
    assert scorer.first_token_only  # 正面 / 负面 differ in their first token
    first_tok, full_seq = [], []
    with torch.no_grad():
        for rec in RECORDS:
            prompt = scorer.prompt_ids(rec)
            logp = torch.log_softmax(model(input_ids=torch.tensor([prompt])).logits[0, -1].float(), -1)
            first_tok.append(torch.softmax(torch.stack([logp[ids[0]] for ids in scorer.label_ids]), 0).numpy())
            seq_scores = []
            for ids in scorer.label_ids:
                lp = torch.log_softmax(model(input_ids=torch.tensor([prompt + ids])).logits[0].float(), -1)
                seq_scores.append(sum(lp[len(prompt) - 1 + k, t] for k, t in enumerate(ids)))
            full_seq.append(torch.softmax(torch.stack(seq_scores), 0).numpy())
    fast = scorer.score(RECORDS, batch_size=2)  # mixed lengths: left padding is exercised
    np.testing.assert_allclose(fast["probs"], np.array(first_tok), atol=1e-4)
    np.testing.assert_allclose(fast["probs"].sum(axis=1), 1.0, atol=1e-6)
    assert ((fast["label_mass"] > 0) & (fast["label_mass"] <= 1)).all()
    scorer.first_token_only = False  # the general path: every label continuation in the same batch
    np.testing.assert_allclose(scorer.score(RECORDS, batch_size=2)["probs"], np.array(full_seq), atol=1e-4)


def test_mismatched_adapter_fails_before_any_batch(tiny_model, tmp_path):
    import yaml
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from qwen_recipes.eval.label_eval import run
    from qwen_recipes.eval.label_scoring import AdapterMismatch, check_adapter
    from qwen_recipes.models import tiny as tm

    other = tm.build(tmp_path / "other", ["别的模型", "another model"], vocab_size=300,
                     shape={**tm.DEFAULT_SHAPE, "hidden_size": 128, "intermediate_size": 256})
    peft_model = get_peft_model(AutoModelForCausalLM.from_pretrained(other),
                                LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    peft_model.save_pretrained(tmp_path / "adapter")
    with pytest.raises(AdapterMismatch, match="trained on another base model"):
        check_adapter(str(tiny_model), str(tmp_path / "adapter"))

    data = tmp_path / "data"
    (data / "chnsenticorp").mkdir(parents=True)
    (data / "chnsenticorp" / "test.json").write_text(json.dumps(RECORDS, ensure_ascii=False), encoding="utf-8")
    (data / "dataset_info.json").write_text(json.dumps(TASK.dataset_info()), encoding="utf-8")
    cfg = {"model_name_or_path": str(tiny_model), "adapter_name_or_path": str(tmp_path / "adapter"),
           "template": "qwen", "dataset_dir": str(data), "eval_dataset": "chnsenticorp_test",
           "output_dir": str(tmp_path / "out")}
    (tmp_path / "predict.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    started = []
    with pytest.raises(AdapterMismatch):
        run(tmp_path / "predict.yaml", progress=lambda total, desc: started.append(total), log=lambda _: None)
    assert started == []  # no scoring began, not even the baseline
