"""Check that an exported (merged) model really is base + adapter.

A known failure class writes the base weights unchanged (the adapter silently not merged). So two
things are measured on a few prompts: the merged model's logits against base + adapter merged here
the same way (same dtype), which must agree, and the base model's logits against base + adapter, which
must differ (otherwise the adapter does nothing and the check proves nothing).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_PROMPTS = ["这家酒店房间干净整洁，服务很好。", "电池用两个小时就没电了，非常失望。", "Hello, Qwen!"]


@dataclass
class MergeCheck:
    dtype: str
    max_diff_merged_vs_reference: float  # merged export vs base + adapter: should be ~0
    max_diff_base_vs_reference: float  # base alone vs base + adapter: the adapter's effect, should be > 0
    weights_changed: int  # tensors of the export that differ from the base
    tolerance: float
    ok: bool

    def as_dict(self) -> dict:
        return asdict(self)


def check(base: str | Path, adapter: str | Path, merged: str | Path, prompts: list[str] | None = None) -> MergeCheck:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not (Path(adapter) / "adapter_config.json").exists():
        raise FileNotFoundError(f"{adapter}: no adapter_config.json (train first)")
    if not (Path(merged) / "config.json").exists():
        raise FileNotFoundError(f"{merged}: no exported model (run llamafactory-cli export first)")
    tokenizer = AutoTokenizer.from_pretrained(merged)
    batch = tokenizer(prompts or DEFAULT_PROMPTS, return_tensors="pt", padding=True)

    merged_model = AutoModelForCausalLM.from_pretrained(merged).eval()
    dtype = next(merged_model.parameters()).dtype
    base_model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval()
    base_state = {k: v.to(dtype).clone() for k, v in base_model.state_dict().items()}
    with torch.no_grad():
        base_logits = base_model(**batch).logits.float()
    # Merge in float32 and then cast, as LLaMA-Factory's export does.
    reference = PeftModel.from_pretrained(base_model, str(adapter)).merge_and_unload().to(dtype).eval()
    with torch.no_grad():
        ref_logits = reference(**batch).logits.float()
        merged_logits = merged_model(**batch).logits.float()
    mask = batch["attention_mask"].bool()
    d_merged = (merged_logits - ref_logits)[mask].abs().max().item()
    d_base = (base_logits - ref_logits)[mask].abs().max().item()
    merged_state = merged_model.state_dict()
    changed = sum(
        1 for k, v in merged_state.items() if k in base_state and not torch.equal(v.to(dtype), base_state[k])
    )
    # Same weights in the same dtype give the same logits up to kernel order effects.
    tolerance = 1e-4 if dtype == torch.float32 else 1e-2
    ok = d_merged <= tolerance * max(1.0, ref_logits.abs().max().item()) and d_base > 10 * d_merged and changed > 0
    return MergeCheck(str(dtype).removeprefix("torch."), d_merged, d_base, changed, tolerance, ok)
