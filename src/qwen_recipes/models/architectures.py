"""Published Qwen2 / Qwen2.5 shapes, and random-weight models built from them offline.

Throughput and memory depend on the shape, never on the weights, so a random-weight model of the real
architecture gives real speed and memory numbers on a machine that cannot reach a model hub. The tokenizer is
the project's tiny one (trained offline on the samples): its ids all fall inside the real vocabulary, and the
embedding and ``lm_head`` keep the real vocabulary size, which is what costs time and memory.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# From each model's config.json on the hub (public facts); keys are Qwen2Config arguments.
SHAPES: dict[str, dict[str, Any]] = {
    "qwen2.5-7b": {
        "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28,
        "num_key_value_heads": 4, "vocab_size": 152064, "tie_word_embeddings": False, "max_position_embeddings": 32768,
        "rope_theta": 1000000.0, "rms_norm_eps": 1e-6,
    },
    "qwen2.5-1.5b": {
        "hidden_size": 1536, "intermediate_size": 8960, "num_hidden_layers": 28, "num_attention_heads": 12,
        "num_key_value_heads": 2, "vocab_size": 151936, "tie_word_embeddings": True, "max_position_embeddings": 32768,
        "rope_theta": 1000000.0, "rms_norm_eps": 1e-6,
    },
}
SHAPES["qwen2-7b"] = dict(SHAPES["qwen2.5-7b"], rope_theta=1000000.0)
@dataclass(frozen=True)
class Shape:
    """The sizes that fix a Qwen2-style decoder's linear layers, read from a config (object or dict)."""

    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    vocab: int
    head_dim: int

    @classmethod
    def from_config(cls, config: Any) -> Shape:
        get = config.get if isinstance(config, dict) else lambda k, d=None: getattr(config, k, d)
        heads = get("num_attention_heads")
        return cls(
            hidden=get("hidden_size"), intermediate=get("intermediate_size"), layers=get("num_hidden_layers"),
            heads=heads, kv_heads=get("num_key_value_heads") or heads, vocab=get("vocab_size"),
            head_dim=get("head_dim") or get("hidden_size") // heads,
        )

    def linears(self) -> dict[str, tuple[int, int]]:
        """(in, out) of each linear layer of one decoder layer."""
        d, q, kv, m = self.hidden, self.heads * self.head_dim, self.kv_heads * self.head_dim, self.intermediate
        return {"q_proj": (d, q), "k_proj": (d, kv), "v_proj": (d, kv), "o_proj": (q, d),
                "gate_proj": (d, m), "up_proj": (d, m), "down_proj": (m, d)}



# Hub names -> shape. Instruct and base models share a shape.
_NAME = re.compile(r"qwen(2(?:\.5)?)-(\d+(?:\.\d+)?b)", re.IGNORECASE)


def shape_for(model_name_or_path: str) -> str | None:
    """The shape key of a hub id such as ``Qwen/Qwen2.5-7B-Instruct``; None for local models (used as they are)."""
    match = _NAME.search(Path(model_name_or_path).name)
    if not match:
        return None
    key = f"qwen{match.group(1)}-{match.group(2)}".lower()
    if key not in SHAPES:
        raise KeyError(f"{model_name_or_path}: no published shape recorded for {key} (known: {', '.join(SHAPES)})")
    return key


def build_random(shape: str, out: str | Path, tokenizer_dir: str | Path, seed: int = 0,
                 tokenizer_label: str | None = None) -> Path:
    """Save a random-weight bf16 Qwen2ForCausalLM of ``shape`` with the tokenizer of ``tokenizer_dir``.

    Built on the GPU when there is one (a 7B model takes ~40 s there, far longer on CPU), written to a temporary
    sibling and renamed, so an interrupted build never leaves a folder that looks complete.

    The ``lm_head`` rows of ids the tokenizer does not have are zero. With Qwen's real tokenizer (151,665 ids) those
    are only the padding rows of the 151,936 / 152,064 embedding, which real checkpoints never emit either; with a
    smaller tokenizer a random model would otherwise pick ids that decode to nothing. A zero row costs the same
    matmul, so speed is unchanged. ``RANDOM_MODEL.json`` records the shape, the seed and ``tokenizer_label``.
    """
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    out = Path(out)
    if (out / "config.json").exists():
        return out
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    config = Qwen2Config(
        **SHAPES[shape], bos_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, dtype="bfloat16",
    )
    torch.manual_seed(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device):
            model = Qwen2ForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    with torch.no_grad():
        model.get_output_embeddings().weight[len(tokenizer):] = 0
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "RANDOM_MODEL.json").write_text(json.dumps({
        "what": "random weights: speed and memory are real, outputs mean nothing", "shape": shape, "seed": seed,
        "tokenizer": tokenizer_label or str(tokenizer_dir), "tokenizer_size": len(tokenizer)}, indent=2) + "\n")
    if (Path(tokenizer_dir) / "generation_config.json").exists():
        shutil.copy(Path(tokenizer_dir) / "generation_config.json", tmp / "generation_config.json")
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    tmp.rename(out)
    return out
