#!/usr/bin/env python
"""Predict with a predict config at the speed of the GPU: LLaMA-Factory's do_predict output, many times faster.

Examples:
  python scripts/predict.py configs/predict/tiny_qlora_psyqa.yaml
  python scripts/predict.py configs/predict/qwen2.5-7b-instruct_qlora_psyqa.yaml --merge      # QLoRA, merged: fastest
  python scripts/predict.py configs/predict/qwen2.5-7b-instruct_qlora_psyqa.yaml --gpu-memory-gib 22
  python scripts/predict.py configs/predict/tiny_qlora_chnsenticorp.yaml --max-samples 12 cutoff_len=128

The engine (src/qwen_recipes/models/engine.py) keeps one KV-cache slot per sequence, as many slots as free GPU
memory holds (not per_device_eval_batch_size), refills a slot as soon as its sequence stops, and replays each decode
step as a CUDA graph. A QLoRA adapter decodes over its 4-bit base exactly as in training; --merge dequantizes the
base once and merges the adapter (bf16 speed; rounding can change a greedy token: see the README's figures).
--engine generate is the previous path: model.generate in length-sorted batches of per_device_eval_batch_size.

Reads model, adapter, quantization, template, dataset_dir/eval_dataset, cutoff_len, max_new_tokens and
per_device_eval_batch_size from the config (key=value overrides are merged as llamafactory-cli merges them).
Prompts are built with LLaMA-Factory's template and cut with its cutoff_len rule, so the output matches
`llamafactory-cli train <config>` under greedy decoding (check with scripts/compare_predictions.py;
with --keep-order the batches are LLaMA-Factory's too, for a bit-exact check where bf16 kernels round
differently for different batch shapes).
Writes generated_predictions.jsonl (prompt, predict, label) and predict_speed.json into
<output_dir>/batched (or --out), so LLaMA-Factory's own files are never overwritten.
"""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from qwen_recipes.cli import console, outputs, parser, run


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("predict_config", help="a configs/predict/*.yaml (the file llamafactory-cli train would run)")
    ap.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, as llamafactory-cli accepts them")
    ap.add_argument("--out", help="output folder (default: <output_dir>/batched)")
    ap.add_argument("--engine", choices=("graph", "generate"), default="graph",
                    help="graph: the prediction engine (default); generate: model.generate in sorted batches")
    ap.add_argument("--merge", action="store_true",
                    help="4-bit base + adapter: dequantize the base once, merge the adapter, decode in bf16 (faster)")
    ap.add_argument("--gpu-memory-gib", type=float, metavar="GIB",
                    help="use at most this much GPU memory (as on a smaller card); the engine sizes its batch to it")
    ap.add_argument("--max-slots", type=int, default=256,
                    help="at most this many sequences decoded at once by the engine (default 256; memory may allow fewer)")
    ap.add_argument("--batch-size", type=int,
                    help="examples per batch for --engine generate (default: per_device_eval_batch_size)")
    ap.add_argument("--max-samples", type=int, help="only the first N examples of each eval dataset (max_samples)")
    ap.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    ap.add_argument("--keep-order", action="store_true",
                    help="batch in data order, as llamafactory-cli does (slower): the very same batches, for a bit-exact "
                         "check against it where kernels round differently for different batch shapes (bf16)")
    args = ap.parse_intermixed_args()  # overrides may come before or after the options
    if args.batch_size is not None and args.batch_size < 1:
        ap.error(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.max_slots < 1:
        ap.error(f"--max-slots must be at least 1, got {args.max_slots}")
    if args.gpu_memory_gib is not None and args.gpu_memory_gib <= 0:
        ap.error(f"--gpu-memory-gib must be positive, got {args.gpu_memory_gib}")

    from qwen_recipes.eval.prediction import predict

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        def progress(total: int):
            task_id = bar.add_task("generating", total=total)
            return lambda n: bar.advance(task_id, n)

        paths = predict(args.predict_config, args.out, batch_size=args.batch_size, max_samples=args.max_samples,
                        overrides=args.overrides, device=args.device, sort_by_length=not args.keep_order,
                        engine=args.engine, merge=args.merge, gpu_memory_gib=args.gpu_memory_gib, max_slots=args.max_slots,
                        progress=progress, log=console.print)
    import json

    speed = json.loads(paths["speed"].read_text(encoding="utf-8"))
    console.print(f"  {speed['examples']} examples in {speed['seconds']:.1f} s on {speed['device']}: "
                  f"{speed['examples_per_second']} examples/s, {speed['generated_tokens_per_second']} generated tokens/s "
                  f"({speed['engine']}, batch size {speed['batch_size']})")
    outputs("outputs:", [paths["predictions"], paths["speed"]])
    return 0


if __name__ == "__main__":
    run(main)
