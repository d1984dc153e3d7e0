"""AliMeeting4MUG scorers, one per task (TS, ES, TTG, KPE, AID), with the challenge's rules (the package docstring
lists them and their quirks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from statistics import fmean
from typing import Any

import segeval
from segeval.window import compute_window_size

from qwen_recipes.metrics.mug.text import ROUGE_KEYS, ZERO_ROUGE, avg_max, f_measure, rouge_text, text_for_rouge

KPE_CUTOFFS = (10, 15, 20)

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
            ref = text_for_rouge(text)
            if ref.empty:
                self.empty_references += 1
            else:
                refs.append(ref)
        if not refs:
            self.no_reference += 1
            return
        if hypothesis is None:
            self.missing_hypotheses += 1
            self.avg.append(dict(ZERO_ROUGE))
            self.max.append(dict(ZERO_ROUGE))
            return
        hyp = text_for_rouge(hypothesis)
        if hyp.empty:
            self.empty_hypotheses += 1
            self.avg.append(dict(ZERO_ROUGE))
            self.max.append(dict(ZERO_ROUGE))
            return
        avg, best = avg_max(hyp, refs)
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
        gold_text = rouge_text(" ".join(gold_words))
        if not gold_words or gold_text.empty:
            no_reference += 1
            continue
        phrases = pred[key].get("key_word") or []
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            raise ValueError(f"pred[{key!r}].key_word must be a list of strings")
        was_empty = False
        for k in cutoffs:
            top = phrases[:k]
            hyp = rouge_text(" ".join(top))
            if hyp.empty:
                was_empty = True
                exact[k].append(0.0)
            else:
                overlap = len(hyp.unigrams & gold_text.unigrams)
                exact[k].append(f_measure(overlap, len(hyp.unigrams), len(gold_text.unigrams)))
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


