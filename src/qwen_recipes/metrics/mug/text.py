"""AliMeeting4MUG text rules: the challenge's BERT-style basic tokenizer and ROUGE as rouge 1.0.1 computes it
(the package docstring says why and how).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

ROUGE_KEYS = ("rouge-1", "rouge-2", "rouge-l")

# The ranges BERT's tokenizer calls Chinese: CJK Unified Ideographs, extensions A-E and compatibility ideographs.
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)
# Code points the challenge's tokenizer splits off as symbols although their category is not S*. It tests them after
# lower-casing, so upper-case ones (Ø, Ʊ) never match; listed anyway so the rule reads as theirs.
_EXTRA_SYMBOLS = frozenset({0x00AD, 0x00B2, 0x00BA, 0x3007, 0x00B5, 0x00D8, 0x014B, 0x01B1})


# --------------------------------------------------------------------------------------------------------------------
# Tokenizer


def _is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    # \t \n \r are control characters to Unicode but whitespace to the tokenizer.
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def _splits_off(ch: str) -> bool:
    """Punctuation (all non-alphanumeric printable ASCII, Unicode P*) or symbol (Unicode S*, plus the listed few)."""
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    category = unicodedata.category(ch)
    return category[0] in "PS" or cp in _EXTRA_SYMBOLS


def basic_tokenize(text: str) -> list[str]:
    """The challenge's basic tokenizer: CJK characters, punctuation and symbols one token each; other runs whole.

    >>> basic_tokenize("Qwen2.5 模型，OK！")
    ['qwen2', '.', '5', '模', '型', '，', 'ok', '！']
    """
    spaced: list[str] = []
    for ch in text:
        cp = ord(ch)
        if cp in (0, 0xFFFD) or _is_control(ch):
            continue
        if _is_whitespace(ch):
            spaced.append(" ")
        elif _is_cjk(cp):
            spaced.append(f" {ch} ")
        else:
            spaced.append(ch)
    tokens: list[str] = []
    for word in "".join(spaced).split():
        # Lower-case first, then strip accents (NFD, drop combining marks): the order the tokenizer uses.
        word = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(c) != "Mn")
        run: list[str] = []
        for ch in word:
            if _splits_off(ch):
                if run:
                    tokens.append("".join(run))
                    run = []
                tokens.append(ch)
            else:
                run.append(ch)
        if run:
            tokens.append("".join(run))
    # The tokenizer re-splits its output on whitespace, which also drops any token left empty.
    return " ".join(tokens).split()


# --------------------------------------------------------------------------------------------------------------------
# ROUGE (rouge 1.0.1 semantics)


@dataclass(frozen=True)
class RougeText:
    """A text as rouge 1.0.1 sees it: sentences of words, and the unigram / bigram sets of all words."""

    sentences: tuple[tuple[str, ...], ...]
    unigrams: frozenset[tuple[str, ...]]
    bigrams: frozenset[tuple[str, ...]]

    @property
    def empty(self) -> bool:
        # No sentence makes rouge 1.0.1 raise; a sentence of only "" words (from ". .") is not text either.
        return not any(word for sentence in self.sentences for word in sentence)


def rouge_text(joined: str) -> RougeText:
    """``joined`` is space-separated tokens. rouge 1.0.1 cuts sentences on "." and drops empty pieces; a piece of
    only spaces survives as one empty word, which we keep so that counts stay theirs."""
    sentences = tuple(tuple(piece.split() or [""]) for piece in joined.split(".") if piece)
    words = [w for s in sentences for w in s]
    return RougeText(
        sentences=sentences,
        unigrams=frozenset((w,) for w in words),
        bigrams=frozenset(tuple(words[i : i + 2]) for i in range(len(words) - 1)),
    )


def text_for_rouge(text: str) -> RougeText:
    return rouge_text(" ".join(basic_tokenize(text)))


def f_measure(overlap: int, hyp_count: int, ref_count: int) -> float:
    # rouge 1.0.1's arithmetic, step for step (a zero count gives 0, and the 1e-8 guards 0/0).
    precision = overlap / hyp_count if hyp_count else 0.0
    recall = overlap / ref_count if ref_count else 0.0
    return 2.0 * ((precision * recall) / (precision + recall + 1e-8))


def lcs_tokens(reference: Sequence[str], hypothesis: Sequence[str]) -> list[str]:
    """The longest common subsequence rouge 1.0.1 reconstructs (its tie-breaking), as reference tokens in order.

    The DP table is kept bit-parallel: after reference token i, bit j of ``rows[i]`` is 0 exactly when
    T[i][j+1] = T[i][j] + 1 (Crochemore et al. 2001), so T[i][j] = j - popcount(rows[i] & (2**j - 1)).
    """
    m = len(hypothesis)
    full = (1 << m) - 1
    match: dict[str, int] = {}
    for j, token in enumerate(hypothesis):
        match[token] = match.get(token, 0) | (1 << j)
    rows = [full]
    v = full
    for token in reference:
        u = v & match.get(token, 0)
        v = ((v + u) | (v - u)) & full
        rows.append(v)

    def table(i: int, j: int) -> int:
        return j - (rows[i] & ((1 << j) - 1)).bit_count()

    out: list[str] = []
    i, j = len(reference), m
    while i > 0 and j > 0:
        if reference[i - 1] == hypothesis[j - 1]:
            out.append(reference[i - 1])
            i, j = i - 1, j - 1
        elif table(i - 1, j) > table(i, j - 1):  # strictly greater moves up; a tie moves left, as rouge 1.0.1
            i -= 1
        else:
            j -= 1
    out.reverse()
    return out


def _rouge_pair(hyp: RougeText, ref: RougeText) -> dict[str, float]:
    """ROUGE-1/2/L F as fractions; both sides non-empty."""
    scores = {
        "rouge-1": f_measure(len(hyp.unigrams & ref.unigrams), len(hyp.unigrams), len(ref.unigrams)),
        "rouge-2": f_measure(len(hyp.bigrams & ref.bigrams), len(hyp.bigrams), len(ref.bigrams)),
    }
    union: set[str] = set()
    for ref_sentence in ref.sentences:
        for hyp_sentence in hyp.sentences:
            union.update(lcs_tokens(ref_sentence, hyp_sentence))
    # Distinct words on each side (the unigram sets), the union's size as the LCS length: rouge 1.0.1 with sets.
    scores["rouge-l"] = f_measure(len(union), len(hyp.unigrams), len(ref.unigrams))
    return scores


ZERO_ROUGE = dict.fromkeys(ROUGE_KEYS, 0.0)


def avg_max(hyp: RougeText, refs: Sequence[RougeText]) -> tuple[dict[str, float], dict[str, float]]:
    per_ref = [_rouge_pair(hyp, ref) for ref in refs]
    best = per_ref[0]
    for scores in per_ref[1:]:
        if scores["rouge-l"] > best["rouge-l"]:  # strictly: the first reference wins ties, as Python's max
            best = scores
    avg = {k: fmean(s[k] for s in per_ref) for k in ROUGE_KEYS}
    return avg, best


def rouge_scores(hypothesis: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F x100 of one pair, character-level via :func:`basic_tokenize`; 0 when either side is empty."""
    hyp, ref = text_for_rouge(hypothesis), text_for_rouge(reference)
    if hyp.empty or ref.empty:
        return dict(ZERO_ROUGE)
    return {k: v * 100 for k, v in _rouge_pair(hyp, ref).items()}


def multi_reference_rouge(hypothesis: str, references: Sequence[str]) -> dict[str, dict[str, float]]:
    """``{"avg": {...}, "max": {...}}`` of ROUGE-1/2/L F x100 against several references.

    "max" is the reference with the best ROUGE-L F (the first one on ties) with its three scores; "avg" the mean over
    references. Empty references are left out; an empty hypothesis scores 0; no reference at all raises ValueError.
    """
    refs = [r for r in (text_for_rouge(t) for t in references) if not r.empty]
    if not refs:
        raise ValueError("no non-empty reference to score against")
    hyp = text_for_rouge(hypothesis)
    if hyp.empty:
        return {"avg": dict(ZERO_ROUGE), "max": dict(ZERO_ROUGE)}
    avg, best = avg_max(hyp, refs)
    return {"avg": {k: v * 100 for k, v in avg.items()}, "max": {k: v * 100 for k, v in best.items()}}


