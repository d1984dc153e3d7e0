"""Metrics for free-text outputs (counseling answers, summaries): similarity, diversity, length, JSON extraction.

Choices, and why:

* **Chinese similarity is LLaMA-Factory's, to the digit.** ``llamafactory-cli train`` with ``predict_with_generate``
  reports ``predict_rouge-1`` ... ``predict_bleu-4`` from ``ComputeSimilarity`` (``llamafactory/train/sft/metric.py``,
  0.9.5). Users compare our report with those numbers, so :func:`similarity` with ``language="zh"`` repeats that code
  step by step on strings: jieba words for ROUGE (``rouge_chinese``, F-measure), characters for BLEU-4 (NLTK,
  smoothing method 3), each example rounded to 4 decimals of a percentage before averaging. A test feeds the same
  pairs through LLaMA-Factory's own class and asserts equality. Its quirks are kept on purpose, not fixed:
  ROUGE-1/2 count each distinct n-gram once (``rouge_chinese`` uses sets), ROUGE-L is a plain LCS over all words
  (its sentence splitting does not change the result), F carries a ``+1e-8`` in the denominator, and BLEU's
  characters include spaces and newlines. The cost is theirs too: ROUGE-L fills a pure-Python LCS table, about 2 s
  for one pair of 1,500-character answers, so a large long-answer test set takes minutes.
* **English text gets words, not characters.** jieba and character BLEU make little sense for English
  (LongEmotion): there the units are lower-cased words and single punctuation marks, fed to the same ROUGE and
  BLEU code so the two languages differ only in tokenization.
* **Distinct-n is corpus-level** (unique n-grams over all outputs / all n-grams), the form used for PsyQA and
  dialogue generation, on characters for Chinese (whitespace dropped: a model's line breaks are not content)
  and on the English units above. It measures the predictions alone; a model that repeats one stock answer
  scores low even when each answer is fluent.
* **Length** is reported next to similarity because ROUGE and BLEU reward (or punish) length: a length ratio far
  from 1 explains a score before any reading of the outputs does.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import jieba
import numpy as np
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from rouge_chinese import Rouge

Language = Literal["zh", "en"]
LANGUAGES = ("zh", "en")
SIMILARITY_KEYS = ("rouge-1", "rouge-2", "rouge-l", "bleu-4")

# A word (letters, digits, underscore; Unicode-aware) or one punctuation mark: "don't." -> don ' t .
_EN_TOKEN = re.compile(r"\w+|[^\w\s]")
# A fenced block, optionally tagged json; the tag is case-insensitive because models write ```JSON too.
_FENCE = re.compile(r"```[ \t]*(?:json)?[ \t]*\n?(.*?)```", re.DOTALL | re.IGNORECASE)


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")


def _check_pairs(predictions: list[str], references: list[str]) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"{len(references)} references but {len(predictions)} predictions")


def en_tokens(text: str) -> list[str]:
    """English units: lower-cased words and single punctuation marks."""
    return _EN_TOKEN.findall(text.lower())


def units(text: str, language: Language = "zh") -> list[str]:
    """The units that distinct-n and lengths count: non-whitespace characters (zh) or :func:`en_tokens` (en)."""
    _check_language(language)
    if language == "zh":
        return [c for c in text if not c.isspace()]
    return en_tokens(text)


def _rouge_f(hypothesis: list[str], reference: list[str]) -> dict[str, float]:
    # The emptiness test is LLaMA-Factory's: jieba yields whitespace tokens that vanish on split, and
    # rouge_chinese raises on an empty side instead of scoring it 0.
    hyp, ref = " ".join(hypothesis), " ".join(reference)
    if len(hyp.split()) == 0 or len(ref.split()) == 0:
        return {"rouge-1": 0.0, "rouge-2": 0.0, "rouge-l": 0.0}
    scores = Rouge().get_scores(hyp, ref)[0]
    return {k: round(v["f"] * 100, 4) for k, v in scores.items()}


def _bleu(hypothesis: list[str], reference: list[str]) -> float:
    score = sentence_bleu([reference], hypothesis, smoothing_function=SmoothingFunction().method3)
    return round(score * 100, 4)


def similarity(predictions: list[str], references: list[str], language: Language = "zh") -> dict[str, float]:
    """ROUGE-1/2/L F and BLEU-4, x100, averaged over examples, plus ``n``.

    ``zh`` is exactly LLaMA-Factory 0.9.5's ``ComputeSimilarity`` on decoded strings (see the module docstring);
    ``en`` runs the same ROUGE and BLEU on :func:`en_tokens`.
    """
    _check_language(language)
    _check_pairs(predictions, references)
    if not predictions:
        raise ValueError("no examples to score")
    per_key: dict[str, list[float]] = {k: [] for k in SIMILARITY_KEYS}
    for pred, label in zip(predictions, references, strict=True):
        if language == "zh":
            rouge = _rouge_f(list(jieba.cut(pred)), list(jieba.cut(label)))
            bleu = _bleu(list(pred), list(label))
        else:
            hyp, ref = en_tokens(pred), en_tokens(label)
            rouge = _rouge_f(hyp, ref)
            bleu = _bleu(hyp, ref)
        for k, v in rouge.items():
            per_key[k].append(v)
        per_key["bleu-4"].append(bleu)
    result: dict[str, float] = {k: float(np.mean(v)) for k, v in per_key.items()}
    result["n"] = len(predictions)
    return result


def distinct_n(texts: list[str], n: int, language: Language = "zh") -> float:
    """Corpus-level Distinct-n: unique n-grams / all n-grams over all texts (n-grams never span two texts)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    _check_language(language)
    total = 0
    seen: set[tuple[str, ...]] = set()
    for text in texts:
        toks = units(text, language)
        grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def length_stats(predictions: list[str], references: list[str], language: Language = "zh") -> dict[str, float | None]:
    """Mean prediction and reference length in :func:`units`, and total-length ratio pred / ref.

    The ratio is of sums, not a mean of per-example ratios, so one near-empty reference cannot dominate it;
    it is None when the references hold no units at all (and the means are None when there are no examples).
    """
    _check_language(language)
    _check_pairs(predictions, references)
    pred_lens = [len(units(t, language)) for t in predictions]
    ref_lens = [len(units(t, language)) for t in references]
    n = len(pred_lens)
    return {
        "pred_length": sum(pred_lens) / n if n else None,
        "ref_length": sum(ref_lens) / n if n else None,
        "length_ratio": sum(pred_lens) / sum(ref_lens) if sum(ref_lens) else None,
    }


def generation_metrics(predictions: list[str], references: list[str], language: Language = "zh") -> dict[str, Any]:
    """:func:`similarity`, Distinct-1/2 of the predictions and :func:`length_stats`, in one flat dict."""
    result: dict[str, Any] = similarity(predictions, references, language)
    result["distinct-1"] = distinct_n(predictions, 1, language)
    result["distinct-2"] = distinct_n(predictions, 2, language)
    result.update(length_stats(predictions, references, language))
    return result


def _balanced_end(text: str, start: int) -> int:
    """Index of the "}" closing the "{" at ``start`` (braces inside JSON strings ignored), or -1."""
    depth = 0
    in_string = escaped = False
    for i in range(start, len(text)):
        c = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _first_object(text: str) -> dict | None:
    start = text.find("{")
    while start != -1:
        end = _balanced_end(text, start)
        if end == -1:  # never closed (e.g. a stray "{" in prose): an object may still start after it
            start = text.find("{", start + 1)
            continue
        try:
            value = json.loads(text[start : end + 1])
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
        # Resume after the whole span: a fragment of a broken object (its inner {...}) is not the answer.
        start = text.find("{", end + 1)
    return None


def _loads(text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except json.JSONDecodeError:
        return False, None


def extract_json_object(text: str) -> dict | None:
    """The JSON object a model wrote, or None.

    Fenced blocks (```json or plain ```) are tried first, whole, because a model that fences its answer may
    also quote example braces in the prose around it; then the first balanced ``{...}`` span anywhere in the
    text that parses. Only an object counts: when the whole text or a fenced block is valid JSON of another
    kind (a list, even a list of objects), that is the answer and it is the wrong shape, so the result is None
    rather than an element picked out of it. Python-style dicts (single quotes, trailing commas) are not JSON
    and give None too.
    """
    ok, value = _loads(text.strip())
    if ok:
        return value if isinstance(value, dict) else None
    for block in _FENCE.findall(text):
        ok, value = _loads(block.strip())
        if ok:
            return value if isinstance(value, dict) else None
    return _first_object(text)
