"""A Trainer callback that times optimizer steps and counts the real tokens the model saw.

Tokens are counted where they enter the model (a forward pre-hook), from the attention mask, so padding is never
counted: with plain packing LLaMA-Factory pads each packed row with the pad token under a mask of 1, so pad ids
are excluded too. The hook also counts the (query, key) pairs the mask lets through, which is what attention
costs: causal n(n+1)/2 per row, or per packed sequence with ``neat_packing``. Gradient checkpointing re-runs the
decoder layers, not the top-level forward, so each micro-batch is counted once.

Times are taken at ``on_step_end`` after ``torch.cuda.synchronize()``; the first ``warmup`` steps (CUDA and
Triton compilation, allocator growth) are left out of the steady-state figure.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


def count_batch(input_ids: Any, attention_mask: Any, pad_id: int | None) -> tuple[Any, Any]:
    """(real tokens, attended pairs) of one batch, as 0-d tensors on the batch's device.

    ``attention_mask`` is 2-D (0/1, or packed segment ids 1, 2, ... with ``neat_packing``) or LLaMA-Factory's 4-D
    block-diagonal float mask. Nothing here waits for the GPU: the meter reads the sums once per optimizer step.
    """
    import torch

    if attention_mask is None:
        rows, n = input_ids.shape
        return torch.tensor(rows * n), torch.tensor(rows * n * (n + 1) // 2)
    if attention_mask.dim() == 4:
        allowed = attention_mask[:, 0] == 0
        return allowed.diagonal(dim1=-2, dim2=-1).sum(), allowed.sum()
    real = attention_mask != 0
    if pad_id is not None:
        real &= input_ids != pad_id
    # Tokens attend within their segment: the whole row's real tokens, or one packed sequence of it.
    segments = attention_mask.long() * real
    lengths = torch.zeros(segments.shape[0], segments.shape[1] + 1, dtype=torch.long, device=segments.device)
    lengths.scatter_add_(1, segments, torch.ones_like(segments))
    lengths = lengths[:, 1:]
    return real.sum(), (lengths * (lengths + 1) // 2).sum()


SOFTWARE = ("torch", "transformers", "peft", "bitsandbytes", "llamafactory", "liger-kernel", "deepspeed", "triton")


def software() -> dict[str, str | None]:
    """Versions that move these numbers (the same settings ran 2x apart on two software stacks)."""
    from importlib import metadata

    import torch

    found: dict[str, str | None] = {}
    for name in SOFTWARE:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["cuda"] = torch.version.cuda
    found["cpus"] = str(os.cpu_count())
    return found


class ThroughputMeter(TrainerCallback):
    """Writes ``<out>/rank<k>.json``: per-step wall time, tokens and attended pairs, peak memory, device."""

    def __init__(self, out: str | Path, pad_id: int | None) -> None:
        self.out, self.pad_id = Path(out), pad_id
        self.steps: list[dict[str, float]] = []
        self._tokens = self._pairs = 0
        self._last = 0.0
        self._hook = None

    def _count(self, _module: Any, args: tuple, kwargs: dict[str, Any]) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None:
            return
        tokens, pairs = count_batch(ids, kwargs.get("attention_mask"), self.pad_id)
        self._tokens += tokens
        self._pairs += pairs

    @staticmethod
    def _sync() -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()

    def on_train_begin(self, args, state, control, model=None, **kwargs):  # noqa: ANN001 (Trainer's signature)
        import torch

        self._hook = model.register_forward_pre_hook(self._count, with_kwargs=True)
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        self._sync()
        self._last = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        self._sync()
        now = time.perf_counter()
        self.steps.append({"seconds": now - self._last, "tokens": int(self._tokens), "pairs": int(self._pairs)})
        self._tokens = self._pairs = 0
        self._last = now

    def on_train_end(self, args, state, control, model=None, **kwargs):  # noqa: ANN001
        import torch

        if self._hook is not None:
            self._hook.remove()
        cuda = torch.cuda.is_available()
        rank = int(os.environ.get("RANK", "0"))
        record = {
            "rank": rank,
            "world_size": int(os.environ.get("WORLD_SIZE", "1")),
            "device": torch.cuda.get_device_name() if cuda else "cpu",
            "peak_allocated_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else None,
            "peak_reserved_gib": torch.cuda.max_memory_reserved() / 2**30 if cuda else None,
            "software": software(),
            "steps": self.steps,
        }
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / f"rank{rank}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
