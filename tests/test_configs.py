"""Every config loads with LLaMA-Factory's own parser, says how to run it, and points at its train config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from qwen_recipes import configs

ALL = [p for paths in configs.all_configs().values() for p in paths]
SECTIONS = ["### model", "### method", "### dataset", "### output", "### train", "### eval", "### export"]


def ids(paths):
    return [str(p) for p in paths]


def test_there_are_configs_for_every_stage():
    found = configs.all_configs()
    assert all(found[stage] for stage in configs.STAGES)
    names = {stage: {p.name for p in paths} for stage, paths in found.items()}
    for stage in ("predict", "chat", "export"):
        assert names[stage] <= names["train"], f"{stage} configs without a train config"


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_llamafactory_parses_it(path: Path):
    from llamafactory.hparams import get_infer_args, get_train_args

    args = configs.load(path)
    stage = path.parent.name
    if stage in ("train", "predict"):
        if (args.get("bf16") or args.get("fp16")) and not torch.cuda.is_available():
            args["use_cpu"] = True  # the only change: GPU configs are parsed on a CPU-only test machine
        model_args, data_args, training_args, finetuning_args, _ = get_train_args(args)
        assert finetuning_args.finetuning_type == "lora" and data_args.template == "qwen"
        assert training_args.do_train == (stage == "train") and training_args.do_predict == (stage == "predict")
    else:
        model_args, data_args, finetuning_args, _ = get_infer_args(args)
        assert data_args.template == "qwen"
    assert model_args.trust_remote_code is False


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_header_gives_the_exact_command_and_sections_keep_llamafactory_order(path: Path):
    text = path.read_text(encoding="utf-8")
    header = text.split("\n### ", 1)[0]
    assert header.startswith("# "), "a config opens with a comment"
    verb = {"train": "train", "predict": "train", "chat": "chat", "export": "export"}[path.parent.name]
    assert f"llamafactory-cli {verb} {path.as_posix()}" in header
    assert "Needs:" in header
    order = [line for line in text.splitlines() if line.startswith("### ")]
    assert order == sorted(order, key=SECTIONS.index), f"sections out of order: {order}"


@pytest.mark.parametrize("path", [p for s in ("predict", "chat", "export") for p in configs.all_configs()[s]],
                         ids=lambda p: str(p))
def test_later_stages_point_at_the_train_output(path: Path):
    cfg = configs.load(path)
    train = configs.load(configs.train_config_for(path))
    assert cfg["adapter_name_or_path"] == train["output_dir"]
    for key in ("model_name_or_path", "template"):
        assert cfg[key] == train[key]
    assert cfg.get("quantization_bit") == (None if path.parent.name == "export" else train.get("quantization_bit"))
    if path.parent.name == "predict":
        assert cfg["output_dir"].startswith(train["output_dir"] + "/")
        assert cfg["dataset_dir"] == train["dataset_dir"] and cfg["cutoff_len"] == train["cutoff_len"]
    if path.parent.name == "export":
        assert cfg["export_dir"].startswith(train["output_dir"] + "/")


def test_no_absolute_paths_in_configs():
    for path in ALL:
        for key, value in configs.load(path).items():
            assert not (isinstance(value, str) and value.startswith("/")), f"{path}: {key}={value}"


def test_names_follow_model_method_task():
    for path in ALL:
        assert re.fullmatch(r"[a-z0-9.\-]+_(qlora|lora)_[a-z0-9_]+\.yaml", path.name), path
