"""The engine's elementwise work as a few fused functions: residual add + RMSNorm, rotary embedding, the attention
softmax, the SiLU gate of the MLP; and a decode attention over each slot's own length (``flex_decode``, a choice of
the engine's ``attention``: measured 3.9x slower than the default batched matmuls, see ``flex_decode``).

Why: one 7B decode step replayed as a CUDA graph took 13.8 ms at 256 slots and 640 positions on an H200 (2026-12-02,
``torch.profiler``), against 4.9 ms for the 23.5 GB it must read; about 4.6 ms of it were some 600 small kernels.
Qwen2's RMSNorm alone is seven kernels (cast, square, mean, add, rsqrt, two multiplies), each a full pass over the
activations; rotary embedding is about ten. ``torch.compile`` (Inductor) turns each function below into one or two
Triton kernels. Shapes are dynamic, so one compilation serves every batch width, prompt group and cache length, and
compiled functions replay inside the engine's CUDA graphs like any other kernel. Measured
(``benchmarks/profile_decode_step.py``): that step, 14.6 ms eager, 11.3 ms compiled; a 39 x 210-token prefill forward
210 ms and 180 ms.

Eager, each function is the model's own arithmetic op for op (``Qwen2RMSNorm.forward``, transformers'
``apply_rotary_pos_emb``, ``Qwen2MLP``'s ``act_fn(gate) * up``), so on a CPU the engine's answers stay bit-identical
to ``do_predict``'s (``tests/test_batch_generate.py``). Compiled, a fused reduction may round differently in the last
bit; that is the one difference, and the GPU benchmark reports agreement rates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def rms_norm(x: Any, weight: Any, eps: float) -> Any:
    """``Qwen2RMSNorm.forward`` with its weight and epsilon as arguments (one kernel compiled, seven eager)."""
    import torch

    dtype = x.dtype
    h = x.to(torch.float32)
    variance = h.pow(2).mean(-1, keepdim=True)
    h = h * torch.rsqrt(variance + eps)
    return weight * h.to(dtype)


def add_rms_norm(x: Any, delta: Any, weight: Any, eps: float) -> tuple[Any, Any]:
    """The residual stream after adding ``delta``, and its norm: the next sublayer's input."""
    x = x + delta
    return x, rms_norm(x, weight, eps)


def rotary(q: Any, k: Any, cos: Any, sin: Any) -> tuple[Any, Any]:
    """transformers' own rotary embedding for Qwen2, so positions rotate exactly as in training."""
    from transformers.models.qwen2.modeling_qwen2 import apply_rotary_pos_emb

    return apply_rotary_pos_emb(q, k, cos, sin)


def masked_softmax(scores: Any, mask: Any, scale: float, dtype: Any) -> Any:
    """Attention probabilities from fp32 scores, ``mask`` False where a key is beyond the query's position."""
    import torch

    return torch.softmax(scores.mul(scale).masked_fill(~mask, float("-inf")), dim=-1).to(dtype)


def silu_mul(gate: Any, up: Any) -> Any:
    """``Qwen2MLP``'s gate: ``act_fn(gate_proj(x)) * up_proj(x)`` after its two projections (the engine checks SiLU)."""
    import torch.nn.functional as F

    return F.silu(gate) * up


FLEX_BLOCK = 128  # FlexAttention's default sparse block: positions a slot reads beyond its own are under one block


def flex_decode(q: Any, k: Any, v: Any, pos: Any, scale: float) -> Any:
    """Decode attention in which each slot reads its cache only up to its own position: FlexAttention with a block
    mask built from ``pos`` (whole blocks beyond a slot's position are skipped, the last one masked), one fused
    kernel for scores, softmax and values, the query heads of a key/value head sharing its reads (``enable_gqa``).
    ``q`` [slots, heads, 1, head_dim], ``k``/``v`` [slots, kv_heads, length, head_dim], ``pos`` [slots]. Why: the
    engine's two batched matmuls read every slot up to the step's longest position, and with the softmax between
    them took 4.1 of 11.3 ms of a 7B step at 256 slots, twice the time the cache's bytes need
    (``benchmarks/results/h200_decode_step_qwen2.5-7b.md``). Eager (CPU), this is FlexAttention's unfused
    reference; it is fast only compiled. Measured there, compiled: 42.2 ms a step against 11.0 for the matmuls,
    because with ``dynamic=True`` the slot count is symbolic and Inductor then uses FlexAttention's general kernel,
    not its decoding one (``_use_flex_decoding`` wants a static batch)."""
    from torch.nn.attention.flex_attention import flex_attention

    return flex_attention(q, k, v, block_mask=flex_block_mask(pos, k.shape[2]), scale=scale, enable_gqa=True)


def flex_block_mask(pos: Any, length: int) -> Any:
    """The block mask of one decode step: slot ``b`` has blocks ``0 .. pos[b] // FLEX_BLOCK`` (the kernel skips the
    rest), and within them the positions ``<= pos[b]``. Built from tensors alone, so it lives inside the step's
    CUDA graph and follows the positions on every replay."""
    import torch
    from torch.nn.attention.flex_attention import BlockMask

    slots, blocks = pos.shape[0], -(-length // FLEX_BLOCK)
    count = (pos // FLEX_BLOCK + 1).to(torch.int32).view(slots, 1, 1)
    index = torch.arange(blocks, dtype=torch.int32, device=pos.device).view(1, 1, 1, blocks).expand(slots, 1, 1, blocks)

    def visible(b: Any, h: Any, q_idx: Any, kv_idx: Any) -> Any:
        return kv_idx <= pos[b]

    return BlockMask.from_kv_blocks(count, index.contiguous(), BLOCK_SIZE=(FLEX_BLOCK, FLEX_BLOCK), mask_mod=visible,
                                    seq_lengths=(1, length), compute_q_blocks=False)


FUNCTIONS: dict[str, Callable[..., Any]] = {"rms_norm": rms_norm, "add_rms_norm": add_rms_norm, "rotary": rotary,
                                            "masked_softmax": masked_softmax, "silu_mul": silu_mul,
                                            "flex_decode": flex_decode}


class Kernels:
    """The functions above, eager or compiled: ``Kernels(compiled=True).rms_norm(...)``.

    Compilation happens at the first call of each function with a new kind of input (a size of one, another stride
    pattern): seconds per function on a cold cache. The engine makes those calls up front (``Engine._warm``), so the
    time shows as ``compile_seconds`` instead of inside its first prefill or decode step."""

    def __init__(self, compiled: bool = False, log: Callable[[str], None] = print, backend: str = "inductor") -> None:
        # backend="eager": Dynamo traces (and guards) exactly as for Inductor but runs the traced ops as they are,
        # so a CPU test can check the tracing and the warm-up without minutes of C++ compilation.
        self.compiled, self.log, self.backend, self.compile_seconds = compiled, log, backend, 0.0
        self._set(compiled)

    def _set(self, compiled: bool) -> None:
        import torch

        self.compiled = compiled
        for name, fn in FUNCTIONS.items():
            setattr(self, name, torch.compile(fn, dynamic=True, fullgraph=True, backend=self.backend) if compiled else fn)

    def disable(self, why: str) -> None:
        """Back to eager (Inductor failed: no Triton, an unsupported op), with one line saying why."""
        self.log(f"note: torch.compile of the engine's fused functions failed ({why.splitlines()[0][:200]}); "
                 "running them eagerly")
        self._set(False)
