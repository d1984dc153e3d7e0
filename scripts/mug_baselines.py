#!/usr/bin/env python
"""Reference rows for AliMeeting4MUG: a "perfect" submission made from the gold, and trivial baselines.

Example:
  python scripts/mug_baselines.py --data-dir data --split dev

Reads <data-dir>/mug_<task>/<split>.gold.jsonl (written by scripts/preprocess.py) and scores, with the official
rules: the gold itself (100 where the rules allow it: annotators disagree, so average ROUGE cannot reach 100),
and a trivial baseline per task: every 4th paragraph end a topic boundary; the first sentence of each topic as
its summary and (cut to 15 characters) as its title; the most frequent jieba words as keyphrases; sentences
with an assignment cue (负责, 交给, 安排, 落实) as action items. A model that does not beat these has learnt nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from qwen_recipes.cli import console, outputs, parser, run
from qwen_recipes.errors import DataError
from qwen_recipes.io import write_json, write_text
from qwen_recipes.metrics import mug

TASKS = ("mug_ts", "mug_es", "mug_ttg", "mug_kpe", "mug_aid")
CUES = ("负责", "交给", "安排", "落实")


def perfect(task: str, g: dict) -> dict:
    key = g["meeting_key"]
    topics = g["topic_segment_ids"]
    if task == "mug_ts":
        return {"meeting_key": key, "topic_segment_ids": [{"id": t["id"]} for t in topics]}
    if task == "mug_es":
        first = [c["key_sentence"] for t in topics for c in t["candidate"][:1]]
        session = g["candidate"][0]["key_sentence"] if g["candidate"] else [k[0] for k in first]
        return {"meeting_key": key, "key_sentence": session,
                "topic_segment_ids": [{"id": t["id"], "key_sentence": t["candidate"][0]["key_sentence"]}
                                      for t in topics if t["candidate"]]}
    if task == "mug_ttg":
        return {"meeting_key": key, "topic_segment_ids": [{"id": t["id"], "title": t["candidate"][0]["title"]}
                                                          for t in topics if t["candidate"]]}
    if task == "mug_kpe":
        votes = Counter(w for c in g["candidate"] for w in dict.fromkeys(c["key_word"]))
        return {"meeting_key": key, "key_word": [w for w, _ in votes.most_common()] or ["会议"]}
    return {"meeting_key": key, "action_ids": g["action_ids"]}


def trivial(task: str, g: dict) -> dict:
    key, texts = g["meeting_key"], {int(i): t for i, t in g["sentences"].items()}
    starts = [1] + [t["id"] + 1 for t in g["topic_segment_ids"][:-1]]
    if task == "mug_ts":
        ends = g["paragraph_ends"][3::4]
        return {"meeting_key": key, "topic_segment_ids": [{"id": i} for i in sorted(set(ends) | {g["n_sentences"]})]}
    if task == "mug_es":
        return {"meeting_key": key, "key_sentence": [str(s) for s in starts],
                "topic_segment_ids": [{"id": t["id"], "key_sentence": [str(s)]} for t, s in zip(g["topic_segment_ids"], starts,
                                                                                             strict=True)]}
    if task == "mug_ttg":
        return {"meeting_key": key, "topic_segment_ids": [{"id": t["id"], "title": texts[s][:15] or "会议"}
                                                          for t, s in zip(g["topic_segment_ids"], starts, strict=True)]}
    if task == "mug_kpe":
        import jieba

        words = Counter(w for t in texts.values() for w in jieba.cut(t) if len(w) >= 2)
        return {"meeting_key": key, "key_word": [w for w, _ in words.most_common(20)] or ["会议"]}
    return {"meeting_key": key, "action_ids": [{"id": i} for i, t in texts.items() if any(c in t for c in CUES)]}


def score(task: str, golds: dict, rows: list[dict]) -> dict:
    pred = {r["meeting_key"]: r for r in rows}
    n = {k: g["n_sentences"] for k, g in golds.items()}
    if task == "mug_ts":
        return mug.score_ts(golds, pred, n, {k: g["paragraph_ends"] for k, g in golds.items()})
    if task == "mug_es":
        return mug.score_es(golds, pred, {k: {int(i): t for i, t in g["sentences"].items()} for k, g in golds.items()})
    if task == "mug_ttg":
        return mug.score_ttg(golds, pred)
    if task == "mug_kpe":
        return mug.score_kpe(golds, pred)
    return mug.score_aid(golds, pred, n)


HEADLINE = {"mug_ts": ("f1", "pk", "windowdiff"), "mug_es": ("topic_max_rouge-l", "session_max_rouge-l"),
            "mug_ttg": ("avg_rouge-1", "max_rouge-1"), "mug_kpe": ("exact_f1@10", "partial_f1@10"),
            "mug_aid": ("precision", "recall", "f1")}


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("--data-dir", default="data")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--out", default=None, help="output folder (default: <data-dir>/mug_baselines)")
    args = ap.parse_args()
    results, lines = {}, ["| task | submission | rank | headline |", "|---|---|---|---|"]
    for task in TASKS:
        path = Path(args.data_dir) / task / f"{args.split}.gold.jsonl"
        if not path.exists():
            raise DataError("not found", path=path, hint=f"run scripts/preprocess.py {task} first")
        golds = {g["meeting_key"]: g for g in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
        for name, make in (("perfect", perfect), ("trivial", trivial)):
            s = score(task, golds, [make(task, g) for g in golds.values()])
            results.setdefault(task, {})[name] = s
            head = ", ".join(f"{k} {s[k]:.2f}" for k in HEADLINE[task] if k in s)
            lines.append(f"| {task} | {name} | {s['rank']:.2f} | {head} |")
            console.print(f"  {task:8} {name:8} rank {s['rank']:6.2f}  {head}")
    out = Path(args.out or Path(args.data_dir) / "mug_baselines")
    paths = [write_json(out / f"{args.split}.json", results), write_text(out / f"{args.split}.md", "\n".join(lines) + "\n")]
    outputs("outputs:", paths)
    return 0


if __name__ == "__main__":
    run(main)
