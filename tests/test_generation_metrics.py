"""Generation metrics: equality with LLaMA-Factory's own ComputeSimilarity, hand-worked values, JSON extraction."""

from __future__ import annotations

import numpy as np
import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from qwen_recipes.metrics.generation import (
    distinct_n,
    en_tokens,
    extract_json_object,
    generation_metrics,
    length_stats,
    similarity,
)

# (prediction, reference): partial overlap, identical, disjoint, multi-sentence with ？！, mixed script with
# spaces, and an empty prediction (LLaMA-Factory scores it 0 instead of letting rouge_chinese raise).
ZH_PAIRS = [
    ("这家酒店的服务很好，房间也很干净。", "酒店服务很好，房间干净，位置方便。"),
    ("我理解你的感受，这种压力确实很大。", "我理解你的感受，这种压力确实很大。"),
    ("今天天气不错", "请尽快联系心理咨询师。"),
    ("你最近睡得好吗？可以试着放松！每天散步。", "你最近睡眠怎么样？建议每天散步，放松心情。"),
    ("Qwen2.5 模型在 CPU 上也能运行，速度 OK。", "Qwen2.5模型可以在CPU上运行。"),
    ("", "你好，很高兴认识你。"),
]


def _padded_ids(tok, texts: list[str]) -> np.ndarray:
    from llamafactory.extras.constants import IGNORE_INDEX

    rows = [tok.encode(t, add_special_tokens=False) for t in texts]
    width = max(len(r) for r in rows)
    return np.array([r + [IGNORE_INDEX] * (width - len(r)) for r in rows], dtype=np.int64)


def test_zh_similarity_equals_llamafactory_compute_similarity(tiny_model):
    from llamafactory.train.sft.metric import ComputeSimilarity
    from transformers import AutoTokenizer, EvalPrediction

    tok = AutoTokenizer.from_pretrained(tiny_model)
    preds, refs = [p for p, _ in ZH_PAIRS], [r for _, r in ZH_PAIRS]
    pred_ids, label_ids = _padded_ids(tok, preds), _padded_ids(tok, refs)
    # The comparison only means something if LLaMA-Factory sees our exact strings after its own decoding
    # (IGNORE_INDEX -> pad token -> dropped by skip_special_tokens).
    for ids, texts in ((pred_ids, preds), (label_ids, refs)):
        decoded = tok.batch_decode(np.where(ids != -100, ids, tok.pad_token_id), skip_special_tokens=True)
        assert decoded == texts

    theirs = ComputeSimilarity(tokenizer=tok)(EvalPrediction(predictions=pred_ids, label_ids=label_ids))
    ours = similarity(preds, refs, "zh")

    assert set(theirs) == {"rouge-1", "rouge-2", "rouge-l", "bleu-4"}
    assert ours["n"] == len(ZH_PAIRS)
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, rel=0, abs=1e-9), key
    # Not a vacuous match: the pairs span the range.
    assert 0 < ours["rouge-1"] < 100 and 0 < ours["bleu-4"] < 100


def test_zh_edge_pairs():
    same = similarity(["我理解你的感受。"], ["我理解你的感受。"], "zh")
    assert {k: same[k] for k in ("rouge-1", "rouge-2", "rouge-l", "bleu-4")} == {
        "rouge-1": 100.0,
        "rouge-2": 100.0,
        "rouge-l": 100.0,
        "bleu-4": 100.0,
    }
    empty = similarity(["  \n"], ["你好"], "zh")  # whitespace only: empty after splitting
    assert empty["rouge-1"] == empty["rouge-2"] == empty["rouge-l"] == empty["bleu-4"] == 0.0


def test_en_is_word_level():
    assert en_tokens("The cat sat, didn't it?") == ["the", "cat", "sat", ",", "didn", "'", "t", "it", "?"]
    pred, ref = "The cat sat.", "the cat sat on the mat."
    en = similarity([pred], [ref], "en")
    # pred {the, cat, sat, .} all in ref's 6 distinct words: P = 1, R = 4/6, F = 0.8.
    assert en["rouge-1"] == 80.0
    # bigrams: 2 of pred's 3 in ref's 6: P = 2/3, R = 1/3, F = 4/9.
    assert en["rouge-2"] == 44.4444
    # LCS "the cat sat ." = 4 of 4 and of 7 words: F = 8/11.
    assert en["rouge-l"] == 72.7273
    words = ["the", "cat", "sat", "."]
    expected_bleu = sentence_bleu(
        [["the", "cat", "sat", "on", "the", "mat", "."]], words, smoothing_function=SmoothingFunction().method3
    )
    assert en["bleu-4"] == round(expected_bleu * 100, 4)
    # Character / jieba level sees other units (and case), so the numbers differ.
    zh = similarity([pred], [ref], "zh")
    assert zh["rouge-1"] != en["rouge-1"] and zh["bleu-4"] != en["bleu-4"]


def test_rouge_n_counts_distinct_ngrams_once():
    # rouge_chinese (as LLaMA-Factory uses it) compares n-gram sets: "the the the" is {the}, P = 1, R = 1/2.
    assert similarity(["the the the"], ["the cat"], "en")["rouge-1"] == 66.6667


def test_similarity_rejects_bad_input():
    with pytest.raises(ValueError, match="2 references but 1 predictions"):
        similarity(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="no examples"):
        similarity([], [])
    with pytest.raises(ValueError, match="language"):
        similarity(["a"], ["a"], "fr")  # type: ignore[arg-type]


def test_distinct_n_by_hand():
    corpus = ["好的好的", "好"]
    # unigrams 好 的 好 的 好: 2 distinct of 5; bigrams 好的 的好 好的 (none from "好", none across texts): 2 of 3.
    assert distinct_n(corpus, 1) == pytest.approx(2 / 5)
    assert distinct_n(corpus, 2) == pytest.approx(2 / 3)
    assert distinct_n(["好 的\n好"], 1) == pytest.approx(2 / 3)  # whitespace is not a character unit
    en = ["I am fine.", "I am OK"]
    # i am fine . | i am ok: 5 distinct of 7; bigrams (i am) twice, (am fine) (fine .) (am ok): 4 of 5.
    assert distinct_n(en, 1, "en") == pytest.approx(5 / 7)
    assert distinct_n(en, 2, "en") == pytest.approx(4 / 5)
    assert distinct_n([], 1) == 0.0
    assert distinct_n(["好"], 2) == 0.0
    with pytest.raises(ValueError):
        distinct_n(corpus, 0)


def test_length_stats_by_hand():
    stats = length_stats(["你好 吗", "好"], ["你好", "很好啊"])
    assert stats == {"pred_length": 2.0, "ref_length": 2.5, "length_ratio": pytest.approx(4 / 5)}
    en = length_stats(["Hello, world!"], ["hello there"], "en")
    assert en == {"pred_length": 4.0, "ref_length": 2.0, "length_ratio": 2.0}
    assert length_stats(["好"], [""])["length_ratio"] is None
    assert length_stats([], []) == {"pred_length": None, "ref_length": None, "length_ratio": None}
    with pytest.raises(ValueError):
        length_stats(["a"], [])


def test_generation_metrics_combines():
    preds, refs = [p for p, _ in ZH_PAIRS], [r for _, r in ZH_PAIRS]
    result = generation_metrics(preds, refs)
    assert {k: result[k] for k in ("rouge-1", "rouge-2", "rouge-l", "bleu-4", "n")} == similarity(preds, refs)
    assert result["distinct-1"] == distinct_n(preds, 1) and result["distinct-2"] == distinct_n(preds, 2)
    assert {k: result[k] for k in ("pred_length", "ref_length", "length_ratio")} == length_stats(preds, refs)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Here it is:\n```json\n{"emotion": "sad", "score": 0.8}\n```\nHope this helps.', {"emotion": "sad", "score": 0.8}),
        ('```\n{"a": 1}\n```', {"a": 1}),
        ('```JSON\n{"a": 1}```', {"a": 1}),
        ('分析如下：{"情绪": "焦虑", "强度": 3} 以上是结果。', {"情绪": "焦虑", "强度": 3}),
        (
            'Answer: {"summary": "use {name} and } here, \\"quoted {\\"", "n": {"k": [1, 2]}} done {x}',
            {"summary": 'use {name} and } here, "quoted {"', "n": {"k": [1, 2]}},
        ),
        # The fence wins over braces quoted in the prose before it.
        ('Reply in the form {key: value}.\n```json\n{"a": 2}\n```', {"a": 2}),
        # A stray, never-closed "{" before the object does not hide it.
        ('Note { the format\n{"a": 3}', {"a": 3}),
        ('{"a": 1,}', None),
        ("{'a': 1}", None),
        # A broken object is not rescued by returning its inner fragment.
        ('{"a": {"b": 1},}', None),
        ("[1, 2]", None),
        ('[{"a": 1}]', None),
        ('```json\n[{"a": 1}]\n```', None),
        ("no json here", None),
        ("", None),
    ],
)
def test_extract_json_object(text, expected):
    assert extract_json_object(text) == expected
