#!/usr/bin/env python
"""Download a public dataset the project knows into dataset/ (AliMeeting4MUG from ModelScope).

Examples:
  python scripts/download_data.py alimeeting4mug                     # -> dataset/alimeeting4mug/{train,dev,test}.csv
  python scripts/download_data.py alimeeting4mug --subset only_topic_segmentation

ChnSentiCorp, PsyQA and LongEmotion come under their authors' terms: get them as the README says and pass
their paths to scripts/preprocess.py.
"""

from __future__ import annotations

from qwen_recipes.cli import console, outputs, parser, run
from qwen_recipes.hub import DATASETS, download_dataset


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("dataset", choices=sorted(DATASETS))
    ap.add_argument("--out", help="folder to write (default: dataset/<name>)")
    ap.add_argument("--subset", default="default", help="ModelScope subset (default: default)")
    args = ap.parse_args()
    out = args.out or f"dataset/{args.dataset}"
    console.print(f"[bold]dataset[/] {args.dataset} -> {out}")
    paths = download_dataset(args.dataset, out, args.subset)
    outputs("outputs:", paths)
    return 0


if __name__ == "__main__":
    run(main)
