"""The merge check's verdicts on exports made the ways that occur: merged in float32 or twice rounded in bf16
(both right), the base model unchanged, and a merge that is slightly wrong (both wrong)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qwen_recipes.models.merge_check import ROUNDING_FACTOR, check


@pytest.fixture(scope="module")
def adapter(tiny_model, tmp_path_factory) -> Path:
    """A LoRA adapter on every linear layer with seeded, non-zero weights (as after training)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=targets, init_lora_weights=False))
    out = tmp_path_factory.mktemp("merge_check") / "adapter"
    peft_model.save_pretrained(out)
    return out


def export(tiny_model: Path, adapter: Path, out: Path, *, load_dtype: str, scale: float = 1.0,
           merge: bool = True) -> Path:
    """An export as LLaMA-Factory writes one: base loaded in ``load_dtype``, adapter merged there, saved in bf16."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=getattr(torch, load_dtype))
    if merge:
        model = PeftModel.from_pretrained(model, str(adapter))
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "lora_B" in name:
                    param.mul_(scale)
        model = model.merge_and_unload()
    model.to(torch.bfloat16).save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model).save_pretrained(out)
    return out


def test_right_exports_pass(tiny_model, adapter, tmp_path):
    # Merged in float32, then rounded once: exactly the rounding budget.
    once = check(tiny_model, adapter, export(tiny_model, adapter, tmp_path / "fp32", load_dtype="float32"))
    assert once.ok and once.dtype == "bfloat16" and once.weights_changed > 0
    assert once.rounding_budget > 0 and once.max_diff_merged_vs_reference == pytest.approx(once.rounding_budget)
    # Base loaded in bf16 and merged there (LLaMA-Factory's export on a bf16 GPU): rounded twice, still within.
    twice = check(tiny_model, adapter, export(tiny_model, adapter, tmp_path / "bf16", load_dtype="bfloat16"))
    assert twice.ok and twice.max_diff_merged_vs_reference > twice.rounding_budget
    assert twice.tolerance == pytest.approx(ROUNDING_FACTOR * twice.rounding_budget)


def test_wrong_exports_fail(tiny_model, adapter, tmp_path):
    unmerged = check(tiny_model, adapter, export(tiny_model, adapter, tmp_path / "base", load_dtype="float32", merge=False))
    assert not unmerged.ok and unmerged.weights_changed == 0
    # 5% of the adapter missing is far beyond rounding, though every weight did change.
    short = check(tiny_model, adapter, export(tiny_model, adapter, tmp_path / "short", load_dtype="float32", scale=0.95))
    assert not short.ok and short.weights_changed > 0
    assert short.max_diff_merged_vs_reference > short.tolerance
