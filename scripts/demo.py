#!/usr/bin/env python
"""The main job end to end on the embedded default: tiny offline Qwen2 + the bundled samples.

ChnSentiCorp: build the tiny model -> preprocess the samples -> QLoRA 4-bit train (llamafactory-cli train)
-> predict -> score -> label-scoring evaluation -> merge (llamafactory-cli export) -> check the merge -> one
scripted chat turn. Then one short step each for PsyQA and LongEmotion Emotion Summary: preprocess (with a
token-length report) -> train -> predict -> score.
Every stage runs the same command a user would type; its log goes to outputs/demo/logs/. The tiny model
has random weights: the numbers show that the pipeline works, not how good Qwen is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from qwen_recipes import configs
from qwen_recipes.cli import console, parser, run, tool
from qwen_recipes.io import write_text
from qwen_recipes.tasks import get_task

DEMO = Path("outputs/demo")
LOGS = DEMO / "logs"
TRAIN = Path("configs/train/tiny_qlora_chnsenticorp.yaml")
PREDICT = Path("configs/predict/tiny_qlora_chnsenticorp.yaml")
EXPORT = Path("configs/export/tiny_qlora_chnsenticorp.yaml")
CHAT = Path("configs/chat/tiny_qlora_chnsenticorp.yaml")
CHAT_REVIEW = "这家酒店房间干净整洁，服务员态度很热情，推荐！"


@dataclass
class Stage:
    name: str
    command: list[str]
    outputs: list[str]
    stdin: str | None = None
    seconds: float = 0.0
    note: str = ""
    extra: dict = field(default_factory=dict)


def stages() -> list[Stage]:
    py = sys.executable
    train = configs.load(TRAIN)
    predict = configs.load(PREDICT)
    export = configs.load(EXPORT)
    task = get_task("chnsenticorp")
    chat_line = f"{task.instruction}{CHAT_REVIEW}\nexit\n"
    return [
        Stage("tiny model", [py, "scripts/make_tiny_model.py"], [train["model_name_or_path"]]),
        Stage("preprocess", [py, "scripts/preprocess.py", "chnsenticorp", "--input", "dataset/samples/chnsenticorp",
                             "--data-dir", train["dataset_dir"]],
              [f"{train['dataset_dir']}/chnsenticorp/report.json"]),
        Stage("train (QLoRA 4-bit)", [tool("llamafactory-cli"), "train", str(TRAIN)],
              [train["output_dir"], f"{train['output_dir']}/training_loss.png"]),
        Stage("predict", [tool("llamafactory-cli"), "train", str(PREDICT)],
              [f"{predict['output_dir']}/generated_predictions.jsonl"]),
        Stage("score", [py, "scripts/evaluate.py", "chnsenticorp", predict["output_dir"],
                        "--data", f"{predict['dataset_dir']}/chnsenticorp/test.json"],
              [f"{predict['output_dir']}/report.md", f"{predict['output_dir']}/metrics.json"]),
        Stage("label eval", [py, "scripts/label_eval.py", str(PREDICT)],
              [f"{train['output_dir']}/label_eval/{predict['eval_dataset']}/report.md",
               f"{train['output_dir']}/label_eval/{predict['eval_dataset']}/metrics.json"]),
        Stage("merge (export)", [tool("llamafactory-cli"), "export", str(EXPORT)], [export["export_dir"]]),
        Stage("check merge", [py, "scripts/check_merge.py", str(EXPORT)], [f"{export['export_dir']}/merge_check.json"]),
        Stage("chat (1 turn)", [tool("llamafactory-cli"), "chat", str(CHAT)], [str(DEMO / "chat_transcript.txt")],
              stdin=chat_line),
        *generation_recipe("psyqa", "dataset/samples/psyqa/PsyQA_sample.json", 1024),
        *generation_recipe("emotion_summary", "dataset/samples/longemotion", 2048),
        *meeting_recipe("mug_aid"),
    ]


def generation_recipe(task: str, source: str, cutoff_len: int) -> list[Stage]:
    """A short train -> predict -> score on a generation task, with the shipped tiny configs."""
    py = sys.executable
    train_cfg, predict_cfg = Path(f"configs/train/tiny_qlora_{task}.yaml"), Path(f"configs/predict/tiny_qlora_{task}.yaml")
    train, predict = configs.load(train_cfg), configs.load(predict_cfg)
    return [
        Stage(f"{task}: preprocess", [py, "scripts/preprocess.py", task, "--input", source, "--data-dir", train["dataset_dir"],
                                      "--tokenizer", train["model_name_or_path"], "--cutoff-len", str(cutoff_len)],
              [f"{train['dataset_dir']}/{task}/report.json"]),
        Stage(f"{task}: train", [tool("llamafactory-cli"), "train", str(train_cfg)], [train["output_dir"]]),
        Stage(f"{task}: predict", [tool("llamafactory-cli"), "train", str(predict_cfg)],
              [f"{predict['output_dir']}/generated_predictions.jsonl"]),
        Stage(f"{task}: score", [py, "scripts/evaluate.py", task, predict["output_dir"]],
              [f"{predict['output_dir']}/report.md", f"{predict['output_dir']}/metrics.json"]),
    ]


def meeting_recipe(task: str) -> list[Stage]:
    """One AliMeeting4MUG task: windows sized by the train config, train, predict the windows with the project's
    engine (scripts/predict.py), official scores + submission."""
    py = sys.executable
    train_cfg, predict_cfg = Path(f"configs/train/tiny_qlora_{task}.yaml"), Path(f"configs/predict/tiny_qlora_{task}.yaml")
    train, predict = configs.load(train_cfg), configs.load(predict_cfg)
    data = f"{predict['dataset_dir']}/{task}/test.json"
    predicted = f"{predict['output_dir']}/batched"  # scripts/predict.py's default, beside do_predict's own files
    return [
        Stage(f"{task}: preprocess", [py, "scripts/preprocess.py", task, "--input", "dataset/samples/alimeeting4mug",
                                      "--config", str(train_cfg)], [f"{train['dataset_dir']}/{task}/report.json"]),
        Stage(f"{task}: train", [tool("llamafactory-cli"), "train", str(train_cfg)], [train["output_dir"]]),
        Stage(f"{task}: predict", [py, "scripts/predict.py", str(predict_cfg)],
              [f"{predicted}/generated_predictions.jsonl", f"{predicted}/predict_speed.json"]),
        Stage(f"{task}: score", [py, "scripts/evaluate.py", task, predicted, "--data", data],
              [f"{predicted}/report.md", f"{predicted}/metrics.json"]),
    ]


def run_stage(i: int, n: int, stage: Stage, env: dict[str, str]) -> None:
    log = LOGS / f"{i:02d}_{stage.name.split(' ')[0]}.log"
    LOGS.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with console.status(f"[{i}/{n}] {stage.name}: {' '.join(stage.command[1:])}"), open(log, "w") as handle:
        proc = subprocess.run(stage.command, input=stage.stdin, stdout=handle, stderr=subprocess.STDOUT,
                              text=True, env=env, check=False)
    stage.seconds = time.perf_counter() - start
    stage.extra["log"] = str(log)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
        console.print("\n".join(tail))
        console.print(f"[bold red]stage {stage.name!r} failed[/] (exit {proc.returncode}); full log: {log}")
        raise SystemExit(1)
    console.print(f"[green]✓[/] [{i}/{n}] {stage.name} ({stage.seconds:.0f} s)")


def chat_reply(log: Path) -> str:
    text = log.read_text(encoding="utf-8", errors="replace")
    reply = text.split("Assistant:", 1)[1] if "Assistant:" in text else ""
    return reply.split("User:", 1)[0].strip()


def main() -> int:
    ap = parser(__doc__)
    ap.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
    plan = stages()
    begin = time.perf_counter()
    for i, stage in enumerate(plan, start=1):
        run_stage(i, len(plan), stage, env)

    by = {s.name: s for s in plan}
    report = json.loads(Path(by["preprocess"].outputs[0]).read_text(encoding="utf-8"))
    t = report["totals"]
    by["preprocess"].note = (f"read {t['read']}, kept {t['kept']} (dup {t['duplicates']}, conflict {t['conflicts']}, "
                    f"leak {t['leaks']}, rejected {t['rejected']})")
    train_out = configs.load(TRAIN)["output_dir"]
    train_res = json.loads((Path(train_out) / "train_results.json").read_text(encoding="utf-8"))
    by["train (QLoRA 4-bit)"].note = f"final train loss {train_res.get('train_loss', float('nan')):.3f}"
    metrics = json.loads(Path(by["score"].outputs[1]).read_text(encoding="utf-8"))
    by["score"].note = (f"accuracy {metrics['accuracy']:.1%}, macro-F1 {metrics['macro_f1']:.1%}, "
                    f"invalid {metrics['invalid_rate']:.1%} (n={metrics['n']})")
    label = json.loads(Path(by["label eval"].outputs[1]).read_text(encoding="utf-8"))["clean"]
    by["label eval"].note = "; ".join(
        f"{m}: acc {c['accuracy']:.1%}, AUC {c['roc_auc'] or float('nan'):.2f}, ECE {c['ece']:.2f}" for m, c in label.items())
    check = json.loads(Path(by["check merge"].outputs[0]).read_text(encoding="utf-8"))
    by["check merge"].note = (f"max |merged-(base+adapter)| {check['max_diff_merged_vs_reference']:.2g}, "
                    f"adapter effect {check['max_diff_base_vs_reference']:.2g}")
    for task in ("psyqa", "emotion_summary"):
        lengths = json.loads(Path(by[f"{task}: preprocess"].outputs[0]).read_text(encoding="utf-8"))["lengths"]
        train_len = lengths["splits"]["train"]
        by[f"{task}: preprocess"].note = (f"train tokens p50 {train_len['total_tokens']['p50']}, max "
                                          f"{train_len['total_tokens']['max']}; {train_len['truncated_share']:.0%} over "
                                          f"cutoff {lengths['cutoff_len']}")
        m = json.loads(Path(by[f"{task}: score"].outputs[1]).read_text(encoding="utf-8"))
        head = m.get("overall", m)
        by[f"{task}: score"].note = (f"ROUGE-L {head['rouge-l']:.1f}, BLEU-4 {head['bleu-4']:.1f}"
                                     + (f", JSON valid {m['json_valid_rate']:.0%}" if "json_valid_rate" in m else ""))
    windows = json.loads(Path(by["mug_aid: preprocess"].outputs[0]).read_text(encoding="utf-8"))["windows"]
    by["mug_aid: preprocess"].note = f"{windows['windows']} windows from {windows['meetings']} meetings"
    m = json.loads(Path(by["mug_aid: score"].outputs[1]).read_text(encoding="utf-8"))
    by["mug_aid: score"].note = (f"official AID F1 {m['f1']:.1f} (P {m['precision']:.1f}, R {m['recall']:.1f}); "
                                 f"unreadable {m['merge']['unreadable']}")
    chat = by["chat (1 turn)"]
    reply = chat_reply(Path(chat.extra["log"]))
    write_text(chat.outputs[0], f"User: {chat.stdin.splitlines()[0]}\nAssistant: {reply}\n")
    chat.note = f"review {CHAT_REVIEW!r} -> {reply!r}"

    table = Table(title="make demo: tiny Qwen2 (random weights) on the ChnSentiCorp samples", show_lines=False)
    for col in ("stage", "s", "result", "outputs"):
        table.add_column(col, overflow="fold")
    lines = ["# Demo summary", "", "| stage | seconds | result | outputs |", "|---|---|---|---|"]
    for s in plan:
        table.add_row(s.name, f"{s.seconds:.0f}", s.note, "\n".join(s.outputs))
        lines.append(f"| {s.name} | {s.seconds:.0f} | {s.note} | {'<br>'.join(s.outputs)} |")
    total = time.perf_counter() - begin
    lines += ["", f"Total: {total:.0f} s. Logs: `{LOGS}`. The tiny model is random: these numbers check the pipeline."]
    summary = write_text(DEMO / "summary.md", "\n".join(lines) + "\n")
    console.print(table)
    console.print(f"total {total:.0f} s; summary: {summary}; logs: {LOGS}/")
    console.print(f"[bold]report[/]: {by['label eval'].outputs[0]} (label scores, calibration, robustness, zero-shot baseline)")
    return 0


if __name__ == "__main__":
    run(main)
