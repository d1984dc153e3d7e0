"""ChnSentiCorp: binary sentiment of Chinese reviews.

- Source: ChnSentiCorp (Tan Songbo); the 9,600/1,200/1,200 hotel + laptop + book split used by ERNIE,
  Chinese-BERT-wwm and PaddleNLP, and ChnSentiCorp_htl_all (7,766 hotel reviews, no split).
- License: research use; the LUGE copy comes under Baidu's LUGE agreement. Users fetch it themselves.
- Fields: review text and a label, 1 = positive, 0 = negative (reader: ``qwen_recipes.readers.chnsenticorp``).
- Framing: instruction + review -> exactly ``正面`` or ``负面``.
- Metric: accuracy and macro P/R/F1 on parsed labels, confusion matrix, and the rate of outputs that
  are not a label. Published test accuracy: BERT-base 94.3-95.0, ERNIE 1.0 95.4, RoBERTa-wwm-ext-large 95.8.
"""

from __future__ import annotations

import re
from typing import Any

from qwen_recipes.metrics.classification import classification_metrics
from qwen_recipes.readers.chnsenticorp import Review
from qwen_recipes.tasks.base import Task

POSITIVE = "正面"
NEGATIVE = "负面"
LABEL_WORDS = {1: POSITIVE, 0: NEGATIVE}

# What models really say for each class, beyond the trained word.
SYNONYMS = {
    POSITIVE: ("正面", "积极", "正向", "好评", "褒义"),
    NEGATIVE: ("负面", "消极", "负向", "差评", "贬义"),
}
ENGLISH = {POSITIVE: re.compile(r"\bpos(itive)?\b"), NEGATIVE: re.compile(r"\bneg(ative)?\b")}
NEGATION = re.compile(r"(不是|并非|不算|没有|不|非)$")
# The same rule in English: "not positive", "non-negative", "isn't negative", "no negative" name no class.
ENGLISH_NEGATION = re.compile(r"\b(not|non|no|never|isn't|isnt|neither|nor)[\s-]*$")
EDGE_PUNCT = " \t\r\n。．.！!？?，,、；;：:\"'“”‘’`*#()（）[]【】<>《》"


class ChnSentiCorp(Task):
    name = "chnsenticorp"
    kind = "label"
    max_new_tokens = 8
    source = "chnsenticorp"
    instruction = "判断下面这条评论的情感倾向，只回答“正面”或“负面”。"
    labels = (POSITIVE, NEGATIVE)
    plot_names = {POSITIVE: "positive", NEGATIVE: "negative"}
    # Test accuracy on the 9,600/1,200/1,200 split (see the card above); shown beside our numbers.
    published = (
        ("BERT-base (Chinese-BERT-wwm paper)", "94.3-95.0"),
        ("ERNIE 1.0", "95.4"),
        ("RoBERTa-wwm-ext-large", "95.8"),
        ("Qwen2.5-1.5B LoRA, label scoring (reported)", "95.75"),
        ("Qwen zero-shot (reported)", "~88"),
    )
    published_note = (
        "published test accuracy on the 1,200-review test set, which includes texts that also occur in train; "
        "the preprocessor removes those, so our test set is smaller and harder to flatter. Compare with care."
    )

    def build_record(self, example: Review) -> dict[str, str]:
        output = "" if example.label is None else LABEL_WORDS[example.label]
        return {"instruction": self.instruction, "input": example.text, "output": output}

    def parse(self, text: str) -> str | None:
        """Read a label from what a model wrote: ``正面``, ``正面。``, ``积极``, ``Positive``, or a sentence
        that names exactly one class. Two classes, or a negated class word, is unreadable (None)."""
        norm = text.strip().strip(EDGE_PUNCT).lower()
        if not norm:
            return None
        for label, words in SYNONYMS.items():
            if norm in words or ENGLISH[label].fullmatch(norm):
                return label
        found: set[str] = set()
        for label, words in SYNONYMS.items():
            for word in words:
                for match in re.finditer(re.escape(word), norm):
                    if NEGATION.search(norm[: match.start()]):
                        return None
                    found.add(label)
            for match in ENGLISH[label].finditer(norm):
                if ENGLISH_NEGATION.search(norm[: match.start()]):
                    return None
                found.add(label)
        return found.pop() if len(found) == 1 else None

    def score(self, predictions: list[str], references: list[str], **_: Any) -> dict[str, Any]:
        gold = []
        for i, ref in enumerate(references, start=1):
            label = self.parse(ref)
            if label is None:
                raise ValueError(f"reference {i} ({ref!r}) is not a label; is this an unlabeled split?")
            gold.append(label)
        return classification_metrics(gold, [self.parse(p) for p in predictions], list(self.labels))
