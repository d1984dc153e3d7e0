#!/usr/bin/env python
"""Write (or --check) data/dataset_info.json from the task registry. Never edit that file by hand."""

from __future__ import annotations

from pathlib import Path

from qwen_recipes.cli import console, outputs, parser, run
from qwen_recipes.data import dataset_info
from qwen_recipes.errors import DataError
from qwen_recipes.io import write_text


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("--data-dir", default="data", help="LLaMA-Factory dataset_dir (default: data)")
    ap.add_argument("--check", action="store_true", help="exit 1 if the file differs from the generator")
    args = ap.parse_args()
    data_dir = Path(args.data_dir)
    if data_dir.exists() and not data_dir.is_dir() or args.check and not data_dir.exists():
        raise DataError("not a folder" if data_dir.exists() else "no such folder", path=data_dir, field="--data-dir")
    path = data_dir / dataset_info.FILE_NAME
    text = dataset_info.render(dataset_info.build())
    if args.check:
        same = path.exists() and path.read_text(encoding="utf-8") == text
        console.print(f"{path}: {'up to date' if same else 'stale (run python scripts/make_dataset_info.py)'}")
        return 0 if same else 1
    write_text(path, text)
    outputs("outputs:", [path])
    return 0


if __name__ == "__main__":
    run(main)
