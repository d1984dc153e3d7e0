"""Prediction benchmark: LLaMA-Factory's ``do_predict`` at the shipped predict config, ``scripts/predict.py`` as it
was (``model.generate`` in sorted batches), and the engine (4-bit + adapter, and merged), side by side on one model.

A suite (``benchmarks/*predict*.yaml``) lists tasks: a shipped predict config, the raw input (the first path that
exists: real data in ``../shared/real-data``, else the project's samples), and how many examples the slow paths
(``baseline_examples``), the engine's 4-bit path (``engine_examples``) and its merged path (``merged_examples``,
default ``engine_examples``: more prompts than slots, so that refill, not the tail, sets the pace) get;
``attention_variants`` runs the merged path again with other decode attentions of the engine; an optional
``model:`` replaces the configs' ``model_name_or_path`` (a local folder or a published name whose shape is built
with random weights). ``tasks=[...]`` in ``run_suite`` runs some tasks and keeps the others' earlier rows, for
machines that limit one command's time. One run:

1. preprocesses the input with the project's own preprocessor and repeats its records to ``engine_examples``
   (``bench_<task>`` in ``<out>/data``); the slow paths take the first ``baseline_examples`` of the same file;
2. builds (or reuses) the random-weight model of the config's shape and, per task, an adapter whose stop-token logit
   is calibrated so that greedy answers end at the lengths of the task's reference answers (``predict_model``);
3. runs ``llamafactory-cli train <config>`` (``do_predict``) per task in its own process, then every project path in
   one worker process (``predict_worker``);
4. writes ``results.json`` / ``results.md``: examples/s, generated tokens/s, percent of the decode ceiling,
   speed-up over ``do_predict``, peak GPU memory, output lengths, and how often two paths give the same answer.

The decode ceiling at batch ``B`` is ``B x bandwidth / (weight bytes + B x context x KV bytes per token)``: one
decode step must stream the weights once and every busy sequence's cache. ``context`` is the mean number of cached
tokens a sequence attends to (the engine counts it; for the others it is the mean prompt plus half the mean answer).
``percent_of_decode_ceiling`` divides end-to-end generated tokens/s (prefill included) by it;
``decode_percent_of_ceiling`` uses decode steps only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qwen_recipes import configs
from qwen_recipes.bench import predict_model as pm
from qwen_recipes.bench.suite import MODEL_CACHE, first_existing, model_for, tokenizer_of
from qwen_recipes.cli import tool
from qwen_recipes.errors import DataError
from qwen_recipes.io import read_json, read_jsonl, write_json, write_text
from qwen_recipes.models.engine import ATTENTION
from qwen_recipes.tasks import get_task

DEFAULTS = {"peak_bandwidth_tb_s": 4.8, "full_determinism": True, "calibration_prompts": 64,
            "adapter": {"rank": 16, "alpha": 32, "b_std": 0.02}}


def load_suite(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    raw = configs.read_yaml(path, "prediction suite")
    if raw is not None and not isinstance(raw, dict):
        raise ValueError(f"{path}: a prediction suite is a mapping with a non-empty `tasks:` list")
    suite = {**DEFAULTS, **(raw or {})}
    tasks = suite.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise ValueError(f"{path}: a prediction suite needs a non-empty `tasks:` list")
    models = set()
    for i, task in enumerate(tasks, start=1):
        for key in ("name", "task", "config", "input", "baseline_examples", "engine_examples"):
            if key not in task:
                raise ValueError(f"{path}: task {i} has no `{key}`")
        if not Path(task["config"]).exists():
            raise FileNotFoundError(f"{path}: task {task['name']!r}: config {task['config']} not found")
        if first_existing(task["input"]) is None:
            raise FileNotFoundError(f"{path}: task {task['name']!r}: none of {task['input']} exists")
        for key in ("baseline_examples", "engine_examples", "merged_examples"):
            if key in task and (not isinstance(task[key], int) or task[key] < 1):
                raise ValueError(f"{path}: task {task['name']!r}: `{key}` must be a positive whole number")
        bad = [a for a in task.get("attention_variants") or [] if a not in ATTENTION]
        if bad:
            raise ValueError(f"{path}: task {task['name']!r}: `attention_variants` must be among {', '.join(ATTENTION)}, "
                             f"got {bad}")
        task["seed"] = i - 1  # the adapter's seed: the task's place in the suite, also when run alone (--tasks)
        models.add(configs.load(task["config"])["model_name_or_path"])
    if suite.get("model"):
        models = {str(suite["model"])}
    if len(models) != 1:
        raise ValueError(f"{path}: all tasks of a suite must use one model, got {sorted(models)}")
    suite["model"] = models.pop()
    return suite


class _DevicePeak:
    """Peak device memory in use while a child process runs (what nvidia-smi would show), less the idle level."""

    def __init__(self) -> None:
        import torch

        self.cuda = torch.cuda.is_available()
        self.idle = self._used() if self.cuda else 0
        self.peak = self.idle
        self._stop = threading.Event()

    def _used(self) -> int:
        import torch

        free, total = torch.cuda.mem_get_info()
        return total - free

    def __enter__(self) -> _DevicePeak:
        if self.cuda:
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(0.25):
            self.peak = max(self.peak, self._used())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()

    @property
    def gib(self) -> float | None:
        return round((self.peak - self.idle) / 2**30, 2) if self.cuda else None


def _prepare_data(task: dict[str, Any], data_dir: Path, tokenizer_dir: str, cutoff_len: int) -> Path:
    from qwen_recipes.data.prepare import prepare

    source = first_existing(task["input"])
    options = dict(task.get("options") or {})
    if get_task(task["task"]).sized_by_tokens:
        options.update(tokenizer=tokenizer_dir, cutoff_len=cutoff_len)
    prepare(task["task"], source, data_dir, options=options, log=lambda _: None)
    task["source"] = str(source)
    return pm.bench_dataset(data_dir, task["task"], _most_examples(task), f"bench_{task['name']}")


def _most_examples(task: dict[str, Any]) -> int:
    return max(int(task["engine_examples"]), int(task.get("merged_examples") or 0))


def _calibrate_all(suite: dict[str, Any], model_dir: str, out: Path, log: Callable[[str], None]) -> None:
    """Per task: a calibration adapter (no stop term), one ignore-stop engine run, then the final adapter."""
    import torch
    from llamafactory.data import get_template_and_fix_tokenizer
    from peft import PeftModel
    from transformers import AutoTokenizer

    from qwen_recipes.eval import prediction as bg
    from qwen_recipes.models.loading import ModelSpec, load

    ad = suite["adapter"]
    first = configs.load(suite["tasks"][0]["config"])
    base, _ = load(ModelSpec(model_dir, None, first.get("quantization_bit")))
    for task in suite["tasks"]:
        settings = bg.settings_from(task["config"], task["worker_overrides"])
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        template = get_template_and_fix_tokenizer(tokenizer, settings.data_args)
        examples = bg.load_examples(settings)
        seen, prompts, reference = set(), [], []
        for ex in examples:
            ids, _ = bg.encode(ex, template, tokenizer, settings.cutoff_len)
            if tuple(ids) not in seen and len(prompts) < int(suite["calibration_prompts"]):
                seen.add(tuple(ids))
                prompts.append(ids)
            reference.append(len(tokenizer(ex.messages[-1]["content"])["input_ids"]) + 1)  # + the stop token
        stops = bg.stop_token_ids(tokenizer, template)
        stop_id = tokenizer.convert_tokens_to_ids(template.stop_words[0]) if template.stop_words else tokenizer.eos_token_id
        calib = pm.write_adapter(model_dir, out / "adapters" / f"{task['name']}-calibration", rank=ad["rank"],
                                 alpha=ad["alpha"], b_std=ad["b_std"], seed=task["seed"])
        peft_model = PeftModel.from_pretrained(base, calib).eval()
        task["calibration"] = pm.calibrate(peft_model, prompts, stops, stop_id, reference, settings.max_new_tokens,
                                           log=log)
        base = peft_model.unload()
        task["adapter"] = str(pm.write_adapter(model_dir, out / "adapters" / task["name"], rank=ad["rank"],
                                               alpha=ad["alpha"], b_std=ad["b_std"], seed=task["seed"], stop_id=stop_id,
                                               stop_scale=task["calibration"]["stop_scale"]))
        c = task["calibration"]
        log(f"  {task['name']}: stop scale {c['stop_scale']}: predicted lengths p25/p50/p75 "
            f"{c['predicted_lengths'].get('p25')}/{c['predicted_lengths'].get('p50')}/{c['predicted_lengths'].get('p75')}"
            f", reference {c['reference_lengths'].get('p25')}/{c['reference_lengths'].get('p50')}/"
            f"{c['reference_lengths'].get('p75')}")
    del base
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _run_do_predict(suite: dict[str, Any], task: dict[str, Any], model_dir: str, out: Path,
                    log: Callable[[str], None]) -> dict[str, Any]:
    from transformers import AutoTokenizer

    run_dir = out / "runs" / f"{task['name']}-do_predict"
    shutil.rmtree(run_dir, ignore_errors=True)
    overrides = [f"{k}={v}" for k, v in task["lf_overrides"].items()] + [f"output_dir={run_dir}"]
    cmd = [tool("llamafactory-cli"), "train", task["config"], *overrides]
    log(f"  {task['name']}: llamafactory-cli train {task['config']} ({task['baseline_examples']} examples)")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    run_dir.mkdir(parents=True, exist_ok=True)
    with _DevicePeak() as peak, open(run_dir.parent / f"{task['name']}-do_predict.log", "w") as logf:
        proc = subprocess.run(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env, check=False)
    row: dict[str, Any] = {"name": f"{task['name']}-do_predict", "task": task["name"], "path": "LLaMA-Factory do_predict",
                           "examples": int(task["baseline_examples"]), "batch": task["shipped_batch"],
                           "peak_gpu_memory_gib": peak.gib, "peak_memory_kind": "device in use (nvidia-smi)"}
    metrics_path = run_dir / "predict_results.json"
    if proc.returncode != 0 or not metrics_path.exists():
        tail = (run_dir.parent / f"{task['name']}-do_predict.log").read_text(errors="replace").strip().splitlines()[-1:]
        return {**row, "error": f"exit {proc.returncode}: {tail[0] if tail else ''}"}
    metrics = read_json(metrics_path)
    rows = read_jsonl(run_dir / "generated_predictions.jsonl")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    cap = int(configs.load(task["config"]).get("max_new_tokens", 1024))
    lengths = [min(len(tokenizer(r["predict"])["input_ids"]), cap) for r in rows]
    return {**row, "seconds": metrics["predict_runtime"], "generated_tokens": sum(lengths),
            "generated_tokens_counted": "re-encoded from the decoded text (approximate), at most max_new_tokens",
            "output_lengths": lengths, "predictions": str(run_dir / "generated_predictions.jsonl")}


def _predicts(row: dict[str, Any]) -> list[str]:
    # Not splitlines(): decoded random text can hold U+2028 and other characters it would split on.
    return [r["predict"] for r in read_jsonl(row["predictions"])]


def _agree(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str | None:
    if not a or not b or "predictions" not in a or "predictions" not in b:
        return None
    pa, pb = _predicts(a), _predicts(b)
    n = min(len(pa), len(pb))
    return f"{sum(x == y for x, y in zip(pa[:n], pb[:n], strict=True))}/{n}"


def finish_rows(rows: list[dict[str, Any]], suite: dict[str, Any], kv_per_token: int) -> list[dict[str, Any]]:
    """Add the derived figures: throughput, ceiling, speed-up, length quantiles, agreement."""
    bandwidth = float(suite["peak_bandwidth_tb_s"]) * 1e12
    by_name = {r["name"]: r for r in rows}
    for r in rows:
        if "error" in r or not r.get("seconds"):
            continue
        r["examples_per_second"] = round(r["examples"] / r["seconds"], 3)
        r["generated_tokens_per_second"] = round(r["generated_tokens"] / r["seconds"], 1)
        lengths = r.get("output_lengths") or []
        r["output_length_quantiles"] = pm.quantiles(lengths)
        weights = r.get("weight_bytes") or by_name.get(f"{r['task']}-engine-4bit", {}).get("weight_bytes")
        if r.get("busy_slot_steps"):
            context = r["kv_tokens_read"] / r["busy_slot_steps"]
        else:
            context = r.get("prompt_tokens_mean", by_name.get(f"{r['task']}-generate", {}).get("prompt_tokens_mean", 0))
            context += (sum(lengths) / len(lengths) / 2) if lengths else 0
        if weights:
            batch = int(r["batch"])
            ceiling = batch * bandwidth / (weights + batch * context * kv_per_token)
            r["decode_ceiling_tokens_per_second"] = round(ceiling, 1)
            r["percent_of_decode_ceiling"] = round(100 * r["generated_tokens_per_second"] / ceiling, 2)
            if r.get("decode_seconds"):
                decode_rate = (r["generated_tokens"] - r["examples"]) / r["decode_seconds"]
                r["decode_percent_of_ceiling"] = round(100 * decode_rate / ceiling, 2)
    for r in rows:
        base = by_name.get(f"{r['task']}-do_predict")
        if r.get("examples_per_second") and base and base.get("examples_per_second"):
            r["speedup_vs_do_predict"] = round(r["examples_per_second"] / base["examples_per_second"], 2)
        t = r["task"]
        pairs = {f"{t}-engine-4bit-baseline-rows": [("vs_do_predict", f"{t}-do_predict")],
                 f"{t}-generate": [("vs_do_predict", f"{t}-do_predict")],
                 f"{t}-engine-4bit-rerun": [("vs_first_run", f"{t}-engine-4bit")],
                 f"{t}-engine-merged": [("vs_4bit", f"{t}-engine-4bit")],
                 f"{t}-transformers-continuous-batching": [("vs_engine_merged", f"{t}-engine-merged")],
                 **{f"{t}-engine-merged-{a}": [("vs_engine_merged", f"{t}-engine-merged")] for a in ATTENTION}}
        for label, other in pairs.get(r["name"], []):
            r[f"identical_{label}"] = _agree(r, by_name.get(other))
    return rows


STAGES = ("do_predict", "project")


def run_suite(suite: dict[str, Any], out: Path, log: Callable[[str], None] = print,
              stages: tuple[str, ...] = STAGES, tasks: list[str] | None = None) -> list[dict[str, Any]]:
    """Both stages, or one: ``do_predict`` (data, model, calibration, LLaMA-Factory; ``state.json`` after each task)
    or ``project`` (the worker, from that state, then the results), for machines that limit one command's time.
    ``tasks`` (names) runs only those; the other tasks' state and rows from earlier runs into ``out`` are kept."""
    out.mkdir(parents=True, exist_ok=True)
    names = [t["name"] for t in suite["tasks"]]
    chosen = tasks or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        raise DataError(f"no task {', '.join(unknown)} in the suite (it has {', '.join(names)})", field="--tasks")
    state_path = out / "state.json"
    state = read_json(state_path) if state_path.exists() and tasks else {"suite": None, "rows": [], "project_rows": []}
    if "do_predict" in stages and not tasks:
        write_json(state_path, state)  # a full run stopped before its first task must not leave an earlier run's state
    if "do_predict" in stages:
        part = {**suite, "tasks": [t for t in suite["tasks"] if t["name"] in chosen]}
        earlier = {t["name"]: t for t in (state["suite"] or {}).get("tasks", []) if t["name"] not in chosen}
        kept_rows, kept_project = _keep_others(state["rows"], chosen), _keep_others(state.get("project_rows", []), chosen)
        done: dict[str, dict[str, Any]] = {}
        rows: list[dict[str, Any]] = []

        def saved(task: dict[str, Any], row: dict[str, Any]) -> None:
            # After each task: a stage stopped by a time limit keeps the tasks it finished (--stage project
            # --tasks <them> runs on), and --stage do_predict --tasks <the rest> adds the others.
            nonlocal state
            done[task["name"]] = task
            rows.append(row)
            tasks_now = [done.get(n) or earlier[n] for n in names if n in done or n in earlier]
            state = {"suite": {**part, "tasks": tasks_now}, "rows": kept_rows + rows, "project_rows": kept_project}
            write_json(state_path, state)

        _stage_do_predict(part, out, log, saved)
    if "project" not in stages:
        return state["rows"]
    if state["suite"] is None:
        state = read_json(state_path, hint="run the do_predict stage first")
    if state.get("suite") is None:  # a do_predict stage stopped before its first task was saved
        raise DataError(f"{state_path}: no do_predict stage has finished a task", field="suite",
                        hint="run --stage do_predict first (--tasks runs some of them)")
    missing = [n for n in chosen if n not in {t["name"] for t in state["suite"]["tasks"]}]
    if missing:
        raise DataError(f"{state_path}: no do_predict stage for {', '.join(missing)}", field="--tasks",
                        hint="run --stage do_predict for them first")
    part = {**state["suite"], "tasks": [t for t in state["suite"]["tasks"] if t["name"] in chosen]}
    new_rows = _stage_project(part, out, log)
    state["project_rows"] = _keep_others(state.get("project_rows", []), chosen) + new_rows
    write_json(state_path, state)
    return finish(state["suite"], out, [dict(r) for r in state["rows"] + state["project_rows"]])


def _keep_others(rows: list[dict[str, Any]], chosen: list[str]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("task") not in chosen]


def _stage_do_predict(suite: dict[str, Any], out: Path, log: Callable[[str], None],
                      saved: Callable[[dict[str, Any], dict[str, Any]], None]) -> None:
    model_dir, shape = model_for(suite["model"], MODEL_CACHE, log)
    data_dir = out / "data"
    for task in suite["tasks"]:
        cfg = configs.load(task["config"])
        task["shipped_batch"] = int(cfg.get("per_device_eval_batch_size", 8))
        _prepare_data(task, data_dir, model_dir, int(cfg["cutoff_len"]))
        common = {"model_name_or_path": model_dir, "dataset_dir": str(data_dir), "eval_dataset": f"bench_{task['name']}"}
        task["worker_overrides"] = [f"{k}={v}" for k, v in common.items()] + [f"max_samples={_most_examples(task)}"]
    log(f"calibrating stop lengths on {model_dir}")
    _calibrate_all(suite, model_dir, out, log)
    suite.update(model_dir=model_dir, shape=shape, versions=_versions(), device=_device())
    for task in suite["tasks"]:
        task["worker_overrides"].append(f"adapter_name_or_path={task['adapter']}")
        task["lf_overrides"] = {"model_name_or_path": model_dir, "adapter_name_or_path": task["adapter"],
                                "dataset_dir": str(data_dir), "eval_dataset": f"bench_{task['name']}",
                                "max_samples": task["baseline_examples"], "overwrite_cache": "true",
                                "full_determinism": str(bool(suite["full_determinism"])).lower(), "report_to": "none"}
        saved(task, _run_do_predict(suite, task, model_dir, out, log))


def _stage_project(suite: dict[str, Any], out: Path, log: Callable[[str], None]) -> list[dict[str, Any]]:
    plan = {"out": str(out / "runs"), "full_determinism": bool(suite["full_determinism"]),
            "tasks": [{"name": t["name"], "config": t["config"], "overrides": t["worker_overrides"],
                       "baseline_examples": int(t["baseline_examples"]), "engine_examples": int(t["engine_examples"]),
                       "merged_examples": int(t.get("merged_examples") or t["engine_examples"]),
                       "memory_cap_gib": t.get("memory_cap_gib"),
                       "library_baseline": t.get("library_baseline"), "old_path": t.get("old_path", True),
                       "rerun": bool(t.get("rerun")), "attention_variants": list(t.get("attention_variants") or [])}
                      for t in suite["tasks"]]}
    plan_path = write_json(out / "worker_plan.json", plan)
    log("running the project's paths (one worker process)")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if suite["full_determinism"]:
        env["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"  # before CUDA starts, as enable_full_determinism wants it
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "qwen_recipes.bench.predict_worker", str(plan_path)], env=env,
                          check=False)
    log(f"  worker finished in {time.perf_counter() - started:.0f} s (exit {proc.returncode})")
    worker_json = out / "runs" / "worker.json"
    rows = read_json(worker_json) if worker_json.exists() else []
    if proc.returncode != 0:
        rows += [{"name": f"{t['name']}-worker", "task": t["name"], "path": "project paths",
                  "error": f"worker exit {proc.returncode}"} for t in suite["tasks"]]
    return rows


def finish(suite: dict[str, Any], out: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Derived figures, then ``results.json`` and ``results.md`` (also for rows gathered from a resumed worker)."""
    from qwen_recipes.models.architectures import SHAPES
    from qwen_recipes.models.slots import kv_bytes_per_token

    model_dir, shape = suite["model_dir"], suite["shape"]
    config_path = Path(model_dir) / "config.json"
    model_cfg = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else SHAPES[shape]
    kv = kv_bytes_per_token(model_cfg, 2)
    rows = finish_rows(rows, suite, kv)
    measured = time.strftime("%Y-%m-%d")
    result = {"suite": suite.get("label"), "measured": measured, "model": model_dir, "shape": shape,
              "tokenizer": tokenizer_of(model_dir),
              "versions": suite.get("versions") or _versions(), "device": suite.get("device") or _device(),
              "kv_bytes_per_token": kv, "notes": suite.get("notes"),
              "tasks": [{k: t.get(k) for k in ("name", "task", "config", "source", "baseline_examples", "engine_examples",
                                               "merged_examples", "calibration", "shipped_batch")}
                        for t in suite["tasks"]],
              "rows": rows}
    write_json(out / "results.json", result)
    write_text(out / "results.md", markdown(result))
    return rows


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    return {n: md.version(n) for n in ("torch", "transformers", "llamafactory", "peft", "bitsandbytes")}


def _device() -> str:
    import torch

    return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"


def _fmt(v: Any, spec: str = ",.1f") -> str:
    return "-" if v is None else format(v, spec) if isinstance(v, int | float) else str(v)


def markdown(result: dict[str, Any]) -> str:
    lines = [f"# Prediction benchmark: {result['shape']} on {result['device']} ({result['measured']})", "",
             f"Random weights of the {result['shape']} shape; tokenizer: {result.get('tokenizer', 'not recorded')}; "
             "inputs: " + "; ".join(f"{t['name']} from {t.get('source') or 'its samples'}" for t in result["tasks"]) + ".",
             "",
             "| task | path | examples | batch | examples/s | gen tokens/s | vs do_predict | % decode ceiling "
             "(end to end / decode) | peak GiB | output length p50 / p90 | identical answers |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        if "error" in r:
            lines.append(f"| {r['task']} | {r['path']} | failed: {r['error']} |||||||||")
            continue
        q = r.get("output_length_quantiles") or {}
        agree = ", ".join(f"{k.removeprefix('identical_')} {v}" for k, v in r.items() if k.startswith("identical_") and v)
        lines.append(
            f"| {r['task']} | {r['path']} | {r['examples']} | {r['batch']} | {_fmt(r.get('examples_per_second'), ',.3f')} "
            f"| {_fmt(r.get('generated_tokens_per_second'))} | {_fmt(r.get('speedup_vs_do_predict'), ',.1f')}x "
            f"| {_fmt(r.get('percent_of_decode_ceiling'))} / {_fmt(r.get('decode_percent_of_ceiling'))} "
            f"| {_fmt(r.get('peak_gpu_memory_gib'), '.1f')} | {_fmt(q.get('p50'), '.0f')} / {_fmt(q.get('p90'), '.0f')} "
            f"| {agree or '-'} |")
    lines += ["", "Stop-length calibration (tokens; reference = the task's answers, capped at max_new_tokens):", "",
              "| task | source | stop scale | calibrated p25 / p50 / p75 | reference p25 / p50 / p75 |", "|---|---|---|---|---|"]
    for t in result["tasks"]:
        c = t.get("calibration") or {}
        p, ref = c.get("predicted_lengths", {}), c.get("reference_lengths", {})
        lines.append(f"| {t['name']} | {t.get('source')} | {c.get('stop_scale')} | {p.get('p25')} / {p.get('p50')} / "
                     f"{p.get('p75')} | {ref.get('p25')} / {ref.get('p50')} / {ref.get('p75')} |")
    return "\n".join(lines) + "\n"
