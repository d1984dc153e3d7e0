"""AliMeeting4MUG reader (variants and invariants), windows under a token budget, parsers and merging."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from qwen_recipes.data.prepare import prepare
from qwen_recipes.errors import DataError
from qwen_recipes.readers import alimeeting as R
from qwen_recipes.tasks import get_task
from qwen_recipes.tasks.mug.base import counter, pack, parse_ids
from qwen_recipes.tasks.mug.kpe import merge_keyphrases

SAMPLES = ROOT / "dataset" / "samples" / "alimeeting4mug"
QUIET = {"log": lambda _: None}


def meeting(n: int = 6, key: str = "M1", **over) -> dict:
    content = {
        "meeting_key": key,
        "sentences": [{"id": str(i), "speaker": "甲", "start_time": str(i * 2.0), "end_time": i * 2.0 + 1, "s": f"第{i}句话"}
                      for i in range(1, n + 1)],
        "paragraph_segment_ids": [{"id": "2"}, {"id": 4}, {"id": str(n)}],
        "topic_segment_ids": [{"id": 4, "candidate": [{"title": "议题一", "key_sentence": ["1", "3"]}]},
                              {"id": str(n), "candidate": [{"title": "议题二", "key_sentence": [str(n)]}]}],
        "candidate": [{"key_sentence": ["1"], "key_word": ["预算", "招聘"]}, {"key_sentence": ["2"], "key_word": ["招聘"]}],
        "action_ids": [{"id": "5"}],
    }
    content.update(over)
    return content


def write(tmp_path, rows: list[dict], name: str = "train.csv"):
    text = "idx\tcontent\n" + "".join(f"{i}\t{json.dumps(r, ensure_ascii=False)}\n" for i, r in enumerate(rows))
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path / name


def test_string_and_int_ids_and_paragraph_key_variants(tmp_path):
    org = meeting(key="M2")
    org["org_segment_id"] = org.pop("paragraph_segment_ids")
    out = R.read_file(write(tmp_path, [meeting(), org, meeting(key="M3", candidate=None, topic_segment_ids=[{"id": 6}])]))
    assert [m.key for m in out.records] == ["M1", "M2", "M3"] and out.rejected == []
    m = out.records[0]
    assert m.paragraph_ends == [2, 4, 6] and [t.end for t in m.topics] == [4, 6] and m.action_ids == [5]
    assert m.topics[0].candidates[0].key_sentences == [1, 3] and m.session[0].keywords == ["预算", "招聘"]
    assert m.topic_spans() == [(1, 4), (5, 6)] and [len(p) for p in m.paragraphs()] == [2, 2, 2]
    assert out.records[1].paragraph_ends == [2, 4, 6]
    assert out.records[2].session == [] and out.records[2].topics[0].candidates == []  # kept, not crashed


@pytest.mark.parametrize(
    ("over", "field", "reason"),
    [
        ({"topic_segment_ids": [{"id": 9}]}, "topic_segment_ids", "outside sentences 1..6"),
        ({"paragraph_segment_ids": [{"id": 4}, {"id": 2}]}, "paragraph_segment_ids", "not strictly increasing"),
        ({"action_ids": [{"id": "x"}]}, "action_ids", "is not a sentence id"),
        ({"sentences": []}, "sentences", "no sentences"),
        ({"candidate": ["1,2", "3"]}, "candidate", "must be a list of objects, not a list holding str"),
        ({"candidate": {"key_sentence": ["1"]}}, "candidate", "must be a list of objects, not dict"),
        ({"candidate": [{"key_sentence": ["1"], "key_word": 7}]}, "candidate.key_word", "not a string or a list"),
        ({"candidate": [{"key_sentence": ["1"], "key_word": ["a", 3]}]}, "candidate.key_word", "not a string"),
        ({"topic_segment_ids": [{"id": 6, "candidate": "标题"}]}, "topic_segment_ids[0].candidate",
         "must be a list of objects, not str"),
        ({"topic_segment_ids": [{"id": 6, "candidate": [{"title": 5, "key_sentence": ["1"]}]}]},
         "topic_segment_ids.candidate.title", "is not text but int"),
    ],
)
def test_broken_invariants_reject_the_meeting_only(tmp_path, over, field, reason):
    out = R.read_file(write(tmp_path, [meeting(key="ok"), meeting(key="bad", **over)]))
    assert [m.key for m in out.records] == ["ok"]
    (rej,) = out.rejected
    assert (rej.line, rej.field) == (3, field) and reason in rej.reason


def test_sentence_ids_and_empty_sentences(tmp_path):
    gap = meeting()
    gap["sentences"][2]["id"] = "9"
    empty = meeting(key="M9")
    empty["sentences"][1]["s"] = "  "
    out = R.read_file(write(tmp_path, [gap, empty]))
    assert [r.reason for r in out.rejected] == ["sentence ids must run 1..N; position 3 has id '9'", "sentence 2 is empty"]


def test_huge_cells_and_bad_header(tmp_path):
    big = meeting(n=3000)  # a content cell of well over the csv module's default 131,072-character limit
    big["paragraph_segment_ids"] = [{"id": 3000}]
    big["topic_segment_ids"] = [{"id": 3000}]
    path = write(tmp_path, [big])
    assert path.stat().st_size > 200_000
    assert len(R.read_file(path).records[0].sentences) == 3000
    (tmp_path / "bad.csv").write_text("id,content\n", encoding="utf-8")
    with pytest.raises(DataError, match="bad.csv:1: expected a header 'idx<TAB>content'"):
        R.read_file(tmp_path / "bad.csv")


def test_pack_respects_the_budget_and_counts_cuts():
    count = len
    windows, texts, cut = pack(["甲" * 30, "乙" * 30, "丙" * 30, "丁" * 200], budget=70, count=count)
    assert windows == [[0, 1], [2], [3]]
    assert all(sum(count(texts[i]) + 1 for i in w) <= 70 + 1 for w in windows)
    assert cut == 130 and texts[3] == "丁" * 70


def test_windows_use_the_real_tokenizer(tiny_model):
    count = counter(str(tiny_model))
    lines = [f"小王：这次招聘主要面向大一新生，第{i}次讨论。" for i in range(40)]
    windows, texts, _ = pack(lines, budget=60, count=count)
    assert len(windows) > 1
    for w in windows:
        assert sum(count(texts[i]) + 1 for i in w) <= 60 or len(w) == 1


@pytest.mark.parametrize(
    ("text", "allowed", "expected"),
    [("[3, 5]", None, ([3, 5], 0)), ("第3句和第5句", None, ([3, 5], 0)), ("1. 12\n2. 15", {12, 15}, ([12, 15], 2)),
     ("[]", None, ([], 0)), ("无", None, ([], 0)), ("没有找到", None, (None, 0)), ("[7, 99]", {7}, ([7], 1)),
     ("", None, (None, 0))],
)
def test_parse_ids(text, allowed, expected):
    assert parse_ids(text, allowed) == expected


def test_merge_keyphrases_ranks_by_votes_then_first_seen():
    assert merge_keyphrases([["招聘", "预算"], ["海报", "招聘", "招聘"], ["预算 ", "面试"]]) == ["招聘", "预算", "海报", "面试"]


def test_samples_prepare_for_every_task_with_meta_and_gold(tmp_path, tiny_model):
    for name in ("mug_ttg", "mug_es", "mug_ts", "mug_kpe", "mug_aid"):
        result = prepare(name, SAMPLES, tmp_path, options={"tokenizer": str(tiny_model), "cutoff_len": 512}, **QUIET)
        counts = result.report["counts"]
        assert counts["train"]["rejected"] == 1 and counts["train"]["kept"] == 3
        windows = result.report["windows"]
        assert windows["meetings"] == 5 and windows["windows"] >= 5
        meta = [json.loads(x) for x in (tmp_path / name / "test.meta.jsonl").read_text().splitlines()]
        rows = json.loads(result.outputs["test"].read_text(encoding="utf-8"))
        assert len(meta) == len(rows) and all(m["meeting"] == "S0201" for m in meta)
        gold = [json.loads(x) for x in (tmp_path / name / "test.gold.jsonl").read_text().splitlines()]
        assert [g["meeting_key"] for g in gold] == ["S0201"]
        task = get_task(name)
        for r in rows:
            assert task.parse(r["output"]) is not None, (name, r["output"])
    ttg = json.loads((tmp_path / "mug_ttg" / "train.json").read_text(encoding="utf-8"))
    assert len(ttg) == 3 * 3 * 3  # 3 meetings x 3 topics x 3 annotators' titles on train


@pytest.mark.parametrize(("task", "rank"), [("mug_ts", 100.0), ("mug_aid", 100.0), ("mug_kpe", 100.0)])
def test_training_targets_as_predictions_score_perfectly_through_windows(tmp_path, tiny_model, task, rank):
    """Windows -> records -> 'predictions' equal to the targets -> merge per meeting -> official scorer: the round
    trip loses nothing (TTG and ES cannot reach 100 on avg: annotators disagree, which test_mug_scoring covers)."""
    from conftest import run_script

    result = prepare(task, SAMPLES, tmp_path / "data", options={"tokenizer": str(tiny_model), "cutoff_len": 256}, **QUIET)
    assert result.report["windows"]["windows_per_meeting_max"] > 1, "the sample meetings must span several windows"
    rows = json.loads(result.outputs["test"].read_text(encoding="utf-8"))
    pred_dir = tmp_path / "pred"
    pred_dir.mkdir()
    (pred_dir / "generated_predictions.jsonl").write_text(
        "".join(json.dumps({"prompt": "", "predict": r["output"], "label": r["output"] + "\n"}, ensure_ascii=False) + "\n"
                for r in rows), encoding="utf-8")
    proc = run_script("scripts/evaluate.py", task, str(pred_dir), "--data", str(result.outputs["test"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    metrics = json.loads((pred_dir / "metrics.json").read_text())
    assert metrics["rank"] == pytest.approx(rank) and metrics["merge"]["unreadable"] == 0
    assert list(pred_dir.glob("*_test_submit.json"))


def test_unreadable_answers_fall_back_and_are_counted(tmp_path, tiny_model):
    from qwen_recipes.eval.mug_eval import evaluate

    result = prepare("mug_es", SAMPLES, tmp_path / "data", options={"tokenizer": str(tiny_model), "cutoff_len": 512},
                     **QUIET)
    n = len(json.loads(result.outputs["test"].read_text(encoding="utf-8")))
    metas = [json.loads(x) for x in (tmp_path / "data" / "mug_es" / "test.meta.jsonl").read_text().splitlines()]
    topic_records = sum(m["level"] == "topic" for m in metas)
    assert 0 < topic_records < n  # topic records and session windows
    metrics, submission = evaluate(get_task("mug_es"), ["我不知道"] * n, result.outputs["test"], tmp_path)
    # Every topic falls back to its first sentence; the meeting's session summary falls back once.
    assert metrics["merge"]["fallbacks"] == topic_records + 1 and metrics["merge"]["unreadable"] == n
    rows = [json.loads(x) for x in submission.read_text(encoding="utf-8").splitlines()]
    assert all(t["key_sentence"] for r in rows for t in r["topic_segment_ids"])  # never an empty hypothesis
    assert all(r["key_sentence"] for r in rows)


def test_reference_rows_perfect_and_trivial(tmp_path, tiny_model):
    from conftest import run_script

    for name in ("mug_ts", "mug_es", "mug_ttg", "mug_kpe", "mug_aid"):
        prepare(name, SAMPLES, tmp_path, options={"tokenizer": str(tiny_model), "cutoff_len": 512}, **QUIET)
    proc = run_script("scripts/mug_baselines.py", "--data-dir", str(tmp_path), "--split", "test")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((tmp_path / "mug_baselines" / "test.json").read_text())
    for task in ("mug_ts", "mug_kpe", "mug_aid"):
        assert results[task]["perfect"]["rank"] == pytest.approx(100.0)
    for task in ("mug_es", "mug_ttg"):  # the best reference is matched exactly; averages stay below 100
        assert results[task]["perfect"]["max_rouge-1" if task == "mug_ttg" else "topic_max_rouge-1"] == pytest.approx(100.0)
    for task, r in results.items():
        assert r["trivial"]["rank"] < r["perfect"]["rank"], task


def test_meetings_missing_what_a_task_needs_are_rejected_for_that_task_only(tmp_path):
    """No topic ids (others of the split have them): rejected for TS/ES/TTG, kept for AID/KPE; no paragraph ids:
    rejected for TS only. The reason names the field, and the counts still add up."""
    no_topics = meeting(key="M2")
    del no_topics["topic_segment_ids"]
    no_paragraphs = meeting(key="M3", paragraph_segment_ids=[])
    (tmp_path / "in").mkdir()
    write(tmp_path / "in", [meeting(), no_topics, no_paragraphs])
    expected = {"mug_ts": {"M2": "topic_segment_ids", "M3": "paragraph_segment_ids"},
                "mug_es": {"M2": "topic_segment_ids"}, "mug_ttg": {"M2": "topic_segment_ids"}, "mug_aid": {}, "mug_kpe": {}}
    for name, rejected in expected.items():
        report = prepare(name, tmp_path / "in", tmp_path / "out", **QUIET).report
        got = {d["text"]: d["field"] for d in report["dropped"]}
        assert got == rejected, name
        assert report["counts"]["train"]["read"] == 3 and report["counts"]["train"]["kept"] == 3 - len(rejected)
        if "M2" in rejected:  # TS: topics are its answer; ES/TTG: the gold topics are part of their input
            reason = next(d["reason"] for d in report["dropped"] if d["text"] == "M2")
            assert ("other meetings of this split" if name == "mug_ts" else "builds its input") in reason, reason
        records = json.loads((tmp_path / "out" / name / "train.json").read_text(encoding="utf-8"))
        assert all(r["output"] for r in records), name  # never an empty target next to annotated meetings


def test_a_split_without_topic_ids_is_prediction_only_for_ts(tmp_path):
    """The challenge's test files withhold the labels: TS keeps every meeting with empty outputs; TTG has no input."""
    rows = []
    for key in ("T1", "T2"):
        m = meeting(key=key)
        del m["topic_segment_ids"]
        rows.append(m)
    (tmp_path / "in").mkdir()
    write(tmp_path / "in", rows)
    result = prepare("mug_ts", tmp_path / "in", tmp_path / "out", **QUIET)
    assert result.report["counts"]["train"]["kept"] == 2 and result.report["written"]["train"]["labeled"] is False
    assert {r["output"] for r in json.loads(result.outputs["train"].read_text(encoding="utf-8"))} == {""}
    with pytest.raises(DataError, match="would be empty"):
        prepare("mug_ttg", tmp_path / "in", tmp_path / "out", **QUIET)


def test_topic_end_inside_a_paragraph_is_dropped_alike_in_target_and_scoring(tmp_path):
    """Paragraphs end at 2, 4, 6, 8; topics at 3 (inside a paragraph), 6, 8. The official scorer keeps paragraph
    ends only, so 3 can be neither predicted nor scored: the target is [6], the report lists 3, and the target
    scored as a prediction against gold.jsonl is perfect."""
    from qwen_recipes.eval.mug_eval import evaluate

    m = meeting(n=8, paragraph_segment_ids=[{"id": i} for i in (2, 4, 6, 8)],
                topic_segment_ids=[{"id": i, "candidate": []} for i in (3, 6, 8)])
    (tmp_path / "in").mkdir()
    write(tmp_path / "in", [m])
    result = prepare("mug_ts", tmp_path / "in", tmp_path / "out", **QUIET)
    records = json.loads(result.outputs["train"].read_text(encoding="utf-8"))
    assert [r["output"] for r in records] == ["[6]"]
    assert result.report["windows"]["topic_ends_not_paragraph_ends"] == {"M1": [3]}
    gold = json.loads((tmp_path / "out" / "mug_ts" / "train.gold.jsonl").read_text(encoding="utf-8"))
    assert [t["id"] for t in gold["topic_segment_ids"]] == [3, 6, 8]  # the dataset's own ids; the scorer filters
    metrics, _ = evaluate(get_task("mug_ts"), [r["output"] for r in records], result.outputs["train"], tmp_path / "eval")
    assert metrics["f1"] == pytest.approx(100.0) and metrics["gold_boundaries"] == 1
