"""AliMeeting4MUG scoring: the challenge's rules for its five tasks, reproduced on plain Python data, and its files.

``text`` (tokenizer, ROUGE), ``scorers`` (one per task), ``submission`` (the official files); everything public
is importable from here.

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

from qwen_recipes.metrics.mug.scorers import (
    KPE_CUTOFFS,
    fuzzy_match,
    pk_windowdiff,
    pooled_keywords,
    score_aid,
    score_es,
    score_kpe,
    score_ts,
    score_ttg,
    segment_masses,
)
from qwen_recipes.metrics.mug.submission import TASK_ALIASES, TASKS, read_submission, write_submission
from qwen_recipes.metrics.mug.text import ROUGE_KEYS, basic_tokenize, lcs_tokens, multi_reference_rouge, rouge_scores

__all__ = [
    "KPE_CUTOFFS", "ROUGE_KEYS", "TASKS", "TASK_ALIASES", "basic_tokenize", "fuzzy_match", "lcs_tokens",
    "multi_reference_rouge", "pk_windowdiff", "pooled_keywords", "read_submission", "rouge_scores", "score_aid",
    "score_es", "score_kpe", "score_ts", "score_ttg", "segment_masses", "write_submission",
]
