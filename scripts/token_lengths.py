#!/usr/bin/env python
"""Token lengths of the real sources under each shipped train config: the data behind every cutoff_len.

For every train config of a task with a real source on disk, the source goes through the project's preprocessor
(into a temporary folder), and each record is encoded the way LLaMA-Factory will train on it: the config's
tokenizer (Qwen's own, built offline, when the model is not on disk) and its `template`. The table gives prompt,
answer and total tokens (p50 / p90 / p95 / max, all splits pooled) and the share of records longer than the
config's cutoff_len, which LLaMA-Factory would truncate.

  python scripts/token_lengths.py                          # real data in ../shared/real-data (its README's layout)
  python scripts/token_lengths.py --real-data ~/data --out outputs/token_lengths
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from qwen_recipes import configs
from qwen_recipes.cli import console, outputs, parser, run
from qwen_recipes.io import read_json, write_json, write_text

# Where each task's real source sits under --real-data (the layout of ../shared/real-data/README.md).
SOURCES = {
    "chnsenticorp": ["chnsenticorp/ymcui", "chnsenticorp/htl_all/ChnSentiCorp_htl_all.csv"],
    "psyqa": ["psyqa/PsyQA_example.json"],
    "emotion_summary": ["longemotion/Emotion_Summary.jsonl"],
}


def _stats(values: list[int]) -> dict[str, int]:
    arr = np.array(values)
    return {**{f"p{q}": int(np.percentile(arr, q)) for q in (50, 90, 95)}, "max": int(arr.max())}


def measure(task: str, source: Path, tokenizer: str, template: str) -> dict[str, Any]:
    from qwen_recipes.data.lengths import token_lengths
    from qwen_recipes.data.prepare import prepare

    with tempfile.TemporaryDirectory() as tmp:
        result = prepare(task, source, tmp, log=lambda _: None)
        records = {split: read_json(path) for split, path in result.outputs.items()}
    pairs = [pair for split in token_lengths(records, tokenizer, template).values() for pair in split]
    return {"n": len(pairs), "prompt": _stats([p for p, _ in pairs]), "answer": _stats([a for _, a in pairs]),
            "total": _stats([p + a for p, a in pairs]), "totals": [p + a for p, a in pairs]}


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| config | source | records | prompt p50 / p95 | answer p50 / p95 | total p50 / p90 / p95 / max | cutoff_len "
            "| over cutoff |\n|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        p, a, t = r["prompt"], r["answer"], r["total"]
        lines.append(f"| {r['config']} | {r['source']} | {r['n']:,} | {p['p50']:,} / {p['p95']:,} | {a['p50']:,} / "
                     f"{a['p95']:,} | {t['p50']:,} / {t['p90']:,} / {t['p95']:,} / {t['max']:,} | {r['cutoff_len']:,} | "
                     f"{r['over_cutoff']} ({r['over_cutoff_share']:.1%}) |")
    return head + "\n".join(lines) + "\n"


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("--real-data", default="../shared/real-data", help="folder of the real sources (default: %(default)s)")
    ap.add_argument("--out", default="benchmarks/results/token_lengths",
                    help="results stem: .json and .md (default: %(default)s)")
    args = ap.parse_args()
    root = Path(args.real_data)
    cfgs = [p for p in sorted(Path("configs/train").glob("qwen*.yaml"))
            if str(configs.load(p).get("dataset", "")).removesuffix("_train") in SOURCES]
    measured: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    rows = []
    for path in cfgs:
        cfg = configs.load(path)
        task = cfg["dataset"].removesuffix("_train")
        for rel in SOURCES[task]:
            source = root / rel
            if not source.exists():
                console.print(f"  skipped {path.name} x {rel}: {source} not found")
                continue
            key = (task, rel, cfg["model_name_or_path"], cfg.get("template", "qwen"))
            if key not in measured:
                console.print(f"  {task} <- {source} ({cfg['model_name_or_path']}, template {key[3]})")
                measured[key] = measure(task, source, cfg["model_name_or_path"], key[3])
            m, cutoff = measured[key], int(cfg.get("cutoff_len", 2048))
            over = sum(t > cutoff for t in m["totals"])
            rows.append({"config": path.name, "source": rel, "tokenizer": cfg["model_name_or_path"], "template": key[3],
                         "cutoff_len": cutoff, "over_cutoff": over, "over_cutoff_share": over / m["n"],
                         **{k: v for k, v in m.items() if k != "totals"}})
    if not rows:
        console.print(f"[bold red]error:[/] no real source found under {root}")
        return 2
    stem = Path(args.out)
    write_json(stem.with_suffix(".json"), {"command": "python scripts/token_lengths.py", "rows": rows})
    write_text(stem.with_suffix(".md"), table(rows))
    console.print(table(rows))
    outputs("outputs:", [stem.with_suffix(".json"), stem.with_suffix(".md")])
    return 0


if __name__ == "__main__":
    run(main)
