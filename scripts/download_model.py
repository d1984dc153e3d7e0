#!/usr/bin/env python
"""Download a real model (ModelScope by default, Hugging Face with --hub huggingface) into models/.

Examples:
  python scripts/download_model.py Qwen/Qwen2.5-1.5B-Instruct
  python scripts/download_model.py Qwen/Qwen2.5-7B-Instruct --hub huggingface
  python scripts/download_model.py /data/models/Qwen2.5-7B-Instruct      # a local folder passes through

Prints the folder to use as model_name_or_path, e.g.
  llamafactory-cli train configs/train/qwen2.5-1.5b-instruct_qlora_chnsenticorp.yaml \
      model_name_or_path=models/Qwen2.5-1.5B-Instruct
"""

from __future__ import annotations

from qwen_recipes.cli import console, outputs, parser, run
from qwen_recipes.hub import HUBS, download


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("model", help="hub id (e.g. Qwen/Qwen2.5-1.5B-Instruct) or a local model folder")
    ap.add_argument("--hub", choices=sorted(HUBS), default="modelscope")
    ap.add_argument("--models-dir", default="models", help="where downloads go (default: models/)")
    ap.add_argument("--revision", help="branch, tag or commit to pin")
    args = ap.parse_args()
    console.print(f"[bold]model[/] {args.model} (hub: {args.hub})")
    path = download(args.model, args.hub, args.models_dir, args.revision)
    outputs("outputs:", [path])
    console.print(f"use it with: model_name_or_path={path}")
    return 0


if __name__ == "__main__":
    run(main)
