"""GPU-size profiles: the arithmetic, LLaMA-Factory accepts every profile, and the configs carry what the generator writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import yaml
from conftest import ROOT, run_script

from qwen_recipes import configs, profiles
from qwen_recipes.errors import DataError

TRAIN = configs.all_configs()["train"]
QLORA_7B = Path("configs/train/qwen2.5-7b-instruct_qlora_emotion_summary.yaml")
QLORA_7B_2K = Path("configs/train/qwen2.5-7b-instruct_qlora_psyqa.yaml")
LORA_7B = Path("configs/train/qwen2.5-7b-instruct_lora_chnsenticorp.yaml")


def parse_train_args(args: dict):
    """LLaMA-Factory's own parser, as tests/test_configs.py calls it on a CPU-only test machine."""
    from llamafactory.hparams import get_train_args

    args = dict(args)
    if (args.get("bf16") or args.get("fp16")) and not torch.cuda.is_available():
        args["use_cpu"] = True  # the only change: GPU configs are parsed on a CPU-only test machine
    return get_train_args(args)


# ---- The generated blocks in the committed configs -----------------------------------------------------------


def test_committed_configs_match_the_generator():
    for path in TRAIN:
        wanted = profiles.render(path)
        assert wanted is None or path.read_text(encoding="utf-8") == wanted, f"{path}: run python scripts/make_configs.py"
    proc = run_script("scripts/make_configs.py", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", TRAIN, ids=lambda p: p.name)
def test_every_gpu_config_names_a_profile_and_its_needs_line_states_the_card(path: Path):
    text = path.read_text(encoding="utf-8")
    name = profiles.profile_of(text)
    if path.name.startswith("tiny_"):
        assert name is None, "the tiny configs run on CPU: no GPU profile"
        return
    if "_chnsenticorp" in path.name:
        # Reviews are ~150 tokens: 32k packed tokens per step would be ~200 reviews and ~80 steps in all, so
        # the sentiment recipes keep their own batch (a hyper-parameter there, and fast anyway).
        assert name is None, "the ChnSentiCorp recipes keep their own batch"
        return
    assert name in profiles.names(), "every long-text GPU config names a profile"
    if "-7b-instruct_lora_" in path.name:  # bf16 LoRA of a 7B: ~15 GB of weights alone, no room to train on 24 GB
        assert int(name.removesuffix("gb")) >= 48
    needs = next(line for line in text.splitlines() if line.startswith("# Needs:"))
    assert profiles.card(name) in needs
    assert profiles.profile_line(name) in text.splitlines()


@pytest.mark.parametrize("path", [p for p in TRAIN if profiles.profile_of(p.read_text(encoding="utf-8"))],
                         ids=lambda p: p.name)
def test_a_profiled_config_holds_each_owned_key_once_in_the_block(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()
    cfg = configs.load(path)
    keys = profiles.load(profiles.profile_of("\n".join(lines))).resolve(cfg["cutoff_len"],
                                                                     quantized=cfg.get("quantization_bit") is not None)
    assert {k: cfg[k] for k in profiles.OWNED_KEYS if k in cfg} == keys
    marker = next(i for i, line in enumerate(lines) if line.startswith("# From profile "))
    owned = [i for i, line in enumerate(lines) if line.split(":")[0] in profiles.OWNED_KEYS]
    assert owned == list(range(marker + 1, marker + 1 + len(keys))), "owned keys only in the generated block"
    section = [line for line in lines[:marker] if line.startswith("### ")][-1]
    assert section == "### train" and (lines + [""])[marker + len(keys) + 1] == "", "the block closes the section"


def _copy(path: Path, tmp_path: Path) -> Path:
    out = tmp_path / path.name
    shutil.copy(ROOT / path, out)
    return out


def test_a_hand_edit_of_an_owned_key_is_detected_and_undone(tmp_path):
    path = _copy(QLORA_7B, tmp_path)
    original = path.read_text(encoding="utf-8")
    edited = original.replace("per_device_train_batch_size: 1\n", "per_device_train_batch_size: 4\n")
    # An owned key written somewhere else is the generator's too: it is taken out again.
    edited = edited.replace("### model\n", "### model\nflash_attn: fa2\n")
    assert edited.count("per_device_train_batch_size: 4") == 1 and edited != original
    path.write_text(edited, encoding="utf-8")

    proc = run_script("scripts/make_configs.py", "--check", str(path))
    assert proc.returncode == 1 and str(path) in proc.stdout and "stale" in proc.stdout
    assert path.read_text(encoding="utf-8") == edited, "--check writes nothing"

    proc = run_script("scripts/make_configs.py", str(path))
    assert proc.returncode == 0 and f"updated {path}" in proc.stdout and "outputs:" in proc.stdout
    assert path.read_text(encoding="utf-8") == original
    assert run_script("scripts/make_configs.py", "--check", str(path)).returncode == 0


def test_apply_is_idempotent_and_keeps_every_other_line_in_order():
    text = (ROOT / QLORA_7B).read_text(encoding="utf-8")
    cutoff = yaml.safe_load(text)["cutoff_len"]
    for name in profiles.names():
        once = profiles.apply(text, profiles.load(name), cutoff, quantized=True)
        assert profiles.apply(once, profiles.load(name), cutoff, quantized=True) == once

        def others(t):
            return [line for line in t.splitlines()
                    if line.split(":")[0] not in profiles.OWNED_KEYS and not line.startswith(("# From profile ",
                                                                                               "# Profile:", "# Needs:"))]

        assert others(once) == others(text)


def test_changing_the_name_in_the_header_moves_the_whole_config_to_the_other_card(tmp_path):
    path = _copy(QLORA_7B, tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("# Profile: 24gb ", "# Profile: 80gb "), encoding="utf-8")
    text = profiles.render(path)
    assert profiles.profile_line("80gb") in text.splitlines() and "configs/profiles/24gb.yaml" not in text
    assert "80 GB or more (profile 80gb)" in text and "(profile 24gb)" not in text
    cfg = yaml.safe_load(text)
    assert cfg["disable_gradient_checkpointing"] is True and cfg["gradient_checkpointing"] is False


def test_a_config_without_a_profile_is_left_alone():
    for path in TRAIN:
        if path.name.startswith("tiny_") or "_chnsenticorp" in path.name:
            assert profiles.render(path) is None


# ---- Bad input: one clear line ----------------------------------------------------------------------------------


def test_an_unknown_profile_names_the_file_and_the_profile(tmp_path):
    path = _copy(QLORA_7B, tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("# Profile: 24gb ", "# Profile: 36gb "), encoding="utf-8")
    with pytest.raises(DataError, match=r"profile '36gb', which does not exist") as err:
        profiles.render(path)
    assert str(path) in str(err.value) and "24gb, 48gb, 80gb" in str(err.value)

    proc = run_script("scripts/make_configs.py", "--check", str(path))
    assert proc.returncode == 2
    assert str(path) in proc.stdout and "'36gb'" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def test_a_profiled_config_needs_its_own_cutoff_len(tmp_path):
    path = _copy(QLORA_7B, tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("cutoff_len: 8192\n", ""), encoding="utf-8")
    with pytest.raises(DataError, match="cutoff_len") as err:
        profiles.render(path)
    assert str(path) in str(err.value)


def test_profile_of_reads_only_the_header():
    assert profiles.profile_of("# a config\n# Profile: 48gb   (anything)\n\n### model\n") == "48gb"
    assert profiles.profile_of("# a config\n\n### model\n# Profile: 48gb\n") is None
    with pytest.raises(ValueError, match="more than one"):
        profiles.profile_of("# Profile: 24gb\n# Profile: 48gb\n### model\n")


# ---- The arithmetic ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "cutoff", "batch", "accumulation"), [
    ("24gb", 512, 16, 4),     # 8192 // 512 = 16 rows a micro-batch; 32768 // (16 * 512) = 4
    ("24gb", 2048, 4, 4),
    ("24gb", 4096, 2, 4),
    ("24gb", 8192, 1, 4),
    ("24gb", 16384, 1, 2),    # 8192 // 16384 = 0 -> 1 row; 32768 // 16384 = 2
    ("24gb", 65536, 1, 1),    # 32768 // 65536 = 0 -> 1
    ("48gb", 512, 32, 2),     # 16384 // 512 = 32; 32768 // (32 * 512) = 2
    ("48gb", 3000, 5, 2),     # 16384 // 3000 = 5; 32768 // 15000 = 2 (a cutoff that divides nothing evenly)
    ("48gb", 8192, 2, 2),
    ("80gb", 2048, 4, 4),
    ("80gb", 8192, 1, 4),
])
def test_resolve_arithmetic(name, cutoff, batch, accumulation):
    keys = profiles.load(name).resolve(cutoff, quantized=True)
    assert keys["per_device_train_batch_size"] == batch and keys["gradient_accumulation_steps"] == accumulation
    assert keys["gradient_checkpointing"] is (name != "80gb")
    assert set(keys) <= set(profiles.OWNED_KEYS)


def test_batch_and_accumulation_are_never_zero():
    tiny = profiles.Profile("tiny", micro_batch_tokens=100, step_tokens=150)
    for profile in [tiny, *(profiles.load(n) for n in profiles.names())]:
        for cutoff in (1, 7, 255, 256, 1000, 4096, 10_000, 100_000, 1_000_000):
            keys = profile.resolve(cutoff, quantized=True)
            assert keys["per_device_train_batch_size"] >= 1 and keys["gradient_accumulation_steps"] >= 1


# ---- LLaMA-Factory accepts every profile -------------------------------------------------------------------------


@pytest.mark.parametrize("config", [QLORA_7B, QLORA_7B_2K], ids=lambda p: p.name)
@pytest.mark.parametrize("name", profiles.names(root=ROOT / profiles.PROFILE_DIR))
def test_llamafactory_accepts_every_profile_in_a_7b_qlora_config(name: str, config: Path):
    text = (ROOT / config).read_text(encoding="utf-8")
    cutoff = yaml.safe_load(text)["cutoff_len"]
    profile = profiles.load(name)
    args = yaml.safe_load(profiles.apply(text, profile, cutoff, quantized=True))
    keys = profile.resolve(cutoff, quantized=True)
    assert {k: args[k] for k in keys} == keys and args["quantization_bit"] == 4

    model_args, data_args, training_args, finetuning_args, _ = parse_train_args(args)
    assert training_args.per_device_train_batch_size == keys["per_device_train_batch_size"]
    assert training_args.gradient_accumulation_steps == keys["gradient_accumulation_steps"]
    assert training_args.gradient_checkpointing is keys["gradient_checkpointing"]
    assert model_args.disable_gradient_checkpointing is keys["disable_gradient_checkpointing"]
    assert model_args.enable_liger_kernel is keys["enable_liger_kernel"]
    assert data_args.neat_packing is keys["neat_packing"] and data_args.packing is True
    assert getattr(model_args.flash_attn, "value", model_args.flash_attn) == keys["flash_attn"]
    assert finetuning_args.finetuning_type == "lora" and model_args.quantization_bit == 4


def test_unquantized_switches_reach_only_configs_without_quantization():
    """24gb adds offloaded checkpointing and 8-bit Adam to a bf16 LoRA config (measured: 21.6 -> 18.8 GiB at cutoff
    2048 on a 7B), never to a QLoRA config, and LLaMA-Factory takes both keys."""
    text = (ROOT / LORA_7B).read_text(encoding="utf-8")
    cfg = yaml.safe_load(text)
    assert "quantization_bit" not in cfg
    profile = profiles.load("24gb")
    assert profile.resolve(2048, quantized=True).keys().isdisjoint({"use_unsloth_gc", "optim"})
    args = yaml.safe_load(profiles.apply(text, profile, cfg["cutoff_len"], quantized=False))
    assert (args["use_unsloth_gc"], args["optim"]) == (True, "adamw_8bit")
    model_args, _, training_args, _, _ = parse_train_args(args)
    assert model_args.use_unsloth_gc is True and getattr(training_args.optim, "value", training_args.optim) == "adamw_8bit"
    for name in ("48gb", "80gb"):
        assert profiles.load(name).resolve(2048, quantized=False) == profiles.load(name).resolve(2048, quantized=True)
    # render() decides from the config itself.
    qlora = (ROOT / QLORA_7B).read_text(encoding="utf-8")
    assert "use_unsloth_gc" not in qlora and "optim:" not in qlora


def test_a_profile_with_an_unknown_unquantized_key_is_refused(tmp_path):
    (tmp_path / "odd.yaml").write_text("micro_batch_tokens: 8192\nstep_tokens: 32768\nunquantized: {learning_rate: 1.0}\n")
    with pytest.raises(ValueError, match=r"unquantized \['learning_rate'\]"):
        profiles.load("odd", tmp_path)
