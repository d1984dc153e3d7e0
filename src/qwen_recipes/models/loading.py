"""Loading a base model with its LoRA adapter the way LLaMA-Factory does, and the one way it does not: a 4-bit
base dequantized once with its adapter merged (``ModelSpec.merge``), which decodes in bf16 at full speed.

Why the merged path exists: a 4-bit layer dequantizes its whole weight on every call and its LoRA adds two small
matmuls, so a QLoRA adapter decodes at a fraction of bf16 speed. Dequantizing the NF4 base gives exactly the weights
the adapter was trained against (not the original bf16 checkpoint's), so the merged model differs from the exact
4-bit + LoRA path only by rounding; the prediction benchmark reports how often a greedy answer changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qwen_recipes.errors import ProjectError


class AdapterMismatch(ProjectError, ValueError):
    """The adapter was trained on another base model: detected before any batch runs."""


@dataclass
class ModelSpec:
    base: str
    adapter: str | None = None
    quantization_bit: int | None = None
    dtype: str = "auto"  # auto: bf16 on a GPU that supports it, else float32
    template: str = "qwen"
    merge: bool = False  # 4-bit base + adapter: dequantize the base once and merge the adapter (see module docstring)

    @property
    def label(self) -> str:
        return "fine-tuned" if self.adapter else "zero-shot base"


def check_adapter(base: str, adapter: str) -> None:
    """Compare the adapter's LoRA matrix shapes with the base model's layers; raise AdapterMismatch on the first
    disagreement. PEFT's own error for this is a long size-mismatch dump after loading everything."""
    from safetensors import safe_open
    from transformers import AutoConfig

    from qwen_recipes.models.architectures import Shape

    cfg_path = Path(adapter) / "adapter_config.json"
    weights = Path(adapter) / "adapter_model.safetensors"
    if not cfg_path.exists() or not weights.exists():
        raise AdapterMismatch(f"{adapter}: no adapter_config.json / adapter_model.safetensors (not a LoRA adapter folder)")
    config = AutoConfig.from_pretrained(base)
    expected = Shape.from_config(config).linears()  # (in_features, out_features) of each linear, from the config
    with safe_open(str(weights), framework="pt") as f:
        for key in f.keys():  # noqa: SIM118 (safe_open is not iterable)
            module = next((m for m in expected if f".{m}." in key), None)
            layer = next((int(p) for p in key.split(".") if p.isdigit()), None)
            if layer is not None and layer >= config.num_hidden_layers:
                raise AdapterMismatch(
                    f"{adapter}: has layer {layer} but {base} has {config.num_hidden_layers} layers: trained on another base")
            if module is None:
                continue
            shape = tuple(f.get_slice(key).get_shape())
            n_in, n_out = expected[module]
            if ("lora_A" in key and shape[1] != n_in) or ("lora_B" in key and shape[0] != n_out):
                raise AdapterMismatch(
                    f"{adapter}: {key} has shape {list(shape)}, but {base}'s {module} is {n_in} -> {n_out}: "
                    "the adapter was trained on another base model"
                )


def load(spec: ModelSpec, device: str | None = None) -> tuple[Any, Any]:
    """Model and tokenizer (adapter checked first, then applied unmerged as in training, or merged into the
    dequantized base when ``spec.merge``)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    if spec.adapter:
        check_adapter(spec.base, spec.adapter)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if spec.dtype == "auto":
        dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    else:
        dtype = getattr(torch, spec.dtype)
    kwargs: dict[str, Any] = {"dtype": dtype}
    if spec.quantization_bit == 4:
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_compute_dtype=dtype, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True
        )
        kwargs["device_map"] = {"": device}
    elif spec.quantization_bit is not None:
        raise ValueError(f"quantization_bit {spec.quantization_bit} is not supported here (4 or none)")
    tokenizer = AutoTokenizer.from_pretrained(spec.adapter or spec.base)
    model = AutoModelForCausalLM.from_pretrained(spec.base, **kwargs)
    if "device_map" not in kwargs:
        model = model.to(device)
    if spec.adapter:
        from peft import PeftModel

        if spec.merge and spec.quantization_bit:
            model = model.dequantize(dtype=dtype)
        model = PeftModel.from_pretrained(model, spec.adapter)
        if spec.merge:
            model = model.merge_and_unload()
    model.eval()
    return model, tokenizer
