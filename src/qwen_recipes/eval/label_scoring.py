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
from pathlib import Path
from typing import Any

import numpy as np

from qwen_recipes.errors import DataError
from qwen_recipes.io import read_json
from qwen_recipes.models.loading import AdapterMismatch, ModelSpec, check_adapter, load

__all__ = ["AdapterMismatch", "LabelScorer", "ModelSpec", "check_adapter", "load", "read_records"]


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
        """Greedy answers, to measure how often a model's free text is not a label: through the prediction engine
        (``models.engine``, as ``scripts/predict.py``), or ``model.generate`` in batches of ``batch_size`` where the
        engine does not apply (it says so)."""
        from qwen_recipes.eval.prediction import generate_answers

        stops = list(dict.fromkeys([self.tokenizer.eos_token_id, *self.template.get_stop_token_ids(self.tokenizer)]))
        gen = generate_answers(self.model, [self.prompt_ids(r) for r in records], pad_token_id=self.tokenizer.pad_token_id,
                               stop_ids=stops, max_new_tokens=max_new_tokens, batch_size=batch_size, advance=progress)
        return self.tokenizer.batch_decode(gen.tokens, skip_special_tokens=True)


def read_records(path: str | Path) -> list[dict[str, str]]:
    """An Alpaca JSON file written by the preprocessor."""
    path = Path(path)
    rows = read_json(path, "data file not found", hint="run scripts/preprocess.py first")
    if not isinstance(rows, list):
        raise DataError(f"expected a JSON list of Alpaca records, found {type(rows).__name__}", path=path)
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DataError(f"record {i} is {type(row).__name__}, not an Alpaca record (an object)", path=path)
        for key in ("instruction", "input", "output"):
            if not isinstance(row.get(key), str):
                raise DataError("missing or not a string", path=path, line=i, field=key)
    return rows
