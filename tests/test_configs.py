"""Every config loads with LLaMA-Factory's own parser, says how to run it, and points at its train config; the
predict, chat and export configs are exactly what scripts/make_configs.py writes from their train config."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import torch
from conftest import ROOT, run_script

from qwen_recipes import config_gen, configs

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


# ---- predict, chat and export configs are written from their train config (scripts/make_configs.py) -----------

LATER = ("predict", "chat", "export")


def _copy_configs(tmp_path: Path, stages=("train", *LATER)) -> Path:
    for stage in stages:
        shutil.copytree(ROOT / "configs" / stage, tmp_path / stage)
    return tmp_path


def test_the_generator_writes_the_committed_configs_byte_for_byte(tmp_path):
    out = _copy_configs(tmp_path, ("train",))
    proc = run_script("scripts/make_configs.py", "--config-dir", str(out / "train"), "--out-dir", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "outputs:" in proc.stdout and str(out / "predict" / "tiny_qlora_chnsenticorp.yaml") in proc.stdout
    for stage in LATER:
        made = {p.name: p.read_bytes() for p in (out / stage).glob("*.yaml")}
        committed = {p.name: p.read_bytes() for p in (ROOT / "configs" / stage).glob("*.yaml")}
        assert sorted(made) == sorted(committed), f"configs/{stage}: run python scripts/make_configs.py"
        for name in committed:
            assert made[name] == committed[name], f"configs/{stage}/{name}: run python scripts/make_configs.py"
    for path in (out / "train").glob("*.yaml"):
        assert path.read_bytes() == (ROOT / "configs" / "train" / path.name).read_bytes(), "train configs stay as they are"


def test_check_names_a_changed_missing_or_orphaned_config_and_writes_nothing(tmp_path):
    out = _copy_configs(tmp_path)
    args = ("--config-dir", str(out / "train"), "--out-dir", str(out))
    assert run_script("scripts/make_configs.py", "--check", *args).returncode == 0
    edited = out / "predict" / "qwen2.5-7b-instruct_qlora_mug_kpe.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("max_new_tokens: 96\n", "max_new_tokens: 97\n"),
                      encoding="utf-8")
    before = edited.read_text(encoding="utf-8")
    missing = out / "export" / "tiny_qlora_chnsenticorp.yaml"
    missing.unlink()
    orphan = out / "chat" / "tiny_qlora_psyqa.yaml"  # that train config declares stages=predict: no chat config
    orphan.write_text("# not made by anything\n", encoding="utf-8")

    proc = run_script("scripts/make_configs.py", "--check", *args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{edited}: stale" in proc.stdout and f"{missing}: missing" in proc.stdout
    assert f"{orphan}: made by no train config" in proc.stdout
    assert edited.read_text(encoding="utf-8") == before and not missing.exists(), "--check writes nothing"

    proc = run_script("scripts/make_configs.py", *args)
    assert proc.returncode == 0 and f"updated {edited}" in proc.stdout and f"wrote {missing}" in proc.stdout
    assert edited.read_bytes() == (ROOT / "configs" / "predict" / edited.name).read_bytes()
    assert orphan.exists() and "left alone" in proc.stdout, "a file no train config makes is never deleted"


def test_a_train_config_says_what_the_later_stages_call_its_adapter(tmp_path):
    out = _copy_configs(tmp_path, ("train",))
    path = out / "train" / "qwen2.5-7b-instruct_qlora_psyqa.yaml"
    path.write_text("".join(line for line in path.read_text(encoding="utf-8").splitlines(True)
                            if not line.startswith("# Adapter:")), encoding="utf-8")
    proc = run_script("scripts/make_configs.py", "--config-dir", str(out / "train"), "--out-dir", str(out))
    assert proc.returncode == 2 and str(path) in proc.stdout and "# Adapter:" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (out / "predict").exists(), "bad input stops the run before anything is written"


def test_declared_options():
    text = "# a\n# Adapter: QLoRA 4-bit   (a comment; x=1)\n### model\n"
    assert config_gen.declared(text) == config_gen.Declared("QLoRA 4-bit")
    decl = config_gen.declared("# Adapter: tiny psyqa; stages=predict,export; max_new_tokens=64   (why)\n### model\n")
    assert decl == config_gen.Declared("tiny psyqa", ("predict", "export"), 64, None)
    for bad, match in [
        ("### model\n# Adapter: x\n", "no '# Adapter:"),  # below the header: not a declaration
        ("# Adapter: x\n# Adapter: y\n", "more than one"),
        ("# Adapter: ; stages=chat\n", "names no adapter"),
        ("# Adapter: x; stages=train\n", "stages="),
        ("# Adapter: x; max_new_tokens=0\n", "positive"),
        ("# Adapter: x; top_p=0.9\n", "top_p"),
        ("# Adapter: x; stages=predict; chat_max_new_tokens=9\n", "without a chat stage"),
    ]:
        with pytest.raises(ValueError, match=match):
            config_gen.declared(bad)


def test_max_new_tokens_come_from_the_tasks_unless_the_train_config_declares_them():
    from qwen_recipes.tasks import get_task

    for path in configs.all_configs()["predict"]:
        train_path = configs.train_config_for(path)
        train, decl = configs.load(train_path), config_gen.declared(train_path.read_text(encoding="utf-8"))
        tasks = [get_task(d.rsplit("_", 1)[0]) for d in train["dataset"].split(",")]
        want = decl.max_new_tokens or max(t.max_new_tokens for t in tasks)
        assert configs.load(path)["max_new_tokens"] == want, path
        chat = path.parent.parent / "chat" / path.name
        if chat.exists():
            assert configs.load(chat)["max_new_tokens"] == (decl.chat_max_new_tokens or want), chat
    combined = configs.load("configs/predict/qwen2.5-7b-instruct_qlora_mug.yaml")
    assert combined["max_new_tokens"] == 96 == get_task("mug_kpe").max_new_tokens, "the longest of its five tasks"
