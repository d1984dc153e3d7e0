"""The Emotion Summary LLM judge: the reply parser, the HTTP client against a fake endpoint on 127.0.0.1 (retries,
request body, counting), the script's files and errors, and end to end against LLaMA-Factory's own API server.
Every request goes to 127.0.0.1; each test bounds how many are sent and how long they may take."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import free_port, run_script, stop_process_group

from qwen_recipes.eval import judge as J
from qwen_recipes.eval.predictions import Prediction

NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
SERVER_START_TIMEOUT_S = 180


def ratings_obj(value: Any = 4) -> dict[str, dict[str, Any]]:
    return {f: {c: value for c in J.CRITERIA} for f in J.FIELDS}


PERFECT = json.dumps(ratings_obj(4))
REFERENCE = json.dumps({f: f"reference {f}" for f in J.FIELDS})


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    # A proxy from the environment must not carry test traffic off the machine.
    for key, value in NO_PROXY.items():
        monkeypatch.setenv(key, value)


# ------------------------------------------------------------------------------------------------- parser


def test_parse_perfect_reply():
    ratings = J.parse_ratings(PERFECT)
    assert ratings == ratings_obj(4)
    assert J.item_score(ratings) == 4.0


def test_parse_fenced_reply_with_prose_and_varied_keys():
    obj = ratings_obj(3)
    obj["causes"] = {"Factual Consistency": 5, "completeness": 1, "clarity": 3, "comment": "good"}
    reply = f"Here are my ratings:\n```json\n{json.dumps(obj, indent=2)}\n```\nHope this helps."
    ratings = J.parse_ratings(reply)
    assert ratings["causes"] == {"factual_consistency": 5, "completeness": 1, "clarity": 3}
    assert J.item_score(ratings) == (5 + 1 + 3 + 12 * 3) / 15


def test_same_object_twice_is_fine():
    assert J.parse_ratings(f"{PERFECT}\n```json\n{PERFECT}\n```") == ratings_obj(4)


@pytest.mark.parametrize("bad", [6, 0, "five", "5", 4.5, 4.0, True, None])
def test_a_rating_that_is_not_an_integer_1_to_5_is_unparseable(bad):
    obj = ratings_obj(4)
    obj["symptoms"]["clarity"] = bad
    with pytest.raises(J.UnparseableReply, match="symptoms.clarity"):
        J.parse_ratings(json.dumps(obj))


def test_a_missing_field_or_criterion_is_unparseable():
    obj = ratings_obj(4)
    del obj["treatment_effect"]
    with pytest.raises(J.UnparseableReply, match="treatment_effect: missing"):
        J.parse_ratings(json.dumps(obj))
    obj = ratings_obj(4)
    del obj["causes"]["completeness"]
    with pytest.raises(J.UnparseableReply, match="causes.completeness: missing"):
        J.parse_ratings(json.dumps(obj))


@pytest.mark.parametrize("reply", [
    "",
    "I would rate it 4 out of 5.",
    '{"causes": {"factual_consistency": 4',  # cut off by max_tokens
    J.RUBRIC,  # the rubric's <integer 1-5> template echoed back is not an answer
    PERFECT + "\n" + json.dumps(ratings_obj(2)),  # two different answers: no way to pick one without guessing
])
def test_replies_without_one_clear_answer_are_unparseable(reply):
    with pytest.raises(J.UnparseableReply):
        J.parse_ratings(reply)


def test_messages_hold_rubric_reference_and_prediction_verbatim():
    prediction = '{"causes": "stress", "symptoms": unquoted}'  # broken JSON goes to the judge as written
    (message,) = J.build_messages(REFERENCE + "\n", prediction)
    assert message["role"] == "user"
    assert message["content"].startswith(J.RUBRIC)
    assert REFERENCE in message["content"] and prediction in message["content"]
    for field in J.FIELDS:
        assert field in J.RUBRIC


def test_summary_means_cover_scored_items_only():
    a, b = ratings_obj(5), ratings_obj(1)
    b["causes"]["clarity"] = 4
    items = [
        J.JudgedItem(1, "scored", J.item_score(a), a, "r"),
        J.JudgedItem(2, "scored", J.item_score(b), b, "r"),
        J.JudgedItem(3, "unparseable", reply="nonsense", error="unparseable: ..."),
        J.JudgedItem(4, "failed_request", error="HTTP 500"),
    ]
    s = J.summarize(items)
    assert (s["n"], s["scored"], s["unparseable"], s["failed_requests"]) == (4, 2, 1, 1)
    assert s["mean_score"] == pytest.approx((5 + (14 * 1 + 4) / 15) / 2)
    assert s["per_field"]["causes"] == pytest.approx((5 + (1 + 1 + 4) / 3) / 2)
    assert s["per_field"]["symptoms"] == 3.0
    assert s["per_criterion"]["clarity"] == pytest.approx((5 + (4 + 4 * 1) / 5) / 2)
    assert s["per_field_criterion"]["causes"]["clarity"] == 4.5
    assert J.summarize(items[2:])["mean_score"] is None


# ------------------------------------------------------------------------------------------------- fake endpoint


@dataclass
class FakeJudge:
    """An OpenAI-style endpoint on 127.0.0.1 that answers from a script, one entry per request, and records them."""

    url: str
    script: list[tuple[int, Any, dict[str, str]]]
    requests: list[dict[str, Any]]


def chat_reply(content: str) -> dict[str, Any]:
    return {"id": "x", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}


@pytest.fixture
def fake_judge() -> Iterator[FakeJudge]:
    state = FakeJudge("", [], [])

    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a stuck client cannot hold the test

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
            status, payload, headers = state.script.pop(0) if state.script else (599, "script exhausted", {})
            data = (json.dumps(payload) if isinstance(payload, dict) else str(payload)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def rows(*predictions: str) -> list[Prediction]:
    return [Prediction(i, "", p, REFERENCE + "\n") for i, p in enumerate(predictions, start=1)]


FAST = dict(timeout=5.0, backoff=0.01)


def test_retries_after_500_sends_the_rubric_and_counts_unparseable(fake_judge):
    fake_judge.script = [(500, "overloaded", {}), (200, chat_reply(f"```json\n{PERFECT}\n```"), {}),
                         (200, chat_reply("I rate it highly!"), {})]
    predictions = ['{"causes": "work stress"}', "plain text, not JSON"]
    items, summary = J.judge_predictions(rows(*predictions), base_url=fake_judge.url, model="judge-m", api_key="k",
                                         **FAST)

    assert len(fake_judge.requests) == 3  # one retry, then one request per item
    for req, prediction in zip(fake_judge.requests, [predictions[0], *predictions], strict=True):
        assert req["path"] == "/v1/chat/completions"
        assert req["headers"]["Authorization"] == "Bearer k"
        body = req["body"]
        assert body["model"] == "judge-m" and body["temperature"] == 0 and body["max_tokens"] == 1024
        content = body["messages"][0]["content"]
        assert J.RUBRIC in content and prediction in content and REFERENCE in content

    assert [i.status for i in items] == ["scored", "unparseable"]
    assert items[0].score == 4.0 and items[0].ratings == ratings_obj(4)
    assert items[1].reply == "I rate it highly!" and items[1].ratings is None and items[1].score is None
    assert "unparseable" in items[1].error
    assert (summary["n"], summary["scored"], summary["unparseable"], summary["failed_requests"]) == (2, 1, 1, 0)
    assert summary["mean_score"] == 4.0


def test_retries_are_bounded_and_429_honours_retry_after(fake_judge):
    fake_judge.script = [(503, "down", {}), (503, "down", {}),  # item 1: both attempts fail
                         (429, "slow down", {"Retry-After": "0"}), (200, chat_reply(PERFECT), {})]  # item 2: retried
    t0 = time.monotonic()
    items, summary = J.judge_predictions(rows("a", "b"), base_url=fake_judge.url, model="m", retries=1, **FAST)
    assert time.monotonic() - t0 < 5
    assert len(fake_judge.requests) == 4
    assert [i.status for i in items] == ["failed_request", "scored"]
    assert "HTTP 503" in items[0].error and "after 2 attempts" in items[0].error and items[0].reply is None
    assert (summary["scored"], summary["failed_requests"]) == (1, 1)
    assert "Authorization" not in fake_judge.requests[0]["headers"]  # no key, no header


def test_a_client_error_fails_the_item_without_retry(fake_judge):
    fake_judge.script = [(400, {"error": {"message": "context length exceeded"}}, {}), (200, chat_reply(PERFECT), {})]
    items, summary = J.judge_predictions(rows("a", "b"), base_url=fake_judge.url, model="m", **FAST)
    assert len(fake_judge.requests) == 2
    assert [i.status for i in items] == ["failed_request", "scored"]
    assert "context length exceeded" in items[0].error


def test_parallel_workers_keep_input_order(fake_judge):
    fake_judge.script = [(200, chat_reply(PERFECT), {})] * 5
    done: list[int] = []
    items, summary = J.judge_predictions(rows(*"abcde"), base_url=fake_judge.url, model="m", workers=3,
                                         progress=lambda item: done.append(item.line), **FAST)
    assert [i.line for i in items] == [1, 2, 3, 4, 5] and sorted(done) == [1, 2, 3, 4, 5]
    assert summary["scored"] == 5 and len(fake_judge.requests) == 5


def test_wrong_key_stops_the_run_at_once(fake_judge):
    fake_judge.script = [(401, {"detail": "Invalid API key."}, {})]
    with pytest.raises(J.JudgeError, match="401"):
        J.judge_predictions(rows("a", "b", "c"), base_url=fake_judge.url, model="m", api_key="wrong", **FAST)
    assert len(fake_judge.requests) == 1


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_endpoint_that_is_down_stops_the_run():
    t0 = time.monotonic()
    with pytest.raises(J.JudgeError, match="2 requests in a row failed"):
        J.judge_predictions(rows("a", "b", "c", "d"), base_url=f"http://127.0.0.1:{_closed_port()}/v1", model="m",
                            retries=1, max_consecutive_failures=2, **FAST)
    assert time.monotonic() - t0 < 10


def test_chat_completion_closes_its_own_client_and_reuses_a_given_one(fake_judge):
    fake_judge.script = [(200, chat_reply("one"), {}), (200, chat_reply("two"), {})]
    messages = J.build_messages(REFERENCE, "p")
    assert J.chat_completion(messages, base_url=fake_judge.url + "/", model="m", timeout=5) == "one"
    with httpx.Client() as client:
        assert J.chat_completion(messages, base_url=fake_judge.url, model="m", timeout=5, client=client) == "two"
    assert [r["path"] for r in fake_judge.requests] == ["/v1/chat/completions"] * 2


# ------------------------------------------------------------------------------------------------- the script


def write_predictions(path: Path, predictions: list[str], label: str = REFERENCE + "\n") -> Path:
    lines = [json.dumps({"prompt": "<|im_start|>user\ncase<|im_end|>\n<|im_start|>assistant\n", "predict": p,
                         "label": label}, ensure_ascii=False) for p in predictions]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_script_writes_items_and_summary(fake_judge, tmp_path):
    pred_dir = tmp_path / "predict"
    pred_dir.mkdir()
    write_predictions(pred_dir / "generated_predictions.jsonl", ['{"causes": "x"}', "not json", "third"])
    fake_judge.script = [(200, chat_reply(PERFECT), {}), (200, chat_reply("garbage"), {})]
    proc = run_script("scripts/judge.py", str(pred_dir), "--base-url", fake_judge.url, "--model", "judge-m",
                      "--limit", "2", env={**NO_PROXY, "OPENAI_API_KEY": "from-env"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "scored 1, unparseable 1, failed requests 0" in proc.stdout and "mean score 4.000" in proc.stdout
    assert len(fake_judge.requests) == 2  # --limit 2
    assert fake_judge.requests[0]["headers"]["Authorization"] == "Bearer from-env"

    items = [json.loads(line) for line in (pred_dir / "judge.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(i["line"], i["status"]) for i in items] == [(1, "scored"), (2, "unparseable")]
    report = json.loads((pred_dir / "judge.json").read_text(encoding="utf-8"))
    assert report["summary"]["n"] == 2 and report["summary"]["mean_score"] == 4.0
    settings = report["settings"]
    assert (settings["base_url"], settings["model"], settings["temperature"]) == (fake_judge.url, "judge-m", 0.0)
    assert "from-env" not in (pred_dir / "judge.json").read_text() + (pred_dir / "judge.jsonl").read_text()
    assert not list(pred_dir.glob(".*.tmp"))


@pytest.mark.parametrize(("content", "where"), [
    ('{"predict": "a", "label": "b"}\nnot json\n', "gp.jsonl:2"),
    ('{"predict": "a"}\n', "field 'label'"),
    ('{"predict": "a", "label": "positive"}\n', "gp.jsonl:1, field 'label': reference is not a JSON object"),
])
def test_script_bad_input_is_one_clear_error(tmp_path, content, where):
    path = tmp_path / "gp.jsonl"
    path.write_text(content, encoding="utf-8")
    # A closed port: had the script sent anything it would be a failed request, not the input error asserted here.
    proc = run_script("scripts/judge.py", str(path), "--base-url", f"http://127.0.0.1:{_closed_port()}/v1",
                      "--model", "m", env=NO_PROXY)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert where in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def test_script_missing_file_and_unreachable_judge(tmp_path):
    proc = run_script("scripts/judge.py", str(tmp_path / "nope"), "--base-url", "http://127.0.0.1:9/v1", "--model", "m")
    assert proc.returncode == 2 and "predictions not found" in proc.stdout

    path = write_predictions(tmp_path / "generated_predictions.jsonl", ["a"] * 6)
    proc = run_script("scripts/judge.py", str(path), "--base-url", f"http://127.0.0.1:{_closed_port()}/v1",
                      "--model", "m", "--retries", "0", env=NO_PROXY)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "looks down" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "judge.json").exists()


@pytest.mark.parametrize("value", ["nan", "-5", "inf", "soon", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_a_bad_retry_after_falls_back_to_the_backoff(fake_judge, value):
    fake_judge.script = [(429, {"error": "slow down"}, {"Retry-After": value}), (200, chat_reply(PERFECT), {})]
    reply = J.chat_completion(J.build_messages(REFERENCE, "p"), base_url=fake_judge.url, model="m", **FAST)
    assert reply == PERFECT and len(fake_judge.requests) == 2


def test_credentials_never_reach_files_or_console_and_a_query_string_is_kept(fake_judge, tmp_path):
    """An endpoint that echoes the request (some proxies do): the key and the URL's query are redacted in judge.jsonl,
    judge.json and the console; the request still goes to /chat/completions with the query string."""
    key, query = "sk-test-0123456789abcdef", "api-version=2024-06-01&token=qtok98765"
    echo = f"echo: Authorization: Bearer {key}; url /v1/chat/completions?{query}"
    fake_judge.script = [(200, chat_reply(echo + "\n" + PERFECT), {}), (400, {"error": f"bad {key} {query}"}, {})]
    path = write_predictions(tmp_path / "generated_predictions.jsonl", ["a", "b"])
    proc = run_script("scripts/judge.py", str(path), "--base-url", f"{fake_judge.url}?{query}", "--model", "m",
                      "--api-key", key, "--retries", "0", env=NO_PROXY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [r["path"] for r in fake_judge.requests] == [f"/v1/chat/completions?{query}"] * 2
    assert fake_judge.requests[0]["headers"]["Authorization"] == f"Bearer {key}"  # sent, never written
    written = (tmp_path / "judge.jsonl").read_text() + (tmp_path / "judge.json").read_text()
    for text in (written, proc.stdout + proc.stderr):
        assert key not in text and "qtok98765" not in text and query not in text
    items = [json.loads(line) for line in (tmp_path / "judge.jsonl").read_text().splitlines()]
    assert items[0]["status"] == "scored" and "Bearer [redacted]" in items[0]["reply"]
    assert items[1]["status"] == "failed_request" and "[redacted]" in items[1]["error"]
    assert json.loads((tmp_path / "judge.json").read_text())["settings"]["base_url"] == fake_judge.url + "?[redacted]"


def test_finished_work_is_kept_when_the_endpoint_goes_down_and_resume_does_the_rest(fake_judge, tmp_path):
    path = write_predictions(tmp_path / "generated_predictions.jsonl", [f"p{i}" for i in range(8)])
    args = ["scripts/judge.py", str(path), "--base-url", fake_judge.url, "--model", "m", "--retries", "0"]
    # Two items judged, then the endpoint fails every request: the run stops after 5 failures in a row.
    fake_judge.script = [(200, chat_reply(PERFECT), {}), (200, chat_reply("garbage"), {})] + [(503, "down", {})] * 5
    proc = run_script(*args, env=NO_PROXY)
    assert proc.returncode == 2 and "looks down" in proc.stdout and "--resume" in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    items = [json.loads(line) for line in (tmp_path / "judge.jsonl").read_text().splitlines()]
    assert [(i["line"], i["status"]) for i in items] == [(1, "scored"), (2, "unparseable")]
    report = json.loads((tmp_path / "judge.json").read_text())
    assert report["complete"] is False and report["summary"]["n"] == 2 and report["rows"] == 8

    fake_judge.requests.clear()
    fake_judge.script = [(200, chat_reply(PERFECT), {})] * 6
    proc = run_script(*args, "--resume", env=NO_PROXY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 items already judged" in proc.stdout and len(fake_judge.requests) == 6  # only lines 3-8
    sent = [r["body"]["messages"][-1]["content"] for r in fake_judge.requests]
    assert all(("p0" not in m and "p1" not in m) for m in sent) and all(f"p{i}" in "".join(sent) for i in range(2, 8))
    items = [json.loads(line) for line in (tmp_path / "judge.jsonl").read_text().splitlines()]
    assert [i["line"] for i in items] == list(range(1, 9)) and items[1]["status"] == "unparseable"
    report = json.loads((tmp_path / "judge.json").read_text())
    assert report["complete"] is True and report["summary"]["scored"] == 7

    proc = run_script(*args[:-2], "--model", "other", "--resume", env=NO_PROXY)  # another judge cannot resume this
    assert proc.returncode == 2 and "settings.model" in proc.stdout and "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------------------------- end to end






@pytest.fixture
def llamafactory_api(tmp_path: Path, tiny_model: Path) -> Iterator[tuple[str, str, Path]]:
    """`llamafactory-cli api` serving the tiny model on 127.0.0.1 with a key; yields (base URL, key, log path)."""
    cfg = tmp_path / "api.yaml"
    cfg.write_text(f"model_name_or_path: {tiny_model}\ntemplate: qwen\ninfer_backend: huggingface\n", encoding="utf-8")
    port, key = free_port(), "test-key"
    env = {
        **os.environ, **NO_PROXY,
        "API_HOST": "127.0.0.1",  # the default is 0.0.0.0: every interface
        "API_PORT": str(port),
        "API_KEY": key,  # the server then rejects requests without "Authorization: Bearer test-key"
        "API_MODEL_NAME": "tiny-judge",  # only what /v1/models lists; chat requests may name any model
        "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1", "TOKENIZERS_PARALLELISM": "false",
    }
    cli = Path(sys.executable).parent / "llamafactory-cli"
    log_path = tmp_path / "api.log"
    # The log goes to a file: a pipe nobody reads would fill up (it logs every request) and block the server.
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen([str(cli), "api", str(cfg)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llamafactory-cli api exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {key}"}, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llamafactory-cli api not ready in {SERVER_START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url, key, log_path
    finally:
        stop_process_group(proc)


@pytest.mark.slow
def test_judge_against_llamafactory_api(llamafactory_api, tmp_path):
    url, key, log_path = llamafactory_api
    ref = {"causes": "Pressure at work and a recent divorce.", "symptoms": "Insomnia, low mood, constant worry.",
           "treatment_process": "Eight sessions of cognitive behavioural therapy.",
           "characteristics_of_illness": "Moderate anxiety with depressive features.",
           "treatment_effect": "Sleep and mood improved; worry remains under stress."}
    predictions = [json.dumps({"causes": "work stress", "symptoms": "insomnia", "treatment_process": "CBT",
                               "characteristics_of_illness": "anxiety", "treatment_effect": "better"}),
                   "The client was stressed and got better (not JSON).",
                   ""]
    (tmp_path / "predict").mkdir()
    path = write_predictions(tmp_path / "predict" / "generated_predictions.jsonl", predictions, json.dumps(ref) + "\n")

    proc = run_script("scripts/judge.py", str(path), "--base-url", url, "--model", "any-name", "--api-key", key,
                      "--max-tokens", "48", "--timeout", "120", "--retries", "1", env=NO_PROXY)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    report = json.loads((path.parent / "judge.json").read_text(encoding="utf-8"))
    summary = report["summary"]
    assert summary["n"] == 3 and summary["failed_requests"] == 0
    assert summary["scored"] + summary["unparseable"] == 3  # the tiny model's ratings are noise: either is fine
    items = [json.loads(line) for line in (path.parent / "judge.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [i["line"] for i in items] == [1, 2, 3]
    for item in items:
        assert isinstance(item["reply"], str)
        assert (item["status"], item["ratings"] is None) in {("scored", False), ("unparseable", True)}
    assert report["settings"]["model"] == "any-name" and report["settings"]["temperature"] == 0.0
    # The server answered exactly one request per item, authenticated (a 401 would have stopped the script).
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert log.count('"POST /v1/chat/completions HTTP/1.1" 200') == 3
