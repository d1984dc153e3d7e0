"""AliMeeting4MUG scoring: hand-worked values for every metric, the quirks that move numbers, files, round trip.

ROUGE here is rouge 1.0.1's (the challenge's): n-gram *sets*, ROUGE-L over distinct tokens, F = 2PR/(P+R+1e-8),
so an exact copy scores 99.9999995; comparisons use ``approx`` at a relative 1e-6, far tighter than any hand value.
"""

from __future__ import annotations

import json

import pytest

from qwen_recipes.errors import DataError
from qwen_recipes.metrics.mug import (
    basic_tokenize,
    fuzzy_match,
    lcs_tokens,
    multi_reference_rouge,
    pk_windowdiff,
    pooled_keywords,
    read_submission,
    rouge_scores,
    score_aid,
    score_es,
    score_kpe,
    score_ts,
    score_ttg,
    segment_masses,
    write_submission,
)


def close(value: float) -> object:
    return pytest.approx(value, rel=1e-6, abs=1e-6)


def rouge3(r1: float, r2: float, rl: float) -> dict[str, object]:
    return {"rouge-1": close(r1), "rouge-2": close(r2), "rouge-l": close(rl)}


# --------------------------------------------------------------------------------------------------------------------
# Tokenizer and ROUGE


def test_basic_tokenize_is_character_level_for_cjk():
    # CJK one token each; Latin and digit runs whole, lower-cased; "." and full-width punctuation split off.
    assert basic_tokenize("Qwen2.5 模型，OK！") == ["qwen2", ".", "5", "模", "型", "，", "ok", "！"]
    # Symbols (Unicode S*) split off too: ℃ and ¥. 〇 is not in the CJK block but is on the tokenizer's symbol list,
    # so "〇〇" is two tokens. Accents are stripped after lower-casing (Café -> cafe).
    assert basic_tokenize("二〇〇二年 25℃ ¥3 Café") == ["二", "〇", "〇", "二", "年", "25", "℃", "¥", "3", "cafe"]
    # Control characters vanish, tabs / newlines / no-break spaces separate.
    assert basic_tokenize("好\x00的\tok\u00a0go\n") == ["好", "的", "ok", "go"]
    assert basic_tokenize("  \n") == []


def test_rouge_by_hand():
    # hyp 预算很高 vs ref 预算要降 (character tokens).
    # R1: {预,算,很,高} & {预,算,要,降} = 2 -> P = R = 2/4 -> F = 0.5
    # R2: {预算,算很,很高} & {预算,算要,要降} = 1 -> P = R = 1/3 -> F = 1/3
    # RL: LCS = 预算 -> 2 distinct tokens; 4 distinct on each side -> F = 0.5
    assert rouge_scores("预算很高", "预算要降") == rouge3(50, 100 / 3, 50)
    # An exact copy: P = R = 1, F = 2 / (2 + 1e-8).
    assert rouge_scores("预算很高", "预算很高")["rouge-1"] == pytest.approx(99.9999995, abs=1e-9)
    # Order matters for R2 and RL: 下周开会预算很高 vs 预算很高下周开会.
    # R1: same 8 characters -> 1. R2: hyp {下周,周开,开会,会预,预算,算很,很高}, ref {预算,算很,很高,高下,下周,周开,开会}:
    # 6 of 7 shared -> 6/7. RL: the LCS is one 4-character half -> 4/8 = 0.5.
    assert rouge_scores("下周开会预算很高", "预算很高下周开会") == rouge3(100, 600 / 7, 50)


def test_rouge_quirks_of_the_official_scorer():
    # Sets, not counts: repetition is free. 会议会议会议 vs 会议:
    # R1 {会,议} = {会,议} -> 1. R2 hyp {会议,议会} vs ref {会议}: P = 1/2, R = 1 -> 2/3.
    # RL: LCS(会议, 会议会议会议) = 会议 -> 2 distinct / 2 distinct on each side -> 1.
    assert rouge_scores("会议会议会议", "会议") == rouge3(100, 200 / 3, 100)
    # One token has no bigram: R2 = 0 even for an identical pair (P = 0 / 0 -> 0).
    assert rouge_scores("好", "好") == rouge3(100, 0, 100)
    # "." cuts sentences and vanishes: 好.的 is the words [好, 的] (the bigram 好的 runs across the cut),
    # so R1 = R2 = 1; RL unions LCS(好的, 好) and LCS(好的, 的) -> {好, 的} -> 1.
    assert rouge_scores("好.的", "好的") == rouge3(100, 100, 100)
    # RL follows rouge 1.0.1's LCS tie-breaking (a tie moves left): for ref 甲甲乙 and hyp 甲乙甲 it picks 甲乙
    # (not 甲甲), 2 distinct tokens / 2 distinct per side -> RL = 1. R2: {甲乙,乙甲} & {甲甲,甲乙} -> 1/2 each -> 0.5.
    assert lcs_tokens(list("甲甲乙"), list("甲乙甲")) == ["甲", "乙"]
    assert rouge_scores("甲乙甲", "甲甲乙") == rouge3(100, 50, 100)


def test_multi_reference_avg_and_max():
    # refs 预算要降 (scores 50 / 33.3 / 50, see above) and 预算很高 (the copy, ~100 each).
    # max = the reference with the best RL -> the copy; avg = ((50+100)/2, (33.3+100)/2, (50+100)/2).
    scores = multi_reference_rouge("预算很高", ["预算要降", "预算很高"])
    assert scores["max"] == rouge3(100, 100, 100)
    assert scores["avg"] == rouge3(75, 200 / 3, 75)
    # Ties on RL go to the FIRST reference, whatever R1 says. hyp 甲乙:
    # vs 甲丙: R1 1/2, RL LCS 甲 -> 1/2.  vs 乙甲: R1 {甲,乙} both -> 1, RL LCS of length 1 -> 1/2.
    # RL ties at 50, so max is 甲丙 with R1 = 50, although 乙甲 has R1 = 100. R2: no shared bigram -> 0.
    tie = multi_reference_rouge("甲乙", ["甲丙", "乙甲"])
    assert tie["max"] == rouge3(50, 0, 50)
    assert tie["avg"] == rouge3(75, 0, 50)
    # Empty references are left out; an empty hypothesis scores 0 instead of crashing.
    assert multi_reference_rouge("预算很高", ["", "预算要降"])["max"] == rouge3(50, 100 / 3, 50)
    assert multi_reference_rouge("", ["预算"])["avg"] == rouge3(0, 0, 0)
    with pytest.raises(ValueError, match="no non-empty reference"):
        multi_reference_rouge("预算", ["", "  "])


# --------------------------------------------------------------------------------------------------------------------
# Topic segmentation


def test_segment_masses():
    # Each 1 closes a segment; units after the last 1 form a final segment.
    assert segment_masses([0, 1, 0, 1, 0]) == [2, 2, 1]
    assert segment_masses([1, 0, 0, 1]) == [1, 3]
    assert segment_masses([0, 0, 0]) == [3]


def test_pk_windowdiff_by_hand():
    # ref masses [2, 3] -> units labelled 1 1 2 2 2 (boundary between units 1 and 2, 0-based)
    # hyp masses [1, 1, 3] -> 1 2 3 3 3 (boundaries between 0|1 and 1|2); window k = 2, windows start at i = 0, 1, 2.
    # Pk asks "are units i and i+k in the same segment?":
    #   i=0: ref 1 vs 2 no,  hyp 1 vs 3 no  -> agree
    #   i=1: ref 1 vs 2 no,  hyp 2 vs 3 no  -> agree
    #   i=2: ref 2 vs 2 yes, hyp 3 vs 3 yes -> agree                    Pk = 0/3 = 0
    # WindowDiff counts boundaries inside units i..i+k:
    #   i=0: ref 1, hyp 2 -> differ;  i=1: ref 1, hyp 1;  i=2: ref 0, hyp 0   WD = 1/3
    # (Pk misses the extra boundary; WindowDiff catches it.)
    pk, wd = pk_windowdiff([1, 1, 3], [2, 3], window_size=2)
    assert pk == 0
    assert wd == pytest.approx(1 / 3)
    assert pk_windowdiff([2, 3], [2, 3], window_size=2) == (0, 0)
    # Default window: half the mean reference mass, rounded, at least 2: [6, 8] -> 7/2 = 3.5 -> 4. With k = 4 the
    # only windows are i = 0..9; hyp [14] misses the one boundary (after unit 5): Pk counts windows whose ends straddle
    # it, i = 2..5 -> 4 of 10; WD counts the same windows (1 boundary in ref, 0 in hyp) -> 4/10.
    assert pk_windowdiff([14], [6, 8]) == (pytest.approx(0.4), pytest.approx(0.4))
    with pytest.raises(ValueError, match="same units"):
        pk_windowdiff([2, 2], [2, 3])


# Two meetings; ids are 1-based last sentences of topics.
# A: N = 10, paragraph ends 2 4 5 7 9 10; gold topics end at 4, 7 (10 forced); pred 2, 7.
#    labels at the paragraph ends: gold 0 1 0 1 0 [1], pred 1 0 0 1 0 [1]; the bracketed last position is dropped.
# B: N = 8, paragraph ends 1 3 5 6 8; gold 3; pred 1 and 4 (4 is no paragraph end: filtered out).
#    gold 0 1 0 0 [1], pred 1 0 0 0 [1].
TS_GOLD = {"A": {"topic_segment_ids": [{"id": 4}, {"id": 7}]}, "B": {"topic_segment_ids": [{"id": 3}]}}
TS_PRED = {"A": {"topic_segment_ids": [{"id": 2}, {"id": 7}]}, "B": {"topic_segment_ids": [{"id": 1}, {"id": 4}]}}
TS_N = {"A": 10, "B": 8}
TS_PARAS = {"A": [2, 4, 5, 7, 9, 10], "B": [1, 3, 5, 6, 8]}


def test_ts_by_hand():
    result = score_ts(TS_GOLD, TS_PRED, TS_N, TS_PARAS)
    # Pooled over 5 + 4 = 9 positions: TP = 1 (A's 7), FP = 2 (A's 2, B's 1), FN = 2 (A's 4, B's 3)
    # -> P = R = F1 = 1/3. Had the forced last boundaries been scored, TP = 3 and F1 = 3/5 = 60.
    assert result["positions"] == 9
    assert (result["gold_boundaries"], result["pred_boundaries"]) == (3, 3)
    assert result["precision"] == close(100 / 3)
    assert result["recall"] == close(100 / 3)
    assert result["f1"] == close(100 / 3)
    # Masses in paragraphs. A: gold [2, 2, 1] (units 1 1 2 2 3), pred [1, 3, 1] (1 2 2 2 3); k = max(2, round(5/3/2)) = 2.
    #   Pk: i=0 both split; i=1 gold split, pred same -> error; i=2 both split -> 1/3.
    #   WD: i=0 gold 1 (1|2), pred 1 (0|1) same; i=1 gold 1, pred 0 -> error; i=2 gold 1, pred 1 -> 1/3.
    # B: gold [2, 2] (1 1 2 2), pred [1, 3] (1 2 2 2); k = 2; i=0 both split; i=1 gold split, pred not -> Pk = 1/2;
    #   WD: i=0 1 vs 1, i=1 1 vs 0 -> 1/2.
    # Averaged over meetings: Pk = WD = (1/3 + 1/2) / 2 = 5/12.
    assert result["pk"] == close(500 / 12)
    assert result["windowdiff"] == close(500 / 12)
    # rank = 0.5 * 33.33 + 0.25 * (100 - 41.67) * 2 = 16.667 + 29.167
    assert result["rank"] == close(50 / 3 + 0.5 * (100 - 500 / 12))
    assert result["window_skipped"] == 0


def test_ts_forced_last_boundary_and_paragraph_filter():
    # Predicting the last sentence (forced anyway, then dropped) or a non-paragraph-end sentence changes nothing.
    pred = {
        "A": {"topic_segment_ids": [{"id": 2}, {"id": 7}, {"id": 10}, {"id": 3}, {"id": 8}]},
        "B": {"topic_segment_ids": [{"id": 1}, {"id": 8}, {"id": 2}]},
    }
    assert score_ts(TS_GOLD, pred, TS_N, TS_PARAS) == score_ts(TS_GOLD, TS_PRED, TS_N, TS_PARAS)
    # A meeting with two paragraphs keeps one position (mass 1): no window of size 2 fits, WindowDiff would divide
    # by zero, so it is left out of Pk/WD and counted. No positive label anywhere: F1 = 0 (the script raises).
    tiny = score_ts({"C": {"topic_segment_ids": []}}, {"C": {"topic_segment_ids": []}}, {"C": 3}, {"C": [1, 3]})
    assert (tiny["positions"], tiny["window_skipped"], tiny["f1"]) == (1, 1, 0)
    assert tiny["pk"] is None and tiny["rank"] is None
    with pytest.raises(ValueError, match="beyond"):
        score_ts({"C": {"topic_segment_ids": []}}, {"C": {"topic_segment_ids": [{"id": 4}]}}, {"C": 3}, {"C": [1, 3]})
    with pytest.raises(ValueError, match="missing"):
        score_ts(TS_GOLD, {"A": TS_PRED["A"]}, TS_N, TS_PARAS)


# --------------------------------------------------------------------------------------------------------------------
# Action items


def test_aid_is_pooled_over_meetings():
    gold = {"X": {"action_ids": [{"id": 2}, {"id": 4}]}, "Y": {"action_ids": []}, "Z": {"action_ids": [{"id": 3}]}}
    pred = {"X": {"action_ids": [{"id": 2}, {"id": 3}]}, "Y": {"action_ids": []}, "Z": {"action_ids": []}}
    result = score_aid(gold, pred, {"X": 5, "Y": 4, "Z": 3})
    # 12 sentences pooled. TP = 1 (X2), FP = 1 (X3), FN = 2 (X4, Z3): P = 1/2, R = 1/3, F1 = 2 * (1/6) / (5/6) = 0.4.
    # (Averaging per meeting would give something else: X 0.5, Y undefined, Z 0.)
    assert result["sentences"] == 12
    assert (result["precision"], result["recall"], result["f1"], result["rank"]) == (
        close(50),
        close(100 / 3),
        close(40),
        close(40),
    )


# --------------------------------------------------------------------------------------------------------------------
# Keyphrases


def test_kpe_by_hand():
    gold = {
        # pooled: 直播带货 抖音 广告 直播 抖音 (5, duplicates kept); as a set: {直播带货, 抖音, 广告, 直播}
        "K1": {"candidate": [{"key_word": ["直播带货", "抖音", "广告"]}, {"key_word": ["直播", "抖音"]}]},
        # pooled: 会议 预算 预算; set {会议, 预算}
        "K2": {"candidate": [{"key_word": ["会议", "预算"]}, {"key_word": ["预算"]}]},
    }
    k2_pred = ["天气", "午饭", "电脑", "手机", "咖啡", "地铁", "雨伞", "窗户", "椅子", "桌子", "预算", "会议室"]
    pred = {"K1": {"key_word": ["抖音", "直播带货活动", "广告费", "明星", "抖音"]}, "K2": {"key_word": k2_pred}}
    assert pooled_keywords(gold["K1"]["candidate"]) == ["直播带货", "抖音", "广告", "直播", "抖音"]
    # Partial rule: a common substring of >= 2 characters.
    assert fuzzy_match("直播带货活动", "直播") and fuzzy_match(" 广告费", "广告 ") and not fuzzy_match("明星", "直播")
    result = score_kpe(gold, pred)
    # K1 (5 predictions, so the same at 10/15/20):
    #   exact: hyp set {抖音, 直播带货活动, 广告费, 明星} (the duplicate collapses), 1 shared (抖音): P = R = 1/4 -> 0.25
    #   partial: P over the 5 predictions: 抖音, 直播带货活动 (直播), 广告费 (广告), 抖音 hit, 明星 not -> 4/5;
    #            R over the 5 pooled gold: every one is hit -> 5/5; F1 = 2 * 0.8 / 1.8 = 8/9
    # K2: @10 nothing matches -> 0 and 0. @15 = @20 (12 predictions): exact: 1 of 12 / 1 of 2 (会议室 is not 会议)
    #   -> 2 * (1/12)(1/2) / (7/12) = 1/7; partial: P = 2/12 (预算, 会议室), R = 3/3 -> 2 * (1/6) / (7/6) = 2/7
    # Averaged over the 2 meetings:
    assert result["exact_f1@10"] == close(12.5)
    assert result["exact_f1@15"] == result["exact_f1@20"] == close((25 + 100 / 7) / 2)
    assert result["partial_f1@10"] == close(400 / 9)
    assert result["partial_f1@15"] == result["partial_f1@20"] == close((800 / 9 + 200 / 7) / 2)
    assert result["partial_f1@10"] > result["exact_f1@10"]
    parts = [12.5, (25 + 100 / 7) / 2, (25 + 100 / 7) / 2, 400 / 9, (800 / 9 + 200 / 7) / 2, (800 / 9 + 200 / 7) / 2]
    assert result["rank"] == close(sum(parts) / 6)
    assert (result["meetings"], result["empty_hypotheses"], result["no_reference"]) == (2, 0, 0)


# --------------------------------------------------------------------------------------------------------------------
# Extractive summarization

ES_SENTENCES = {"M": {1: "预算很高", 2: "预算要降", 3: "好的", 4: "下周开会"}}
ES_GOLD = {
    "M": {
        "topic_segment_ids": [
            {"id": 2, "candidate": [{"key_sentence": ["1"]}, {"key_sentence": ["2"]}]},
            {"id": 4, "candidate": [{"key_sentence": ["4"]}, {"key_sentence": ["3", "4"]}]},
        ],
        "candidate": [{"key_sentence": ["1", "4"]}, {"key_sentence": ["2"]}],
    }
}


def test_es_topic_and_session_by_hand():
    pred = {
        "M": {
            "topic_segment_ids": [{"id": 2, "key_sentence": ["1"]}, {"id": 4, "key_sentence": ["3"]}],
            "key_sentence": ["1", "4"],
        }
    }
    result = score_es(ES_GOLD, pred, ES_SENTENCES)
    # Topic 2: hyp 预算很高. vs 预算很高: 1/1/1. vs 预算要降: 0.5, 1/3, 0.5 (test_rouge_by_hand).
    #   max (best RL) = (1, 1, 1); avg = (0.75, 2/3, 0.75)
    # Topic 4: hyp 好的. vs 下周开会: nothing shared -> 0/0/0. vs 好的下周开会: R1 P = 1, R = 2/6 -> 0.5;
    #   R2 {好的} vs 5 bigrams: P = 1, R = 1/5 -> 1/3; RL LCS 好的 -> P = 1, R = 2/6 -> 0.5.
    #   max = the second (RL 0.5) = (0.5, 1/3, 0.5); avg = (0.25, 1/6, 0.25)
    # Topic level, over the 2 topics: max (0.75, 2/3, 0.75); avg (0.5, 5/12, 0.5)
    assert {k: result[f"topic_max_{k}"] for k in ("rouge-1", "rouge-2", "rouge-l")} == rouge3(75, 200 / 3, 75)
    assert {k: result[f"topic_avg_{k}"] for k in ("rouge-1", "rouge-2", "rouge-l")} == rouge3(50, 500 / 12, 50)
    # Session: hyp 预算很高下周开会 equals the first candidate -> max (1, 1, 1). vs 预算要降:
    #   R1: 2 shared of 8 / 4 -> P 1/4, R 1/2 -> 1/3; R2: 1 shared (预算) of 7 / 3 -> 2 * (1/21) / (10/21) = 0.2;
    #   RL: LCS 预算 -> 2/8, 2/4 -> 1/3.  avg = (2/3, 0.6, 2/3)
    assert {k: result[f"session_max_{k}"] for k in ("rouge-1", "rouge-2", "rouge-l")} == rouge3(100, 100, 100)
    assert {k: result[f"session_avg_{k}"] for k in ("rouge-1", "rouge-2", "rouge-l")} == rouge3(200 / 3, 60, 200 / 3)
    # rank = mean of the 12: (17/12 + 26/12 + 29/15 + 3) / 12 = 511/720
    assert result["rank"] == close(51100 / 720)
    assert (result["topic_scored"], result["session_scored"], result["empty_hypotheses"]) == (2, 1, 0)


def test_es_needs_gold_topic_ids_and_known_sentences():
    bad_topic = {"M": {"topic_segment_ids": [{"id": 3, "key_sentence": ["1"]}], "key_sentence": ["1"]}}
    with pytest.raises(ValueError, match="not a gold topic end"):
        score_es(ES_GOLD, bad_topic, ES_SENTENCES)
    bad_sentence = {"M": {"topic_segment_ids": [{"id": 2, "key_sentence": ["9"]}], "key_sentence": ["1"]}}
    with pytest.raises(ValueError, match="sentence 9"):
        score_es(ES_GOLD, bad_sentence, ES_SENTENCES)


# --------------------------------------------------------------------------------------------------------------------
# Empty hypotheses: scored 0 and counted, never a crash


def test_empty_hypotheses_are_counted_not_crashed():
    gold = {"T": {"topic_segment_ids": [{"id": i, "candidate": [{"title": "预算讨论"}]} for i in (1, 2, 3, 4)]}}
    # topic 1 "" and topic 2 "." (only a dot: rouge 1.0.1 cuts it away and raises) are empty; topic 3 is missing;
    # topic 4 is an exact copy (~100). Each R = (0 + 0 + 0 + 100) / 4 = 25.
    pred = {"T": {"topic_segment_ids": [{"id": 1, "title": ""}, {"id": 2, "title": "."}, {"id": 4, "title": "预算讨论"}]}}
    result = score_ttg(gold, pred)
    assert (result["empty_hypotheses"], result["missing_hypotheses"], result["topics"]) == (2, 1, 4)
    assert result["max_rouge-1"] == close(25) and result["avg_rouge-l"] == close(25) and result["rank"] == close(25)

    es_pred = {"M": {"topic_segment_ids": [{"id": 2, "key_sentence": []}, {"id": 4, "key_sentence": ["4"]}], "key_sentence": []}}
    es = score_es(ES_GOLD, es_pred, ES_SENTENCES)
    assert (es["topic_empty_hypotheses"], es["session_empty_hypotheses"], es["empty_hypotheses"]) == (1, 1, 2)
    assert es["session_max_rouge-1"] == 0 and es["topic_max_rouge-1"] == close(50)  # topic 4: (0 + 100) / 2

    kpe = score_kpe({"K": {"candidate": [{"key_word": ["预算"]}]}}, {"K": {"key_word": []}})
    assert kpe["empty_hypotheses"] == 1 and kpe["rank"] == 0
    assert rouge_scores("", "参考") == {"rouge-1": 0.0, "rouge-2": 0.0, "rouge-l": 0.0}


def test_items_without_reference_are_skipped_and_counted():
    # A topic without candidates and a meeting without the session candidate list (the notes say both occur).
    gold = {"M": {"topic_segment_ids": [{"id": 2}, {"id": 4, "candidate": [{"key_sentence": ["4"]}, {"key_sentence": []}]}]}}
    pred = {
        "M": {"topic_segment_ids": [{"id": 2, "key_sentence": ["1"]}, {"id": 4, "key_sentence": ["4"]}], "key_sentence": ["1"]}
    }
    result = score_es(gold, pred, ES_SENTENCES)
    assert (result["topic_no_reference"], result["session_no_reference"], result["empty_references"]) == (1, 1, 1)
    assert result["topic_max_rouge-1"] == close(100) and result["session_max_rouge-1"] is None and result["rank"] is None
    assert score_kpe({"M": {}}, {"M": {"key_word": ["预算"]}})["no_reference"] == 1


# --------------------------------------------------------------------------------------------------------------------
# Files


def _gold_meetings() -> tuple[dict, dict, dict, dict]:
    """Two annotated meetings in the dataset's shape, plus their sentences, sizes and paragraph ends."""
    sentences = {
        "M1": {
            1: "今天讨论预算",
            2: "预算不能超过十万",
            3: "好的",
            4: "市场部负责宣传",
            5: "下周开会",
            6: "会议时间定在周三",
            7: "张三负责发通知",
            8: "散会",
        },
        "M2": {1: "我们聊聊招聘", 2: "需要三个工程师", 3: "面试安排在下周", 4: "李四准备题目", 5: "还有别的吗", 6: "没有了"},
    }
    gold = {
        "M1": {
            "meeting_key": "M1",
            "topic_segment_ids": [
                {
                    "id": 3,
                    "candidate": [
                        {"title": "预算讨论", "key_sentence": ["2"]},
                        {"title": "预算讨论", "key_sentence": ["1", "2"]},
                        {"title": "下周安排", "key_sentence": ["2"]},
                    ],
                },
                {
                    "id": 8,
                    "candidate": [
                        {"title": "会议时间", "key_sentence": ["6", "7"]},
                        {"title": "开会时间", "key_sentence": ["6"]},
                        {"title": "会议时间", "key_sentence": ["6", "7"]},
                    ],
                },
            ],
            "candidate": [
                {"key_sentence": ["2", "6"], "key_word": ["预算", "会议", "宣传"]},
                {"key_sentence": ["2", "7"], "key_word": ["预算", "通知"]},
            ],
            "action_ids": [{"id": 4}, {"id": 7}],
        },
        "M2": {
            "meeting_key": "M2",
            "topic_segment_ids": [
                {
                    "id": 3,
                    "candidate": [{"title": "招聘工程师", "key_sentence": ["2"]}, {"title": "招聘计划", "key_sentence": ["1"]}],
                },
                # The second annotator chose no key sentence: an empty reference, left out and counted.
                {"id": 6, "candidate": [{"title": "面试题目准备", "key_sentence": ["4"]}, {"key_sentence": []}]},
            ],
            "candidate": [
                {"key_sentence": ["1", "3"], "key_word": ["招聘", "工程", "面试", "题目", "下周", "人选", "薪资", "预算"]},
                {"key_sentence": ["1", "2", "3"], "key_word": ["招聘", "面试", "简历", "笔试", "入职", "培训"]},
            ],
            "action_ids": [{"id": 4}],
        },
    }
    n_sentences = {k: len(v) for k, v in sentences.items()}
    paragraph_ends = {"M1": [2, 3, 5, 6, 8], "M2": [1, 2, 3, 4, 5, 6]}
    return gold, sentences, n_sentences, paragraph_ends


def _perfect_rows(gold: dict) -> dict[str, list[dict]]:
    """Oracle submissions: gold boundaries and actions; the FIRST annotator's summaries and titles; every gold word."""
    rows: dict[str, list[dict]] = {name: [] for name in ("ts", "es", "ttg", "kpe", "aid")}
    for key, g in gold.items():
        topics = g["topic_segment_ids"]
        rows["ts"].append({"meeting_key": key, "topic_segment_ids": [{"id": t["id"]} for t in topics]})
        rows["aid"].append({"meeting_key": key, "action_ids": g["action_ids"]})
        rows["es"].append(
            {
                "meeting_key": key,
                "topic_segment_ids": [{"id": t["id"], "key_sentence": t["candidate"][0]["key_sentence"]} for t in topics],
                "key_sentence": g["candidate"][0]["key_sentence"],
            }
        )
        rows["ttg"].append(
            {"meeting_key": key, "topic_segment_ids": [{"id": t["id"], "title": t["candidate"][0]["title"]} for t in topics]}
        )
        rows["kpe"].append({"meeting_key": key, "key_word": list(dict.fromkeys(pooled_keywords(g["candidate"])))})
    return rows


def test_round_trip_perfect_submission(tmp_path):
    gold, sentences, n_sentences, paragraph_ends = _gold_meetings()
    rows = _perfect_rows(gold)
    pred = {}
    for name, task_rows in rows.items():
        path = write_submission(name, task_rows, tmp_path / f"{name}.json")
        pred[name] = read_submission(path)  # the task is inferred from the fields
        assert list(pred[name]) == ["M1", "M2"]
    # ES key sentences travel as id strings, ids as ints, as in the official files.
    first = json.loads((tmp_path / "es.json").read_text(encoding="utf-8").splitlines()[0])
    assert first["topic_segment_ids"][0] == {"id": 3, "key_sentence": ["2"]}

    # TS: M1 keeps paragraph ends 2 3 5 6 [8] -> gold 0 1 0 0; M2 keeps 1..5 [6] -> 0 0 1 0 0. A perfect copy: F1 100,
    # Pk = WD = 0 (masses [2, 2] and [3, 2], window 2), rank 100.
    ts = score_ts(gold, pred["ts"], n_sentences, paragraph_ends)
    assert (ts["f1"], ts["pk"], ts["windowdiff"], ts["rank"]) == (close(100), 0, 0, close(100))
    aid = score_aid(gold, pred["aid"], n_sentences)
    assert (aid["precision"], aid["recall"], aid["f1"]) == (close(100), close(100), close(100))

    # TTG: max is ~100 (the prediction IS the first reference); avg cannot be 100 where annotators disagree:
    #   M1 t3 vs (预算讨论, 预算讨论, 下周安排): (1 + 1 + 0)/3 = 2/3 for R1, R2, RL
    #   M1 t8 vs (会议时间, 开会时间, 会议时间): 开会时间 gives R1 3/4, R2 1/3 ({时间}), RL 3/4 (会时间)
    #        -> R1 = RL = (2 + 3/4)/3 = 11/12, R2 = (2 + 1/3)/3 = 7/9
    #   M2 t3 vs (招聘工程师, 招聘计划): 招聘计划 gives R1 2*(2/5)(2/4)/(9/10) = 4/9, R2 2*(1/4)(1/3)/(7/12) = 2/7,
    #        RL 4/9 -> R1 = RL = 13/18, R2 = 9/14
    #   M2 t6 vs (面试题目准备): 1
    # Pooled over 4 topics: R1 = RL = (2/3 + 11/12 + 13/18 + 1)/4 = 119/144, R2 = (2/3 + 7/9 + 9/14 + 1)/4 = 389/504
    ttg = score_ttg(gold, pred["ttg"])
    assert {k: ttg[f"max_{k}"] for k in ("rouge-1", "rouge-2", "rouge-l")} == rouge3(100, 100, 100)
    assert {k: ttg[f"avg_{k}"] for k in ("rouge-1", "rouge-2", "rouge-l")} == rouge3(11900 / 144, 38900 / 504, 11900 / 144)
    assert ttg["rank"] == close((2 * 11900 / 144 + 38900 / 504 + 300) / 6)

    # ES: max ~100 at both levels; avg:
    #   M1 t3 (3 annotators, the 1st and 3rd chose sentence 2) hyp 预算不能超过十万 (8 distinct, 7 bigrams) vs the 2nd,
    #        今天讨论预算预算不能超过十万 (12 distinct; 12 distinct bigrams): R1 = RL = 2*(8/12)/(1 + 8/12) = 0.8,
    #        R2 = 2*(7/12)/(1 + 7/12) = 14/19 -> avg ((2 + 0.8)/3, (2 + 14/19)/3, same) = (14/15, 52/57, 14/15)
    #   M1 t8 (the 1st and 3rd chose 6 7) hyp 会议时间定在周三张三负责发通知 (14 distinct, 14 bigrams) vs the 2nd,
    #        会议时间定在周三 (8, 7): R1 = RL = 2*(8/14)/(8/14 + 1) = 8/11, R2 = 2*(1/2)/(3/2) = 2/3
    #        -> avg ((2 + 8/11)/3, (2 + 2/3)/3, same) = (10/11, 8/9, 10/11)
    #   M2 t3 hyp 需要三个工程师 vs 我们聊聊招聘: nothing shared -> avg (1/2, 1/2, 1/2)
    #   M2 t6: the empty second reference is left out -> (1, 1, 1)
    #   topic avg R1 = RL = (14/15 + 10/11 + 1/2 + 1)/4, R2 = (52/57 + 8/9 + 1/2 + 1)/4
    #   session M1 hyp 预算不能超过十万会议时间定在周三 (16 distinct, 15 bigrams) vs 预算不能超过十万张三负责发通知
    #        (15 distinct, 14 bigrams): 9 shared characters (the first 8 and 三), 7 shared bigrams, LCS 9 ->
    #        R1 = RL = 18/31, R2 = 14/29 -> avg (49/62, 43/58, 49/62)
    #   session M2 hyp 我们聊聊招聘面试安排在下周 (12 distinct, 12 bigrams) vs the same with 需要三个工程师 inside
    #        (19 distinct, 19 bigrams): R1 = RL = 24/31, R2: 11 shared -> 22/31 -> avg (55/62, 53/62, 55/62)
    es = score_es(gold, pred["es"], sentences)
    for level in ("topic", "session"):
        assert {k: es[f"{level}_max_{k}"] for k in ("rouge-1", "rouge-2", "rouge-l")} == rouge3(100, 100, 100)
    topic_r1 = (14 / 15 + 10 / 11 + 0.5 + 1) / 4 * 100
    topic_r2 = (52 / 57 + 8 / 9 + 0.5 + 1) / 4 * 100
    session_r1 = (49 / 62 + 55 / 62) / 2 * 100
    session_r2 = (43 / 58 + 53 / 62) / 2 * 100
    assert {k: es[f"topic_avg_{k}"] for k in ("rouge-1", "rouge-2", "rouge-l")} == rouge3(topic_r1, topic_r2, topic_r1)
    assert {k: es[f"session_avg_{k}"] for k in ("rouge-1", "rouge-2", "rouge-l")} == rouge3(session_r1, session_r2, session_r1)
    assert es["rank"] == close((2 * topic_r1 + topic_r2 + 2 * session_r1 + session_r2 + 600) / 12)
    assert (es["empty_references"], es["empty_hypotheses"]) == (1, 0)

    # KPE: M1's gold has 4 distinct words -> exact and partial 100 at every cutoff. M2's has 12 (14 pooled, 招聘 and
    # 面试 twice), more than 10, so exact@10 cannot be 100: the top 10 miss 入职 and 培训 -> exact 2*(10/12)/(1 + 10/12)
    # = 10/11; partial P = 10/10, R = 12/14 (the duplicates count) -> 2*(6/7)/(13/7) = 12/13. @15 and @20: 100.
    kpe = score_kpe(gold, pred["kpe"])
    assert kpe["exact_f1@10"] == close((100 + 1000 / 11) / 2)
    assert kpe["partial_f1@10"] == close((100 + 1200 / 13) / 2)
    assert [kpe[f"{kind}_f1@{k}"] for kind in ("exact", "partial") for k in (15, 20)] == [close(100)] * 4
    assert kpe["rank"] == close(((100 + 1000 / 11) / 2 + (100 + 1200 / 13) / 2 + 400) / 6)


def test_read_submission_points_at_file_line_and_field(tmp_path):
    good = {"meeting_key": "M1", "topic_segment_ids": [{"id": 3}]}

    def read_lines(lines: list[str], **kwargs):
        path = tmp_path / "sub.json"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path, lambda: read_submission(path, **kwargs)

    path, read = read_lines([json.dumps(good), "{not json"])
    with pytest.raises(DataError, match="not valid JSON") as err:
        read()
    assert f"{path}:2" in str(err.value)

    path, read = read_lines([json.dumps(good), "", json.dumps({"meeting_key": "M2", "topic_segment_ids": [{"id": "3"}]})])
    with pytest.raises(DataError) as err:
        read()
    assert f"{path}:3" in str(err.value) and "topic_segment_ids[0].id" in str(err.value)

    path, read = read_lines([json.dumps({"topic_segment_ids": []})], task="ts")
    with pytest.raises(DataError, match="meeting_key"):
        read()

    path, read = read_lines([json.dumps(good), json.dumps(good)])
    with pytest.raises(DataError, match="appears twice") as err:
        read()
    assert f"{path}:2" in str(err.value)

    es_line = {"meeting_key": "M9", "topic_segment_ids": [{"id": 3, "key_sentence": ["1", "x"]}], "key_sentence": ["2"]}
    path, read = read_lines([json.dumps(es_line)])
    with pytest.raises(DataError) as err:
        read()
    assert "topic_segment_ids[0].key_sentence[1]" in str(err.value)

    path, read = read_lines([json.dumps({"meeting_key": "M1"})])
    with pytest.raises(DataError, match="cannot tell which task"):
        read()


def test_write_submission_refuses_empty_hypotheses(tmp_path):
    path = tmp_path / "ttg.json"
    rows = [{"meeting_key": "M1", "topic_segment_ids": [{"id": 3, "title": "预算"}, {"id": 8, "title": " "}]}]
    with pytest.raises(DataError, match="empty hypothesis") as err:
        write_submission("topic_title_generation", rows, path)
    assert "topic_segment_ids[1].title" in str(err.value)
    assert not path.exists()  # nothing half-written
    write_submission("ttg", rows, path, allow_empty=True)
    assert read_submission(path)["M1"]["topic_segment_ids"][1] == {"id": 8, "title": " "}
    with pytest.raises(DataError, match="empty hypothesis"):
        write_submission("kpe", [{"meeting_key": "M1", "key_word": []}], tmp_path / "kpe.json")
    with pytest.raises(ValueError, match="task must be one of"):
        write_submission("summarization", rows, tmp_path / "x.json")
