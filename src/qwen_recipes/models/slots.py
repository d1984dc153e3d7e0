"""How many sequences the engine decodes at once, and the shapes its CUDA graphs take.

The sizing rule (``plan_slots``): as many slots as the free GPU memory holds after a workspace, at the run's longest
prompt plus ``max_new_tokens`` each, never more than ``MAX_SLOTS`` and never from ``per_device_eval_batch_size``; the
tail widths and cache-length buckets keep the number of captured graphs small.
"""

from __future__ import annotations

from typing import Any

from qwen_recipes.errors import DataError
from qwen_recipes.models.architectures import Shape

MAX_SLOTS = 256  # beyond this a 7B decode step is no longer bound by streaming its weights
MIN_GRAPH_SLOTS = 8
TAIL_SHRINK = 0.75  # each smaller tail graph runs 3/4 of the slots of the one before: idle slots stay under a quarter
MEMORY_HEADROOM = 0.90  # share of the free memory the plan may use (the allocator fragments)


def kv_bytes_per_token(config: Any, element_size: int) -> int:
    """Bytes of key + value cache one token takes across all layers (``config``: a model config, object or dict)."""
    shape = Shape.from_config(config)
    return 2 * shape.layers * shape.kv_heads * shape.head_dim * element_size


def plan_slots(n_prompts: int, cache_len: int, kv_per_token: int, free_bytes: int, workspace_bytes: int,
               max_slots: int = MAX_SLOTS) -> dict[str, Any]:
    """The sizing rule: as many slots as ``MEMORY_HEADROOM`` of the free memory holds after the workspace (prefill
    activations, a dequantized weight, the step's logits), at ``cache_len`` tokens each; at most one per prompt and
    at most ``max_slots``. Raises DataError (one line, exit status 2 in a script) when not even one slot fits."""
    per_slot = kv_per_token * cache_len
    usable = int(free_bytes * MEMORY_HEADROOM) - workspace_bytes
    fit = usable // per_slot if usable > 0 else 0
    if fit < 1:
        raise DataError(f"not enough GPU memory for one sequence of {cache_len} tokens: {free_bytes / 2**30:.1f} GiB "
                        f"free, {workspace_bytes / 2**30:.1f} GiB workspace, {per_slot / 2**30:.2f} GiB per slot",
                        field="cutoff_len", hint="lower cutoff_len or max_new_tokens, or free GPU memory")
    slots = int(max(1, min(n_prompts, max_slots, fit)))
    return {"slots": slots, "fit": int(fit), "free_gib": round(free_bytes / 2**30, 2),
            "workspace_gib": round(workspace_bytes / 2**30, 2), "per_slot_mib": round(per_slot / 2**20, 1),
            "kv_cache_gib": round(slots * per_slot / 2**30, 2)}


def free_memory(device: Any, limit: int | None = None) -> int:
    """Bytes this process can still allocate on ``device``: the driver's free memory plus what torch's allocator holds
    unused, capped by ``limit`` (total bytes the process may use, e.g. a per-process memory fraction)."""
    import torch

    free, _ = torch.cuda.mem_get_info(device)
    allocated, reserved = torch.cuda.memory_allocated(device), torch.cuda.memory_reserved(device)
    available = free + reserved - allocated
    return min(available, limit - allocated) if limit is not None else available


def round_up(n: int, k: int) -> int:
    """``n`` up to a multiple of ``k`` (cache lengths in multiples of 64 keep the graphs and GEMMs few and aligned)."""
    return -(-n // k) * k


def tail_widths(slots: int) -> list[int]:
    """The decode widths the tail may shrink to, largest first: ``slots``, then about 3/4 of the previous width in
    multiples of 8 (GEMM-friendly), down to ``MIN_GRAPH_SLOTS``. Each width is one more CUDA graph per length."""
    widths = [slots]
    while widths[-1] > MIN_GRAPH_SLOTS:
        w = widths[-1]
        nxt = round_up(int(w * TAIL_SHRINK), 8)
        widths.append(max(MIN_GRAPH_SLOTS, nxt if nxt < w else w - 8))
    return widths


def length_bucket(n: int, cache_len: int) -> int:
    """The attended cache length for a step whose longest busy sequence holds ``n`` tokens: at least 256, then four
    buckets per octave (at most 25% read beyond ``n``), so a few graphs cover every length."""
    step = 64 if n <= 256 else 2 ** (n.bit_length() - 3)
    return min(max(256, round_up(n, step)), cache_len)
