"""Bad input to the entry scripts ends in one line naming the file, record and field (or the option), exit status 2,
never a traceback; and preprocessing checks its preconditions before it writes anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_script

ES_SAMPLE = "dataset/samples/longemotion/Emotion_Summary_sample.jsonl"


def assert_clean_error(proc, *expected: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out, out
    for text in expected:
        assert text in out, f"{text!r} not in {out!r}"


@pytest.mark.parametrize(("options", "expected"), [
    (["--kfold", "1"], "--kfold K --fold I needs K >= 3"),
    (["--kfold", "5", "--fold", "7"], "got --kfold 5 --fold 7"),
    (["--kfold", "5", "--fold", "-1"], "got --kfold 5 --fold -1"),
    (["--fold", "2"], "--fold needs --kfold"),
    (["--ratios", "0.8,0.1"], "--ratios"),
    (["--ratios", "a,b,c"], "--ratios"),
])
def test_preprocess_options(tmp_path, options, expected):
    proc = run_script("scripts/preprocess.py", "emotion_summary", "--input", ES_SAMPLE, "--data-dir", str(tmp_path),
                      *options)
    assert_clean_error(proc, expected)
    assert not any(tmp_path.iterdir()), "nothing may be written for a bad option"


@pytest.mark.parametrize(("content", "expected"), [
    ("not: yaml: [\n", ":1: not valid YAML"),
    ("- a list\n- of things\n", "expected a mapping of LLaMA-Factory arguments"),
    ("cutoff_len: 1024\n", "field 'model_name_or_path': missing"),
    ("model_name_or_path: x\ncutoff_len: long\n", "field 'cutoff_len': not an integer"),
    (b"\xff\xfe\x00binary", "not a UTF-8 text file"),
])
def test_preprocess_config_that_is_not_a_train_config(tmp_path, content, expected):
    config = tmp_path / "config.yaml"
    config.write_bytes(content if isinstance(content, bytes) else content.encode())
    proc = run_script("scripts/preprocess.py", "mug_ts", "--input", "dataset/samples/alimeeting4mug", "--config",
                      str(config), "--data-dir", str(tmp_path / "data"))
    assert_clean_error(proc, str(config), expected)
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    proc = run_script("scripts/preprocess.py", "mug_ts", "--input", "dataset/samples/alimeeting4mug", "--config",
                      str(folder))
    assert_clean_error(proc, str(folder), "is a folder")


@pytest.mark.parametrize("kind", ["folder", "not json", "a list"])
def test_a_broken_dataset_info_stops_preprocessing_before_any_file_is_written(tmp_path, kind):
    info = tmp_path / "dataset_info.json"
    if kind == "folder":
        info.mkdir()
    else:
        info.write_text("{oops" if kind == "not json" else "[]", encoding="utf-8")
    proc = run_script("scripts/preprocess.py", "psyqa", "--input", "dataset/samples/psyqa/PsyQA_sample.json",
                      "--data-dir", str(tmp_path))
    assert_clean_error(proc, str(info))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset_info.json"]


def test_predict_config_that_is_not_yaml(tmp_path):
    config = tmp_path / "predict.yaml"
    config.write_text("model_name_or_path: [unclosed\n", encoding="utf-8")
    assert_clean_error(run_script("scripts/predict.py", str(config)), str(config), "not valid YAML")
    assert_clean_error(run_script("scripts/predict.py", str(Path(tmp_path))), "is a folder")


@pytest.mark.parametrize(("task", "source"), [
    ("chnsenticorp", "dataset/samples/chnsenticorp"), ("psyqa", "dataset/samples/psyqa"),
    ("emotion_summary", "dataset/samples/longemotion"), ("mug_aid", "dataset/samples/alimeeting4mug"),
])
def test_windows_and_old_mac_line_endings_read_like_unix_ones(tmp_path, task, source):
    """CRLF and lone-CR copies of each source's samples give the same records, counts and line numbers (a lone CR
    ended in a csv traceback, and in a JSONL file that was one bad line)."""
    import json
    import shutil

    from conftest import ROOT

    from qwen_recipes.data.prepare import prepare

    results = {}
    for name, eol in (("lf", b"\n"), ("crlf", b"\r\n"), ("cr", b"\r")):
        folder = tmp_path / name / "in"
        shutil.copytree(ROOT / source, folder)
        for f in folder.iterdir():
            f.write_bytes(f.read_bytes().replace(b"\n", eol))
        got = prepare(task, folder, tmp_path / name / "data", log=lambda _: None)
        metas = {s: [(m["line"], m["id"]) for m in map(json.loads, (got.out_dir / f"{s}.meta.jsonl").read_text().splitlines())]
                 for s in got.outputs}
        results[name] = (got.report["counts"], [d["line"] for d in got.report["dropped"]], metas,
                         {s: p.read_bytes() for s, p in got.outputs.items()})
    assert results["crlf"] == results["lf"] and results["cr"] == results["lf"]


def test_tokenizer_that_is_not_available_offline(tmp_path):
    proc = run_script("scripts/preprocess.py", "mug_aid", "--input", "dataset/samples/alimeeting4mug",
                      "--data-dir", str(tmp_path), "--tokenizer", "no-such-org/no-such-model", env={"HF_HUB_OFFLINE": "1"})
    assert_clean_error(proc, "field '--tokenizer'", "no-such-org/no-such-model", "not in the cache")
    assert not any(tmp_path.iterdir())
