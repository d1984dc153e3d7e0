"""LLM-as-judge scoring of LongEmotion "Emotion Summary" (ES) predictions, the way the benchmark scores them.

A judge model (officially GPT-4o at temperature 0) rates each of the five summary fields 1-5 on factual
consistency, completeness and clarity against the reference summary; an item's score is the mean of those
15 ratings and the set's score is the mean over items. Any OpenAI-compatible chat-completions endpoint
serves as judge (OpenAI, vLLM, ``llamafactory-cli api``).

A reply that does not hold all 15 ratings as integers 1-5 is *unparseable*: counted and reported, never
guessed or partly filled, so the mean is over the items the judge really rated and the count says how many.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from qwen_recipes.errors import DataError, ProjectError
from qwen_recipes.readers.longemotion import TARGET_FIELDS as FIELDS  # one definition of the five fields

CRITERIA = ("factual_consistency", "completeness", "clarity")
TEMPERATURE = 0.0  # the benchmark's setting: the judge's ratings must not depend on sampling luck
RATING_MIN, RATING_MAX = 1, 5

Ratings = dict[str, dict[str, int]]

_SHAPE = "{" + ", ".join(
    f'"{f}": {{' + ", ".join(f'"{c}": <integer 1-5>' for c in CRITERIA) + "}" for f in FIELDS
) + "}"

RUBRIC = f"""You are an expert clinical psychologist grading a summary of a psychological counseling case.

You are given a REFERENCE summary written by experts and a MODEL summary to grade. Both describe the case in five fields:
- causes: why the client's problem arose (background, triggering events, contributing factors).
- symptoms: the client's emotional, cognitive, behavioral and physical symptoms.
- treatment_process: how the counseling proceeded (approach, techniques, stages of the sessions).
- characteristics_of_illness: the defining features of the problem (its nature, severity, course, what sets it apart).
- treatment_effect: the outcome of the counseling (changes in the client, what remains unresolved).

Rate EACH of the five fields of the MODEL summary on each of three criteria, with an integer from 1 to 5, taking the \
REFERENCE as the ground truth:
- factual_consistency: does what the field states agree with the reference?
  5 = everything agrees with the reference; 3 = mostly agrees, with some errors or unsupported claims; \
1 = contradicts the reference or is made up.
- completeness: does the field cover the key points of the reference's field?
  5 = all key points; 3 = about half of them; 1 = almost none.
- clarity: is the field clear, specific and well organized?
  5 = clear, specific and well organized; 3 = understandable but vague, repetitive or disorganized; 1 = confusing.
Use 2 and 4 for quality between these anchors. Rate each field on its own merits. The MODEL summary may be \
malformed JSON or plain text: rate what it says about each field all the same. A field the MODEL summary does not \
address at all gets 1 on all three criteria.

Reply with ONLY a JSON object, with no other text, exactly of this form (every value an integer from 1 to 5):
{_SHAPE}"""

RUBRIC_SHA256 = hashlib.sha256(RUBRIC.encode("utf-8")).hexdigest()


class JudgeError(ProjectError, RuntimeError):
    """The judge endpoint cannot be used (wrong URL, model or key; or it stopped answering): the run stops.
    ``items`` holds what was judged before (scored or unparseable), so that a rerun can resume."""

    items: list[JudgedItem] = []


class UnparseableReply(ValueError):
    """The judge's reply does not hold all 15 ratings as integers 1-5; the message says what is wrong."""


class RequestFailed(RuntimeError):
    """This item's request failed for good (after the retries, or a 4xx that retrying cannot fix)."""


class _Row(Protocol):  # qwen_recipes.eval.predictions.Prediction, or anything shaped like it
    line: int
    predict: str
    label: str


# ---------------------------------------------------------------------------------------------- the request


def build_messages(reference: str, prediction: str) -> list[dict[str, str]]:
    """One user turn (as the benchmark sends it): the rubric, then the reference, then the model's summary as written.
    Concatenated, not str.format-ed: summaries are JSON and full of braces."""
    content = (
        f"{RUBRIC}\n\n"
        f"### REFERENCE summary\n{reference.strip()}\n\n"
        f"### MODEL summary (to grade)\n{prediction.strip()}\n\n"
        "### Your ratings (the JSON object only)"
    )
    return [{"role": "user", "content": content}]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare from these APIs; the exponential backoff is used instead
    # "nan", "-5" or "inf" from a broken proxy would reach time.sleep; the backoff is used instead.
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


class Redactor:
    """Takes the credentials out of everything the judge writes or prints: the API key (an endpoint that echoes the
    request puts ``Bearer <key>`` into its reply), and the user info and query string of the base URL."""

    def __init__(self, api_key: str | None, base_url: str) -> None:
        url = httpx.URL(base_url)
        self.secrets = [x for x in (api_key, url.password, url.username if url.password else None) if x]
        self.secrets += [v for _, v in url.params.multi_items() if len(v) >= 4]
        if url.query:
            self.secrets.append(url.query.decode("ascii", "replace"))
        self.secrets.sort(key=len, reverse=True)  # a secret that contains another is replaced whole
        shown = url.copy_with(username=None, password=None, query=None)
        self.base_url = str(shown) + ("?[redacted]" if url.query else "")

    def __call__(self, text: str | None) -> str | None:
        if text is None:
            return None
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


def endpoint(base_url: str) -> httpx.URL:
    """``{base_url}/chat/completions``, keeping a query string (some gateways put a version or key there)."""
    url = httpx.URL(base_url)
    return url.copy_with(path=url.path.rstrip("/") + "/chat/completions")


def chat_completion(
    messages: list[dict[str, str]],
    *,
    base_url: str,
    model: str,
    api_key: str | None = None,
    temperature: float = TEMPERATURE,
    max_tokens: int | None = 1024,
    timeout: float = 120.0,
    retries: int = 3,
    backoff: float = 1.0,
    max_backoff: float = 30.0,
    client: httpx.Client | None = None,
) -> str:
    """POST ``{base_url}/chat/completions`` and return the reply text.

    Connection errors, timeouts, 429 and 5xx are retried up to ``retries`` times, waiting ``backoff`` * 2**attempt
    seconds (or the server's Retry-After), at most ``max_backoff``; then :class:`RequestFailed`. 401/403/404 mean the
    URL, model or key is wrong for every item, so they raise :class:`JudgeError` at once; another 4xx (e.g. a prompt
    over the context length) is this item's failure, not retried.
    """
    url = endpoint(base_url)
    redact = Redactor(api_key, base_url)
    shown = redact.base_url.replace("?[redacted]", "").rstrip("/") + "/chat/completions"
    body: dict[str, Any] = {"model": model, "messages": messages, "temperature": temperature}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    retries = max(0, retries)
    own = client is None
    http = client or httpx.Client(timeout=timeout)
    try:
        for attempt in range(retries + 1):
            wait = min(backoff * 2**attempt, max_backoff)
            try:
                response = http.post(url, json=body, headers=headers, timeout=timeout)
            except httpx.TransportError as err:  # refused, reset, timed out: the endpoint may come back
                problem = redact(f"{type(err).__name__}: {err}" if str(err) else type(err).__name__)
            else:
                status = response.status_code
                if status == 200:
                    return _reply_text(response)  # raw, for the parser; judge_one redacts what it keeps
                problem = redact(f"HTTP {status}: {response.text[:300]}")
                if status in (401, 403, 404):
                    raise JudgeError(f"{shown} answered {problem} (check --base-url, --model and the API key)")
                if status != 429 and status < 500:
                    raise RequestFailed(problem)
                wait = min(_retry_after(response) or wait, max_backoff)
            if attempt < retries:
                time.sleep(wait)
        raise RequestFailed(f"{problem} (after {retries + 1} attempts)")
    finally:
        if own:
            http.close()


def _reply_text(response: httpx.Response) -> str:
    try:
        content = response.json()["choices"][0]["message"].get("content")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise RequestFailed(f"not a chat-completions response: {response.text[:300]}") from None
    if not isinstance(content, str):
        return ""  # no text (e.g. a tool call): the parser calls it unparseable
    # A lone surrogate ("\\ud800" in the JSON) would make writing judge.jsonl as UTF-8 fail after the whole run.
    return content.encode("utf-8", "replace").decode("utf-8")


# ---------------------------------------------------------------------------------------------- the reply


def _json_objects(text: str) -> list[Any]:
    """Every top-level JSON object in ``text``: finds the answer inside a ```json fence or prose around it alike."""
    decoder = json.JSONDecoder()
    found, pos = [], 0
    while (start := text.find("{", pos)) != -1:
        try:
            obj, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pos = start + 1
            continue
        found.append(obj)
        pos = end
    return found


def _key(name: Any) -> str:
    # "Factual Consistency" and "factual-consistency" name the same criterion; a key is not a rating, so this guesses nothing.
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _normalized(obj: dict[str, Any], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in obj.items():
        nk = _key(k)
        if nk in out:
            raise UnparseableReply(f"{what}: key {nk!r} given twice")
        out[nk] = v
    return out


def parse_ratings(reply: str) -> Ratings:
    """The 15 ratings in the judge's reply, ``{field: {criterion: int}}``; :class:`UnparseableReply` if any is missing,
    not an integer (``"five"``, ``"5"``, ``4.5``) or outside 1-5, or if the reply holds two different rating objects.
    Extra keys (a comment, an overall score) are ignored."""
    candidates = [_normalized(o, "reply") for o in _json_objects(reply) if isinstance(o, dict)]
    candidates = [o for o in candidates if any(f in o for f in FIELDS)]
    if not candidates:
        raise UnparseableReply("no JSON object with the rating fields")
    if any(o != candidates[0] for o in candidates[1:]):
        raise UnparseableReply("several different rating objects")
    obj = candidates[0]
    ratings: Ratings = {}
    for field in FIELDS:
        if not isinstance(obj.get(field), dict):
            raise UnparseableReply(f"{field}: missing" if field not in obj else f"{field}: not an object")
        per = _normalized(obj[field], field)
        ratings[field] = {}
        for crit in CRITERIA:
            value = per.get(crit)
            # bool is an int in Python; True must not pass as 1.
            if type(value) is not int or not RATING_MIN <= value <= RATING_MAX:
                raise UnparseableReply(f"{field}.{crit}: {value!r} is not an integer {RATING_MIN}-{RATING_MAX}"
                                       if crit in per else f"{field}.{crit}: missing")
            ratings[field][crit] = value
    return ratings


def item_score(ratings: Ratings) -> float:
    """The benchmark's item score: the mean of the 15 ratings (1-5)."""
    values = [ratings[f][c] for f in FIELDS for c in CRITERIA]
    return sum(values) / len(values)


# ---------------------------------------------------------------------------------------------- the run


def reference_fields(label: str) -> dict[str, Any] | None:
    """The reference summary as a dict when ``label`` is a JSON object with the five fields, else None."""
    try:
        obj = json.loads(label)
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) and all(f in obj for f in FIELDS) else None


def check_references(rows: Sequence[_Row], path: str | Path) -> None:
    """Every label must be an ES reference: judging another task's predictions would produce numbers that mean nothing."""
    for r in rows:
        if reference_fields(r.label) is None:
            raise DataError(f"reference is not a JSON object with the fields {', '.join(FIELDS)}", path=path,
                            line=r.line, field="label", hint="are these Emotion Summary predictions?")


@dataclass
class JudgedItem:
    line: int  # the line of generated_predictions.jsonl
    status: str  # "scored" | "unparseable" | "failed_request"
    score: float | None = None
    ratings: Ratings | None = None
    reply: str | None = None  # the judge's raw reply; None when no reply came
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(items: Sequence[JudgedItem]) -> dict[str, Any]:
    """Counts (n = scored + unparseable + failed_requests) and means over the scored items only (None when none is)."""
    scored = [i.ratings for i in items if i.status == "scored" and i.ratings is not None]
    return {
        "n": len(items),
        "scored": len(scored),
        "unparseable": sum(i.status == "unparseable" for i in items),
        "failed_requests": sum(i.status == "failed_request" for i in items),
        "mean_score": _mean([item_score(r) for r in scored]),
        "per_field": {f: _mean([sum(r[f].values()) / len(CRITERIA) for r in scored]) for f in FIELDS},
        "per_criterion": {c: _mean([sum(r[f][c] for f in FIELDS) / len(FIELDS) for r in scored]) for c in CRITERIA},
        "per_field_criterion": {f: {c: _mean([float(r[f][c]) for r in scored]) for c in CRITERIA} for f in FIELDS},
    }


def judge_one(row: _Row, **request: Any) -> JudgedItem:
    """Judge one prediction; the prediction goes to the judge as written, valid JSON or not."""
    try:
        reply = chat_completion(build_messages(row.label, row.predict), **request)
    except RequestFailed as err:
        return JudgedItem(row.line, "failed_request", error=str(err))
    redact = Redactor(request.get("api_key"), request["base_url"])
    try:
        ratings = parse_ratings(reply)
    except UnparseableReply as err:
        return JudgedItem(row.line, "unparseable", reply=redact(reply), error=redact(f"unparseable: {err}"))
    return JudgedItem(row.line, "scored", score=item_score(ratings), ratings=ratings, reply=redact(reply))


def judge_predictions(
    rows: Sequence[_Row],
    *,
    base_url: str,
    model: str,
    api_key: str | None = None,
    max_tokens: int | None = 1024,
    timeout: float = 120.0,
    retries: int = 3,
    backoff: float = 1.0,
    workers: int = 1,
    max_consecutive_failures: int = 5,
    progress: Callable[[JudgedItem], None] | None = None,
) -> tuple[list[JudgedItem], dict[str, Any]]:
    """Judge every row; returns the items (in input order) and :func:`summarize`'s summary.

    ``workers`` requests run at once. After ``max_consecutive_failures`` failed requests in a row the endpoint is taken
    to be down and :class:`JudgeError` stops the run, rather than spending the retries on every remaining item.
    """
    shown_url = Redactor(api_key, base_url).base_url
    if not base_url.startswith(("http://", "https://")):
        raise JudgeError(f"base URL {shown_url!r} must start with http:// or https://")
    results: list[JudgedItem | None] = [None] * len(rows)
    lock = threading.Lock()
    stop = threading.Event()
    consecutive = 0
    last_error: str | None = None

    with httpx.Client(timeout=timeout) as client:  # one connection pool for the whole run
        request = dict(base_url=base_url, model=model, api_key=api_key, max_tokens=max_tokens, timeout=timeout,
                       retries=retries, backoff=backoff, client=client)

        def task(index: int) -> None:
            nonlocal consecutive, last_error
            if stop.is_set():
                return
            try:
                item = judge_one(rows[index], **request)
            except BaseException:
                stop.set()  # here, not in the caller: the worker would otherwise start on the next queued item first
                raise
            with lock:
                results[index] = item
                consecutive = consecutive + 1 if item.status == "failed_request" else 0
                last_error = item.error if item.status == "failed_request" else last_error
                if consecutive >= max_consecutive_failures:
                    stop.set()
                if progress:
                    progress(item)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = [pool.submit(task, i) for i in range(len(rows))]
            try:
                for f in futures:
                    f.result()  # re-raises JudgeError (and bugs) from the workers
                    if stop.is_set():
                        raise JudgeError(f"{max_consecutive_failures} requests in a row failed; the judge at {shown_url} "
                                         f"looks down (last: {last_error})")
            except BaseException as err:
                # Queued items must not go on sending requests (a wrong key, Ctrl-C): cancel them, let running ones end.
                stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                if isinstance(err, JudgeError):
                    err.items = [i for i in results if i is not None and i.status != "failed_request"]
                raise
    items = [i for i in results if i is not None]
    return items, summarize(items)


def finished_items(items_path: Path, summary_path: Path, settings: dict[str, Any]) -> dict[int, JudgedItem]:
    """For ``--resume``: the items an earlier run of the same judge (model, rubric, predictions) scored or found
    unparseable, by line; failed requests are judged again."""
    from qwen_recipes.io import read_json

    if not items_path.exists():
        return {}
    if summary_path.exists():
        earlier = read_json(summary_path).get("settings") or {}
        for key in ("predictions", "model", "rubric_sha256"):
            if earlier.get(key) != settings[key]:
                raise DataError(f"--resume: the earlier run used {earlier.get(key)!r}, this one {settings[key]!r}",
                                path=summary_path, field=f"settings.{key}", hint="judge again without --resume")
    done: dict[int, JudgedItem] = {}
    for number, line in enumerate(items_path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            item = JudgedItem(**json.loads(line))
        except (json.JSONDecodeError, TypeError):
            raise DataError("not an item of judge.jsonl", path=items_path, line=number,
                            hint="judge again without --resume") from None
        if item.status in ("scored", "unparseable"):
            done[item.line] = item
    return done

