#!/usr/bin/env python
"""Check an exported model: its logits must equal base + adapter, and differ from the base alone.

Example:
  llamafactory-cli export configs/export/tiny_qlora_chnsenticorp.yaml
  python scripts/check_merge.py configs/export/tiny_qlora_chnsenticorp.yaml

Reads model_name_or_path, adapter_name_or_path and export_dir from the export config (no paths to
repeat), writes merge_check.json into the export folder and exits 1 when the check fails.
"""

from __future__ import annotations

from pathlib import Path

from qwen_recipes import configs
from qwen_recipes.cli import console, outputs, parser, run
from qwen_recipes.io import write_json


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("export_config", help="the llamafactory-cli export YAML that made the merged model")
    args = ap.parse_args()
    cfg = configs.load(args.export_config)
    from qwen_recipes.models.merge_check import check

    console.print(f"[bold]merge check[/]: {cfg['export_dir']} vs {cfg['model_name_or_path']} + {cfg['adapter_name_or_path']}")
    result = check(cfg["model_name_or_path"], cfg["adapter_name_or_path"], cfg["export_dir"])
    path = write_json(Path(cfg["export_dir"]) / "merge_check.json", result.as_dict())
    verdict = "[green]OK[/]" if result.ok else "[red]FAILED[/]"
    console.print(
        f"  {verdict}: max |merged - (base+adapter)| = {result.max_diff_merged_vs_reference:.3g} "
        f"(allowed {result.tolerance:.3g}: {result.dtype} rounding alone gives {result.rounding_budget:.3g}); "
        f"max |base - (base+adapter)| = {result.max_diff_base_vs_reference:.3g}; "
        f"{result.weights_changed} weight tensors changed"
    )
    outputs("outputs:", [path])
    return 0 if result.ok else 1


if __name__ == "__main__":
    run(main)
