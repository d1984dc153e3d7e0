"""Label scoring: the probability a model gives each label word as its answer, after the exact training prompt.

The prompt is built by LLaMA-Factory's own template (``template.encode_oneturn``) from the task's own
instruction, i.e. the very token ids training saw, so the scores cannot drift from the fine-tune. One
forward pass per batch: when the label words differ in their first token (正面 / 负面 in Qwen's and the tiny
model's vocabularies), the next-token distribution at the end of the prompt is read; otherwise every
(example, label) continuation goes into the same batch and the label tokens' log-probabilities are summed.
Probabilities are renormalised over the labels; ``label_mass`` keeps how much of the model's raw mass the
labels got (low for a zero-shot model that wants to say something else).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qwen_recipes.errors import DataError
from qwen_recipes.io import read_json


class AdapterMismatch(ValueError):
    """The adapter was trained on another base model: detected before any batch runs."""


@dataclass
class ModelSpec:
    base: str
    adapter: str | None = None
    quantization_bit: int | None = None
    dtype: str = "auto"  # auto: bf16 on a GPU that supports it, else float32
    template: str = "qwen"

    @property
    def label(self) -> str:
        return "fine-tuned" if self.adapter else "zero-shot base"


def check_adapter(base: str, adapter: str) -> None:
    """Compare the adapter's LoRA matrix shapes with the base model's layers; raise AdapterMismatch on the first
    disagreement. PEFT's own error for this is a long size-mismatch dump after loading everything."""
    from safetensors import safe_open
    from transformers import AutoConfig

    from qwen_recipes.bench.architectures import Shape

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


def load(spec: ModelSpec, device: str | None = None):
    """Model and tokenizer for scoring (adapter checked first, then applied unmerged as in training)."""
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

        model = PeftModel.from_pretrained(model, spec.adapter)
    model.eval()
    return model, tokenizer


class LabelScorer:
    """Scores label words after the training prompt of ``task`` (instruction + input, LLaMA-Factory's template)."""

    def __init__(self, model, tokenizer, task, template: str = "qwen") -> None:
        from llamafactory.data import get_template_and_fix_tokenizer
        from llamafactory.hparams import DataArguments

        self.model, self.tokenizer, self.task = model, tokenizer, task
        self.template = get_template_and_fix_tokenizer(tokenizer, DataArguments(template=template))
        self.labels = list(task.labels)
        _, suffix = self._encode("", "")
        self.label_ids = []
        for label in self.labels:
            _, answer = self._encode("", label)
            self.label_ids.append(answer[: len(answer) - len(suffix)])
        if any(not ids for ids in self.label_ids):
            raise ValueError(f"a label tokenizes to nothing: {self.label_ids}")
        self.first_token_only = len({ids[0] for ids in self.label_ids}) == len(self.labels)

    def _encode(self, user: str, answer: str) -> tuple[list[int], list[int]]:
        messages = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
        return self.template.encode_oneturn(self.tokenizer, messages)

    def prompt_ids(self, record: dict[str, str]) -> list[int]:
        """The token ids LLaMA-Factory trains on before the answer (Alpaca: instruction + "\\n" + input)."""
        user = "\n".join(x for x in (record["instruction"], record.get("input", "")) if x)
        return self._encode(user, "")[0]

    def _batch(self, sequences: list[list[int]]):
        import torch

        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        width = max(len(s) for s in sequences)
        ids = torch.full((len(sequences), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, s in enumerate(sequences):  # left padding: every prompt ends at the last column
            ids[i, width - len(s):] = torch.tensor(s)
            mask[i, width - len(s):] = 1
        device = next(self.model.parameters()).device
        return ids.to(device), mask.to(device)

    def _forward(self, ids, mask):
        # Positions count real tokens only, as generate() does, so left padding cannot shift them.
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        return self.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits

    def score(
        self, records: list[dict[str, str]], batch_size: int = 16, progress: Callable[[int], None] | None = None
    ) -> dict[str, Any]:
        """Returns probs (n x labels, renormalised), label_mass (n) and examples_per_second."""
        import torch

        probs, mass = [], []
        start = time.perf_counter()
        for i in range(0, len(records), batch_size):
            chunk = records[i: i + batch_size]
            prompts = [self.prompt_ids(r) for r in chunk]
            with torch.no_grad():
                if self.first_token_only:
                    ids, mask = self._batch(prompts)
                    logits = self._forward(ids, mask)[:, -1, :].float()
                    logp = torch.log_softmax(logits, dim=-1)
                    scores = torch.stack([logp[:, ids_[0]] for ids_ in self.label_ids], dim=1)
                else:
                    seqs = [p + lab for p in prompts for lab in self.label_ids]
                    ids, mask = self._batch(seqs)
                    logp = torch.log_softmax(self._forward(ids, mask).float(), dim=-1)
                    rows = []
                    for j, lab in enumerate(self.label_ids * len(prompts)):
                        n = len(lab)
                        # Positions -n-1 .. -2 predict the n label tokens at -n .. -1.
                        pred = logp[j, -n - 1: -1, :]
                        rows.append(pred.gather(1, torch.tensor(lab, device=pred.device)[:, None]).sum())
                    scores = torch.stack(rows).view(len(prompts), len(self.labels))
            mass.append(torch.logsumexp(scores, dim=1).exp().cpu().numpy())
            probs.append(torch.softmax(scores, dim=1).cpu().numpy())
            if progress:
                progress(len(chunk))
        elapsed = time.perf_counter() - start
        return {
            "probs": np.concatenate(probs) if probs else np.zeros((0, len(self.labels))),
            "label_mass": np.concatenate(mass) if mass else np.zeros(0),
            "examples_per_second": len(records) / elapsed if elapsed > 0 else float("nan"),
        }

    def generate(self, records: list[dict[str, str]], batch_size: int = 16, max_new_tokens: int = 16,
                 progress: Callable[[int], None] | None = None) -> list[str]:
        """Greedy answers (left-padded batches), to measure how often a model's free text is not a label."""
        import torch

        eos = list({self.tokenizer.eos_token_id, *self.template.get_stop_token_ids(self.tokenizer)})
        out: list[str] = []
        for i in range(0, len(records), batch_size):
            chunk = records[i: i + batch_size]
            ids, mask = self._batch([self.prompt_ids(r) for r in chunk])
            with torch.no_grad():
                gen = self.model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=max_new_tokens,
                                          eos_token_id=eos, pad_token_id=self.tokenizer.pad_token_id)
            out += self.tokenizer.batch_decode(gen[:, ids.shape[1]:], skip_special_tokens=True)
            if progress:
                progress(len(chunk))
        return out


def read_records(path: str | Path) -> list[dict[str, str]]:
    """An Alpaca JSON file written by the preprocessor."""
    path = Path(path)
    rows = read_json(path, "data file not found", hint="run scripts/preprocess.py first")
    for i, row in enumerate(rows, start=1):
        for key in ("instruction", "input", "output"):
            if not isinstance(row.get(key), str):
                raise DataError("missing or not a string", path=path, line=i, field=key)
    return rows
