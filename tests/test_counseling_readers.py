"""PsyQA and LongEmotion readers and their preprocessing: variants, rejections, splits by id, length report."""

from __future__ import annotations

import json

import pytest
from conftest import REAL_DATA, ROOT

from qwen_recipes.data.prepare import prepare
from qwen_recipes.errors import DataError
from qwen_recipes.readers import longemotion, psyqa
from qwen_recipes.tasks import get_task

SAMPLE_PSYQA = ROOT / "dataset" / "samples" / "psyqa" / "PsyQA_sample.json"
SAMPLE_ES = ROOT / "dataset" / "samples" / "longemotion"
QUIET = {"log": lambda _: None}


def question(qid: int, answers: list[dict] | None = None, **extra) -> dict:
    text = "你好，我听到你很辛苦。建议你多休息。"
    answers = answers if answers is not None else [
        {"answer_text": text, "has_label": True,
         "labels_sequence": [{"start": 0, "end": 10, "type": "Restatement"},
                             {"start": 10, "end": len(text), "type": "Direct Guidance"}]},
        {"answer_text": "另一个回答。", "has_label": False, "labels_sequence": None},
    ]
    return {"question": f"问题{qid}？", "description": "描述", "keywords": "情绪,焦虑", "answers": answers,
            "questionID": qid, **extra}


def test_psyqa_escaped_crlf_and_plain_files_read_the_same(tmp_path):
    data = [question(1), question(2)]
    (tmp_path / "a.json").write_text(json.dumps(data, ensure_ascii=True), encoding="utf-8")  # \\u escapes
    (tmp_path / "b.json").write_bytes(json.dumps(data, ensure_ascii=False, indent=2).replace("\n", "\r\n").encode())
    a, b = psyqa.read_file(tmp_path / "a.json"), psyqa.read_file(tmp_path / "b.json")
    assert [q.question for q in a.records] == [q.question for q in b.records] == ["问题1？", "问题2？"]
    q = a.records[0]
    assert q.keywords == ["情绪", "焦虑"] and q.qid == "1"
    assert [x.has_label for x in q.answers] == [True, False]
    assert [s.type for s in q.answers[0].spans] == ["Restatement", "Direct Guidance"]


def test_psyqa_bad_records_are_rejected_with_record_and_field(tmp_path):
    data = [
        question(1),
        {"question": "缺回答", "questionID": 2},
        question(3, answers=[{"answer_text": "x", "has_label": True,
                              "labels_sequence": [{"start": 0, "end": 99, "type": "Interpretation"}]}]),
        question(4, keywords=["不是", "字符串"]),
        question(5, answers=[{"answer_text": "", "has_label": False, "labels_sequence": None},
                             {"answer_text": "好的回答", "has_label": False, "labels_sequence": None}]),
        "not an object",
    ]
    (tmp_path / "p.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = psyqa.read_file(tmp_path / "p.json")
    assert [q.qid for q in out.records] == ["1", "5"]
    assert [(r.line, r.field) for r in out.rejected] == [(2, "answers"), (3, "answers"), (4, "keywords"), (6, None)]
    dropped = out.records[1].dropped_answers
    assert [(d.line, d.field, d.reason) for d in dropped] == [(5, "answers[0].answer_text", "empty answer")]


def test_psyqa_invalid_json_names_the_line(tmp_path):
    (tmp_path / "p.json").write_text('[\n{"question": "a",\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"p.json:3: invalid JSON"):
        psyqa.read_file(tmp_path / "p.json")


def test_psyqa_mirror_split_files_keep_their_split_and_drop_cross_split_leaks(tmp_path):
    (tmp_path / "train.json").write_text(json.dumps([question(1), question(2)]), encoding="utf-8")
    (tmp_path / "valid.json").write_text(json.dumps([question(3), question(2)]), encoding="utf-8")
    (tmp_path / "test.json").write_text(json.dumps([question(4)]), encoding="utf-8")
    result = prepare("psyqa", tmp_path, tmp_path / "data", **QUIET)
    assert result.report["counts"]["dev"] == {"read": 2, "rejected": 0, "duplicates": 0, "conflicts": 0, "leaks": 1, "kept": 1}
    written = result.report["written"]
    assert {s: (w["items"], w["n"]) for s, w in written.items()} == {"train": (2, 4), "dev": (1, 2), "test": (1, 2)}


def test_psyqa_split_by_question_and_answers_flag(tmp_path):
    data = [question(i) for i in range(40)]
    (tmp_path / "full.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    all_ = prepare("psyqa", tmp_path / "full.json", tmp_path / "a", seed=3, **QUIET)
    labeled = prepare("psyqa", tmp_path / "full.json", tmp_path / "b", seed=3, options={"answers": "labeled"}, **QUIET)
    assert {s: w["items"] for s, w in all_.report["written"].items()} == {"train": 32, "dev": 4, "test": 4}
    assert all_.report["written"]["train"]["n"] == 64 and labeled.report["written"]["train"]["n"] == 32
    ids = {}
    for split in ("train", "dev", "test"):
        meta = (tmp_path / "a" / "psyqa" / f"{split}.meta.jsonl").read_text(encoding="utf-8").splitlines()
        ids[split] = {json.loads(m)["id"] for m in meta}
    assert not (ids["train"] & ids["dev"]) and not (ids["train"] & ids["test"]) and not (ids["dev"] & ids["test"])


def test_strategy_task_renders_markers_without_losing_text():
    q = psyqa.read_file(SAMPLE_PSYQA).records[0]
    task = get_task("psyqa_strategy")
    records = task.build_records(q)
    labeled = [a for a in q.answers if a.has_label]
    assert len(records) == len(labeled) == 1
    out = records[0]["output"]
    assert out.startswith("[复述]")
    from qwen_recipes.tasks.psyqa import strip_markers

    assert strip_markers(out) == labeled[0].text
    scores = task.score([out, "没有标记的回答"], [out, out])
    assert scores["marker_rate"] == 0.5 and scores["rouge-l"] > 0


def test_samples_and_length_report(tmp_path, tiny_model):
    result = prepare("psyqa", SAMPLE_PSYQA, tmp_path, lengths={"tokenizer": str(tiny_model), "cutoff_len": 10**6}, **QUIET)
    c = result.report["counts"]["all"]
    assert (c["read"], c["rejected"], c["duplicates"], c["kept"]) == (14, 1, 1, 12)
    assert result.report["dropped_inside_items"][0]["reason"] == "empty answer"
    train = result.report["lengths"]["splits"]["train"]
    assert train["n"] == result.report["written"]["train"]["n"]
    assert train["truncated"] == 0 and 0 < train["total_tokens"]["p50"] <= train["total_tokens"]["max"]
    # With the median as cutoff, the records longer than the median are the ones reported as truncated.
    from qwen_recipes.data.lengths import length_report

    rows = {"train": json.loads(result.outputs["train"].read_text(encoding="utf-8"))}
    median = train["total_tokens"]["p50"]
    again = length_report(rows, str(tiny_model), cutoff_len=median)["splits"]["train"]
    assert 0 < again["truncated"] < again["n"] and again["truncated_share"] == pytest.approx(again["truncated"] / again["n"])


def test_longemotion_list_or_string_fields_and_rejections(tmp_path):
    base = {"id": 1, "case_description": ["P1.", "P2."], "consultation_process": "One string.",
            "experience_and_reflection": "R.", "causes": "c", "symptoms": "s", "treatment_process": "t",
            "characteristics_of_illness": "ch", "treatment_effect": "e"}
    rows = [base, {**base, "id": 2, "case_description": "Plain."}, {**base, "id": 3, "symptoms": ""},
            {k: v for k, v in {**base, "id": 4}.items() if k != "causes"}, {**base, "id": 5, "causes": 7}]
    (tmp_path / "es.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = longemotion.read_file(tmp_path / "es.jsonl")
    assert [c.case_description for c in out.records] == ["P1.\nP2.", "Plain."]
    assert [(r.line, r.field, r.reason) for r in out.rejected] == [
        (3, "symptoms", "empty"), (4, "causes", "missing"), (5, "causes", "expected a string or a list of strings")]


def test_emotion_summary_kfold_and_task_round_trip(tmp_path):
    result = prepare("emotion_summary", SAMPLE_ES, tmp_path, kfold=(4, 1), **QUIET)
    assert result.report["note"].startswith("LongEmotion Emotion Summary ships only a test set")
    sizes = {s: w["items"] for s, w in result.report["written"].items()}
    assert sum(sizes.values()) == 11 and sizes["test"] in (2, 3) and sizes["dev"] in (2, 3)
    task = get_task("emotion_summary")
    rec = json.loads(result.outputs["test"].read_text(encoding="utf-8"))[0]
    fields = task.parse(rec["output"])
    assert set(fields) == set(task.fields)
    fenced = "Here you go:\n```json\n" + rec["output"] + "\n```"
    m = task.score([fenced, "not json"], [rec["output"] + "\n", rec["output"] + "\n"])
    assert m["json_valid_rate"] == 0.5
    assert m["per_field"]["causes"]["rouge-l"] == pytest.approx(50.0, abs=0.01)  # one perfect, one zero


@pytest.mark.skipif(not (REAL_DATA / "psyqa").exists(), reason="../shared/real-data not present")
def test_real_counseling_files(tmp_path):
    p = prepare("psyqa", REAL_DATA / "psyqa" / "PsyQA_example.json", tmp_path, **QUIET)
    assert p.report["counts"]["all"]["kept"] == 100
    assert sum(w["n"] for w in p.report["written"].values()) == 268
    s = prepare("psyqa_strategy", REAL_DATA / "psyqa" / "PsyQA_example.json", tmp_path, **QUIET)
    assert sum(w["n"] for w in s.report["written"].values()) == 100  # exactly one labeled answer per question
    e = prepare("emotion_summary", REAL_DATA / "longemotion" / "Emotion_Summary.jsonl", tmp_path, kfold=(5, 0), **QUIET)
    assert e.report["counts"]["all"] == {"read": 150, "rejected": 0, "duplicates": 0, "conflicts": 0, "leaks": 0, "kept": 150}
    assert {s: w["n"] for s, w in e.report["written"].items()} == {"train": 90, "dev": 30, "test": 30}


# ------------------------------------------------------------------ ids, conflicts and text that is not text


def es_case(cid, **changes) -> dict:
    fields = {"id": cid, "case_description": ["一段案例。"], "consultation_process": ["过程。"],
              "experience_and_reflection": "反思。", "causes": "原因", "symptoms": "症状", "treatment_process": "治疗",
              "characteristics_of_illness": "特点", "treatment_effect": "效果"}
    return {**fields, **changes}


def test_psyqa_same_id_with_other_content_is_a_conflict_and_bad_ids_and_texts_are_rejected(tmp_path):
    data = [question(1), question(1),  # a true duplicate
            question(2), {**question(2), "description": "另一个描述"},  # the same id saying something else
            question(3, questionID=None), question(4, questionID=""), question(5, questionID=[5]),
            {**question(6), "question": "\u200b\ufeff\x00 "}, {**question(7), "description": ["a", "list"]},
            question(8, answers=[{"answer_text": "\u200b\u200b", "has_label": False}, {"answer_text": "好的回答。"}]),
            question(9)] + [question(i) for i in range(10, 30)]  # enough kept questions for three non-empty splits
    src = tmp_path / "PsyQA.json"
    src.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    report = prepare("psyqa", src, tmp_path / "data", **QUIET).report
    counts = report["counts"]["all"]
    assert counts == {"read": 31, "rejected": 5, "duplicates": 1, "conflicts": 2, "leaks": 0, "kept": 23}
    reasons = {(d["line"], d["field"]): d["reason"] for d in report["dropped"]}
    assert reasons[(5, "questionID")] == "null id" and reasons[(6, "questionID")] == "empty id"
    assert reasons[(7, "questionID")] == "id is a list, not a string or integer"
    assert reasons[(8, "question")].startswith("no visible character")
    assert reasons[(9, "description")] == "not text but list"
    conflicts = [d for d in report["dropped"] if d["category"] == "conflict"]
    assert [d["line"] for d in conflicts] == [3, 4] and "same id with different content" in conflicts[0]["reason"]
    assert [d["line"] for d in report["dropped"] if d["category"] == "duplicate"] == [2]
    inner = report["dropped_inside_items"]
    assert len(inner) == 1 and inner[0]["line"] == 10 and inner[0]["reason"].startswith("no visible character")
    stored = [json.loads(line)["id"] for f in (tmp_path / "data/psyqa").glob("*.meta.jsonl")
              for line in f.read_text(encoding="utf-8").split("\n") if line]
    assert stored and "None" not in stored


def test_longemotion_same_id_with_other_content_is_a_conflict_and_bad_values_are_rejected(tmp_path):
    rows = [es_case("a"), es_case("a", causes="另一个原因"), es_case(None), es_case("b", symptoms=3),
            es_case("c", treatment_effect="\u200b"), es_case("d"), es_case("d"), es_case("e"), es_case("f")]
    rows += [es_case(f"x{i}") for i in range(6)]
    src = tmp_path / "Emotion_Summary.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    report = prepare("emotion_summary", src, tmp_path / "data", kfold=(3, 0), **QUIET).report
    assert report["counts"]["all"] == {"read": 15, "rejected": 3, "duplicates": 1, "conflicts": 2, "leaks": 0,
                                       "kept": 9}
    reasons = {(d["line"], d["field"]): d["reason"] for d in report["dropped"]}
    assert reasons[(3, "id")] == "null id"
    assert reasons[(4, "symptoms")] == "expected a string or a list of strings"
    assert reasons[(5, "treatment_effect")].startswith("no visible character")


@pytest.mark.parametrize(("text", "reason"), [(123, "not text but int"), (["a"], "not text but list"),
                                               ("\u200b\ufeff", "no visible character"), ("", "empty text")])
def test_a_review_that_is_not_text_is_rejected(tmp_path, text, reason):
    from qwen_recipes.readers import chnsenticorp

    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"text": text, "label": 1}) + "\n" + json.dumps({"text": "好", "label": 1}) + "\n")
    read = chnsenticorp.read_file(path)
    assert len(read.records) == 1 and read.rejected[0].reason.startswith(reason) and read.rejected[0].field == "text"


@pytest.mark.parametrize(("name", "content"), [("PsyQA.json", "[]"), ("PsyQA.json", ""),
                                               ("train.tsv", "label\ttext_a\n"), ("train.tsv", "")])
def test_an_empty_input_is_an_error_naming_the_file(tmp_path, name, content):
    task = "psyqa" if name.endswith(".json") else "chnsenticorp"
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=rf"{name}"):
        prepare(task, tmp_path / name if task == "psyqa" else tmp_path, tmp_path / "data", **QUIET)
    assert not (tmp_path / "data").exists()


def test_items_without_records_are_listed_and_an_empty_split_is_an_error(tmp_path):
    unlabeled = [{"answer_text": "没有标注的回答。", "has_label": False, "labels_sequence": None}]
    data = [question(i) for i in range(1, 21)] + [question(99, answers=unlabeled)]
    src = tmp_path / "PsyQA.json"
    src.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    report = prepare("psyqa", src, tmp_path / "data", options={"answers": "labeled"}, **QUIET).report
    barren = report["items_without_records"]
    assert [(b["id"], b["line"]) for b in barren] == [("99", 21)] and "answers" in barren[0]["reason"]
    # Every question unlabeled: no split could be written, and nothing is.
    src.write_text(json.dumps([question(i, answers=unlabeled) for i in range(20)], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DataError, match=r"PsyQA.json: the train split would be empty .*nothing was written"):
        prepare("psyqa", src, tmp_path / "data2", options={"answers": "labeled"}, **QUIET)
    assert not (tmp_path / "data2").exists()
