"""FLOPs of one LoRA / QLoRA / full fine-tuning step of a Qwen2-style decoder, for MFU.

The usual ``6 * params * tokens`` is wrong for LoRA, so the count is built from its parts (2 FLOPs per
multiply-add):

- forward: every linear layer (frozen or not, the LoRA A/B pairs, ``lm_head``), 2 x in x out per token;
- backward: the gradient with respect to each linear's input, again 2 x in x out per token; a weight gradient
  (another 2 x in x out) only for trainable weights: the LoRA pairs, or everything in full fine-tuning;
- gradient checkpointing recomputes the decoder layers' forward once in the backward pass (not ``lm_head``);
- attention: QK^T and AV over the pairs a causal (or packed, block-diagonal) mask lets through, 4 x pairs x
  heads x head_dim per layer forward, twice that backward, plus the recompute.

4-bit dequantisation, norms, activations and the loss are left out, as in every published MFU figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qwen_recipes.models.architectures import Shape

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

# Dense bf16 tensor-core peak of each card (vendor datasheets, no sparsity), TFLOP/s.
PEAK_TFLOPS = {
    "H200": 989.4, "H100 SXM": 989.4, "H100 80GB HBM3": 989.4, "H100 PCIe": 756.0, "H100 NVL": 835.0, "H800": 989.4,
    "H20": 148.0, "A100": 312.0, "A800": 312.0, "L40S": 362.0, "L40": 181.0, "A6000": 154.8, "A10": 125.0,
    "RTX 4090": 165.2, "RTX 3090": 71.0,
}


def peak_tflops(device_name: str) -> float | None:
    """Peak bf16 TFLOP/s for a ``torch.cuda.get_device_name()`` string; None when the card is not listed."""
    for key in sorted(PEAK_TFLOPS, key=len, reverse=True):  # "H100 PCIe" before "H100"
        if key.lower() in device_name.lower():
            return PEAK_TFLOPS[key]
    if "h100" in device_name.lower():
        return PEAK_TFLOPS["H100 SXM"]
    return None


@dataclass(frozen=True)
class Method:
    finetuning_type: str = "lora"  # lora | full (freeze counts as lora with rank 0)
    lora_rank: int = 8
    lora_targets: tuple[str, ...] = LORA_TARGETS
    gradient_checkpointing: bool = True

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> Method:
        target = args.get("lora_target", "all")
        targets = LORA_TARGETS if target in ("all", None) else tuple(t.strip() for t in str(target).split(","))
        return cls(
            finetuning_type=args.get("finetuning_type", "lora"), lora_rank=int(args.get("lora_rank", 8)),
            lora_targets=targets, gradient_checkpointing=gradient_checkpointing_on(args),
        )


def gradient_checkpointing_on(args: dict[str, Any]) -> bool:
    """LLaMA-Factory turns it on unless ``disable_gradient_checkpointing``; Hugging Face's own key turns it on too."""
    return bool(args.get("gradient_checkpointing")) or not args.get("disable_gradient_checkpointing", False)


def linear_flops_per_token(shape: Shape, method: Method) -> float:
    """Matmul FLOPs per trained token, forward + backward (+ recompute), attention excluded."""
    base = sum(i * o for i, o in shape.linears().values()) * shape.layers
    lora = 0
    if method.finetuning_type == "lora":
        lora = sum(method.lora_rank * (i + o) for name, (i, o) in shape.linears().items() if name in method.lora_targets)
        lora *= shape.layers
    head = shape.hidden * shape.vocab
    full = method.finetuning_type == "full"
    forward = 2 * (base + lora + head)
    input_grads = 2 * (base + lora + head)
    weight_grads = 2 * (base + head if full else lora)
    recompute = 2 * (base + lora) if method.gradient_checkpointing else 0
    return float(forward + input_grads + weight_grads + recompute)


def attention_flops(shape: Shape, method: Method, pairs: float) -> float:
    """FLOPs of QK^T and AV over ``pairs`` (query, key) pairs let through the mask, all layers, fwd+bwd(+recompute)."""
    forward = 4 * pairs * shape.heads * shape.head_dim * shape.layers
    return forward * (1 + 2 + (1 if method.gradient_checkpointing else 0))


def step_flops(shape: Shape, method: Method, tokens: float, pairs: float) -> float:
    return linear_flops_per_token(shape, method) * tokens + attention_flops(shape, method, pairs)
