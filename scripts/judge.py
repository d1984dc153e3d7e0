#!/usr/bin/env python
"""Score LongEmotion Emotion Summary predictions with an LLM judge, as the benchmark does (GPT-4o, temperature 0).

Example:
  python scripts/judge.py outputs/train/<run>/predict/emotion_summary_test --base-url https://api.openai.com/v1 --model gpt-4o
  python scripts/judge.py generated_predictions.jsonl --base-url http://127.0.0.1:8000/v1 --model judge --limit 5

Any OpenAI-compatible chat-completions endpoint works (OpenAI, vLLM, `llamafactory-cli api`). The judge rates each of
the five fields (causes, symptoms, treatment_process, characteristics_of_illness, treatment_effect) 1-5 on factual
consistency, completeness and clarity against the reference; an item's score is the mean of the 15 ratings. A reply
without all 15 ratings as integers 1-5 is counted unparseable, never guessed. Writes judge.jsonl (per item) and
judge.json (summary and settings) beside the predictions (or into --out-dir). The API key, and the user info and
query string of --base-url, are never written or printed. When the endpoint goes down part-way, what was judged is
written; --resume then judges only the rest.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from qwen_recipes.cli import console, outputs, parser, run
from qwen_recipes.eval import judge as J
from qwen_recipes.eval import predictions as P
from qwen_recipes.io import write_json, write_jsonl


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("predictions", help="predict output_dir, or the generated_predictions.jsonl file")
    ap.add_argument("--base-url", required=True, help="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1")
    ap.add_argument("--model", required=True, help="judge model name sent in each request (the benchmark uses gpt-4o)")
    ap.add_argument("--api-key", help="bearer token (default: $OPENAI_API_KEY; none is sent when neither is set)")
    ap.add_argument("--limit", type=int, help="judge only the first N predictions (a quick look)")
    ap.add_argument("--out-dir", help="where to write judge.jsonl and judge.json (default: beside the predictions)")
    ap.add_argument("--max-tokens", type=int, default=1024, help="reply length limit per request (default: 1024)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per request attempt (default: 120)")
    ap.add_argument("--retries", type=int, default=3,
                    help="retries on connection errors, timeouts, 429 and 5xx, with exponential backoff (default: 3)")
    ap.add_argument("--workers", type=int, default=1, help="requests in flight at once (default: 1)")
    ap.add_argument("--resume", action="store_true",
                    help="keep the items an earlier run wrote to judge.jsonl (scored or unparseable); judge the rest")
    args = ap.parse_args()
    if args.limit is not None and args.limit < 1:
        ap.error("--limit must be at least 1")

    path = P.resolve(args.predictions)
    rows = P.read(path)
    J.check_references(rows, path)  # before any request: a wrong file costs nothing
    if args.limit:
        rows = rows[: args.limit]
    api_key = args.api_key or os.environ.get("OPENAI_API_KEY") or None

    out_dir = Path(args.out_dir) if args.out_dir else path.parent
    items_path, summary_path = out_dir / "judge.jsonl", out_dir / "judge.json"
    settings = {
        "predictions": str(path),
        "limit": args.limit,
        "base_url": J.Redactor(api_key, args.base_url).base_url,
        "model": args.model,
        "temperature": J.TEMPERATURE,
        "max_tokens": args.max_tokens,
        "timeout_s": args.timeout,
        "retries": args.retries,
        "rubric_sha256": J.RUBRIC_SHA256,
    }
    done = J.finished_items(items_path, summary_path, settings) if args.resume else {}
    todo = [r for r in rows if r.line not in done]
    if done:
        console.print(f"resuming: {len(done)} items already judged in {items_path}, {len(todo)} to go")

    def write(items: list[J.JudgedItem], complete: bool) -> dict:
        items = sorted(items, key=lambda i: i.line)
        summary = J.summarize(items)
        write_jsonl(items_path, [i.to_dict() for i in items])
        write_json(summary_path, {"summary": summary, "settings": settings, "complete": complete,
                                  "rows": len(rows)})
        return summary

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task_id = bar.add_task(f"judging with {args.model}", total=len(todo))
        try:
            new, _ = J.judge_predictions(
                todo, base_url=args.base_url, model=args.model, api_key=api_key, max_tokens=args.max_tokens,
                timeout=args.timeout, retries=args.retries, workers=args.workers,
                progress=lambda _item: bar.advance(task_id),
            )
        except J.JudgeError as err:
            bar.stop()
            console.print(f"[bold red]error:[/] {err}")
            kept = list(done.values()) + err.items
            if err.items:  # finished work is kept: a rerun with --resume judges only the rest
                write(kept, complete=False)
                console.print(f"  {len(kept)} of {len(rows)} items are judged and kept in {items_path}; "
                              "rerun with --resume to judge the rest")
            return 2
    summary = write(list(done.values()) + new, complete=True)

    mean = summary["mean_score"]
    console.print(f"[bold]Emotion Summary judge[/] ({args.model}): n={summary['n']} scored {summary['scored']}, "
                  f"unparseable {summary['unparseable']}, failed requests {summary['failed_requests']}; "
                  f"mean score {'n/a' if mean is None else f'{mean:.3f}'} (1-5, over scored items)")
    if summary["scored"]:
        console.print("  per field: " + ", ".join(f"{f} {v:.2f}" for f, v in summary["per_field"].items()))
        console.print("  per criterion: " + ", ".join(f"{c} {v:.2f}" for c, v in summary["per_criterion"].items()))
    if summary["scored"] < summary["n"]:
        console.print(f"[yellow]warning:[/] {summary['n'] - summary['scored']} of {summary['n']} items have no score "
                      f"(see 'error' in {items_path.name}); the mean covers the scored ones only")
    outputs("outputs:", [summary_path, items_path])
    return 0


if __name__ == "__main__":
    run(main)
