"""LongEmotion Emotion Summary (ES): summarise a long counseling case into five fields, as JSON.

- Source: LongEmotion benchmark, "Emotion Summary" task: 150 English cases, test split only.
- License: research use as published by the LongEmotion authors; not redistributed here.
- Fields: case_description, consultation_process (lists or strings), experience_and_reflection, and the five
  targets causes, symptoms, treatment_process, characteristics_of_illness, treatment_effect.
  Reader: ``qwen_recipes.readers.longemotion``.
- Framing (official): case + process + reflection -> one JSON object with the five fields.
- Metric: official = an LLM judge rating each field 1-5 on factual consistency, completeness and clarity
  (``scripts/judge.py``); here also the share of outputs that parse as the required JSON (a fenced block is
  tolerated), per-field ROUGE and overall text metrics with English word tokenisation.
- Splits: the set ships no training data. For users who fine-tune on it the preprocessor makes a seeded
  hold-out (or k-fold) split of the 150 cases: results on such a split are not the official benchmark numbers.
"""

from __future__ import annotations

import json
from typing import Any

from qwen_recipes.readers.longemotion import TARGET_FIELDS, Case
from qwen_recipes.tasks.base import Task


class EmotionSummary(Task):
    name = "emotion_summary"
    kind = "generation"
    official_score = "python scripts/judge.py {predictions} --base-url URL --model NAME   (official LLM-judge score)"
    max_new_tokens = 768
    source = "longemotion"
    dedupe_by = "key"
    fields = TARGET_FIELDS
    instruction = (
        "Read the psychological counseling case below. Summarise it as one JSON object with exactly these keys: "
        + ", ".join(f'"{f}"' for f in TARGET_FIELDS)
        + ". Each value is a concise paragraph in English. Output only the JSON object."
    )
    split_note = ("LongEmotion Emotion Summary ships only a test set; this train/dev/test split is the project's own "
                  "(seeded), so scores on it are not the official benchmark numbers.")

    def build_record(self, example: Case) -> dict[str, str]:
        source = (f"Case description:\n{example.case_description}\n\nConsultation process:\n{example.consultation_process}"
                  f"\n\nExperience and reflection:\n{example.experience_and_reflection}")
        return {"instruction": self.instruction, "input": source,
                "output": json.dumps({f: example.targets[f] for f in self.fields}, ensure_ascii=False, indent=1)}

    def parse(self, text: str) -> dict[str, str] | None:
        """The five fields, or None unless the output holds a JSON object with every field as text."""
        from qwen_recipes.metrics.generation import extract_json_object

        obj = extract_json_object(text)
        if obj is None or not all(isinstance(obj.get(f), str) for f in self.fields):
            return None
        return {f: obj[f] for f in self.fields}

    def score(self, predictions: list[str], references: list[str], **_: Any) -> dict[str, Any]:
        from qwen_recipes.metrics.generation import generation_metrics, similarity

        refs = []
        for i, r in enumerate(references, start=1):
            parsed = self.parse(r)
            if parsed is None:
                raise ValueError(f"reference {i} is not a JSON object with the five fields")
            refs.append(parsed)
        parsed_preds = [self.parse(p) for p in predictions]
        per_field = {}
        for f in self.fields:
            # An output that is not valid JSON scores 0 on every field: it failed the required format.
            per_field[f] = similarity([p[f] if p else "" for p in parsed_preds], [r[f] for r in refs], language="en")
        overall = generation_metrics([p.strip() for p in predictions], [r.strip() for r in references], language="en")
        return {
            "n": len(predictions),
            "json_valid_rate": sum(p is not None for p in parsed_preds) / max(1, len(predictions)),
            "per_field": per_field,
            "mean_field_rouge-l": sum(v["rouge-l"] for v in per_field.values()) / len(per_field),
            "overall": overall,
        }
