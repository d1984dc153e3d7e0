"""The prediction benchmark's inputs: real task records, a random model whose greedy answers end at realistic
lengths, and a LoRA adapter per task.

A random model's greedy output almost never stops, which hides exactly what continuous batching fixes. So each
task's adapter carries, besides random LoRA weights on every linear layer, an ``lm_head`` LoRA that scales the
stop token's logit by ``s``: ``logit_eos = s * w_eos . h`` (rank one: A's first row is ``w_eos``, B's stop row is
``(s - 1) / scaling``). ``s`` is calibrated once per task: the model runs with the stop token ignored and records, per
step, the stop logit ``e_t``, the best other logit ``M_t`` and whether that other token is itself a stop id. Until a
sequence stops its trajectory does not depend on ``s``, so the length under any ``s`` is the first ``t`` where
``s * e_t > M_t`` (or another stop id wins): one recording gives the whole length distribution for every ``s``,
and the ``s`` whose quartiles best match the task's reference answers (capped at ``max_new_tokens``) is kept.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qwen_recipes.io import read_json, write_json
from qwen_recipes.models.architectures import Shape

LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
SCALES = [1.0 + 0.05 * i for i in range(400)]  # 1.0 .. 20.95


def bench_dataset(prepared_dir: Path, task: str, n: int, dataset: str) -> Path:
    """All records the preprocessor wrote for ``task`` (every split, in split order), repeated in turn up to ``n``,
    as ``<dataset>.json`` registered in ``prepared_dir/dataset_info.json`` under ``dataset``."""
    info_path = prepared_dir / "dataset_info.json"
    info = read_json(info_path)
    records: list[dict[str, Any]] = []
    entry: dict[str, Any] = {}
    for split in ("train", "dev", "test"):
        name = f"{task}_{split}"
        if name in info and (prepared_dir / info[name]["file_name"]).exists():
            entry = info[name]
            records += read_json(prepared_dir / info[name]["file_name"])
    if not records:
        raise ValueError(f"{prepared_dir}: the preprocessor wrote no records for {task}")
    rows = [records[i % len(records)] for i in range(n)]
    write_json(prepared_dir / f"{dataset}.json", rows, indent=None)
    info[dataset] = {**{k: v for k, v in entry.items() if k != "file_name"}, "file_name": f"{dataset}.json"}
    write_json(info_path, info)
    return prepared_dir / f"{dataset}.json"


def write_adapter(model_dir: str | Path, out: str | Path, *, rank: int, alpha: int, b_std: float, seed: int,
                  stop_id: int | None = None, stop_scale: float = 1.0) -> Path:
    """A LoRA adapter folder as LLaMA-Factory training leaves it (weights, config, tokenizer), written directly:
    random A (Kaiming-like) and B (``b_std``) on every linear layer, and with ``stop_id`` the rank-one ``lm_head``
    term that scales that token's logit by ``stop_scale`` (module docstring)."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    model_dir, out = Path(model_dir), Path(out)
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    shape = Shape.from_config(config)
    gen = torch.Generator().manual_seed(seed)
    tensors: dict[str, Any] = {}
    for layer in range(shape.layers):
        for name, (n_in, n_out) in shape.linears().items():
            part = "self_attn" if name in ATTENTION else "mlp"
            key = f"base_model.model.model.layers.{layer}.{part}.{name}"
            tensors[f"{key}.lora_A.weight"] = (torch.randn(rank, n_in, generator=gen) / math.sqrt(n_in)).to(torch.bfloat16)
            tensors[f"{key}.lora_B.weight"] = (torch.randn(n_out, rank, generator=gen) * b_std).to(torch.bfloat16)
    targets = list(LINEARS)
    if stop_id is not None:
        head_key = "lm_head.weight" if not config.get("tie_word_embeddings") else "model.embed_tokens.weight"
        row = None
        for shard in sorted(model_dir.glob("*.safetensors")):
            with safe_open(str(shard), framework="pt") as f:
                if head_key in f.keys():  # noqa: SIM118 (safe_open is not iterable)
                    row = f.get_slice(head_key)[stop_id: stop_id + 1].float()[0]
        if row is None:
            raise ValueError(f"{model_dir}: no {head_key} in its safetensors")
        a = torch.zeros(rank, shape.hidden)
        a[0] = row
        b = torch.zeros(shape.vocab, rank)
        b[stop_id, 0] = (stop_scale - 1.0) / (alpha / rank)
        tensors["base_model.model.lm_head.lora_A.weight"] = a.to(torch.bfloat16)
        tensors["base_model.model.lm_head.lora_B.weight"] = b.to(torch.bfloat16)
        targets.append("lm_head")
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(tensors, str(tmp / "adapter_model.safetensors"), metadata={"format": "pt"})
    write_json(tmp / "adapter_config.json", {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": rank, "lora_alpha": alpha, "lora_dropout": 0.0,
        "target_modules": targets, "bias": "none", "base_model_name_or_path": str(model_dir), "fan_in_fan_out": False,
        "inference_mode": True, "modules_to_save": None, "init_lora_weights": True, "use_rslora": False,
    })
    write_json(tmp / "benchmark_adapter.json", {"stop_id": stop_id, "stop_scale": stop_scale, "rank": rank,
                                                 "alpha": alpha, "b_std": b_std, "seed": seed})
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                 "generation_config.json"):
        if (model_dir / name).exists():
            shutil.copy(model_dir / name, tmp / name)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


class StopRecorder:
    """Engine observer: per sequence, the stop logit, the best other logit and whether that token is a stop id."""

    def __init__(self, stop_id: int, other_stops: Sequence[int]) -> None:
        self.stop_id, self.other = stop_id, [t for t in other_stops if t != stop_id]
        self.e: dict[int, list[float]] = {}
        self.m: dict[int, list[float]] = {}
        self.o: dict[int, list[bool]] = {}

    def __call__(self, seqs: list[int], logits: Any) -> None:
        import torch

        lg = logits.float()
        e = lg[:, self.stop_id].clone()
        lg[:, self.stop_id] = float("-inf")
        m, arg = lg.max(-1)
        o = torch.isin(arg, torch.tensor(self.other, device=arg.device)) if self.other else torch.zeros_like(arg).bool()
        for s, ev, mv, ov in zip(seqs, e.tolist(), m.tolist(), o.tolist(), strict=True):
            self.e.setdefault(s, []).append(ev)
            self.m.setdefault(s, []).append(mv)
            self.o.setdefault(s, []).append(ov)

    def lengths(self, scale: float, max_new_tokens: int) -> list[int]:
        out = []
        for s in sorted(self.e):
            stop = next((t for t, (e, m, o) in enumerate(zip(self.e[s], self.m[s], self.o[s], strict=True))
                         if scale * e > m or o), None)
            out.append(stop + 1 if stop is not None else max_new_tokens)
        return out


def quantiles(values: Sequence[float], qs: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> dict[str, float]:
    import numpy as np

    if not values:
        return {}
    arr = np.asarray(values, dtype=float)
    out = {f"p{int(q * 100)}": round(float(np.quantile(arr, q)), 1) for q in qs}
    out.update(mean=round(float(arr.mean()), 1), max=int(arr.max()), n=len(arr))
    return out


def choose_scale(recorder: StopRecorder, reference: Sequence[int], max_new_tokens: int) -> tuple[float, list[int]]:
    """The stop-logit scale whose length quartiles are closest (in log ratio) to the reference's."""
    import numpy as np

    ref = np.quantile(np.minimum(np.asarray(reference, dtype=float), max_new_tokens), [0.25, 0.5, 0.75])
    best, best_cost = 1.0, math.inf
    for s in SCALES:
        got = np.quantile(np.asarray(recorder.lengths(s, max_new_tokens), dtype=float), [0.25, 0.5, 0.75])
        cost = float(np.abs(np.log(got / np.maximum(ref, 1.0))).sum())
        if cost < best_cost:
            best, best_cost = s, cost
    return best, recorder.lengths(best, max_new_tokens)


def calibrate(model: Any, prompts: Sequence[Sequence[int]], stop_ids: Sequence[int], stop_id: int,
              reference: Sequence[int], max_new_tokens: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Record one ignore-stop run of ``model`` over ``prompts`` and choose the stop scale (module docstring)."""
    from qwen_recipes.models.engine import Engine

    recorder = StopRecorder(stop_id, stop_ids)
    gen = Engine(model, stop_ids, log=log).generate(prompts, max_new_tokens, observer=recorder, ignore_stop=True)
    scale, lengths = choose_scale(recorder, reference, max_new_tokens)
    return {"stop_scale": round(scale, 3), "calibration_prompts": len(prompts), "calibration_seconds": round(gen.seconds, 1),
            "predicted_lengths": quantiles(lengths), "reference_lengths": quantiles(
                [min(r, max_new_tokens) for r in reference])}
