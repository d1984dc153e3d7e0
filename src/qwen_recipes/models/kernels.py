"""The engine's elementwise work as a few fused functions: residual add + RMSNorm, rotary embedding, the attention
softmax, the SiLU gate of the MLP.

Why: one 7B decode step replayed as a CUDA graph took 13.8 ms at 256 slots on an H200 (2026-12-02, ``torch.profiler``),
against 4.2 ms for the bytes it must read; about 4.6 ms of it were some 600 small kernels. Qwen2's RMSNorm alone is
seven kernels (cast, square, mean, add, rsqrt, two multiplies), each a full pass over the activations; rotary
embedding is about ten. ``torch.compile`` (Inductor) turns each function below into one or two Triton kernels. Shapes
are dynamic, so one compilation serves every batch width, prompt group and cache length, and compiled functions
replay inside the engine's CUDA graphs like any other kernel.

Eager, each function is the model's own arithmetic op for op (``Qwen2RMSNorm.forward``, transformers'
``apply_rotary_pos_emb``, ``Qwen2MLP``'s ``act_fn(gate) * up``), so on a CPU the engine's answers stay bit-identical
to ``do_predict``'s (``tests/test_batch_generate.py``). Compiled, a fused reduction may round differently in the last
bit; that is the one difference, and the GPU benchmark reports agreement rates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def rms_norm(x: Any, weight: Any, eps: float) -> Any:
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
    from transformers.models.qwen2.modeling_qwen2 import apply_rotary_pos_emb

    return apply_rotary_pos_emb(q, k, cos, sin)


def masked_softmax(scores: Any, mask: Any, scale: float, dtype: Any) -> Any:
    """Attention probabilities from fp32 scores, ``mask`` False where a key is beyond the query's position."""
    import torch

    return torch.softmax(scores.mul(scale).masked_fill(~mask, float("-inf")), dim=-1).to(dtype)


def silu_mul(gate: Any, up: Any) -> Any:
    import torch.nn.functional as F

    return F.silu(gate) * up


FUNCTIONS: dict[str, Callable[..., Any]] = {"rms_norm": rms_norm, "add_rms_norm": add_rms_norm, "rotary": rotary,
                                            "masked_softmax": masked_softmax, "silu_mul": silu_mul}


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
