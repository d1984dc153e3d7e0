#!/usr/bin/env python
"""Predict with a predict config in length-sorted greedy batches: LLaMA-Factory's do_predict output, faster.

Examples:
  python scripts/predict.py configs/predict/tiny_qlora_psyqa.yaml
  python scripts/predict.py configs/predict/qwen2.5-7b-instruct_qlora_psyqa.yaml --batch-size 32
  python scripts/predict.py configs/predict/tiny_qlora_chnsenticorp.yaml --max-samples 12 cutoff_len=128

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
    ap.add_argument("--batch-size", type=int, help="examples per batch (default: per_device_eval_batch_size)")
    ap.add_argument("--max-samples", type=int, help="only the first N examples of each eval dataset (max_samples)")
    ap.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    ap.add_argument("--keep-order", action="store_true",
                    help="batch in data order, as llamafactory-cli does (slower): the very same batches, for a bit-exact "
                         "check against it where kernels round differently for different batch shapes (bf16)")
    args = ap.parse_intermixed_args()  # overrides may come before or after the options
    if args.batch_size is not None and args.batch_size < 1:
        ap.error(f"--batch-size must be at least 1, got {args.batch_size}")

    from qwen_recipes.eval.batch_generate import predict
    from qwen_recipes.eval.label_scoring import AdapterMismatch

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        def progress(total: int):
            task_id = bar.add_task("generating", total=total)
            return lambda n: bar.advance(task_id, n)

        try:
            paths = predict(args.predict_config, args.out, batch_size=args.batch_size, max_samples=args.max_samples,
                            overrides=args.overrides, device=args.device, sort_by_length=not args.keep_order,
                            progress=progress, log=console.print)
        except AdapterMismatch as err:
            console.print(f"[bold red]error:[/] {err}")
            return 2
    import json

    speed = json.loads(paths["speed"].read_text(encoding="utf-8"))
    console.print(f"  {speed['examples']} examples in {speed['seconds']:.1f} s on {speed['device']}: "
                  f"{speed['examples_per_second']} examples/s, {speed['generated_tokens_per_second']} generated tokens/s "
                  f"(batch size {speed['batch_size']})")
    outputs("outputs:", [paths["predictions"], paths["speed"]])
    return 0


if __name__ == "__main__":
    run(main)
