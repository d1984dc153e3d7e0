"""Run train configs side by side and report steady-state tokens/s, MFU and peak memory.

A suite (``benchmarks/*.yaml``) lists runs: a train config from ``configs/train``, optionally a GPU-size
profile (``configs/profiles``) and overrides. Each run gets

- the model of the config's architecture with random weights (``architectures.build_random``, cached), or the
  config's own model when it is a local folder (the tiny model in tests);
- synthetic data of controlled length (``synthetic.write_dataset``);
- a fresh process running LLaMA-Factory's ``run_exp`` (``torchrun`` when ``nproc`` > 1) for ``warmup + steps``
  optimizer steps, with no evaluation and no checkpoint.

Tokens/s counts real tokens only over the steps after warm-up, summed over GPUs, divided by the wall time of
those steps; MFU divides the FLOPs of those steps (``flops``) by that time and the GPUs' peak. Peak memory is
torch's allocator peak over the whole run (reserved is what ``nvidia-smi`` sees, less the CUDA context). A run
that fails (out of memory, say) is reported as failed with its log's last line, and the suite goes on.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from qwen_recipes import configs, profiles
from qwen_recipes.bench import flops
from qwen_recipes.io import read_json, write_json, write_text
from qwen_recipes.models import architectures

MODEL_CACHE = Path("outputs/bench/models")
DEFAULT_DATA = {"min_tokens": 512, "max_tokens": 1536}
# Benchmark runs train and nothing else: no evaluation, no checkpoint, no plot.
DROP_KEYS = ("eval_dataset", "val_size", "eval_steps", "load_best_model_at_end", "metric_for_best_model",
             "save_steps", "save_total_limit", "num_train_epochs", "resume_from_checkpoint")


def first_existing(paths: str | list[str]) -> Path | None:
    """The first of a suite's candidate inputs that is on disk (real data first, then the samples), or None."""
    return next((Path(p) for p in ([paths] if isinstance(paths, str) else paths) if Path(p).exists()), None)


def overrides_of(suite: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """A run's LLaMA-Factory overrides: the suite's, then the run's own on top."""
    return {**(suite.get("overrides") or {}), **(run.get("overrides") or {})}


def load_suite(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    suite = configs.read_yaml(path, "benchmark suite")
    if not isinstance(suite, dict) or not isinstance(suite.get("runs"), list) or not suite["runs"]:
        raise ValueError(f"{path}: a suite needs a non-empty `runs:` list")
    for i, run in enumerate(suite["runs"], start=1):
        for key in ("name", "config"):
            if not isinstance(run, dict) or key not in run:
                raise ValueError(f"{path}: run {i} has no `{key}`")
        if not Path(run["config"]).exists():
            raise FileNotFoundError(f"{path}: run {run['name']!r}: config {run['config']} not found")
        configs.load(run["config"])  # a config that is not YAML stops the suite before any run
        # Checked before any model is built: a typo should not cost GPU time.
        if run.get("profile"):
            try:
                profiles.load(run["profile"])
            except KeyError as err:
                raise ValueError(f"{path}: run {run['name']!r}: {err.args[0]}") from None
        deepspeed = overrides_of(suite, run).get("deepspeed")
        if deepspeed and not Path(deepspeed).exists():
            raise FileNotFoundError(f"{path}: run {run['name']!r}: DeepSpeed config {deepspeed} not found")
    names = [r["name"] for r in suite["runs"]]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: run names must be unique, got {names}")
    return suite


def is_suite(path: str | Path) -> bool:
    """A suite file has a ``runs:`` list; a train config never does."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "runs" in data


def suite_from_configs(paths: list[str], profile_names: list[str | None]) -> dict[str, Any]:
    """An ad-hoc suite: every config under every profile (None: as the config stands)."""
    runs = []
    for path in paths:
        configs.load(path)  # checked before any run: a typo should not cost GPU time
        for prof in profile_names:
            runs.append({"name": Path(path).stem + (f"@{prof}" if prof else ""), "config": path, "profile": prof})
    return {"runs": runs}


def resolve_args(run: dict[str, Any], suite: dict[str, Any], steps: int, warmup: int, out: Path, model: str,
                 dataset_dir: Path, dataset: str) -> dict[str, Any]:
    """The full LLaMA-Factory argument dict of one run: config, then profile, then suite and run overrides."""
    args = configs.load(run["config"])
    overrides = overrides_of(suite, run)
    cutoff = int(overrides.get("cutoff_len", args.get("cutoff_len", 2048)))
    if run.get("profile"):
        quantized = {**args, **overrides}.get("quantization_bit") is not None
        args.update(profiles.load(run["profile"]).resolve(cutoff, quantized=quantized))
    args.update(overrides)
    for key in DROP_KEYS:
        args.pop(key, None)
    args.update({
        "model_name_or_path": model, "dataset_dir": str(dataset_dir), "dataset": dataset, "do_train": True,
        "do_eval": False, "eval_strategy": "no", "save_strategy": "no", "max_steps": warmup + steps,
        "logging_steps": warmup + steps, "output_dir": str(out), "overwrite_output_dir": True, "report_to": "none",
        "plot_loss": False, "overwrite_cache": True, "include_effective_tokens_per_second": True,
    })
    return args


def model_for(config_model: str, cache: Path, log: Callable[[str], None]) -> tuple[str, str]:
    """(model folder, shape label) for a config's ``model_name_or_path``: a local folder as it is, a published name
    as a random-weight model of its shape on the family's real tokenizer (``qwen_tokenizer``, built offline)."""
    from qwen_recipes import qwen_tokenizer

    shape = architectures.shape_for(config_model)
    if shape is None:
        if not (Path(config_model) / "config.json").exists():
            raise FileNotFoundError(f"{config_model}: not a local model and not a known published shape")
        return config_model, Path(config_model).name
    family = qwen_tokenizer.family(config_model) or "qwen2.5"
    target = cache / f"{shape}-random-{family}-vocab"
    if not (target / "config.json").exists():
        tokenizer_dir = qwen_tokenizer.path(family, log)
        log(f"building random-weight {shape} with the {family} tokenizer in {target}")
        started = time.perf_counter()
        architectures.build_random(shape, target, tokenizer_dir, tokenizer_label=family)
        log(f"  built in {time.perf_counter() - started:.0f} s")
    return str(target), shape


def tokenizer_of(model_dir: str | Path) -> str:
    """Which tokenizer a benchmark model has, for the results files: its random build's record, else the folder."""
    built = Path(model_dir) / "RANDOM_MODEL.json"
    if built.exists():
        return str(read_json(built).get("tokenizer"))
    return f"{Path(model_dir).name} (its own)"


def _rows_needed(args: dict[str, Any], nproc: int, mean_tokens: float) -> int:
    rows = args["max_steps"] * int(args.get("per_device_train_batch_size", 1)) * int(args.get("gradient_accumulation_steps", 1))
    packed = args.get("packing") or args.get("neat_packing")
    per_row = max(1.0, int(args.get("cutoff_len", 2048)) / mean_tokens) if packed else 1
    return int(math.ceil(rows * nproc * per_row * 1.25)) + 8


def summarize(run: dict[str, Any], args: dict[str, Any], meter_dir: Path, warmup: int, model_dir: str) -> dict[str, Any]:
    """Steady-state figures from the meter's per-rank files."""
    ranks = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(meter_dir.glob("rank*.json"))]
    if not ranks:
        raise RuntimeError(f"{meter_dir}: no meter output")
    steady = [r["steps"][warmup:] for r in ranks]
    if not steady[0]:
        raise RuntimeError(f"only {len(ranks[0]['steps'])} steps ran; need more than warmup={warmup}")
    seconds = sum(s["seconds"] for s in steady[0])  # rank 0's clock; ranks meet at every optimizer step
    tokens = sum(s["tokens"] for r in steady for s in r)
    config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    shape, method = architectures.Shape.from_config(config), flops.Method.from_args(args)
    step_flops = sum(flops.step_flops(shape, method, s["tokens"], s["pairs"]) for r in steady for s in r)
    world = ranks[0]["world_size"]
    peak = flops.peak_tflops(ranks[0]["device"])
    mfu = step_flops / (seconds * peak * 1e12 * world) if peak and seconds > 0 else None
    return {
        "device": ranks[0]["device"], "gpus": world, "software": ranks[0].get("software"),
        "steps_measured": len(steady[0]), "seconds": seconds,
        "tokens": tokens, "tokens_per_s": tokens / seconds, "tokens_per_s_per_gpu": tokens / seconds / world,
        "mfu": mfu, "tflops_per_gpu": step_flops / seconds / world / 1e12,
        "peak_allocated_gib": _max_of(ranks, "peak_allocated_gib"), "peak_reserved_gib": _max_of(ranks, "peak_reserved_gib"),
    }


def _max_of(ranks: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in ranks if r[key] is not None]
    return max(values) if values else None


def describe(args: dict[str, Any], nproc: int) -> dict[str, Any]:
    """The settings that explain a run's speed, for the table."""
    packing = "neat" if args.get("neat_packing") else ("plain" if args.get("packing") else "no")
    method = "full" if args.get("finetuning_type") == "full" else (f"qlora{args.get('quantization_bit')}"
                                                                  if args.get("quantization_bit") else "lora")
    return {
        "method": f"{method} r{args.get('lora_rank', 8)}" if method != "full" else method,
        "batch": f"{args.get('per_device_train_batch_size', 1)}x{args.get('gradient_accumulation_steps', 1)}x{nproc}",
        "cutoff_len": args.get("cutoff_len"), "packing": packing, "liger": bool(args.get("enable_liger_kernel")),
        "grad_ckpt": flops.gradient_checkpointing_on(args), "attn": args.get("flash_attn", "auto"),
        "deepspeed": Path(args["deepspeed"]).stem if args.get("deepspeed") else None,
    }


def merge_rows(earlier: list[dict[str, Any]], fresh: list[dict[str, Any]], order: list[str]) -> list[dict[str, Any]]:
    """``earlier`` rows with ``fresh`` ones replacing their namesakes, in the suite's run order (others last)."""
    rows = {r["name"]: r for r in earlier} | {r["name"]: r for r in fresh}
    rank = {name: i for i, name in enumerate(order)}
    return sorted(rows.values(), key=lambda r: rank.get(r["name"], len(rank)))


def run_suite(suite: dict[str, Any], out: Path, *, steps: int, warmup: int, only: list[str] | None = None,
              log: Callable[[str], None] = print, env: dict[str, str] | None = None,
              merge: bool = False) -> list[dict[str, Any]]:
    """Run the suite's runs (those named in ``only``, if given); write ``out``/results.json and results.md.

    With ``merge``, the rows of an earlier results.json in ``out`` that this call does not rerun are kept, so one
    run can be re-measured or added without rerunning the rest; every row carries the date it was measured.
    """
    out.mkdir(parents=True, exist_ok=True)
    cache = Path(suite.get("model_cache", MODEL_CACHE))
    results: list[dict[str, Any]] = []
    runs = [r for r in suite["runs"] if not only or r["name"] in only]
    if only and (unknown := sorted(set(only) - {r["name"] for r in suite["runs"]})):
        raise KeyError(f"no run named {', '.join(unknown)} in the suite (have: {', '.join(r['name'] for r in suite['runs'])})")
    earlier = read_json(out / "results.json") if merge and (out / "results.json").exists() else []
    rows = earlier
    order = [r["name"] for r in suite["runs"]]
    for index, run in enumerate(runs, start=1):
        name, nproc = run["name"], int(run.get("nproc", 1))
        run_dir = out / name.replace("/", "_")
        shutil.rmtree(run_dir, ignore_errors=True)
        meter_dir = run_dir / "meter"
        log(f"[{index}/{len(runs)}] {name}: {run['config']} profile={run.get('profile')} gpus={nproc}")
        record: dict[str, Any] = {"name": name, "config": run["config"], "profile": run.get("profile"),
                                  "baseline": bool(run.get("baseline")), "date": time.strftime("%Y-%m-%d")}
        try:
            config_model = overrides_of(suite, run).get("model_name_or_path") or configs.load(run["config"])["model_name_or_path"]
            model_dir, shape = model_for(config_model, cache, log)
            from transformers import AutoTokenizer

            from qwen_recipes.bench import synthetic

            data_spec = {**DEFAULT_DATA, **(suite.get("data") or {}), **(run.get("data") or {})}
            dataset = f"bench_{data_spec['min_tokens']}_{data_spec['max_tokens']}"
            args = resolve_args(run, suite, steps, warmup, run_dir / "train", model_dir, run_dir / "data", dataset)
            tokenizer = AutoTokenizer.from_pretrained(model_dir)
            mean = (data_spec["min_tokens"] + data_spec["max_tokens"]) / 2
            rows_needed = _rows_needed(args, nproc, mean)
            real = first_existing(data_spec.get("input") or [])
            if data_spec.get("task") and real:
                record["data"] = synthetic.write_real_dataset(tokenizer, run_dir / "data", dataset, rows_needed,
                                                              data_spec["task"], real)
            else:
                record["data"] = synthetic.write_dataset(tokenizer, run_dir / "data", dataset, rows_needed,
                                                         data_spec["min_tokens"], data_spec["max_tokens"])
            record.update({"model": shape, "tokenizer": tokenizer_of(model_dir), **describe(args, nproc)})
            args_path = run_dir / "args.yaml"
            write_text(args_path, yaml.safe_dump(args, sort_keys=False, allow_unicode=True))
            worker = ["-m", "qwen_recipes.bench.worker", str(args_path), str(meter_dir)]
            if nproc > 1:
                cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *worker]
            else:
                cmd = [sys.executable, *worker]
            started = time.perf_counter()
            with open(run_dir / "train.log", "w", encoding="utf-8") as handle:
                run_env = {**os.environ, **(env or {}), **{k: str(v) for k, v in (run.get("env") or {}).items()}}
                if nproc == 1 and "CUDA_VISIBLE_DEVICES" not in run_env:
                    # One process seeing several GPUs would make the Trainer wrap the model in DataParallel,
                    # which LLaMA-Factory refuses: a one-GPU run gets the first GPU only.
                    run_env["CUDA_VISIBLE_DEVICES"] = "0"
                proc = subprocess.run(cmd, stdout=handle, stderr=subprocess.STDOUT, env=run_env)
            record["wall_s"] = time.perf_counter() - started
            if proc.returncode != 0:
                tail = (run_dir / "train.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"exit {proc.returncode}: {' | '.join(tail)[-400:]}")
            record.update(summarize(run, args, meter_dir, warmup, model_dir))
            lf_results = run_dir / "train" / "train_results.json"
            if lf_results.exists():  # LLaMA-Factory's own figure: whole run, first steps included
                record["lf_effective_tokens_per_s"] = json.loads(lf_results.read_text()).get("effective_tokens_per_sec")
            record["status"] = "ok"
            log(f"  {record['tokens_per_s']:.0f} tokens/s, MFU {_fmt_pct(record['mfu'])}, "
                f"peak {_fmt_gib(record['peak_reserved_gib'])} GiB reserved, {record['wall_s']:.0f} s")
        except Exception as err:  # a failed run (OOM, say) is a result; the suite goes on
            record["status"] = "failed"
            record["error"] = str(err)
            log(f"  failed: {err}")
        results.append(record)
        rows = merge_rows(earlier, results, order)
        write_json(out / "results.json", rows)  # after every run: a crash later keeps what was measured
    write_text(out / "results.md", markdown(rows))
    return results


def _fmt_pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _fmt_gib(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f}"


def markdown(results: list[dict[str, Any]]) -> str:
    """The results table; speed-up is against the run marked ``baseline`` (else the first)."""
    base = next((r for r in results if r.get("baseline") and r.get("status") == "ok"),
                next((r for r in results if r.get("status") == "ok"), None))
    header = ["run", "GPU", "model", "method", "profile", "batch (bs x acc x gpus)", "cutoff", "packing", "liger",
              "grad ckpt", "tokens/s", "tokens/s/GPU", "speed-up", "MFU", "peak alloc GiB", "peak reserved GiB", "measured"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        if r.get("status") != "ok":
            lines.append(f"| {r['name']} | failed: {r.get('error', '')[:120]} |" + " |" * (len(header) - 2))
            continue
        speed = r["tokens_per_s"] / base["tokens_per_s"] if base else float("nan")
        gpu = r["device"].replace("NVIDIA ", "") + (f" x{r['gpus']}" if r["gpus"] > 1 else "")
        lines.append("| " + " | ".join([
            r["name"], gpu, r["model"], r["method"], r.get("profile") or "-", r["batch"], str(r["cutoff_len"]), r["packing"],
            "yes" if r["liger"] else "no", "yes" if r["grad_ckpt"] else "no", f"{r['tokens_per_s']:,.0f}",
            f"{r['tokens_per_s_per_gpu']:,.0f}", f"{speed:.2f}x", _fmt_pct(r["mfu"]), _fmt_gib(r["peak_allocated_gib"]),
            _fmt_gib(r["peak_reserved_gib"]), r.get("date") or "-",
        ]) + " |")
    return "\n".join(lines) + "\n"
