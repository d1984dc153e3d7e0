#!/usr/bin/env python
"""Train with LLaMA-Factory's own run_exp (same YAML, same key=value overrides as `llamafactory-cli train`), plus the
task's own dev metric at every evaluation: accuracy / macro-F1 / ROC-AUC for sentiment (label scoring), ROUGE-L for
generation tasks (greedy answers on a bounded dev subset, through the prediction engine), the official rank for an
AliMeeting4MUG task. The scores go into the trainer's logs (trainer_state.json, LLaMA-Factory's plots, TensorBoard),
so metric_for_best_model, load_best_model_at_end and early_stopping_steps can use them.

Examples:
  python scripts/train.py configs/train/qwen2.5-7b-instruct_qlora_chnsenticorp.yaml \\
      metric_for_best_model=accuracy load_best_model_at_end=true early_stopping_steps=3
  python scripts/train.py configs/train/qwen2.5-7b-instruct_qlora_psyqa.yaml --task-eval-samples 32 \\
      metric_for_best_model=rouge-l load_best_model_at_end=true

The config needs an eval_dataset of the project (one dev split) and an evaluation schedule (eval_strategy, eval_steps);
every shipped train config has both. Writes what llamafactory-cli train writes, into the config's output_dir, and
task_metrics.json (the task scores per evaluation) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qwen_recipes.cli import console, outputs, parser, run


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("config", help="a train config (configs/train/*.yaml)")
    ap.add_argument("overrides", nargs="*", help="key=value, as for llamafactory-cli train")
    ap.add_argument("--task-eval-samples", type=int, default=None,
                    help="generation examples (or meetings) scored per evaluation (default: 64); label tasks score "
                         "their whole dev split")
    args = ap.parse_args()

    from llamafactory.hparams import read_args

    from qwen_recipes import configs
    from qwen_recipes.errors import DataError
    from qwen_recipes.eval import during_training as dt
    from qwen_recipes.io import write_json

    config = Path(args.config)
    configs.load(config)  # a missing file, a folder, bytes or YAML that is not a mapping: one line naming it
    if config.suffix not in (".yaml", ".yml"):
        raise DataError("a train config is a .yaml file (LLaMA-Factory reads it by its suffix)", path=config)
    bad = [o for o in args.overrides if "=" not in o]
    if bad:
        raise DataError(f"override {bad[0]!r} is not key=value", path=config)
    sys.argv = [sys.argv[0], str(config), *args.overrides]  # read_args merges them exactly as llamafactory-cli does
    train_args = read_args()
    if str(train_args.get("eval_strategy", "no")) == "no":
        raise DataError("no evaluation schedule: task metrics are computed at evaluations", path=config,
                        field="eval_strategy", hint="set eval_strategy=steps eval_steps=N")
    samples = args.task_eval_samples or dt.DEFAULT_SAMPLES
    split = dt.DevSplit.from_args(train_args, config, samples)
    console.print(f"[bold]task metrics[/] {split.task.name} on {split.dataset}: {len(split.examples)} examples per "
                  f"evaluation, every {train_args.get('eval_steps', 'epoch')} steps")
    callback = dt.TaskMetrics(split, template=str(train_args.get("template", "qwen")),
                              cutoff_len=int(train_args.get("cutoff_len", 2048)),
                              max_new_tokens=train_args.get("max_new_tokens"),
                              batch_size=int(train_args.get("per_device_eval_batch_size", 8)), log=console.print)
    train_args["report_to"], reporters = dt.reporting_after(train_args.get("report_to"))

    from llamafactory.train.tuner import run_exp

    run_exp(args=train_args, callbacks=[callback, *reporters])
    out = Path(str(train_args["output_dir"]))
    record = write_json(out / "task_metrics.json", {"task": split.task.name, "dataset": split.dataset,
                                                    "examples": len(split.examples), "evaluations": callback.history})
    outputs("outputs:", [out, out / "trainer_state.json", record])
    return 0


if __name__ == "__main__":
    run(main)
