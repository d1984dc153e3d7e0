"""Shared fixtures. Tests run from the repository root so that the configs' relative paths resolve."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL_DATA = ROOT.parent / "shared" / "real-data"


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def run_script(*args: str, input: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run an entry script (or console tool of the venv) the way a user does, capturing its output."""
    first = args[0]
    cmd = [sys.executable, *args] if first.endswith(".py") else [str(Path(sys.executable).parent / first), *args[1:]]
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **(env or {})}
    return subprocess.run(cmd, cwd=ROOT, input=input, capture_output=True, text=True, env=full_env, check=False)


def run_main(script: str, args: list[str]) -> int:
    """``python scripts/<script>.py args`` in this process (``runpy``: cheap, no second interpreter, and an exception
    that escapes the script fails the test with its traceback); returns the exit status."""
    import runpy

    argv, path = sys.argv, list(sys.path)
    sys.argv = [f"scripts/{script}.py", *args]
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        runpy.run_path(str(ROOT / "scripts" / f"{script}.py"), run_name="__main__")
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        sys.argv, sys.path[:] = argv, path
    return 0


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """The tiny model, built once per session into a temporary folder (the demo's copy is not touched)."""
    from qwen_recipes.models import tiny as tm
    from qwen_recipes.tasks import all_tasks

    out = tmp_path_factory.mktemp("models") / "tiny-qwen2"
    corpus = tm.corpus_from([ROOT / "dataset" / "samples"]) + [t.instruction for t in all_tasks().values()]
    return tm.build(out, corpus)


@pytest.fixture(scope="session")
def qwen25() -> Path:
    """Qwen2.5's real tokenizer (built offline by setup.sh into the cache; built here if the cache is new)."""
    from qwen_recipes import qwen_tokenizer

    return qwen_tokenizer.path("qwen2.5", log=lambda _: None)


@pytest.fixture(scope="session")
def tiny_real_vocab(tmp_path_factory, qwen25) -> Path:
    """The tiny architecture on Qwen2.5's real vocabulary (151,665 tokens): the path a real model takes."""
    from qwen_recipes.models import tiny as tm

    return tm.build(tmp_path_factory.mktemp("models") / "tiny-qwen2.5-vocab", tokenizer_dir=qwen25)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (servers in tests never leave loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process_group(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a server started with start_new_session=True and everything it spawned: its process group is all of it."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass
