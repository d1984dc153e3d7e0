#!/usr/bin/env python
"""Write (or --check) the project's own small samples under dataset/samples/.

The samples are generated from hand-written phrases with a fixed seed; the committed files must be
exactly what the generators make (a test runs --check).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import qwen_recipes.samples
from qwen_recipes.cli import console, output_dir, outputs, parser, run
from qwen_recipes.io import write_text


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("--out", default="dataset/samples", help="root folder (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="only compare the files on disk with the generators")
    args = ap.parse_args()
    output_dir(args.out)
    written, stale = [], []
    for info in pkgutil.iter_modules(qwen_recipes.samples.__path__):
        module = importlib.import_module(f"qwen_recipes.samples.{info.name}")
        for name, text in module.render().items():
            path = Path(args.out) / info.name / name
            if args.check:
                if not path.exists() or path.read_bytes() != text.encode("utf-8"):  # bytes: CRLF samples stay CRLF
                    stale.append(path)
            else:
                written.append(write_text(path, text))
    if args.check:
        for p in stale:
            console.print(f"[red]stale:[/] {p} (run python scripts/make_samples.py)")
        return 1 if stale else 0
    outputs("outputs:", written)
    return 0


if __name__ == "__main__":
    run(main)
