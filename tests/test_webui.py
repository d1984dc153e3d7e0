"""LLaMA-Factory's web UI (`llamafactory-cli webui`), driven in a real headless Chromium: the project's
datasets must show up in the Train tab's Dataset dropdown, i.e. the generated data/dataset_info.json is one
LLaMA-Factory's own UI can read. Needs the test-only browser set-up: scripts/install_test_browser.sh."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, free_port, stop_process_group

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "outputs" / "webui" / "webui_datasets.png"
# The web UI writes DeepSpeed configs here (in its working directory) as soon as it starts.
LLAMABOARD_CACHE = ROOT / "llamaboard_cache"
STARTUP_TIMEOUT_S = 120
# Playwright's expect() waits 5 s by default, too short for the UI's first round trip on a busy CPU machine.
UI_TIMEOUT_MS = 30_000
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",  # tests run as root in containers, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]




def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False




def _expected_datasets() -> list[str]:
    """Datasets the default Supervised Fine-Tuning stage lists: LLaMA-Factory hides ranking (pairwise) ones there."""
    info = json.loads((ROOT / "data" / "dataset_info.json").read_text(encoding="utf-8"))
    return sorted(name for name, entry in info.items() if not entry.get("ranking", False))


def _require_browser() -> None:
    """Skip before the server starts: no point paying its ~15 s start-up for a test that cannot run."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} missing; run scripts/install_test_browser.sh")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright package missing; run scripts/install_test_browser.sh")


@pytest.fixture
def webui_url(tmp_path: Path) -> Iterator[str]:
    """`llamafactory-cli webui` in the repository root (so its default data dir `data` is the project's), offline."""
    _require_browser()
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",  # also turns off Gradio's PyPI version check
        "GRADIO_SHARE": "0",  # a share link would open a tunnel to gradio.live
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        # run_web_ui() launches with inbrowser=True; Python's webbrowser module honours $BROWSER, and `true`
        # turns that into a no-op instead of a second, visible Chromium.
        "BROWSER": "true",
        "TOKENIZERS_PARALLELISM": "false",
    }
    cli = Path(sys.executable).parent / "llamafactory-cli"
    log_path = tmp_path / "webui.log"
    cache_existed = LLAMABOARD_CACHE.exists()
    # The log goes to a file, not a pipe: nobody reads a pipe while the test runs, and a full one would block the server.
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen([str(cli), "webui"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _port_answers(port):
            if proc.poll() is not None:
                pytest.fail(f"webui exited with {proc.returncode} before listening:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"webui did not listen on port {port} within {STARTUP_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_process_group(proc)
        # llamaboard_cache/ is not git-ignored; leave the working tree as the test found it.
        if not cache_existed:
            shutil.rmtree(LLAMABOARD_CACHE, ignore_errors=True)


@pytest.mark.slow
def test_webui_lists_project_datasets(webui_url: str) -> None:
    from playwright.sync_api import Route, expect, sync_playwright

    expected = _expected_datasets()
    assert "chnsenticorp_train" in expected, "data/dataset_info.json lacks chnsenticorp_train"

    def local_only(route: Route) -> None:
        # The page asks for Google Fonts and a cdnjs script; offline they would only stall loading, so refuse at once.
        if route.request.url.startswith(webui_url):
            route.continue_()
        else:
            route.abort()

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.with_name("webui_failure.png").unlink(missing_ok=True)  # a stale one would mislead
    with tempfile.TemporaryDirectory(prefix="webui-chromium-") as profile, sync_playwright() as pw:
        # `playwright install` cannot download browsers here, so drive the system Chromium with a throw-away profile.
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            context.set_default_timeout(UI_TIMEOUT_MS)
            context.route("**/*", local_only)
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(webui_url, wait_until="domcontentloaded")

            # Labels arrive only after the UI's load event sets the language, and the Evaluate tab has a hidden
            # "Data dir" / "Dataset" pair of its own: the visible one is the Train tab's. The textbox's label
            # also holds its info line ("Path to the data directory."), hence a substring match, not exact=True.
            data_dir = page.get_by_label("Data dir").locator("visible=true")
            expect(data_dir).to_have_count(1, timeout=UI_TIMEOUT_MS)
            # The server runs in ROOT, so the default relative `data` is the project's data dir; anything else is
            # replaced with the absolute path so the check below is about this project's dataset_info.json.
            if data_dir.input_value() != "data":
                data_dir.fill(str(ROOT / "data"))

            # Choices are empty until the dropdown gains focus: LLaMA-Factory fills them in its focus handler.
            dropdown = page.get_by_label("Dataset", exact=True).locator("visible=true")
            dropdown.click()
            options = page.get_by_role("option")
            expect(page.get_by_role("option", name="chnsenticorp_train", exact=True)).to_be_visible(timeout=UI_TIMEOUT_MS)
            page.screenshot(path=str(SCREENSHOT), animations="disabled")  # not mid fade-in

            shown = sorted(options.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))"))
            assert set(expected) <= set(shown), f"missing from the Dataset dropdown: {sorted(set(expected) - set(shown))}"
        except Exception:
            # What the browser showed is the quickest way to tell a UI change from a server problem.
            if context.pages:
                context.pages[0].screenshot(path=str(SCREENSHOT.with_name("webui_failure.png")))
            raise
        finally:
            context.close()
