"""Check that an exported (merged) model really is base + adapter.

A known failure class writes the base weights unchanged (the adapter silently not merged). So three things are
measured on a few prompts, all computed in float32 so that only the weights differ:

* the merged export's logits against base + adapter (float32, the exact answer): must agree to the precision of
  the export's dtype. That precision is measured, not assumed: ``rounding_budget`` is how far the same exact
  weights land when simply rounded to the export's dtype (the best any export in that dtype can do), and the
  export may be up to ``ROUNDING_FACTOR`` times that far. LLaMA-Factory's export merges in the dtype it loads the
  base in: float32 on a CPU-only machine, bf16 where a GPU supports it. A bf16 base loads exactly, and the export
  then equals the single rounding (measured on a ZeRO-3 adapter of the Qwen2.5-1.5B shape: error = budget =
  0.038); a float32 base loaded in bf16 is rounded twice (on load, then base + adapter), which at most doubles a
  weight's error, and such errors add like independent ones (about 1.4x in the logits; 1.2x on the tiny model).
  3x leaves room without letting a wrong merge through: 5% of the adapter left out already gives 10x the budget
  on the tiny model (tests/test_merge_check.py);
* the base model's logits against base + adapter: must differ by more than 10x the export's error (otherwise the
  adapter does nothing and the check proves nothing);
* the number of weight tensors the export changed: must be more than zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from qwen_recipes.io import read_json

ROUNDING_FACTOR = 3.0
DEFAULT_PROMPTS = ["这家酒店房间干净整洁，服务很好。", "电池用两个小时就没电了，非常失望。", "Hello, Qwen!"]


@dataclass
class MergeCheck:
    dtype: str  # the export's dtype
    max_diff_merged_vs_reference: float  # merged export vs base + adapter (float32)
    rounding_budget: float  # base + adapter rounded to the export's dtype vs base + adapter: the best possible
    max_diff_base_vs_reference: float  # base alone vs base + adapter: the adapter's effect, should be large
    weights_changed: int  # tensors of the export that differ from the base
    tolerance: float  # what max_diff_merged_vs_reference may reach
    ok: bool

    def as_dict(self) -> dict:
        return asdict(self)


def _export_dtype(merged: Path):  # -> torch.dtype
    """The dtype the export's weights are stored in (its config's ``dtype``, ``torch_dtype`` in older files)."""
    import torch

    config = read_json(merged / "config.json")
    name = config.get("dtype") or config.get("torch_dtype") or "float32"
    return getattr(torch, str(name).removeprefix("torch."))


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
    mask = batch["attention_mask"].bool()
    dtype = _export_dtype(Path(merged))

    def logits(model) -> torch.Tensor:
        with torch.no_grad():
            return model(**batch).logits.float()[mask]

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval()
    base_state = {k: v.to(dtype).clone() for k, v in model.state_dict().items()}
    base_logits = logits(model)
    model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload().eval()
    reference = logits(model)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(param.to(dtype).float())
    budget = (logits(model) - reference).abs().max().item()
    del model

    merged_model = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()  # exact upcast
    d_merged = (logits(merged_model) - reference).abs().max().item()
    d_base = (base_logits - reference).abs().max().item()
    changed = sum(1 for k, v in merged_model.state_dict().items()
                  if k in base_state and not torch.equal(v.to(dtype), base_state[k]))
    # A float32 export has no rounding budget; what is left is the order of float32 sums.
    tolerance = max(ROUNDING_FACTOR * budget, 1e-5 * reference.abs().max().item())
    ok = d_merged <= tolerance and d_base > 10 * d_merged and changed > 0
    return MergeCheck(str(dtype).removeprefix("torch."), d_merged, budget, d_base, changed, tolerance, ok)
