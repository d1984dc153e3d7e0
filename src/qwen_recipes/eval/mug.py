"""AliMeeting4MUG scoring: the challenge's rules for its five tasks, reproduced on plain Python data, and its files.

Gold is the dataset's own meeting annotation (the ``content`` JSON of a row) and predictions have the official
submission shapes, both as dicts keyed by ``meeting_key``; nothing here reads the dataset, so any reader can feed it.
The gold fields used: ``topic_segment_ids[].id`` (TS, and the topic ids ES/TTG predictions are matched on),
``topic_segment_ids[].candidate[]`` with ``key_sentence`` / ``title`` (one per annotator; ES, TTG),
``candidate[]`` with ``key_sentence`` / ``key_word`` (session level; ES, KPE) and ``action_ids[].id`` (AID).
Every number is x100 (the challenge reports fractions); ``rank`` is the task's leaderboard score on that scale.

Choices, and why:

* **The rules are the challenge script's, quirks included.** Users compare with the leaderboard and the MUG paper's
  baselines, which came from ``alimeeting4mug/src/utils/challenge_evaluate.py`` (SpokenNLP) with ``rouge==1.0.1``
  and ``segeval==2.0.11``. So the quirks that move numbers are kept on purpose and named where they act. Two of
  them change what a number means: ROUGE is set-based (below) and TS never scores the forced last boundary.
* **Text is split like the script's BERT-style basic tokenizer** (:func:`basic_tokenize`): control characters
  dropped, every CJK ideograph its own token, lower-cased, accents stripped, and every punctuation mark *and symbol*
  (Unicode S*, e.g. ``℃``, ``¥``, emoji, plus a few listed code points such as ``〇``) its own token; Latin words and
  digit runs stay whole. ROUGE is therefore character-level for Chinese.
* **ROUGE is our own code, matching rouge 1.0.1 to the float, not rouge_chinese.** The script joins the tokens with
  spaces and calls ``rouge.Rouge()`` (pltrdy, ``exclusive=True``). That package is not a dependency, its LCS is a
  recursive Python walk over a dict table (the script raises the recursion limit to 100,000; a session summary pair
  takes seconds) and rouge_chinese, which is installed, differs from it on exactly the points that matter:
  rouge 1.0.1 cuts sentences on ``"."`` (the dots vanish; rouge_chinese cuts on ``。！？`` and keeps them) and its
  ROUGE-L counts *distinct* tokens (rouge_chinese: a plain LCS over all tokens). What rouge 1.0.1 computes, and so do
  we: ROUGE-1/2 on the *sets* of unigrams / bigrams of all tokens (bigrams run across sentence cuts); ROUGE-L as the
  number of distinct tokens in the union of the LCSs of every (reference sentence, hypothesis sentence) pair, over the
  number of distinct tokens on each side, each LCS picked with rouge 1.0.1's tie-breaking (a different LCS of the
  same length can hold a different set of tokens); F = 2PR / (P + R + 1e-8), so an exact copy scores 99.9999995.
  Consequences worth knowing: repetition is free (``会议会议会议`` against ``会议`` has ROUGE-1 = ROUGE-L = 100) and a
  one-token hypothesis has no bigram, so its ROUGE-2 is 0 even when it equals the reference. The LCS table here is
  bit-parallel (one Python int per row), so a long session summary takes milliseconds.
* **Multi-reference ROUGE** (ES, TTG): per item, "max" is the reference with the best ROUGE-L F, the first one on
  ties (reference order matters), and contributes its R1/R2/RL; "avg" is the mean over references. Items are then
  averaged: topic-level items are *pooled over meetings* (every topic counts once, so a meeting with 18 topics weighs
  twice one with 9), session-level items are meetings. ES rank = mean of {topic, session} x {avg, max} x {R1, R2, RL};
  TTG rank = mean of {avg, max} x {R1, R2, RL}.
* **ES and TTG are scored on the gold topics**, matched to predicted topics by ``id`` (the script zips them by
  position and asserts equal counts; matching by id gives the same pairs for a valid submission and a clear error for
  one built on predicted boundaries). Key sentences are concatenated in the order the prediction lists them, with
  no separator, as the script does: order changes ROUGE-2 and ROUGE-L.
* **TS: paragraph granularity, one position dropped per meeting.** Each sentence gets a 0/1 "last sentence of a
  topic" label, the last sentence is forced to 1, only paragraph-end sentences are kept, and then the script drops
  the last kept position (``labels[:-1]``) before everything else. As the last sentence is a paragraph end, the
  forced boundary therefore never counts: it is not a free true positive, and the final paragraph is not in the
  masses either. F1 is positive-class F1 pooled over all kept positions of all meetings. Pk and WindowDiff are
  segeval's, on segment masses counted in *paragraphs*: the notes list them after "keep only positions that are
  paragraph ends", on the same labels, and the script builds the masses from exactly those kept labels (sentence
  masses would need the dropped sentences back). Hypothesis first, segeval's default window (half the mean
  reference segment, rounded half-even, at least 2); computed per meeting, then averaged.
  rank = 0.5*F1 + 0.25*(100-Pk) + 0.25*(100-WD). The script rounds 1-Pk and 1-WD to 4 decimals before the rank;
  we do not round, so our rank can differ from its by at most 0.0025 (x100 scale).
* **KPE: per meeting, then averaged** (the script averages both F1s over meetings). Gold is every annotator's list
  concatenated, duplicates kept. Predictions are cut to the top 10/15/20 as ranked. Exact F1 is ROUGE-1 of rouge
  1.0.1 on the phrases joined by spaces: a set of whole phrases (duplicates collapse; a phrase containing a space or
  ``"."`` falls apart into pieces, as in the script; case-sensitive), with the 1e-8 term. Partial F1: a predicted
  phrase is a hit when it shares a substring of at least 2 characters with some gold phrase (after ``strip``);
  precision counts the predicted list with duplicates, recall the concatenated gold list with duplicates, so a
  phrase several annotators chose weighs more. rank = mean of the 6 numbers.
* **AID**: 0/1 per sentence, pooled over all meetings, positive-class precision / recall / F1; rank = F1.
* **Where the script crashes, we score and count.** An empty hypothesis (no token left, or only dots) makes
  rouge 1.0.1 raise and an empty KPE list divides by zero; here it scores 0 and is counted in
  ``empty_hypotheses`` (a missing topic or session prediction scores 0 too, counted in ``missing_hypotheses``).
  An empty reference (an annotator who chose nothing) is left out and counted in ``empty_references``; an item with
  no reference left (a meeting or topic without candidates, which the notes say happens) is skipped and counted in
  ``no_reference``. For Pk/WD, a meeting whose masses cover no more units than the window (WindowDiff would divide by
  zero) is left out and counted in ``window_skipped``. With no positive label anywhere, F1 is 0 (the script raises).
  Ids outside 1..N raise ``ValueError`` (the script silently wraps id 0 to the last sentence).
* **Submission files** (:func:`write_submission`, :func:`read_submission`): JSON Lines, one object per meeting with
  only the official fields; ids are ints, ES key sentences are id strings, as in the official samples. The writer
  refuses empty hypotheses by default because the official scorer crashes on them.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

import segeval
from segeval.window import compute_window_size

from qwen_recipes.errors import DataError
from qwen_recipes.io import atomic_open

TASKS = (
    "topic_segmentation",
    "extractive_summarization",
    "topic_title_generation",
    "keyphrase_extraction",
    "action_item_detection",
)
TASK_ALIASES = {
    "ts": "topic_segmentation",
    "es": "extractive_summarization",
    "ttg": "topic_title_generation",
    "kpe": "keyphrase_extraction",
    "aid": "action_item_detection",
}
ROUGE_KEYS = ("rouge-1", "rouge-2", "rouge-l")
KPE_CUTOFFS = (10, 15, 20)

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
class _RougeText:
    """A text as rouge 1.0.1 sees it: sentences of words, and the unigram / bigram sets of all words."""

    sentences: tuple[tuple[str, ...], ...]
    unigrams: frozenset[tuple[str, ...]]
    bigrams: frozenset[tuple[str, ...]]

    @property
    def empty(self) -> bool:
        # No sentence makes rouge 1.0.1 raise; a sentence of only "" words (from ". .") is not text either.
        return not any(word for sentence in self.sentences for word in sentence)


def _rouge_text(joined: str) -> _RougeText:
    """``joined`` is space-separated tokens. rouge 1.0.1 cuts sentences on "." and drops empty pieces; a piece of
    only spaces survives as one empty word, which we keep so that counts stay theirs."""
    sentences = tuple(tuple(piece.split() or [""]) for piece in joined.split(".") if piece)
    words = [w for s in sentences for w in s]
    return _RougeText(
        sentences=sentences,
        unigrams=frozenset((w,) for w in words),
        bigrams=frozenset(tuple(words[i : i + 2]) for i in range(len(words) - 1)),
    )


def _text_for_rouge(text: str) -> _RougeText:
    return _rouge_text(" ".join(basic_tokenize(text)))


def _f_measure(overlap: int, hyp_count: int, ref_count: int) -> float:
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


def _rouge_pair(hyp: _RougeText, ref: _RougeText) -> dict[str, float]:
    """ROUGE-1/2/L F as fractions; both sides non-empty."""
    scores = {
        "rouge-1": _f_measure(len(hyp.unigrams & ref.unigrams), len(hyp.unigrams), len(ref.unigrams)),
        "rouge-2": _f_measure(len(hyp.bigrams & ref.bigrams), len(hyp.bigrams), len(ref.bigrams)),
    }
    union: set[str] = set()
    for ref_sentence in ref.sentences:
        for hyp_sentence in hyp.sentences:
            union.update(lcs_tokens(ref_sentence, hyp_sentence))
    # Distinct words on each side (the unigram sets), the union's size as the LCS length: rouge 1.0.1 with sets.
    scores["rouge-l"] = _f_measure(len(union), len(hyp.unigrams), len(ref.unigrams))
    return scores


_ZERO = dict.fromkeys(ROUGE_KEYS, 0.0)


def _avg_max(hyp: _RougeText, refs: Sequence[_RougeText]) -> tuple[dict[str, float], dict[str, float]]:
    per_ref = [_rouge_pair(hyp, ref) for ref in refs]
    best = per_ref[0]
    for scores in per_ref[1:]:
        if scores["rouge-l"] > best["rouge-l"]:  # strictly: the first reference wins ties, as Python's max
            best = scores
    avg = {k: fmean(s[k] for s in per_ref) for k in ROUGE_KEYS}
    return avg, best


def rouge_scores(hypothesis: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F x100 of one pair, character-level via :func:`basic_tokenize`; 0 when either side is empty."""
    hyp, ref = _text_for_rouge(hypothesis), _text_for_rouge(reference)
    if hyp.empty or ref.empty:
        return dict(_ZERO)
    return {k: v * 100 for k, v in _rouge_pair(hyp, ref).items()}


def multi_reference_rouge(hypothesis: str, references: Sequence[str]) -> dict[str, dict[str, float]]:
    """``{"avg": {...}, "max": {...}}`` of ROUGE-1/2/L F x100 against several references.

    "max" is the reference with the best ROUGE-L F (the first one on ties) with its three scores; "avg" the mean over
    references. Empty references are left out; an empty hypothesis scores 0; no reference at all raises ValueError.
    """
    refs = [r for r in (_text_for_rouge(t) for t in references) if not r.empty]
    if not refs:
        raise ValueError("no non-empty reference to score against")
    hyp = _text_for_rouge(hypothesis)
    if hyp.empty:
        return {"avg": dict(_ZERO), "max": dict(_ZERO)}
    avg, best = _avg_max(hyp, refs)
    return {"avg": {k: v * 100 for k, v in avg.items()}, "max": {k: v * 100 for k, v in best.items()}}


# --------------------------------------------------------------------------------------------------------------------
# Shared checks


def _check_meetings(gold: Mapping[str, Any], pred: Mapping[str, Any]) -> None:
    missing = [k for k in gold if k not in pred]
    extra = [k for k in pred if k not in gold]
    if missing or extra:
        raise ValueError(f"predictions must cover exactly the gold meetings: missing {missing[:10]}, extra {extra[:10]}")
    if not gold:
        raise ValueError("no meetings to score")


def _int_id(value: Any, where: str) -> int:
    # bool is an int to Python, never an id; ES key sentences are id strings in the official files.
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{where}: expected a 1-based sentence id, got {value!r}")
    return value


def _entry_ids(entries: Any, where: str) -> list[int]:
    if not isinstance(entries, list):
        raise ValueError(f"{where}: expected a list of {{'id': ...}} objects, got {type(entries).__name__}")
    ids = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or "id" not in entry:
            raise ValueError(f"{where}[{i}]: expected an object with 'id'")
        ids.append(_int_id(entry["id"], f"{where}[{i}].id"))
    return ids


def _labels(ids: Iterable[int], n: int, where: str) -> list[int]:
    labels = [0] * n
    for sid in ids:
        if sid > n:
            raise ValueError(f"{where}: sentence id {sid} is beyond the meeting's {n} sentences")
        labels[sid - 1] = 1
    return labels


def _prf(gold: Sequence[int], pred: Sequence[int]) -> tuple[float, float, float]:
    """Positive-class precision, recall, F1 as fractions (sklearn's values; 0 where it would divide by zero)."""
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g and p)
    pred_pos, gold_pos = sum(pred), sum(gold)
    precision = tp / pred_pos if pred_pos else 0.0
    recall = tp / gold_pos if gold_pos else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _count_of(mapping: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in mapping:
        raise ValueError(f"{what} has no entry for meeting {key!r}")
    return mapping[key]


# --------------------------------------------------------------------------------------------------------------------
# Topic segmentation


def segment_masses(labels: Sequence[int]) -> list[int]:
    """Segment lengths from 0/1 "last unit of a segment" labels; units after the last 1 form a final segment.

    >>> segment_masses([0, 1, 0, 0, 1, 0])
    [2, 3, 1]
    """
    masses, run = [], 0
    for label in labels:
        run += 1
        if label:
            masses.append(run)
            run = 0
    if run:
        masses.append(run)
    return masses


def pk_windowdiff(hypothesis: Sequence[int], reference: Sequence[int], window_size: int | None = None) -> tuple[float, float]:
    """segeval's Pk and WindowDiff of two segmentations given as masses, as fractions (0 = perfect).

    ``window_size`` None is segeval's default, computed from the reference: half its mean segment mass, rounded
    half-even, at least 2. Raises ValueError when the masses cover different totals or the window leaves nothing to
    measure (segeval would divide by zero in WindowDiff).
    """
    if not hypothesis or not reference or sum(hypothesis) != sum(reference):
        raise ValueError(f"masses must be non-empty and cover the same units: {list(hypothesis)} vs {list(reference)}")
    k = compute_window_size(list(reference)) if window_size is None else window_size
    if sum(reference) <= k:
        raise ValueError(f"{sum(reference)} units leave no window of size {k} to measure")
    pk = segeval.pk(list(hypothesis), list(reference), window_size=k)
    wd = segeval.window_diff(list(hypothesis), list(reference), window_size=k)
    return float(pk), float(wd)


def _ts_positions(entries: Any, n: int, ends: list[int], where: str) -> list[int]:
    labels = _labels(_entry_ids(entries, where), n, where)
    labels[-1] = 1  # the rule: the last sentence always closes a topic
    kept = [labels[e - 1] for e in ends]
    # The script then drops the last kept position, which is the forced boundary when the last sentence ends a
    # paragraph (it always does in the data): that boundary is never scored.
    return kept[:-1]


def score_ts(
    gold: Mapping[str, Mapping[str, Any]],
    pred: Mapping[str, Mapping[str, Any]],
    n_sentences: Mapping[str, int],
    paragraph_ends: Mapping[str, Sequence[int]],
) -> dict[str, Any]:
    """Topic segmentation: pooled positive F1 at paragraph ends, Pk and WindowDiff per meeting (paragraph masses).

    ``gold[key]["topic_segment_ids"]`` and ``pred[key]["topic_segment_ids"]`` list ``{"id": last sentence of a
    topic}``; ``n_sentences[key]`` is N and ``paragraph_ends[key]`` the 1-based last sentences of the paragraphs.
    Returns precision, recall, f1, pk, windowdiff and rank (x100; pk/windowdiff/rank None when no meeting has a
    window to measure), and counts: meetings, positions (scored), gold_boundaries, pred_boundaries, window_skipped.
    """
    _check_meetings(gold, pred)
    gold_all: list[int] = []
    pred_all: list[int] = []
    pks: list[float] = []
    wds: list[float] = []
    skipped = 0
    for key in gold:
        n = _count_of(n_sentences, key, "n_sentences")
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n_sentences[{key!r}] must be a positive int, got {n!r}")
        ends = sorted(set(_count_of(paragraph_ends, key, "paragraph_ends")))
        if not ends or ends[0] < 1 or ends[-1] > n:
            raise ValueError(f"paragraph_ends[{key!r}] must be sentence ids in 1..{n}, got {ends[:5]}...")
        g = _ts_positions(gold[key].get("topic_segment_ids", []), n, ends, f"gold[{key!r}].topic_segment_ids")
        p = _ts_positions(pred[key].get("topic_segment_ids", []), n, ends, f"pred[{key!r}].topic_segment_ids")
        gold_all += g
        pred_all += p
        ref_masses, hyp_masses = segment_masses(g), segment_masses(p)
        if not ref_masses or sum(ref_masses) <= compute_window_size(ref_masses):
            skipped += 1  # too few paragraphs for a window: segeval would divide by zero in WindowDiff
            continue
        pk, wd = pk_windowdiff(hyp_masses, ref_masses)
        pks.append(pk)
        wds.append(wd)
    precision, recall, f1 = _prf(gold_all, pred_all)
    pk_mean = fmean(pks) * 100 if pks else None
    wd_mean = fmean(wds) * 100 if wds else None
    rank = None
    if pk_mean is not None and wd_mean is not None:
        rank = 0.5 * f1 * 100 + 0.25 * (100 - pk_mean) + 0.25 * (100 - wd_mean)
    return {
        "precision": precision * 100,
        "recall": recall * 100,
        "f1": f1 * 100,
        "pk": pk_mean,
        "windowdiff": wd_mean,
        "rank": rank,
        "meetings": len(gold),
        "positions": len(gold_all),
        "gold_boundaries": sum(gold_all),
        "pred_boundaries": sum(pred_all),
        "window_skipped": skipped,
    }


# --------------------------------------------------------------------------------------------------------------------
# Multi-reference items (ES, TTG)


class _Tally:
    """Per-item multi-reference ROUGE, averaged at the end, with the counts of what could not be scored."""

    def __init__(self) -> None:
        self.avg: list[dict[str, float]] = []
        self.max: list[dict[str, float]] = []
        self.empty_hypotheses = 0
        self.missing_hypotheses = 0
        self.empty_references = 0
        self.no_reference = 0

    def add(self, hypothesis: str | None, references: Sequence[str]) -> None:
        refs = []
        for text in references:
            ref = _text_for_rouge(text)
            if ref.empty:
                self.empty_references += 1
            else:
                refs.append(ref)
        if not refs:
            self.no_reference += 1
            return
        if hypothesis is None:
            self.missing_hypotheses += 1
            self.avg.append(dict(_ZERO))
            self.max.append(dict(_ZERO))
            return
        hyp = _text_for_rouge(hypothesis)
        if hyp.empty:
            self.empty_hypotheses += 1
            self.avg.append(dict(_ZERO))
            self.max.append(dict(_ZERO))
            return
        avg, best = _avg_max(hyp, refs)
        self.avg.append(avg)
        self.max.append(best)

    def result(self, prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind, items in (("avg", self.avg), ("max", self.max)):
            for k in ROUGE_KEYS:
                out[f"{prefix}{kind}_{k}"] = fmean(s[k] for s in items) * 100 if items else None
        out[f"{prefix}scored"] = len(self.avg)
        out[f"{prefix}empty_hypotheses"] = self.empty_hypotheses
        out[f"{prefix}missing_hypotheses"] = self.missing_hypotheses
        out[f"{prefix}empty_references"] = self.empty_references
        out[f"{prefix}no_reference"] = self.no_reference
        return out


def _pred_topics(row: Mapping[str, Any], key: str, gold_ids: set[int]) -> dict[int, Mapping[str, Any]]:
    topics: dict[int, Mapping[str, Any]] = {}
    entries = row.get("topic_segment_ids", [])
    ids = _entry_ids(entries, f"pred[{key!r}].topic_segment_ids")
    for tid, entry in zip(ids, entries, strict=True):
        if tid in topics:
            raise ValueError(f"pred[{key!r}]: topic id {tid} appears twice")
        if tid not in gold_ids:
            raise ValueError(
                f"pred[{key!r}]: topic id {tid} is not a gold topic end {sorted(gold_ids)[:20]}; "
                "ES and TTG are scored on the gold topics, so predictions must use their ids"
            )
        topics[tid] = entry
    return topics


def _summary(ids: Any, texts: Mapping[int, str], where: str) -> str:
    """Concatenate the chosen sentences in the order given, no separator (the script's summary text)."""
    if not isinstance(ids, list):
        raise ValueError(f"{where}: expected a list of sentence ids, got {type(ids).__name__}")
    parts = []
    for i, value in enumerate(ids):
        sid = _int_id(value, f"{where}[{i}]")
        if sid not in texts:
            raise ValueError(f"{where}[{i}]: sentence {sid} is not among the meeting's sentences")
        parts.append(texts[sid])
    return "".join(parts)


def _sum_counts(*results: Mapping[str, Any], name: str) -> int:
    return sum(r[k] for r in results for k in r if k.endswith(name))


def score_es(
    gold: Mapping[str, Mapping[str, Any]],
    pred: Mapping[str, Mapping[str, Any]],
    sentences: Mapping[str, Mapping[int, str]],
) -> dict[str, Any]:
    """Extractive summarization, topic level (gold topics) and session level, multi-reference ROUGE.

    Gold: ``topic_segment_ids[].candidate[].key_sentence`` and ``candidate[].key_sentence`` (one per annotator).
    Pred: ``topic_segment_ids[] = {"id", "key_sentence"}`` and ``key_sentence``. ``sentences[key]`` maps sentence id to
    text. Returns ``topic_{avg,max}_rouge-{1,2,l}``, ``session_...``, rank (x100), and counts per level plus totals
    (empty_hypotheses, missing_hypotheses, empty_references, no_reference).
    """
    _check_meetings(gold, pred)
    topic, session = _Tally(), _Tally()
    for key in gold:
        texts = _count_of(sentences, key, "sentences")
        gold_topics = gold[key].get("topic_segment_ids") or []
        gold_ids = _entry_ids(gold_topics, f"gold[{key!r}].topic_segment_ids")
        pred_topics = _pred_topics(pred[key], key, set(gold_ids))
        for tid, g_topic in zip(gold_ids, gold_topics, strict=True):
            where = f"gold[{key!r}] topic {tid}"
            refs = [_summary(c.get("key_sentence") or [], texts, f"{where} candidate") for c in g_topic.get("candidate") or []]
            p_topic = pred_topics.get(tid)
            hyp = None
            if p_topic is not None:
                hyp = _summary(p_topic.get("key_sentence") or [], texts, f"pred[{key!r}] topic {tid}.key_sentence")
            topic.add(hyp, refs)
        refs = [
            _summary(c.get("key_sentence") or [], texts, f"gold[{key!r}] candidate") for c in gold[key].get("candidate") or []
        ]
        hyp = None
        if "key_sentence" in pred[key]:
            hyp = _summary(pred[key]["key_sentence"] or [], texts, f"pred[{key!r}].key_sentence")
        session.add(hyp, refs)
    out = {**topic.result("topic_"), **session.result("session_")}
    parts = [out[f"{level}_{kind}_{k}"] for level in ("topic", "session") for kind in ("avg", "max") for k in ROUGE_KEYS]
    out["rank"] = fmean(parts) if None not in parts else None
    for name in ("empty_hypotheses", "missing_hypotheses", "empty_references", "no_reference"):
        out[name] = out[f"topic_{name}"] + out[f"session_{name}"]
    out["meetings"] = len(gold)
    return out


def score_ttg(gold: Mapping[str, Mapping[str, Any]], pred: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Topic title generation on the gold topics: multi-reference ROUGE against the annotators' titles.

    Gold: ``topic_segment_ids[].candidate[].title``; pred: ``topic_segment_ids[] = {"id", "title"}``. Returns
    ``{avg,max}_rouge-{1,2,l}`` and rank (x100), topics (scored) and the counts.
    """
    _check_meetings(gold, pred)
    tally = _Tally()
    for key in gold:
        gold_topics = gold[key].get("topic_segment_ids") or []
        gold_ids = _entry_ids(gold_topics, f"gold[{key!r}].topic_segment_ids")
        pred_topics = _pred_topics(pred[key], key, set(gold_ids))
        for tid, g_topic in zip(gold_ids, gold_topics, strict=True):
            refs = [c.get("title") or "" for c in g_topic.get("candidate") or []]
            p_topic = pred_topics.get(tid)
            title = None if p_topic is None else p_topic.get("title")
            if title is not None and not isinstance(title, str):
                raise ValueError(f"pred[{key!r}] topic {tid}: title must be a string, got {type(title).__name__}")
            tally.add(title, refs)
    out = tally.result("")
    out["topics"] = out.pop("scored")
    parts = [out[f"{kind}_{k}"] for kind in ("avg", "max") for k in ROUGE_KEYS]
    out["rank"] = fmean(parts) if None not in parts else None
    out["meetings"] = len(gold)
    return out


# --------------------------------------------------------------------------------------------------------------------
# Keyphrase extraction


def pooled_keywords(candidates: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """Every annotator's ``key_word`` list concatenated, duplicates kept (the script's gold for KPE)."""
    return [w for c in candidates or [] for w in c.get("key_word") or []]


def fuzzy_match(a: str, b: str) -> bool:
    """Partial-match rule: the longest common substring of the stripped phrases has at least 2 characters.

    A common substring of length >= 2 exists exactly when the two share some 2-character substring.
    """
    a, b = a.strip(), b.strip()
    return any(a[i : i + 2] in b for i in range(len(a) - 1))


def _partial_f1(pred: Sequence[str], gold: Sequence[str]) -> float:
    precision = sum(any(fuzzy_match(p, g) for g in gold) for p in pred) / len(pred)
    recall = sum(any(fuzzy_match(p, g) for p in pred) for g in gold) / len(gold)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score_kpe(
    gold: Mapping[str, Mapping[str, Any]],
    pred: Mapping[str, Mapping[str, Any]],
    cutoffs: Sequence[int] = KPE_CUTOFFS,
) -> dict[str, Any]:
    """Keyphrase extraction: exact and partial F1 at each cutoff, per meeting, averaged over meetings.

    Gold: ``candidate[].key_word`` (pooled, see :func:`pooled_keywords`); pred: ``key_word``, ranked. Returns
    ``exact_f1@k`` and ``partial_f1@k`` for each cutoff, rank = their mean (x100), and meetings (scored),
    empty_hypotheses (meetings whose list is empty at some cutoff) and no_reference (meetings without gold words).
    """
    _check_meetings(gold, pred)
    exact: dict[int, list[float]] = {k: [] for k in cutoffs}
    partial: dict[int, list[float]] = {k: [] for k in cutoffs}
    empty = no_reference = 0
    for key in gold:
        gold_words = pooled_keywords(gold[key].get("candidate"))
        gold_text = _rouge_text(" ".join(gold_words))
        if not gold_words or gold_text.empty:
            no_reference += 1
            continue
        phrases = pred[key].get("key_word") or []
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            raise ValueError(f"pred[{key!r}].key_word must be a list of strings")
        was_empty = False
        for k in cutoffs:
            top = phrases[:k]
            hyp = _rouge_text(" ".join(top))
            if hyp.empty:
                was_empty = True
                exact[k].append(0.0)
            else:
                overlap = len(hyp.unigrams & gold_text.unigrams)
                exact[k].append(_f_measure(overlap, len(hyp.unigrams), len(gold_text.unigrams)))
            partial[k].append(_partial_f1(top, gold_words) if top else 0.0)
        empty += was_empty
    out: dict[str, Any] = {}
    for k in cutoffs:
        out[f"exact_f1@{k}"] = fmean(exact[k]) * 100 if exact[k] else None
    for k in cutoffs:
        out[f"partial_f1@{k}"] = fmean(partial[k]) * 100 if partial[k] else None
    parts = list(out.values())
    out["rank"] = fmean(parts) if None not in parts else None
    out["meetings"] = len(gold) - no_reference
    out["empty_hypotheses"] = empty
    out["no_reference"] = no_reference
    return out


# --------------------------------------------------------------------------------------------------------------------
# Action item detection


def score_aid(
    gold: Mapping[str, Mapping[str, Any]], pred: Mapping[str, Mapping[str, Any]], n_sentences: Mapping[str, int]
) -> dict[str, Any]:
    """Action item detection: 0/1 per sentence pooled over meetings; positive-class precision, recall, F1 (x100).

    Gold and pred: ``action_ids`` = ``[{"id": sentence id}]``. rank = F1. Counts: meetings, sentences,
    gold_positives, pred_positives.
    """
    _check_meetings(gold, pred)
    gold_all: list[int] = []
    pred_all: list[int] = []
    for key in gold:
        n = _count_of(n_sentences, key, "n_sentences")
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n_sentences[{key!r}] must be a positive int, got {n!r}")
        where_g, where_p = f"gold[{key!r}].action_ids", f"pred[{key!r}].action_ids"
        gold_all += _labels(_entry_ids(gold[key].get("action_ids") or [], where_g), n, where_g)
        pred_all += _labels(_entry_ids(pred[key].get("action_ids") or [], where_p), n, where_p)
    precision, recall, f1 = _prf(gold_all, pred_all)
    return {
        "precision": precision * 100,
        "recall": recall * 100,
        "f1": f1 * 100,
        "rank": f1 * 100,
        "meetings": len(gold),
        "sentences": len(gold_all),
        "gold_positives": sum(gold_all),
        "pred_positives": sum(pred_all),
    }


# --------------------------------------------------------------------------------------------------------------------
# Submission files


def _task_name(task: str) -> str:
    name = TASK_ALIASES.get(task, task)
    if name not in TASKS:
        raise ValueError(f"task must be one of {TASKS} (or {tuple(TASK_ALIASES)}), not {task!r}")
    return name


class _Where:
    """Where a row is, for errors: the file and its 1-based line."""

    def __init__(self, path: str | Path, line: int) -> None:
        self.path, self.line = path, line

    def fail(self, message: str, field: str | None = None, hint: str | None = None) -> DataError:
        return DataError(message, path=self.path, line=self.line, field=field, hint=hint)


def _row_id(value: Any, where: _Where, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise where.fail(f"expected a 1-based sentence id (int), got {value!r}", field)
    return value


def _row_list(obj: Mapping[str, Any], name: str, where: _Where, field: str | None = None) -> list[Any]:
    field = field or name
    if name not in obj:
        raise where.fail("missing", field)
    value = obj[name]
    if not isinstance(value, list):
        raise where.fail(f"expected a list, got {type(value).__name__}", field)
    return value


def _key_sentences(obj: Mapping[str, Any], where: _Where, field: str) -> list[str]:
    out = []
    for i, value in enumerate(_row_list(obj, "key_sentence", where, field)):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        out.append(str(_row_id(value, where, f"{field}[{i}]")))
    return out


def _topics(obj: Mapping[str, Any], where: _Where, extra: str | None) -> list[dict[str, Any]]:
    topics: list[dict[str, Any]] = []
    seen: set[int] = set()
    for i, entry in enumerate(_row_list(obj, "topic_segment_ids", where)):
        field = f"topic_segment_ids[{i}]"
        if not isinstance(entry, Mapping):
            raise where.fail(f"expected an object, got {type(entry).__name__}", field)
        if "id" not in entry:
            raise where.fail("missing", f"{field}.id")
        tid = _row_id(entry["id"], where, f"{field}.id")
        if tid in seen:
            raise where.fail(f"topic id {tid} appears twice", f"{field}.id")
        seen.add(tid)
        topic: dict[str, Any] = {"id": tid}
        if extra == "key_sentence":
            topic["key_sentence"] = _key_sentences(entry, where, f"{field}.key_sentence")
        elif extra == "title":
            if not isinstance(entry.get("title"), str):
                raise where.fail("expected a string", f"{field}.title")
            topic["title"] = entry["title"]
        topics.append(topic)
    return topics


def _ids_row(obj: Mapping[str, Any], name: str, where: _Where) -> list[dict[str, int]]:
    ids = set()
    for i, entry in enumerate(_row_list(obj, name, where)):
        if not isinstance(entry, Mapping) or "id" not in entry:
            raise where.fail("expected an object with 'id'", f"{name}[{i}]")
        ids.add(_row_id(entry["id"], where, f"{name}[{i}].id"))
    # Boundaries and action items are sets of sentences: written sorted, once each.
    return [{"id": i} for i in sorted(ids)]


def _canonical_row(task: str, obj: Any, where: _Where) -> dict[str, Any]:
    """The official shape of one row: only the task's fields, ids as ints, ES key sentences as id strings."""
    if not isinstance(obj, Mapping):
        raise where.fail(f"expected a JSON object, got {type(obj).__name__}")
    key = obj.get("meeting_key")
    if not isinstance(key, str) or not key:
        raise where.fail("expected a non-empty string", "meeting_key")
    row: dict[str, Any] = {"meeting_key": key}
    if task == "topic_segmentation":
        row["topic_segment_ids"] = _ids_row(obj, "topic_segment_ids", where)
    elif task == "extractive_summarization":
        row["topic_segment_ids"] = _topics(obj, where, "key_sentence")
        row["key_sentence"] = _key_sentences(obj, where, "key_sentence")
    elif task == "topic_title_generation":
        row["topic_segment_ids"] = _topics(obj, where, "title")
    elif task == "keyphrase_extraction":
        words = _row_list(obj, "key_word", where)
        for i, w in enumerate(words):
            if not isinstance(w, str):
                raise where.fail(f"expected a string, got {type(w).__name__}", f"key_word[{i}]")
        row["key_word"] = list(words)
    else:
        row["action_ids"] = _ids_row(obj, "action_ids", where)
    return row


def _empty_fields(task: str, row: Mapping[str, Any]) -> list[str]:
    """Fields the official scorer would crash on (an empty hypothesis), as field paths."""
    bad = []
    if task == "extractive_summarization":
        bad = [f"topic_segment_ids[{i}].key_sentence" for i, t in enumerate(row["topic_segment_ids"]) if not t["key_sentence"]]
        if not row["key_sentence"]:
            bad.append("key_sentence")
    elif task == "topic_title_generation":
        bad = [
            f"topic_segment_ids[{i}].title" for i, t in enumerate(row["topic_segment_ids"]) if _text_for_rouge(t["title"]).empty
        ]
    elif task == "keyphrase_extraction" and _rouge_text(" ".join(row["key_word"])).empty:
        bad = ["key_word"]
    return bad


def write_submission(
    task: str,
    rows: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
    path: str | Path,
    allow_empty: bool = False,
) -> Path:
    """Write one task's official submission file (JSON Lines, one object per meeting), atomically.

    ``rows`` are per-meeting dicts (or a dict of them keyed by meeting_key) with at least the official fields; other
    keys are left out. An empty hypothesis (ES key sentences, a TTG title, KPE words) raises DataError unless
    ``allow_empty``: the official scorer crashes on one, so a file holding it could not be scored there.
    """
    name = _task_name(task)
    items = list(rows.values()) if isinstance(rows, Mapping) else list(rows)
    canonical = []
    seen: set[str] = set()
    for line, obj in enumerate(items, 1):
        where = _Where(path, line)
        row = _canonical_row(name, obj, where)
        if row["meeting_key"] in seen:
            raise where.fail(f"meeting {row['meeting_key']!r} appears twice", "meeting_key")
        seen.add(row["meeting_key"])
        bad = _empty_fields(name, row)
        if bad and not allow_empty:
            raise where.fail(
                "empty hypothesis",
                bad[0],
                hint="the official scorer crashes on empty output: write a fallback (or allow_empty=True)",
            )
        canonical.append(row)
    with atomic_open(path) as handle:
        for row in canonical:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return Path(path)


def _infer_task(objects: Sequence[Any]) -> str | None:
    rows = [o for o in objects if isinstance(o, Mapping)]

    def any_topic_has(field: str) -> bool:
        return any(
            isinstance(t, Mapping) and field in t
            for r in rows
            if isinstance(r.get("topic_segment_ids"), list)
            for t in r["topic_segment_ids"]
        )

    if any("key_sentence" in r for r in rows) or any_topic_has("key_sentence"):
        return "extractive_summarization"
    if any_topic_has("title"):
        return "topic_title_generation"
    if any("key_word" in r for r in rows):
        return "keyphrase_extraction"
    if any("action_ids" in r for r in rows):
        return "action_item_detection"
    if any("topic_segment_ids" in r for r in rows):
        return "topic_segmentation"
    return None


def read_submission(path: str | Path, task: str | None = None) -> dict[str, dict[str, Any]]:
    """Read a submission file into ``{meeting_key: row}`` (file order), each row in the official shape.

    ``task`` None infers it from the fields (ES: ``key_sentence``; TTG: topic ``title``; KPE: ``key_word``;
    AID: ``action_ids``; TS: ``topic_segment_ids`` alone). Blank lines are skipped, as the script does. A malformed
    line raises DataError naming the file, the line and the field.
    """
    path = Path(path)
    parsed: list[tuple[int, Any]] = []
    with open(path, encoding="utf-8-sig") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                parsed.append((line_no, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DataError(f"not valid JSON ({exc.msg}, column {exc.colno})", path=path, line=line_no) from None
    name = _task_name(task) if task is not None else _infer_task([o for _, o in parsed])
    if name is None:
        raise DataError(
            "cannot tell which task this file is for", path=path, hint=f"no task field found; pass task= one of {TASKS}"
        )
    rows: dict[str, dict[str, Any]] = {}
    for line_no, obj in parsed:
        where = _Where(path, line_no)
        row = _canonical_row(name, obj, where)
        if row["meeting_key"] in rows:
            raise where.fail(f"meeting {row['meeting_key']!r} appears twice", "meeting_key")
        rows[row["meeting_key"]] = row
    return rows
