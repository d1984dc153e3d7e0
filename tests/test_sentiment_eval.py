"""The sentiment task's parser and scorer, the predictions reader, and scripts/evaluate.py."""

from __future__ import annotations

import json

import pytest
from conftest import run_script

from qwen_recipes.errors import DataError
from qwen_recipes.eval import predictions as P
from qwen_recipes.tasks import get_task

TASK = get_task("chnsenticorp")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("正面\n", "正面"), ("负面", "负面"), ("正面。", "正面"), ("**负面**", "负面"), ("积极", "正面"),
        ("消极", "负面"), ("Positive", "正面"), ("NEGATIVE.", "负面"), ("这条评论的情感是正面的。", "正面"),
        ("情感倾向：负面，因为房间很脏。", "负面"), ("答案是 positive", "正面"),
        ("不是正面", None), ("并非负面", None), ("正面和负面都有", None), ("好", None), ("", None), ("  \n", None),
        ("positively", None), ("Not positive", None), ("not negative", None), ("non-negative", None),
        ("It isn't negative.", None), ("Negative, not positive", None), ("not bad: positive", "正面"),
    ],
)
def test_parser_reads_what_models_say(text, label):
    assert TASK.parse(text) == label


def test_training_record_and_parser_agree():
    from qwen_recipes.readers.chnsenticorp import Review

    for label in (0, 1):
        record = TASK.build_record(Review("房间很好", label, "f", 2))
        assert record["instruction"] == TASK.instruction and record["input"] == "房间很好"
        assert TASK.parse(record["output"]) == ("正面" if label else "负面")


def test_scores_by_hand():
    preds = ["正面", "正面", "负面", "嗯……", "负面", "积极"]
    golds = ["正面\n", "负面\n", "负面\n", "负面\n", "正面\n", "正面\n"]
    m = TASK.score(preds, golds)
    # gold 正面: predicted 正面, 负面, 正面 -> TP 2, FN 1. gold 负面: 正面, 负面, invalid -> TP 1, FN 2.
    assert m["accuracy"] == pytest.approx(3 / 6)
    assert m["invalid_rate"] == pytest.approx(1 / 6)
    assert m["confusion_matrix"]["matrix"] == [[2, 1, 0], [1, 1, 1]]
    p_pos, r_pos = 2 / 3, 2 / 3
    p_neg, r_neg = 1 / 2, 1 / 3
    f = lambda p, r: 2 * p * r / (p + r)  # noqa: E731
    assert m["macro_precision"] == pytest.approx((p_pos + p_neg) / 2)
    assert m["macro_recall"] == pytest.approx((r_pos + r_neg) / 2)
    assert m["macro_f1"] == pytest.approx((f(p_pos, r_pos) + f(p_neg, r_neg)) / 2)
    assert m["per_class"]["负面"]["support"] == 3


def test_unlabeled_references_cannot_be_scored():
    with pytest.raises(ValueError, match="reference 2"):
        TASK.score(["正面", "正面"], ["正面\n", "\n"])


def write_preds(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"predict": "x", "label": "y"}\n\n{"predict": "x", "label": "y"}\n', ":2: empty line"),
        (b'{"predict": "x"}\n', "field 'label': missing"),
        (b'{"predict": 1, "label": "y"}\n', "field 'predict': expected a string"),
        (b'{"predict": "x", "label": "y"\n', ":1: invalid JSON"),
        (b'{"predict": "x", "label": "y"}\n{"predict": "\xff", "label": "y"}\n', ":2: bytes not valid utf-8"),
        (b"", "no predictions"),
    ],
)
def test_bad_prediction_files_name_the_line(tmp_path, content, message):
    path = tmp_path / "generated_predictions.jsonl"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message.replace("(", r"\(")):
        P.read(tmp_path)


def test_evaluate_script_writes_metrics_report_and_plot(tmp_path):
    rows = [{"prompt": f"<|im_start|>user\n{TASK.instruction}\n评论{i}<|im_end|>", "predict": p, "label": g}
            for i, (p, g) in enumerate([("正面", "正面\n"), ("负面。", "负面\n"), ("Positive", "负面\n"), ("?", "正面\n")])]
    write_preds(tmp_path / "generated_predictions.jsonl", rows)
    proc = run_script("scripts/evaluate.py", "chnsenticorp", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["accuracy"] == 0.5 and metrics["invalid_rate"] == 0.25
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| 50.00 |" in report and "confusion_matrix.png" in report and "RoBERTa-wwm-ext-large" in report
    assert "评论2" in report  # the first errors are shown with their input
    png = (tmp_path / "confusion_matrix.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 2000
    assert str(tmp_path / "report.md") in proc.stdout


def test_evaluate_refuses_unlabeled_predictions(tmp_path):
    write_preds(tmp_path / "generated_predictions.jsonl", [{"prompt": "", "predict": "正面", "label": "\n"}])
    proc = run_script("scripts/evaluate.py", "chnsenticorp", str(tmp_path))
    assert proc.returncode == 2
    assert "generated_predictions.jsonl:1" in proc.stdout and "field 'label'" in proc.stdout


def test_evaluate_checks_predictions_line_up_with_the_data(tmp_path):
    rows = [{"prompt": "", "predict": "正面", "label": "正面\n"}, {"prompt": "", "predict": "负面", "label": "负面\n"}]
    write_preds(tmp_path / "generated_predictions.jsonl", rows)
    data = tmp_path / "test.json"
    records = [{"instruction": TASK.instruction, "input": "甲", "output": "正面"},
               {"instruction": TASK.instruction, "input": "乙", "output": "负面"}]
    data.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    assert run_script("scripts/evaluate.py", "chnsenticorp", str(tmp_path), "--data", str(data)).returncode == 0

    data.write_text(json.dumps(records + records[:1], ensure_ascii=False), encoding="utf-8")
    proc = run_script("scripts/evaluate.py", "chnsenticorp", str(tmp_path), "--data", str(data))
    assert proc.returncode == 2 and "2 predictions but 3 records" in proc.stdout

    data.write_text(json.dumps(records[::-1], ensure_ascii=False), encoding="utf-8")
    proc = run_script("scripts/evaluate.py", "chnsenticorp", str(tmp_path), "--data", str(data))
    assert proc.returncode == 2 and "generated_predictions.jsonl:1, field 'label': label '正面'" in proc.stdout
