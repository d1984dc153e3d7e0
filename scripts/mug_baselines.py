#!/usr/bin/env python
"""Reference rows for AliMeeting4MUG: a "perfect" submission made from the gold, and trivial baselines.

Example:
  python scripts/mug_baselines.py --data-dir data --split dev

Reads <data-dir>/mug_<task>/<split>.gold.jsonl (written by scripts/preprocess.py) and scores, with the official
rules: the gold itself (100 where the rules allow it: annotators disagree, so average ROUGE cannot reach 100),
and a trivial baseline per task (each task's ``trivial``: every 4th paragraph end a topic boundary; the first
sentence of each topic as its summary and, cut to 15 characters, as its title; the most frequent jieba words as
keyphrases; sentences with an assignment cue as action items). A model that does not beat these has learnt nothing.
"""

from __future__ import annotations

from pathlib import Path

from qwen_recipes.cli import console, outputs, parser, run
from qwen_recipes.eval.mug_eval import baselines
from qwen_recipes.io import write_json, write_text


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("--data-dir", default="data", help="LLaMA-Factory dataset_dir the tasks were preprocessed into")
    ap.add_argument("--split", default="dev", help="which split's gold to score (default: dev)")
    ap.add_argument("--out", default=None, help="output folder (default: <data-dir>/mug_baselines)")
    args = ap.parse_args()
    results, lines = baselines(Path(args.data_dir), args.split, log=console.print)
    out = Path(args.out or Path(args.data_dir) / "mug_baselines")
    paths = [write_json(out / f"{args.split}.json", results), write_text(out / f"{args.split}.md", "\n".join(lines) + "\n")]
    outputs("outputs:", paths)
    return 0


if __name__ == "__main__":
    run(main)
