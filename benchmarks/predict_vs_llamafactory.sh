#!/usr/bin/env bash
# scripts/predict.py (with --keep-order: model.generate in the same batches; default: the engine) against LLaMA-Factory's own do_predict on the same model and
# data: are the outputs the same, and how many examples/s does each give (generation only, model load excluded).
# Needs: a CUDA GPU for meaningful numbers (runs on CPU too), the predict config's model and data.
# Usage: benchmarks/predict_vs_llamafactory.sh PREDICT_CONFIG OUT_DIR [key=value overrides for both]
# e.g.   benchmarks/predict_vs_llamafactory.sh configs/predict/qwen2.5-7b-instruct_qlora_chnsenticorp.yaml \
#          outputs/bench/predict max_samples=64 per_device_eval_batch_size=16 max_new_tokens=64
set -euo pipefail
if [[ $# -lt 2 || $1 == -h || $1 == --help ]]; then sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
config=$1 out=$2
shift 2
mkdir -p "$out"
echo "[1/4] llamafactory-cli train $config (do_predict) -> $out/llamafactory"
llamafactory-cli train "$config" "$@" output_dir="$out/llamafactory" > "$out/llamafactory.log" 2>&1 \
  || { tail -n 20 "$out/llamafactory.log"; exit 1; }
echo "[2/4] scripts/predict.py --keep-order (LLaMA-Factory's batches) -> $out/ours_keep_order"
"${PYTHON:-python}" scripts/predict.py --keep-order --out "$out/ours_keep_order" "$config" "$@" > "$out/ours_keep_order.log" 2>&1 \
  || { tail -n 20 "$out/ours_keep_order.log"; exit 1; }
echo "[3/4] scripts/predict.py (the engine) -> $out/ours_sorted"
"${PYTHON:-python}" scripts/predict.py --out "$out/ours_sorted" "$config" "$@" > "$out/ours_sorted.log" 2>&1 \
  || { tail -n 20 "$out/ours_sorted.log"; exit 1; }
echo "[4/4] compare"
status=0
"${PYTHON:-python}" scripts/compare_predictions.py "$out/ours_keep_order" "$out/llamafactory" > "$out/compare_keep_order.txt" || status=1
"${PYTHON:-python}" scripts/compare_predictions.py "$out/ours_sorted" "$out/llamafactory" > "$out/compare_sorted.txt" || true
"${PYTHON:-python}" - "$out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
lf = json.loads((out / "llamafactory" / "predict_results.json").read_text())
rows = {"llamafactory do_predict": lf.get("predict_samples_per_second")}
for name in ("ours_keep_order", "ours_sorted"):
    rows[f"scripts/predict.py ({name[5:].replace('_', ' ')})"] = json.loads((out / name / "predict_speed.json").read_text())["examples_per_second"]
summary = {"examples_per_second": rows,
           "compare_keep_order": (out / "compare_keep_order.txt").read_text().strip().splitlines()[:3],
           "compare_sorted": (out / "compare_sorted.txt").read_text().strip().splitlines()[:3]}
(out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
print(json.dumps(summary, indent=1, ensure_ascii=False))
PY
echo "outputs: $out/summary.json $out/llamafactory $out/ours_keep_order $out/ours_sorted"
exit $status
