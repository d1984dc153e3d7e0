"""The project's prediction paths, run in one process for the prediction benchmark (``bench.predict_suite``).

``python -m qwen_recipes.bench.predict_worker PLAN.json``. For each task of the plan, with the model loaded the way
``scripts/predict.py`` loads it (prompts built exactly as ``do_predict`` builds them):

* 4-bit base + unmerged adapter: ``model.generate`` in length-sorted batches of the shipped
  ``per_device_eval_batch_size`` (``scripts/predict.py`` before the engine) and the engine on the first
  ``baseline_examples`` prompts (the rows ``do_predict`` also ran); the engine on all ``engine_examples`` prompts,
  twice (speed, and agreement with itself); optionally once more under a GPU memory cap (``memory_cap_gib``);
* dequantized base with the adapter merged: the engine on the first ``merged_examples`` prompts (speed; agreement
  with the 4-bit path on the prompts both ran);
  with ``attention_variants: [flex, ...]``, the merged engine again with each other decode attention;
  with ``library_baseline: N``, transformers' own continuous batching (``generate_batch`` with CUDA graphs) on the
  first N prompts too.

``phases`` (default ``[4bit, merged]``) resumes an interrupted run; ``old_path: false`` skips ``model.generate``
(a task whose shipped batch is 1 gains nothing from it over
``do_predict``); ``rerun: true`` runs the 4-bit engine twice.

Every run writes its ``generated_predictions.jsonl`` and a row of figures into ``worker.json``.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path
from typing import Any

from qwen_recipes.io import read_json, write_json, write_jsonl


def _rows(tokenizer: Any, prompts: list[list[int]], tokens: list[list[int]], labels: list[list[int]]) -> list[dict]:
    return [{"prompt": p, "predict": g, "label": lab} for p, g, lab in zip(
        tokenizer.batch_decode(prompts, skip_special_tokens=False),
        tokenizer.batch_decode(tokens, skip_special_tokens=True),
        tokenizer.batch_decode(labels, skip_special_tokens=True), strict=True)]


def _peak_reset() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _record(out: Path, name: str, task: str, path: str, tokenizer: Any, prompts: list[list[int]], labels: list[list[int]],
            gen: Any, batch: int, weight_bytes: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    import torch

    rows_path = write_jsonl(out / name / "generated_predictions.jsonl", _rows(tokenizer, prompts, gen.tokens, labels))
    stats = gen.stats
    row = {"name": name, "task": task, "path": path, "examples": len(prompts), "seconds": round(gen.seconds, 3),
           "generated_tokens": gen.generated_tokens, "batch": batch, "weight_bytes": weight_bytes,
           "prompt_tokens_mean": round(sum(map(len, prompts)) / len(prompts), 1),
           "output_lengths": [len(t) for t in gen.tokens],
           "peak_gpu_memory_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2) if torch.cuda.is_available() else None,
           "peak_memory_kind": "reserved by torch's allocator",
           "predictions": str(rows_path)}
    if stats is not None:
        row.update(slots=stats.slots, cuda_graphs=stats.cuda_graphs, steps=stats.steps,
                   busy_slot_steps=stats.busy_slot_steps, kv_tokens_read=stats.kv_tokens_read,
                   kv_bytes_per_token=stats.kv_bytes_per_token, prefill_seconds=round(stats.prefill_seconds, 3),
                   decode_seconds=round(stats.decode_seconds, 3), graphs_captured=stats.graphs_captured,
                   compactions=stats.compactions, refills=stats.refills,
                   compiled=stats.compiled, compile_seconds=round(stats.compile_seconds, 2), plan=stats.plan)
    row.update(extra or {})
    return row


class _Results(list):
    """Rows, written to ``worker.json`` as each one arrives: a crash later keeps what was measured."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def append(self, row: dict[str, Any]) -> None:
        super().append(row)
        write_json(self.path, list(self))


def _library_baseline(model: Any, prompts: list[list[int]], stop_ids: list[int], max_new_tokens: int) -> Any:
    """transformers' continuous batching with CUDA graphs, as a Generation (so it is scored like the others)."""
    import torch
    from transformers import GenerationConfig
    from transformers.generation.configuration_utils import ContinuousBatchingConfig

    from qwen_recipes.eval.prediction import trim_at_stop
    from qwen_recipes.models.engine import Generation

    config = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=stop_ids,
                              pad_token_id=stop_ids[0])
    start = time.perf_counter()
    result = model.generate_batch(inputs=prompts, generation_config=config, progress_bar=False,
                                  continuous_batching_config=ContinuousBatchingConfig(use_cuda_graph=True))
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    outs = list(result.values())
    by_id = {o.request_id: o for o in outs}
    keys = sorted(by_id, key=lambda k: int(str(k).rsplit("_", 1)[-1]) if str(k).rsplit("_", 1)[-1].isdigit() else 0)
    tokens = [trim_at_stop(list(by_id[k].generated_tokens), stop_ids) for k in keys]
    return Generation(tokens, seconds, sum(map(len, tokens)))


def run(plan_path: str) -> None:
    import torch

    from qwen_recipes.eval import prediction as bg
    from qwen_recipes.models.engine import Engine, weight_bytes_per_step

    plan = read_json(plan_path)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    out = Path(plan["out"])
    if plan.get("full_determinism"):
        from transformers import enable_full_determinism

        enable_full_determinism(plan.get("seed", 42))
    results = _Results(out / "worker.json")
    for task in plan["tasks"]:
        name, n_base = task["name"], task["baseline_examples"]
        settings = bg.settings_from(task["config"], task["overrides"])
        examples = bg.load_examples(settings)
        def log(message: str, name: str = name) -> None:
            print(f"[{name}] {message}", flush=True)

        for merge in (False, True):
            if ("merged" if merge else "4bit") not in task.get("phases", ("4bit", "merged")):
                continue  # a resumed run: this phase was measured before
            _peak_reset()
            t0 = time.perf_counter()
            model, tokenizer, template, _ = bg.load_model(settings, device, merge=merge)
            log(f"loaded ({'merged' if merge else '4-bit + adapter'}) in {time.perf_counter() - t0:.0f} s")
            n_engine = task.get("merged_examples" if merge else "engine_examples") or len(examples)
            encoded = [bg.encode(ex, template, tokenizer, settings.cutoff_len) for ex in examples[:n_engine]]
            prompts, labels = [p for p, _ in encoded], [lab for _, lab in encoded]
            stops = bg.stop_token_ids(tokenizer, template)
            max_new = settings.max_new_tokens
            weight_bytes = weight_bytes_per_step(model)
            kind = "merged" if merge else "4bit"
            if not merge and task.get("old_path", True):
                _peak_reset()
                gen = bg.generate(model, prompts[:n_base], pad_token_id=tokenizer.pad_token_id, stop_ids=stops,
                                  batch_size=settings.batch_size, max_new_tokens=max_new)
                results.append(_record(out, f"{name}-generate", name, "scripts/predict.py before (model.generate)",
                                       tokenizer, prompts[:n_base], labels[:n_base], gen, settings.batch_size,
                                       weight_bytes))
                log(f"model.generate: {n_base} examples in {gen.seconds:.1f} s")
            if not merge:
                _peak_reset()
                gen = Engine(model, stops, log=log).generate(prompts[:n_base], max_new)
                results.append(_record(out, f"{name}-engine-4bit-baseline-rows", name, "engine, 4-bit + adapter",
                                       tokenizer, prompts[:n_base], labels[:n_base], gen, gen.stats.slots, weight_bytes))
            for rerun in ((0, 1) if not merge and task.get("rerun") else (0,)):
                _peak_reset()
                gen = Engine(model, stops, log=log).generate(prompts, max_new)
                suffix = "-rerun" if rerun else ""
                results.append(_record(out, f"{name}-engine-{kind}{suffix}", name,
                                       "engine, " + ("merged (dequantized base + adapter)" if merge else "4-bit + adapter"),
                                       tokenizer, prompts,
                                       labels, gen, gen.stats.slots, weight_bytes))
                log(f"engine {kind}{suffix}: {len(prompts)} examples in {gen.seconds:.1f} s, {gen.stats.slots} slots")
            for attention in (task.get("attention_variants") or []) if merge else ():
                _peak_reset()
                gen = Engine(model, stops, attention=attention, log=log).generate(prompts, max_new)
                results.append(_record(out, f"{name}-engine-merged-{attention}", name,
                                       f"engine, merged, {attention} decode attention", tokenizer, prompts, labels, gen,
                                       gen.stats.slots, weight_bytes, {"attention": attention}))
                log(f"engine merged, {attention} attention: {len(prompts)} examples in {gen.seconds:.1f} s")
            cap = task.get("memory_cap_gib")
            if cap and not merge and device == "cuda":
                _peak_reset()
                limit = bg.memory_cap(cap, "cuda")
                gen = Engine(model, stops, memory_limit=limit, log=log).generate(prompts, max_new)
                results.append(_record(out, f"{name}-engine-4bit-cap{cap:g}gib", name,
                                       f"engine, 4-bit + adapter, {cap:g} GiB cap", tokenizer, prompts, labels, gen,
                                       gen.stats.slots, weight_bytes, {"memory_cap_gib": cap}))
                torch.cuda.set_per_process_memory_fraction(1.0, torch.cuda.current_device())
                log(f"engine under {cap} GiB: {gen.stats.slots} slots, peak {torch.cuda.max_memory_reserved() / 2**30:.1f} GiB")
            if merge and task.get("library_baseline") and device == "cuda":
                _peak_reset()
                try:
                    n_lib = int(task["library_baseline"])
                    gen = _library_baseline(model, prompts[:n_lib], stops, max_new)
                    results.append(_record(out, f"{name}-transformers-continuous-batching", name,
                                           "transformers generate_batch (CUDA graphs), merged bf16", tokenizer,
                                           prompts[:n_lib], labels[:n_lib], gen, n_lib, weight_bytes))
                except Exception as err:  # a library path that fails is a result, not a crash of the suite
                    results.append({"name": f"{name}-transformers-continuous-batching", "task": name,
                                    "path": "transformers generate_batch (CUDA graphs)",
                                    "error": f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"})
                    log(f"transformers continuous batching failed: {results[-1]['error']}")
            del model
            write_json(out / "worker.json", results)
    write_json(out / "worker.json", results)


if __name__ == "__main__":
    run(sys.argv[1])
