"""Every command explains itself with --help; the code is ruff clean; download fails clearly offline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_script

SCRIPTS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "scripts").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script):
    proc = run_script(script, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:") and len(proc.stdout.splitlines()) > 3


def test_ruff_clean():
    ruff = Path(sys.executable).parent / "ruff"
    proc = subprocess.run([str(ruff), "check", "src", "scripts", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_download_passes_a_local_model_through(tiny_model):
    proc = run_script("scripts/download_model.py", str(tiny_model))
    assert proc.returncode == 0 and f"model_name_or_path={tiny_model}" in proc.stdout


def test_download_without_network_is_a_clear_message():
    # Port 9 on loopback is closed: the same failure a user without network sees, within a second.
    proc = run_script("scripts/download_model.py", "Qwen/Qwen2.5-0.5B-Instruct", "--models-dir", "/nonexistent",
                      env={"MODELSCOPE_DOMAIN": "http://127.0.0.1:9", "HTTPS_PROXY": "", "ALL_PROXY": ""})
    assert proc.returncode == 2
    assert "cannot reach http://127.0.0.1:9" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def test_setup_is_idempotent_and_fast_when_nothing_changed():
    for _ in range(2):  # the first run catches up with any edit of the pins; the second must do nothing
        proc = subprocess.run(["./setup.sh"], cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "up to date" in proc.stdout and "installing" not in proc.stdout
