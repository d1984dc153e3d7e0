"""The project on Qwen's real vocabulary (built offline): meeting windows fit a shipped cutoff when LLaMA-Factory
renders them, label scoring reads the label words' real ids, and a tiny random model with that vocabulary trains
and predicts through llamafactory-cli, the path a real Qwen2.5 takes."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import ROOT, run_script

from qwen_recipes import configs
from qwen_recipes.data.prepare import prepare
from qwen_recipes.tasks import get_task

MUG = ("mug_ts", "mug_es", "mug_ttg", "mug_kpe", "mug_aid")


@pytest.mark.parametrize("task", MUG)
def test_meeting_windows_fit_the_shipped_cutoff_with_the_real_tokenizer(tmp_path, qwen25, task):
    from llamafactory.data import get_template_and_fix_tokenizer
    from llamafactory.hparams import DataArguments
    from transformers import AutoTokenizer

    cfg = configs.load(f"configs/train/qwen2.5-7b-instruct_qlora_{task}.yaml")
    # The samples' meetings (~500 tokens) fit the shipped 4,096 whole; at 256 they span several windows each.
    for cutoff in (int(cfg["cutoff_len"]), 256):
        result = prepare(task, ROOT / "dataset/samples/alimeeting4mug", tmp_path / str(cutoff),
                         options={"tokenizer": str(qwen25), "cutoff_len": cutoff}, log=lambda _: None)
        tok = AutoTokenizer.from_pretrained(qwen25)
        template = get_template_and_fix_tokenizer(tok, DataArguments(template=cfg["template"]))
        longest = 0
        for path in result.outputs.values():
            for r in json.loads(path.read_text(encoding="utf-8")):
                user = "\n".join(x for x in (r["instruction"], r["input"]) if x)
                prompt, answer = template.encode_oneturn(tok, [{"role": "user", "content": user},
                                                               {"role": "assistant", "content": r["output"]}])
                assert len(prompt) + len(answer) <= cutoff, (task, cutoff, len(prompt), len(answer))
                longest = max(longest, len(prompt) + len(answer))
    assert longest > 256 // 2, "the windows should use the budget, not be tiny"
    assert result.report["windows"]["windows_per_meeting_max"] > 1


def test_label_scoring_reads_the_label_words_real_ids(tiny_real_vocab):
    """正面 / 负面 are single, distinct tokens (106557 / 103276); pushing one id's logit moves that label's probability."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from qwen_recipes.eval.label_scoring import LabelScorer

    tok = AutoTokenizer.from_pretrained(tiny_real_vocab)
    model = AutoModelForCausalLM.from_pretrained(tiny_real_vocab, dtype=torch.float32).eval()
    task = get_task("chnsenticorp")
    scorer = LabelScorer(model, tok, task)
    assert dict(zip(scorer.labels, scorer.label_ids, strict=True)) == {"正面": [106557], "负面": [103276]}
    assert scorer.first_token_only
    records = [task.build_record(r) for r in _reviews()]
    head = torch.nn.Linear(model.config.hidden_size, model.config.vocab_size, bias=True)
    head.weight = model.lm_head.weight
    torch.nn.init.zeros_(head.bias)
    model.lm_head = head
    for token, label in ((106557, "正面"), (103276, "负面")):
        with torch.no_grad():
            head.bias.zero_()
            head.bias[token] = 30.0
        probs = scorer.score(records)["probs"]
        assert (probs[:, scorer.labels.index(label)] > 0.99).all(), (label, probs)


def _reviews():
    from qwen_recipes.readers.chnsenticorp import read_file

    return read_file(ROOT / "dataset/samples/chnsenticorp/test.tsv").records[:4]


@pytest.mark.slow
def test_train_and_predict_through_llamafactory_on_the_real_vocabulary(tmp_path, tiny_real_vocab):
    data = tmp_path / "data"
    prepare("chnsenticorp", ROOT / "dataset/samples/chnsenticorp", data, log=lambda _: None)
    paths = {"model_name_or_path": str(tiny_real_vocab), "dataset_dir": str(data)}
    train = {**configs.load("configs/train/tiny_qlora_chnsenticorp.yaml"), **paths, "max_steps": 3,
             "output_dir": str(tmp_path / "adapter"), "save_steps": 3, "logging_steps": 1}
    train.pop("num_train_epochs", None)
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(train, allow_unicode=True), encoding="utf-8")
    proc = run_script("llamafactory-cli", "train", str(tmp_path / "train.yaml"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = [json.loads(x) for x in (tmp_path / "adapter" / "trainer_log.jsonl").read_text().splitlines()]
    assert [r["current_steps"] for r in log if "loss" in r][-1] == 3 and all(r["loss"] > 0 for r in log if "loss" in r)

    predict = {**configs.load("configs/predict/tiny_qlora_chnsenticorp.yaml"), **paths, "max_samples": 4,
               "adapter_name_or_path": str(tmp_path / "adapter"), "output_dir": str(tmp_path / "predict")}
    (tmp_path / "predict.yaml").write_text(yaml.safe_dump(predict, allow_unicode=True), encoding="utf-8")
    proc = run_script("llamafactory-cli", "train", str(tmp_path / "predict.yaml"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = [json.loads(x) for x in (tmp_path / "predict" / "generated_predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(r["label"].strip() in ("正面", "负面") for r in rows)
    # The prompt LLaMA-Factory predicted from is the Qwen2.5 chat format, in the real vocabulary.
    assert rows[0]["prompt"].startswith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.")
