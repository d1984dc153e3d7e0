"""The prediction benchmark (scripts/benchmark_predict.py): the stop-length calibration, the adapters it writes, and
the whole harness on the tiny model (CPU: its numbers mean nothing, the rows and figures must all be there)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from conftest import ROOT, run_script

from qwen_recipes.bench import predict_model as pm
from qwen_recipes.bench import predict_suite as ps

pytestmark = pytest.mark.filterwarnings("ignore:Model with `tie_word_embeddings=True`:UserWarning")


def test_stop_lengths_follow_the_recorded_logits():
    """Length under scale s = first step where s * stop logit beats the best other logit, or another stop id wins."""
    rec = pm.StopRecorder(stop_id=2, other_stops=[2, 7])
    rec.e = {0: [1.0, 2.0, 3.0, 0.5], 1: [-1.0, -1.0, -1.0, -1.0], 2: [0.1, 0.1, 0.1, 0.1]}
    rec.m = {0: [4.0, 4.0, 4.0, 4.0], 1: [0.0, 0.0, 0.0, 0.0], 2: [1.0, 1.0, 1.0, 1.0]}
    rec.o = {0: [False] * 4, 1: [False] * 4, 2: [False, False, True, False]}  # seq 2: stop id 7 wins at step 3
    assert rec.lengths(1.0, 10) == [10, 10, 3]
    assert rec.lengths(1.5, 10) == [3, 10, 3]  # 1.5 * 3.0 > 4
    assert rec.lengths(2.5, 10) == [2, 10, 3]  # 2.5 * 2.0 > 4
    assert rec.lengths(20.0, 10) == [1, 10, 1]  # 20 * 0.1 > 1 at the first step
    # Three alike sequences: length 3 for 4/3 < s <= 2 only, so a reference of 3s admits only that range.
    rec.e, rec.m = dict.fromkeys(range(3), [1.0, 2.0, 3.0, 4.0]), dict.fromkeys(range(3), [4.0] * 4)
    rec.o = dict.fromkeys(range(3), [False] * 4)
    scale, lengths = pm.choose_scale(rec, reference=[3, 3, 3], max_new_tokens=10)
    assert lengths == [3, 3, 3] and 4 / 3 < scale <= 2.0


def test_adapter_scales_exactly_the_stop_logit(tiny_model, tmp_path):
    """No random part (b_std=0): base and adapter give the same logits except the stop token's, which is s times."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out = pm.write_adapter(tiny_model, tmp_path / "adapter", rank=4, alpha=8, b_std=0.0, seed=0, stop_id=2,
                           stop_scale=3.0)
    assert {"adapter_model.safetensors", "adapter_config.json", "tokenizer.json"} <= {p.name for p in out.iterdir()}
    base = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    ids = torch.tensor([[5, 17, 300, 42]])
    with torch.no_grad():
        before = base(ids).logits[0, -1].clone()
        after = PeftModel.from_pretrained(base, out).eval()(ids).logits[0, -1]
    others = torch.ones_like(before, dtype=torch.bool)
    others[2] = False
    assert torch.allclose(after[others], before[others])
    assert torch.isclose(after[2], 3.0 * before[2], rtol=2e-2), (after[2], before[2])  # the A row is stored in bf16


def test_every_shipped_prediction_suite_loads():
    """Configs and inputs exist (real data or the samples it falls back to) and the header gives the command."""
    suites = sorted((ROOT / "benchmarks").glob("*predict*.yaml"))
    assert len(suites) >= 3
    for path in suites:
        suite = ps.load_suite(path)
        assert all(t["baseline_examples"] <= t["engine_examples"] for t in suite["tasks"]), path
        assert f"python scripts/benchmark_predict.py {path.relative_to(ROOT)}" in path.read_text(), path


def test_suite_is_checked_before_any_work(tmp_path):
    bad = tmp_path / "suite.yaml"
    bad.write_text("tasks: []\n")
    proc = run_script("scripts/benchmark_predict.py", str(bad))
    assert proc.returncode == 2 and "non-empty `tasks:` list" in proc.stdout, proc.stdout + proc.stderr
    bad.write_text("tasks:\n  - {name: a, task: psyqa, config: configs/predict/nope.yaml, input: x,"
                   " baseline_examples: 1, engine_examples: 2}\n")
    with pytest.raises(FileNotFoundError, match="nope.yaml not found"):
        ps.load_suite(bad)
    bad.write_text("tasks:\n  - {name: a, task: psyqa, config: configs/predict/tiny_qlora_psyqa.yaml,"
                   " input: dataset/samples/psyqa/PsyQA_sample.json, baseline_examples: 1, engine_examples: 2,"
                   " attention_variants: [flash]}\n")
    with pytest.raises(ValueError, match="`attention_variants` must be among bmm, sdpa, flex, got \\['flash'\\]"):
        ps.load_suite(bad)


@pytest.mark.slow
def test_cpu_smoke_suite_end_to_end(tmp_path, tiny_model):
    """do_predict, model.generate and the engine (4-bit, rerun, merged) on one model and one dataset, with figures;
    run the way a time-limited machine runs it: the do_predict half, stopped (as a time limit stops it) once its
    first task is saved and finished for the other task with ``--tasks``, then the project half one task at a time,
    each keeping the other task's rows.

    The suite's own model is the demo's folder, which a fresh clone does not have: ``model:`` points at the session's.
    """
    smoke = yaml.safe_load((ROOT / "benchmarks/cpu_tiny_predict_smoke.yaml").read_text())
    smoke["model"] = str(tiny_model)
    suite_path = tmp_path / "smoke.yaml"
    suite_path.write_text(yaml.safe_dump(smoke))
    out = tmp_path / "out"
    state = out / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text('{"suite": null, "rows": [{"name": "from an earlier run"}], "project_rows": []}')
    stderr = tmp_path / "stage.err"
    with open(stderr, "w") as err:
        stage = subprocess.Popen([sys.executable, "scripts/benchmark_predict.py", str(suite_path), "--out", str(out),
                                  "--stage", "do_predict"], cwd=ROOT, stdout=err, stderr=subprocess.STDOUT,
                                 env={**os.environ, "HF_HUB_OFFLINE": "1"}, start_new_session=True)
        deadline = time.monotonic() + 900
        while stage.poll() is None and time.monotonic() < deadline and "psyqa-do_predict" not in {
                r["name"] for r in json.loads(state.read_text())["rows"]}:
            time.sleep(0.2)
        os.killpg(stage.pid, signal.SIGKILL)
        stage.wait()
    saved = json.loads(state.read_text())  # a full run starts from an empty state: the earlier run's row is gone
    assert [r["name"] for r in saved["rows"]] == ["psyqa-do_predict"], stderr.read_text()[-3000:]
    assert [t["name"] for t in saved["suite"]["tasks"]] == ["psyqa"]
    for step in (["--stage", "do_predict", "--tasks", "mug_aid"], ["--stage", "project", "--tasks", "mug_aid"],
                 ["--stage", "project", "--tasks", "psyqa"]):
        proc = run_script("scripts/benchmark_predict.py", str(suite_path), "--out", str(out), *step)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        if step[1] == "project":
            assert str(out / "results.md") in proc.stdout
    result = json.loads((out / "results.json").read_text())
    rows = {r["name"]: r for r in result["rows"]}
    assert set(rows) == {"psyqa-do_predict", "psyqa-generate", "psyqa-engine-4bit-baseline-rows", "psyqa-engine-4bit",
                         "psyqa-engine-4bit-rerun", "psyqa-engine-merged", "psyqa-engine-merged-flex", "mug_aid-do_predict",
                         "mug_aid-engine-4bit-baseline-rows", "mug_aid-engine-4bit", "mug_aid-engine-merged"}
    for r in rows.values():
        assert r["examples_per_second"] > 0 and r["speedup_vs_do_predict"] > 0 and "percent_of_decode_ceiling" in r
    assert rows["psyqa-do_predict"]["examples"] == 4 and rows["psyqa-engine-4bit"]["examples"] == 12
    assert rows["psyqa-engine-merged"]["examples"] == 16 and rows["mug_aid-engine-merged"]["examples"] == 4
    assert rows["psyqa-engine-4bit-rerun"]["identical_vs_first_run"] == "12/12"
    assert rows["psyqa-engine-merged"]["identical_vs_4bit"].endswith("/12")
    assert rows["psyqa-engine-merged-flex"]["identical_vs_engine_merged"] == "16/16"  # the same attention, another kernel
    assert rows["psyqa-generate"]["identical_vs_do_predict"].endswith("/4")
    calibration = result["tasks"][0]["calibration"]
    assert calibration["stop_scale"] >= 1.0 and calibration["reference_lengths"]["n"] == 16
    assert [t["name"] for t in result["tasks"]] == ["psyqa", "mug_aid"]
    bad = run_script("scripts/benchmark_predict.py", str(suite_path), "--out", str(out), "--stage", "project",
                     "--tasks", "nope")
    assert bad.returncode == 2 and "nope" in bad.stdout + bad.stderr and "Traceback" not in bad.stderr


def test_a_full_do_predict_stage_starts_from_an_empty_state(tmp_path, monkeypatch):
    """Stopped before its first task is saved, a full run leaves no earlier run's rows for a later --stage project."""
    suite = ps.load_suite(ROOT / "benchmarks/cpu_tiny_predict_smoke.yaml")
    out = tmp_path / "out"
    out.mkdir()
    (out / "state.json").write_text('{"suite": null, "rows": [{"name": "from an earlier run"}], "project_rows": []}')

    def stopped(*_args, **_kwargs):
        raise KeyboardInterrupt  # what a time limit does to the stage before its first task ends

    monkeypatch.setattr(ps, "_stage_do_predict", stopped)
    with pytest.raises(KeyboardInterrupt):
        ps.run_suite(suite, out, log=lambda _: None, stages=("do_predict",))
    assert json.loads((out / "state.json").read_text()) == {"suite": None, "rows": [], "project_rows": []}
    # Then the project half says what to run first (seen on the H200, 2026-12-02: a TypeError traceback before).
    suite_path = ROOT / "benchmarks/cpu_tiny_predict_smoke.yaml"
    for tasks in ((), ("--tasks", "psyqa")):
        proc = run_script("scripts/benchmark_predict.py", str(suite_path), "--out", str(out), "--stage", "project", *tasks)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "no do_predict stage" in proc.stdout and "state.json" in proc.stdout and "Traceback" not in proc.stderr


def test_recorded_prediction_results_match_the_harness():
    """Each recorded suite result names the issue's two headline figures on every measured row, and its .md is what
    ``predict_suite.markdown`` writes from its .json (a hand-edited table would differ)."""
    recorded = [p for p in sorted((ROOT / "benchmarks/results").glob("*predict*.json"))
                if "suite" in json.loads(p.read_text())]
    assert recorded, "no recorded prediction suite results"
    for path in recorded:
        result = json.loads(path.read_text())
        measured = [r for r in result["rows"] if r.get("examples_per_second")]
        assert measured, path
        for r in measured:
            assert r["speedup_vs_do_predict"] > 0 and r["percent_of_decode_ceiling"] > 0, (path.name, r["name"])
        assert path.with_suffix(".md").read_text() == ps.markdown(result), path
