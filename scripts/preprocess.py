#!/usr/bin/env python
"""Turn a raw source into LLaMA-Factory training files: Alpaca JSON per split, report.json, dataset_info.json.

Examples:
  python scripts/preprocess.py chnsenticorp --input dataset/chnsenticorp            # train/dev/test files
  python scripts/preprocess.py chnsenticorp --input dataset/ChnSentiCorp_htl_all.csv  # no split: seeded 80/10/10
  python scripts/preprocess.py chnsenticorp --input dataset/samples/chnsenticorp --data-dir outputs/demo/data
  python scripts/preprocess.py psyqa --input dataset/PsyQA_full.json --answers labeled \
      --tokenizer Qwen/Qwen2.5-7B-Instruct --cutoff-len 2048     # token lengths with this tokenizer (default: qwen2.5)
  python scripts/preprocess.py emotion_summary --input dataset/Emotion_Summary.jsonl --kfold 5 --fold 0
  python scripts/preprocess.py mug_ts --input dataset/alimeeting4mug --config configs/train/qwen2.5-7b-instruct_qlora_mug_ts.yaml
  python scripts/preprocess.py sharegpt --input dataset/my_chats.jsonl     # your own conversations (or a folder of them)
  python scripts/preprocess.py alpaca --input dataset/my_alpaca.json --config configs/train/qwen2.5-7b-instruct_lora_sharegpt.yaml

Every input row is written or listed in report.json under "dropped" with its reason (rejected, duplicate,
conflict, leak); the counts per input part add up (read = kept + dropped).
"""

from __future__ import annotations

from collections import Counter

from rich.markup import escape

from qwen_recipes.cli import console, outputs, parser, run
from qwen_recipes.data.prepare import DEFAULT_RATIOS, prepare
from qwen_recipes.tasks import all_tasks, get_task


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("task", choices=sorted(all_tasks()), help="task to build records for")
    ap.add_argument("--input", required=True, help="raw file, or a directory with train/dev/test files")
    ap.add_argument("--data-dir", default="data", help="LLaMA-Factory dataset_dir to write into (default: data)")
    ap.add_argument("--seed", type=int, default=42, help="seed for splits the source does not have (default: 42)")
    ap.add_argument(
        "--ratios", default=",".join(str(v) for v in DEFAULT_RATIOS.values()),
        help="train,dev,test shares for unsplit sources (default: 0.8,0.1,0.1)",
    )
    ap.add_argument("--encoding", default="utf-8", help="encoding of text inputs (e.g. gbk; default: utf-8)")
    ap.add_argument("--kfold", type=int, help="k-fold split of an unsplit source (fold --fold is test, the next is dev)")
    ap.add_argument("--fold", type=int, default=0, help="which fold is the test split with --kfold (default: 0)")
    ap.add_argument("--answers", choices=("all", "labeled"), default="all",
                    help="psyqa: every answer as a target, or the strategy-labeled one per question (default: all)")
    ap.add_argument("--tokenizer", help="tokenizer for the token-length report and meeting windows: a folder, a hub id, "
                    "or qwen2.5 / qwen2 (Qwen's own, built offline; default: qwen2.5)")
    ap.add_argument("--cutoff-len", type=int, default=2048, help="cutoff_len whose truncation share is reported")
    ap.add_argument("--config", help="a train config: take tokenizer (model_name_or_path), cutoff_len and dataset_dir "
                                     "from it, so windows and length checks match what training will see")
    args = ap.parse_args()
    if args.kfold is not None and not (args.kfold >= 3 and 0 <= args.fold < args.kfold):
        ap.error(f"--kfold K --fold I needs K >= 3 and 0 <= I < K (fold I is test, the next dev), "
                 f"got --kfold {args.kfold} --fold {args.fold}")
    if args.kfold is None and args.fold != 0:
        ap.error("--fold needs --kfold")
    if args.config:
        from qwen_recipes import configs
        from qwen_recipes.errors import DataError

        cfg = configs.load(args.config)
        if not cfg.get("model_name_or_path"):
            raise DataError("missing (the tokenizer to size records with)", path=args.config, field="model_name_or_path")
        try:
            cutoff = int(cfg.get("cutoff_len", args.cutoff_len))
        except (TypeError, ValueError):
            raise DataError(f"not an integer: {cfg.get('cutoff_len')!r}", path=args.config, field="cutoff_len") from None
        if cfg.get("packing") or cfg.get("neat_packing"):
            cutoff -= 1  # LLaMA-Factory trains packed rows at cutoff_len - 1 (DataArguments.__post_init__)
        args.tokenizer, args.cutoff_len = cfg["model_name_or_path"], cutoff
        args.data_dir = cfg.get("dataset_dir", args.data_dir)
    try:
        values = [float(v) for v in args.ratios.split(",")]
    except ValueError:
        ap.error(f"--ratios: expected three numbers like 0.8,0.1,0.1, got {args.ratios!r}")
    if len(values) != 3:
        ap.error(f"--ratios: expected three numbers like 0.8,0.1,0.1, got {args.ratios!r}")
    ratios = dict(zip(DEFAULT_RATIOS, values, strict=True))
    from qwen_recipes.errors import DataError
    from qwen_recipes.hub import load_tokenizer

    if args.tokenizer:  # before any work: offline, a hub id that is not cached fails here, in one line
        load_tokenizer(args.tokenizer, *(("model_name_or_path", args.config) if args.config else ()), log=console.print)
    else:  # Qwen's own vocabulary by default: the token counts users will train with
        from qwen_recipes import qwen_tokenizer

        try:  # built once and cached; loaded (seconds for 151k ids) only when the lengths are counted, after the reading
            qwen_tokenizer.path("qwen2.5", log=console.print)
            args.tokenizer = "qwen2.5"
        except DataError as err:
            console.print(f"  [yellow]note:[/] no token-length report ({err}); meeting windows counted in characters")

    console.print(f"[bold]preprocess[/] {args.task} <- {args.input}")
    options = {"answers": args.answers} if args.task == "psyqa" else {}
    if get_task(args.task).sized_by_tokens:  # meeting windows: packed with the tokenizer and cutoff_len given
        options.update(tokenizer=args.tokenizer, cutoff_len=args.cutoff_len)
    lengths = {"tokenizer": args.tokenizer, "cutoff_len": args.cutoff_len} if args.tokenizer else None
    result = prepare(args.task, args.input, args.data_dir, seed=args.seed, ratios=ratios, encoding=args.encoding,
                     kfold=(args.kfold, args.fold) if args.kfold else None, options=options, lengths=lengths,
                     log=console.print)
    totals = result.report["totals"]
    console.print(
        "  read {read}, kept {kept}; dropped: rejected {rejected}, duplicates {duplicates}, "
        "conflicts {conflicts}, leaks {leaks}".format(**totals)
    )
    rejected = Counter(d["reason"] for d in result.report["dropped"] if d["category"] == "rejected")
    for reason, n in rejected.most_common(8):
        first = next(d for d in result.report["dropped"] if d["reason"] == reason)
        console.print(escape(f"  rejected {n} x {reason} (first: {first['path']}:{first['line']}"
                             + (f", field {first['field']}" if first["field"] else "") + ")"))
    if len(rejected) > 8:
        console.print(f"  ... {len(rejected) - 8} more reasons in report.json (dropped)")
    if result.report.get("dropped_inside_items"):
        console.print(f"  {len(result.report['dropped_inside_items'])} parts dropped inside kept items (empty answers or "
                      "turns; report.json: dropped_inside_items)")
    for split, info in result.report["written"].items():
        detail = info["labels"] or ("(unlabeled)" if not info["labeled"] else f"from {info['items']} items")
        console.print(f"  {split}: {info['n']} records {detail}")
    for split, stats in result.report.get("lengths", {}).get("splits", {}).items():
        t = stats["total_tokens"]
        turns = stats.get("exchanges")
        console.print(f"  {split} tokens: median {t['p50']}, p95 {t['p95']}, max {t['max']}; "
                      f"{stats['truncated_share']:.1%} longer than cutoff_len {args.cutoff_len}"
                      + (f"; {turns['total']} exchanges (max {turns['max']} in one), {turns['cut_at_cutoff']} of them "
                         "cut at cutoff_len" if turns else ""))
    if result.report.get("windows"):
        w = result.report["windows"]
        console.print(f"  windows: {w['windows']} from {w['meetings']} meetings (max {w['windows_per_meeting_max']} per "
                      f"meeting); {w['cut_chars']} characters cut to fit in {w['meetings_with_cuts']} meetings")
    if result.report.get("note"):
        console.print(f"  [yellow]note:[/] {result.report['note']}")
    outputs("outputs:", [*result.outputs.values(), result.report_path, f"{args.data_dir}/dataset_info.json"])
    return 0


if __name__ == "__main__":
    run(main)
