#!/usr/bin/env bash
# QLoRA under DeepSpeed ZeRO-3 end to end: train an adapter on two GPUs (benchmarks/zero3_adapter_merge.yaml),
# merge it with `llamafactory-cli export`, and check that the merged model's logits are base + adapter's
# (scripts/check_merge.py; it also checks the adapter changes the logits at all).
# Needs: 2 CUDA GPUs, ./setup.sh --gpu (it builds Qwen's tokenizer too)
# Usage: benchmarks/zero3_merge_check.sh [OUT_DIR]   (default outputs/bench/zero3; SUITE=... for another suite)
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
out=${1:-outputs/bench/zero3}
suite=${SUITE:-benchmarks/zero3_adapter_merge.yaml}
py=${PYTHON:-python}
echo "[1/3] train ($suite) -> $out"
"$py" scripts/benchmark.py "$suite" --out "$out"
echo "[2/3] llamafactory-cli export"
"$py" - "$out" <<'PY'
import json
import sys
from pathlib import Path
import yaml
out = Path(sys.argv[1])
run = json.loads((out / "results.json").read_text())[0]["name"]  # the suite's (first) run trained the adapter
args = yaml.safe_load((out / run.replace("/", "_") / "args.yaml").read_text())
export = yaml.safe_load(Path("configs/export/qwen2.5-1.5b-instruct_qlora_psyqa.yaml").read_text())
export.update(model_name_or_path=args["model_name_or_path"], adapter_name_or_path=args["output_dir"],
              export_dir=str(out / "merged"))
(out / "export.yaml").write_text(yaml.safe_dump(export, sort_keys=False))
PY
llamafactory-cli export "$out/export.yaml" > "$out/export.log" 2>&1 || { tail -n 20 "$out/export.log"; exit 1; }
echo "[3/3] merge check"
"$py" scripts/check_merge.py "$out/export.yaml"
echo "outputs: $out/merged (merged model, merge_check.json) $out/results.md"
