"""Long runs that survive, on the tiny model (CPU, QLoRA 4-bit, the demo's train config): a run killed after a
checkpoint resumes with ``resume_from_checkpoint`` and with LLaMA-Factory's automatic resume from ``output_dir``
(``overwrite_output_dir=false``); the step counter and the loss history continue, and the final adapter equals an
uninterrupted run's with the same seed. ``report_to=tensorboard`` writes event files offline that hold the loss.

The tolerance is measured, not assumed: the resumed run restores the optimizer, scheduler, RNG and data order, so the
adapters are expected to match to float32 rounding; the figures go to ``outputs/resume/tolerance.json``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, run_script

CONFIG = "configs/train/tiny_qlora_chnsenticorp.yaml"
STEPS, SAVE_EVERY = 12, 4
# Measured on this CPU: 0.0 for every tensor (bit-identical); the bound leaves room for another CPU's kernels.
ADAPTER_TOLERANCE = 1e-5
LOSS_TOLERANCE = 1e-4
KILL_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("resume-data")
    proc = run_script("scripts/preprocess.py", "chnsenticorp", "--input", "dataset/samples/chnsenticorp",
                      "--data-dir", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out


def _overrides(tiny_model: Path, data_dir: Path, output_dir: Path, *extra: str) -> list[str]:
    return [f"model_name_or_path={tiny_model}", f"dataset_dir={data_dir}", f"output_dir={output_dir}",
            f"max_steps={STEPS}", "per_device_train_batch_size=4", "save_strategy=steps", f"save_steps={SAVE_EVERY}",
            "save_total_limit=10", "logging_steps=1", "plot_loss=false", *extra]


def _train(*overrides: str) -> subprocess.CompletedProcess:
    return run_script("llamafactory-cli", "train", CONFIG, *overrides)


def _train_until_checkpoint(overrides: list[str], output_dir: Path, step: int) -> None:
    """Start training and SIGKILL it (no clean shutdown: a crash) as soon as checkpoint-``step`` is complete."""
    cli = Path(sys.executable).parent / "llamafactory-cli"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    state = output_dir / f"checkpoint-{step}" / "trainer_state.json"  # the Trainer writes it last
    with open(output_dir.parent / f"{output_dir.name}-killed.log", "w") as log:
        proc = subprocess.Popen([str(cli), "train", CONFIG, *overrides], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + KILL_TIMEOUT_S
    try:
        while not state.exists():
            assert proc.poll() is None, f"training ended before checkpoint-{step}: {log.name}"
            assert time.monotonic() < deadline, f"no checkpoint-{step} within {KILL_TIMEOUT_S} s"
            time.sleep(0.05)
        time.sleep(0.2)  # let the JSON be flushed
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (output_dir / "adapter_model.safetensors").exists(), "the run finished before it was killed"


def _adapter(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path / "adapter_model.safetensors"))


def _losses(output_dir: Path) -> dict[int, float]:
    state = json.loads((output_dir / "trainer_state.json").read_text(encoding="utf-8"))
    return {e["step"]: e["loss"] for e in state["log_history"] if "loss" in e}


@pytest.fixture(scope="module")
def uninterrupted(tiny_model, data_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("resume") / "straight"
    proc = _train(*_overrides(tiny_model, data_dir, out, "report_to=tensorboard"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_adapter(tiny_model, data_dir, uninterrupted, tmp_path):
    out = tmp_path / "killed"
    out.mkdir()
    args = _overrides(tiny_model, data_dir, out)
    # 1. killed after checkpoint-4; 2. resumed explicitly from it, killed again after checkpoint-8;
    # 3. the same command with overwrite_output_dir=false: LLaMA-Factory finds checkpoint-8 itself.
    _train_until_checkpoint(args, out, SAVE_EVERY)
    _train_until_checkpoint([*args, f"resume_from_checkpoint={out / f'checkpoint-{SAVE_EVERY}'}"], out, 2 * SAVE_EVERY)
    proc = _train(*args, "overwrite_output_dir=false")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert f"Resuming training from {out / f'checkpoint-{2 * SAVE_EVERY}'}" in log

    state = json.loads((out / "trainer_state.json").read_text(encoding="utf-8"))
    assert state["global_step"] == STEPS
    resumed, straight = _losses(out), _losses(uninterrupted)
    assert sorted(resumed) == sorted(straight) == list(range(1, STEPS + 1)), "the loss history must continue"
    loss_gap = max(abs(resumed[s] - straight[s]) for s in straight)

    a, b = _adapter(out), _adapter(uninterrupted)
    assert a.keys() == b.keys()
    weight_gap = max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
    record = ROOT / "outputs" / "resume" / "tolerance.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"steps": STEPS, "killed_after": [SAVE_EVERY, 2 * SAVE_EVERY],
                                  "max_abs_adapter_difference": weight_gap, "max_abs_loss_difference": loss_gap,
                                  "tensors": len(a)}, indent=1) + "\n", encoding="utf-8")
    assert weight_gap <= ADAPTER_TOLERANCE, f"adapters differ by {weight_gap}"
    assert loss_gap <= LOSS_TOLERANCE, f"losses differ by {loss_gap}"


@pytest.mark.slow
def test_tensorboard_event_files_hold_the_loss(uninterrupted):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = sorted(uninterrupted.rglob("events.out.tfevents.*"))
    assert events, f"no tensorboard event file under {uninterrupted}"
    acc = EventAccumulator(str(events[0].parent))
    acc.Reload()
    assert "train/loss" in acc.Tags()["scalars"], acc.Tags()["scalars"]
    logged = {e.step: e.value for e in acc.Scalars("train/loss")}
    expected = _losses(uninterrupted)
    assert sorted(logged) == sorted(expected)
    assert all(abs(logged[s] - expected[s]) < 1e-5 for s in expected)
