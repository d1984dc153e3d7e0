"""LLaMA-Factory's web UI (`llamafactory-cli webui`), driven in a real headless Chromium. The project's datasets
must show up in the Train tab's Dataset dropdown (the generated data/dataset_info.json is one the UI can read),
and a user must be able to go train (QLoRA) -> chat -> export on the tiny model with the project's sample data
without leaving the browser. Needs the test-only browser set-up: scripts/install_test_browser.sh."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from conftest import ROOT, free_port, run_script, stop_process_group
from llamafactory.webui.locales import ALERTS

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "outputs" / "webui"
FAILURE_SHOT = SHOTS / "webui_failure.png"
VENV_BIN = Path(sys.executable).parent
# What the web UI creates in its working directory: DeepSpeed configs and user settings (llamaboard_cache, at
# start-up), relative output dirs (saves), saved arguments (llamaboard_config). None of it may stay in the tree.
UI_DIRS = [ROOT / "llamaboard_cache", ROOT / "saves", ROOT / "llamaboard_config"]
USER_CONFIG = ROOT / "llamaboard_cache" / "user_config.yaml"  # last model, its path, language: the UI writes it
STARTUP_TIMEOUT_S = 120
# Playwright's expect() waits 5 s by default, too short for the UI's first round trip on a busy CPU machine.
UI_TIMEOUT_MS = 30_000
RUN_TIMEOUT_MS = 300_000  # training, model loading, generation, export: seconds alone, minutes under a parallel suite
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
# What the UI shows at the end of each step, and every refusal it can show instead ("Failed." among them): waiting
# for either ends at once on a refusal instead of at the time-out.
TRAIN_DONE, MODEL_LOADED, MODEL_EXPORTED = (ALERTS[key]["en"] for key in ("info_finished", "info_loaded", "info_exported"))
REFUSALS = [texts["en"] for key, texts in ALERTS.items() if key.startswith("err_")]
HIDE_TOASTS = ":has(> [data-testid=toast-body]) { visibility: hidden !important; }"
REVIEW = "房间很干净，服务也很热情，下次还会再来。"


def _browser_missing() -> str:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} missing; run scripts/install_test_browser.sh"
    if importlib.util.find_spec("playwright") is None:
        return "playwright package missing; run scripts/install_test_browser.sh"
    return ""


# A mark, not a skip inside the fixture: it skips before any fixture runs, so neither the web UI's ~15 s start-up
# nor the session's tiny model build is paid for a test that cannot run.
needs_browser = pytest.mark.skipif(bool(_browser_missing()), reason=_browser_missing() or "browser available")


@dataclass
class WebUI:
    url: str
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:] if self.log.exists() else ""


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _server_env(port: int) -> dict[str, str]:
    return {
        **os.environ,
        # The Start button runs a bare `llamafactory-cli train` (llamafactory/webui/runner.py:378, Popen with a
        # PATH lookup); `make test` does not activate the venv, so without this training would fail to launch.
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
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


@pytest.fixture
def webui(tmp_path: Path) -> Iterator[WebUI]:
    """`llamafactory-cli webui` in the repository root (so its default data dir `data` is the project's), offline."""
    port = free_port()
    log_path = tmp_path / "webui.log"
    existed = {path: path.exists() for path in UI_DIRS}
    user_config = USER_CONFIG.read_bytes() if USER_CONFIG.exists() else None
    # The log goes to a file, not a pipe: nobody reads a pipe while the test runs, and a full one would block the server.
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen([str(VENV_BIN / "llamafactory-cli"), "webui"], cwd=ROOT, env=_server_env(port), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _port_answers(port):
            if proc.poll() is not None:
                pytest.fail(f"webui exited with {proc.returncode} before listening:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"webui did not listen on port {port} within {STARTUP_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield WebUI(f"http://127.0.0.1:{port}/", log_path)
    finally:
        stop_process_group(proc)  # the trainer it may have started is in its process group too
        # Leave the working tree as the test found it, a user's own UI settings included.
        for path, was_there in existed.items():
            if not was_there:
                shutil.rmtree(path, ignore_errors=True)
        if user_config is not None:
            USER_CONFIG.parent.mkdir(exist_ok=True)
            USER_CONFIG.write_bytes(user_config)
        elif existed[USER_CONFIG.parent]:
            USER_CONFIG.unlink(missing_ok=True)


class Requests:
    """Counts the UI's direct (queue=False) calls. Gradio sends them as POST .../run/predict, and several handlers
    overwrite what the user just typed when their answer lands late: the Checkpoint path's focus handler resets
    its value to [], choosing a model name refills Model path. Waiting for quiet beats guessing sleeps."""

    def __init__(self, page: Page) -> None:
        self.page, self.in_flight, self.last = page, 0, time.monotonic()
        page.on("request", lambda r: self._count(r.url, +1))
        page.on("requestfinished", lambda r: self._count(r.url, -1))
        page.on("requestfailed", lambda r: self._count(r.url, -1))

    def _count(self, url: str, delta: int) -> None:
        if "/run/predict" in url:
            self.in_flight, self.last = max(0, self.in_flight + delta), time.monotonic()

    def settle(self, quiet_s: float = 0.5) -> None:
        """Return once no call has been open for quiet_s: chained handlers (.then) start right after the last one."""
        deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
        while self.in_flight or time.monotonic() - self.last < quiet_s:
            assert time.monotonic() < deadline, f"the UI's calls did not settle ({self.in_flight} open)"
            self.page.wait_for_timeout(100)  # not time.sleep(): Playwright dispatches the events while it waits


@contextmanager
def _browser_page(ui: WebUI) -> Iterator[tuple[Page, Requests]]:
    """A page on the UI in the system Chromium, its calls counted from the start (the load event fires some); on
    failure, what it showed and the server's log tail."""
    from playwright.sync_api import Route, expect, sync_playwright

    def local_only(route: Route) -> None:
        # The page asks for Google Fonts and a cdnjs script; offline they would only stall loading, so refuse at once.
        if route.request.url.startswith(ui.url):
            route.continue_()
        else:
            route.abort()

    SHOTS.mkdir(parents=True, exist_ok=True)
    FAILURE_SHOT.unlink(missing_ok=True)  # a stale one would mislead
    with tempfile.TemporaryDirectory(prefix="webui-chromium-") as profile, sync_playwright() as pw:
        # `playwright install` cannot download browsers here, so drive the system Chromium with a throw-away profile.
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            context.set_default_timeout(UI_TIMEOUT_MS)
            expect.set_options(timeout=UI_TIMEOUT_MS)  # expect() has a default of its own, which the line above leaves
            context.route("**/*", local_only)
            page = context.pages[0] if context.pages else context.new_page()
            reqs = Requests(page)
            page.goto(ui.url, wait_until="domcontentloaded")
            # Labels arrive only after the UI's load event sets the language; until then nothing can be found.
            _visible(page, "Data dir").wait_for()
            # A model name remembered in the user settings refills Model path and Chat template after the load.
            reqs.settle()
            yield page, reqs
        except Exception:
            # What the browser showed is the quickest way to tell a UI change from a server problem.
            if context.pages:
                context.pages[0].screenshot(path=str(FAILURE_SHOT))
            print(f"--- web UI log (tail) ---\n{ui.log_tail()}")
            raise
        finally:
            context.close()


def _visible(page: Page, label: str, exact: bool = False) -> Locator:
    """The one visible element with this label: tabs repeat labels (Data dir, Extra arguments, ...) in hidden panels.
    Textbox labels also hold their info line ("Path to the data directory."), hence substring matches by default."""
    return page.get_by_label(label, exact=exact).locator("visible=true")


def _choose(page: Page, reqs: Requests, label: str, value: str) -> None:
    from playwright.sync_api import expect

    box = _visible(page, label, exact=True)
    if box.input_value() != value:
        box.click()
        reqs.settle()  # some dropdowns (Dataset) only get their choices from a focus handler
        box.fill(value)  # filters the list: Model name has hundreds of entries
        page.get_by_role("option", name=value, exact=True).click()
        reqs.settle()
    expect(box).to_have_value(value)


def _fill(page: Page, reqs: Requests, label: str, value: str) -> None:
    from playwright.sync_api import expect

    box = _visible(page, label)
    box.fill(value)
    box.press("Tab")  # moves on, as a user does; the value itself went with the box's input event
    reqs.settle()
    expect(box).to_have_value(value)


def _slide(page: Page, reqs: Requests, label: str, value: int) -> None:
    """A slider, through its number box (Gradio labels it "number input for <label>"; Enter commits it)."""
    from playwright.sync_api import expect

    box = page.get_by_label(f"number input for {label}", exact=True).locator("visible=true")
    box.fill(str(value))
    box.press("Enter")
    reqs.settle()
    expect(box).to_have_value(str(value))


def _add_token(page: Page, reqs: Requests, label: str, value: str) -> None:
    """A value in a multiselect dropdown (Dataset, Checkpoint path), typed in: custom values are allowed there."""
    from playwright.sync_api import expect

    # Its accessible name grows with the chosen values ("Dataset chnsenticorp_train"); a plain substring would also
    # match "Max samples / Maximum samples per dataset."
    box = page.get_by_label(re.compile(rf"^{re.escape(label)}(\s|$)")).locator("visible=true")
    box.click()
    reqs.settle()  # the focus handler's answer replaces the selection; it must land before we add to it
    if page.get_by_role("option", name=value, exact=True).count():
        page.get_by_role("option", name=value, exact=True).click()
    else:
        box.fill(value)
        box.press("Enter")
    page.keyboard.press("Escape")
    reqs.settle()
    # A chosen value is a chip inside the label, so it shows in the box's accessible name (its remove button is
    # named after the choice's index for listed choices, "Remove 2", not after the value).
    expect(box).to_have_accessible_name(re.compile(rf"\s{re.escape(value)}(\s|$)"))


# Any visible status line (a Markdown output box, a read-only info textbox) starting with one of the given words,
# or a Gradio error toast: Gradio turns a handler's exception into an "Error" toast and nothing else on the page.
_OUTCOME_JS = """(words) => {
    const shown = e => e.offsetParent !== null;
    const texts = [...document.querySelectorAll('[data-testid=markdown]')].filter(shown).map(e => e.innerText.trim())
        .concat([...document.querySelectorAll('textarea[disabled]')].filter(shown).map(e => e.value.trim()));
    const hit = texts.find(t => words.some(w => t.startsWith(w)));
    if (hit) return hit;
    const toast = [...document.querySelectorAll('[data-testid=toast-body]')].map(e => e.innerText.trim())
        .find(t => t.startsWith('Error'));
    return toast ? 'toast: ' + toast : false;
}"""


def _wait_for_outcome(page: Page, word: str, timeout_ms: int = RUN_TIMEOUT_MS) -> str:
    return page.wait_for_function(_OUTCOME_JS, arg=[word, *REFUSALS], timeout=timeout_ms, polling=500).json_value()


# The chatbot's last assistant message once the answer is complete, or an error toast. Done is when the chatbot's
# status tracker is hidden again: it shows "processing | 0.3s" until the first token, then only an empty overlay
# while tokens stream in (measured on Gradio 5.50), so a vanished progress text alone would catch it mid-answer.
_REPLY_JS = """() => {
    const toast = [...document.querySelectorAll('[data-testid=toast-body]')].map(e => e.innerText.trim())
        .find(t => t.startsWith('Error'));
    if (toast) return {error: toast};
    const chat = document.querySelector('[aria-label="chatbot conversation"]')?.closest('.block');
    const tracker = chat?.querySelector(':scope > .wrap');
    const replies = chat ? [...chat.querySelectorAll('[data-testid=bot]')] : [];
    return tracker?.classList.contains('hide') && replies.length ? {reply: replies[replies.length - 1].innerText.trim()} : false;
}"""


def _shot(page: Page, name: str, top: Locator | None = None) -> None:
    """The viewport, scrolled so that `top` is at its top edge: a full-page shot of the Train tab is 8000 px of log."""
    if top is not None:
        top.evaluate("e => e.scrollIntoView({block: 'start'})")
    # Toasts stay ~10 s on the top right, over the chat's user message; the page shows every outcome anyway.
    page.screenshot(path=str(SHOTS / name), animations="disabled", style=HIDE_TOASTS)  # not mid fade-in


def _expected_datasets() -> list[str]:
    """Datasets the default Supervised Fine-Tuning stage lists: LLaMA-Factory hides ranking (pairwise) ones there."""
    info = json.loads((ROOT / "data" / "dataset_info.json").read_text(encoding="utf-8"))
    return sorted(name for name, entry in info.items() if not entry.get("ranking", False))


@needs_browser
@pytest.mark.slow
def test_webui_lists_project_datasets(webui: WebUI) -> None:
    from playwright.sync_api import expect

    expected = _expected_datasets()
    assert "chnsenticorp_train" in expected, "data/dataset_info.json lacks chnsenticorp_train"
    with _browser_page(webui) as (page, _):
        # The Evaluate tab has a hidden "Data dir" / "Dataset" pair of its own: the visible one is the Train tab's.
        data_dir = _visible(page, "Data dir")
        expect(data_dir).to_have_count(1)
        # The server runs in ROOT, so the default relative `data` is the project's data dir; anything else is
        # replaced with the absolute path so the check below is about this project's dataset_info.json.
        if data_dir.input_value() != "data":
            data_dir.fill(str(ROOT / "data"))

        # Choices are empty until the dropdown gains focus: LLaMA-Factory fills them in its focus handler.
        _visible(page, "Dataset", exact=True).click()
        options = page.get_by_role("option")
        expect(page.get_by_role("option", name="chnsenticorp_train", exact=True)).to_be_visible()
        _shot(page, "webui_datasets.png")

        shown = sorted(options.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))"))
        assert set(expected) <= set(shown), f"missing from the Dataset dropdown: {sorted(set(expected) - set(shown))}"


@pytest.fixture
def sample_data(tmp_path: Path, tiny_model: Path) -> Path:
    """The ChnSentiCorp samples through the project's preprocessor, into a data dir of the test's own (the tiny
    model's tokenizer for the length report: the default, Qwen2.5's, would only cost time)."""
    data_dir = tmp_path / "data"
    proc = run_script("scripts/preprocess.py", "chnsenticorp", "--input", "dataset/samples/chnsenticorp",
                      "--data-dir", str(data_dir), "--tokenizer", str(tiny_model), "--cutoff-len", "256")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "chnsenticorp_train" in json.loads((data_dir / "dataset_info.json").read_text(encoding="utf-8"))
    return data_dir


def _train(page: Page, reqs: Requests, tiny_model: Path, data_dir: Path, adapter_dir: Path) -> None:
    """Train tab: the settings of configs/train/tiny_qlora_chnsenticorp.yaml, but 4 steps (16 samples, batch 4)."""
    from playwright.sync_api import expect

    _choose(page, reqs, "Model name", "Custom")  # a local folder is no catalogue model; Custom then asks for a path
    _fill(page, reqs, "Model path", str(tiny_model))
    _choose(page, reqs, "Finetuning method", "lora")
    _choose(page, reqs, "Quantization bit", "4")  # QLoRA: bitsandbytes 4-bit, which runs on CPU
    _choose(page, reqs, "Chat template", "qwen")
    # An absolute output dir is used as is; a bare name would go to saves/Custom/lora/<name> in the server's
    # working directory (get_save_dir in llamafactory/webui/common.py), i.e. into the repository.
    output_dir = _visible(page, "Output dir", exact=True)
    output_dir.fill(str(adapter_dir))
    output_dir.press("Enter")
    reqs.settle()
    # Early: its input handler is queued (invisible to `reqs`) and answers "Ready." into the output box, which
    # must not land on top of the command preview below.
    expect(output_dir).to_have_value(str(adapter_dir))
    _fill(page, reqs, "Data dir", str(data_dir))
    _add_token(page, reqs, "Dataset", "chnsenticorp_train")
    _fill(page, reqs, "Learning rate", "5e-3")
    _fill(page, reqs, "Epochs", "1.0")
    _fill(page, reqs, "Max samples", "16")
    _choose(page, reqs, "Compute type", "fp32")  # the tiny config's precision; bf16 on a CPU is no given
    _slide(page, reqs, "Cutoff length", 256)
    _slide(page, reqs, "Batch size", 4)
    _slide(page, reqs, "Gradient accumulation", 1)
    page.get_by_role("button", name="Extra configurations").click()
    _slide(page, reqs, "Logging steps", 1)  # a point per step, so the loss plot has a curve after 4 steps
    # The UI hard-codes preprocessing_num_workers=16 (runner.py:137): 16 processes for 16 samples on 2 cores.
    _fill(page, reqs, "Extra arguments", '{"optim": "adamw_torch", "preprocessing_num_workers": 1}')

    # What the UI is about to run, checked before it runs: a wrong field fails here, in seconds, with the command.
    page.get_by_role("button", name="Preview command").click()
    command = _wait_for_outcome(page, "llamafactory-cli train", UI_TIMEOUT_MS)
    for arg in (f"--model_name_or_path {tiny_model}", "--finetuning_type lora", "--quantization_bit 4", "--template qwen",
                f"--dataset_dir {data_dir}", "--dataset chnsenticorp_train", "--max_samples 16",
                f"--output_dir {adapter_dir}", "--preprocessing_num_workers 1"):
        assert f"{arg} " in command + " ", f"{arg!r} missing from the UI's command:\n{command}"

    page.get_by_role("button", name="Start", exact=True).click()
    # While it runs the output box shows the running log and the plot updates; at the end the box starts with
    # "Finished." (or "Failed. Exit code: ..." and the trainer's stderr) - runner.py's monitor().
    outcome = _wait_for_outcome(page, TRAIN_DONE)
    assert outcome.startswith(TRAIN_DONE), f"training in the UI did not finish:\n{outcome[:4000]}"
    # The plot comes only with the monitor's updates while the run goes (its last answer carries no plot).
    expect(page.locator("[data-testid=matplotlib] img").locator("visible=true")).to_be_visible()
    _shot(page, "1_train.png", page.get_by_role("button", name="Start", exact=True))  # buttons, plot, "Finished."

    for name in ("adapter_config.json", "adapter_model.safetensors"):
        assert (adapter_dir / name).is_file(), f"{name} missing from the UI's output dir {adapter_dir}"
    steps = [json.loads(line) for line in (adapter_dir / "trainer_log.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [s["current_steps"] for s in steps if "loss" in s] == [1, 2, 3, 4], steps


def _chat(page: Page, reqs: Requests, adapter_dir: Path) -> None:
    """Chat tab: the adapter, on the 4-bit base it was trained on, as the top bar still says."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Chat", exact=True).click()
    _add_token(page, reqs, "Checkpoint path", str(adapter_dir))  # an absolute path, like the output dir
    page.get_by_role("button", name="Load model", exact=True).click()
    outcome = _wait_for_outcome(page, MODEL_LOADED)
    assert outcome == MODEL_LOADED, outcome
    submit = page.get_by_role("button", name="Submit", exact=True)
    expect(submit).to_be_visible()  # the chat box is shown by a follow-up (.then) of the load, a moment later

    _slide(page, reqs, "Maximum new tokens", 16)  # the default 1024 would only cost time
    page.get_by_placeholder("Input...").locator("visible=true").fill(REVIEW)
    submit.click()
    outcome = page.wait_for_function(_REPLY_JS, timeout=RUN_TIMEOUT_MS, polling=500).json_value()
    assert outcome.get("reply"), f"no assistant message in the chat box: {outcome}"
    expect(page.get_by_test_id("user").locator("visible=true")).to_have_text(REVIEW)
    _shot(page, "2_chat.png", page.get_by_role("button", name="Load model", exact=True))


def _export(page: Page, reqs: Requests, merged_dir: Path) -> None:
    """Export tab: merge the adapter. The top bar still says 4-bit, but the tab never passes quantization_bit on
    (save_model in llamafactory/webui/components/export.py), so the merge goes into the unquantized base; a
    4-bit one would be refused ("Cannot merge adapters to a quantized model", llamafactory/train/tuner.py:168)."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Export", exact=True).click()
    # With a checkpoint chosen the UI pins this to none (GPTQ of a LoRA merge is refused); assert, do not set.
    expect(_visible(page, "Export quantization bit.", exact=True)).to_have_value("none")
    _fill(page, reqs, "Export dir", str(merged_dir))
    page.get_by_role("button", name="Export", exact=True).click()
    outcome = _wait_for_outcome(page, MODEL_EXPORTED)
    assert outcome == MODEL_EXPORTED, outcome
    _shot(page, "3_export.png")


@needs_browser
@pytest.mark.slow
def test_webui_train_chat_export(webui: WebUI, tiny_model: Path, sample_data: Path, tmp_path: Path) -> None:
    """The path a user takes in the UI: QLoRA on the tiny model and the project's samples, chat, merge, and the
    project's merge check on what the UI exported."""
    adapter_dir, merged_dir = tmp_path / "adapter", tmp_path / "merged"
    for name in ("1_train.png", "2_chat.png", "3_export.png"):
        (SHOTS / name).unlink(missing_ok=True)
    with _browser_page(webui) as (page, reqs):
        _train(page, reqs, tiny_model, sample_data, adapter_dir)
        _chat(page, reqs, adapter_dir)
        _export(page, reqs, merged_dir)

    for name in ("config.json", "model.safetensors"):
        assert (merged_dir / name).is_file(), f"{name} missing from the UI's export dir {merged_dir}"
    # check_merge reads its paths from an export config: the one `llamafactory-cli export` would take for this merge.
    export_cfg = tmp_path / "export.yaml"
    export_cfg.write_text(yaml.safe_dump({"model_name_or_path": str(tiny_model), "adapter_name_or_path": str(adapter_dir),
                                          "template": "qwen", "finetuning_type": "lora", "export_dir": str(merged_dir)}))
    proc = run_script("scripts/check_merge.py", str(export_cfg))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check = json.loads((merged_dir / "merge_check.json").read_text(encoding="utf-8"))
    assert check["ok"] and check["weights_changed"] > 0, check
