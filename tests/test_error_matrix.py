"""Every entry script's main paths on a matrix of bad inputs: each must end in one line that names the input, with
exit status 2, never a traceback. The scripts run in this process (``runpy``, as ``python scripts/x.py`` would run
them) so that the matrix stays cheap; an exception that escapes a script fails the test with its traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, run_main

# What a user may hand a script by mistake; each is built in the test's temporary folder.
BAD = {
    "missing": None,  # a path that does not exist
    "folder": "dir",  # a folder where a file is expected
    "empty": b"",
    "binary": b"\xff\xfe\x00\x81garbage\x00",
    "json_list": b"[1, 2, 3]\n",
    "bad_yaml": b"model_name_or_path: [unclosed\n",
}

# (script, arguments); {bad} is the bad input, {tmp} a fresh folder for outputs, {preds} a good predictions file.
# VALID lists the (script, kind) pairs where the "bad" input is a fine one (an empty folder is a data dir).
VALID = {("make_dataset_info", "folder"), ("preprocess-out", "missing"), ("preprocess-out", "folder"),
         ("make_tiny_model", "missing"), ("make_tiny_model", "folder"), ("make_samples", "missing"),
         ("make_samples", "folder")}
PATHS = [
    ("preprocess", ["chnsenticorp", "--input", "{bad}", "--data-dir", "{tmp}/data"]),
    ("preprocess", ["psyqa", "--input", "{bad}", "--data-dir", "{tmp}/data"]),
    ("preprocess", ["emotion_summary", "--input", "{bad}", "--data-dir", "{tmp}/data"]),
    ("preprocess", ["mug_aid", "--input", "{bad}", "--data-dir", "{tmp}/data"]),
    ("preprocess", ["sharegpt", "--input", "{bad}", "--data-dir", "{tmp}/data"]),
    ("preprocess", ["emotion_summary", "--input", "dataset/samples/longemotion", "--config", "{bad}",
                    "--data-dir", "{tmp}/data"]),
    ("preprocess-out", ["chnsenticorp", "--input", "dataset/samples/chnsenticorp", "--data-dir", "{bad}"]),
    ("evaluate", ["chnsenticorp", "{bad}", "--out-dir", "{tmp}/eval"]),
    ("evaluate", ["chnsenticorp", "{preds}", "--data", "{bad}", "--out-dir", "{tmp}/eval"]),
    ("evaluate", ["emotion_summary", "{bad}", "--out-dir", "{tmp}/eval"]),
    ("evaluate", ["mug_aid", "{preds}", "--data", "{bad}", "--out-dir", "{tmp}/eval"]),
    ("compare_predictions", ["{bad}", "{preds}"]),
    ("judge", ["{bad}", "--base-url", "http://127.0.0.1:9", "--model", "m", "--out-dir", "{tmp}/judge"]),
    ("predict", ["{bad}", "--out", "{tmp}/pred"]),
    ("label_eval", ["{bad}", "--out-dir", "{tmp}/label"]),
    ("train", ["{bad}", "output_dir={tmp}/train"]),
    ("check_merge", ["{bad}"]),
    ("benchmark", ["{bad}", "--out", "{tmp}/bench"]),
    ("benchmark_predict", ["{bad}", "--out", "{tmp}/bench"]),
    ("mug_baselines", ["--data-dir", "{bad}", "--out", "{tmp}/base"]),
    ("make_dataset_info", ["--data-dir", "{bad}", "--check"]),
    ("make_configs", ["{bad}", "--check"]),
    ("download_model", ["{bad}", "--models-dir", "{tmp}/models"]),
    ("make_tiny_model", ["--out", "{bad}"]),
    ("make_samples", ["--out", "{bad}", "--check"]),
    ("token_lengths", ["--real-data", "{bad}", "--out", "{tmp}/lengths"]),
]
CASES = [(script, args, kind) for script, args in PATHS for kind in sorted(BAD) if (script, kind) not in VALID]


def make_bad(tmp: Path, kind: str) -> Path:
    path = tmp / f"input_{kind}.json"
    spec = BAD[kind]
    if spec == "dir":
        path.mkdir()
    elif spec is not None:
        path.write_bytes(spec)
    return path


@pytest.mark.parametrize(("script", "args", "kind"), CASES, ids=[
    f"{s}-{a[0]}-{k}" if not a[0].startswith("{") else f"{s}-{k}" for s, a, k in CASES])
def test_bad_input_is_one_line_and_status_2(tmp_path, monkeypatch, capsys, script, args, kind):
    script = script.split("-")[0]  # "preprocess-out": the same script, another of its inputs
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bad = make_bad(tmp_path, kind)
    preds = tmp_path / "generated_predictions.jsonl"
    preds.write_text(json.dumps({"prompt": "p", "predict": "[1]", "label": "[1]\n"}) + "\n", encoding="utf-8")
    filled = [a.format(bad=bad, tmp=tmp_path, preds=preds) for a in args]
    code = run_main(script, filled)
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == 2, f"exit {code}: {text[-2000:]}"
    assert "Traceback" not in text, text
    assert bad.name in text.replace("\n", ""), f"the message must name {bad.name}: {text[-1000:]}"
