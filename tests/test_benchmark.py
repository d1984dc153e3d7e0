"""The benchmark harness: token and FLOP accounting by hand, the suite files, and a CPU smoke run.

Speed itself is never asserted (a CI machine is not a GPU); what is asserted is that the numbers are counted
right: real tokens only, attention pairs per mask type, LoRA FLOPs, the published shapes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from conftest import ROOT, run_script

from qwen_recipes import profiles
from qwen_recipes.bench import flops, suite
from qwen_recipes.bench.meter import count_batch
from qwen_recipes.models import architectures


def _count(ids, mask, pad=0):
    tokens, pairs = count_batch(torch.tensor(ids), None if mask is None else torch.tensor(mask), pad)
    return int(tokens), int(pairs)


def test_count_batch_right_padded_rows():
    # 3 and 5 real tokens: causal pairs 3*4/2 + 5*6/2 = 6 + 15.
    assert _count([[5, 6, 7, 0, 0], [5, 6, 7, 8, 9]], [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]) == (8, 21)


def test_count_batch_plain_packing_excludes_pad_ids_under_mask_one():
    # LLaMA-Factory's plain packing pads with the pad id under attention mask 1: those are not data.
    assert _count([[5, 6, 7, 8, 0, 0]], [[1, 1, 1, 1, 1, 1]]) == (4, 10)


def test_count_batch_neat_packing_segments_and_4d_mask_agree():
    from llamafactory.data.collator import prepare_4d_attention_mask

    ids, seg = [[3, 3, 4, 4, 4, 0]], [[1, 1, 2, 2, 2, 0]]
    # Segments of 2 and 3 tokens attend within themselves: 3 + 6 pairs, not 5*6/2 = 15.
    assert _count(ids, seg) == (5, 9)
    mask4d = prepare_4d_attention_mask(torch.tensor(seg), torch.float32)
    tokens, pairs = count_batch(torch.tensor(ids), mask4d, 0)
    assert (int(tokens), int(pairs)) == (5, 9)


def test_lora_flops_worked_by_hand():
    toy = architectures.Shape(hidden=4, intermediate=8, layers=1, heads=2, kv_heads=1, vocab=10, head_dim=2)
    # Frozen linears: q 16, k 8, v 8, o 16, gate 32, up 32, down 32 = 144; rank-1 LoRA pairs: 64; lm_head 40.
    # fwd 2*(144+64+40) + input grads 2*(144+64+40) + LoRA weight grads 2*64 + recompute 2*(144+64).
    lora = flops.Method(lora_rank=1, gradient_checkpointing=True)
    assert flops.linear_flops_per_token(toy, lora) == 496 + 496 + 128 + 416
    # Full fine-tuning, no checkpointing: weight grads for every linear and lm_head, no recompute.
    full = flops.Method(finetuning_type="full", gradient_checkpointing=False)
    assert flops.linear_flops_per_token(toy, full) == 368 * 3
    # Attention: 4 FLOPs x pairs x heads x head_dim forward, x (1 fwd + 2 bwd + 1 recompute).
    assert flops.attention_flops(toy, lora, pairs=10) == 4 * 10 * 4 * 4
    assert flops.attention_flops(toy, full, pairs=10) == 4 * 10 * 4 * 3


def test_method_reads_llamafactory_keys():
    m = flops.Method.from_args({"lora_rank": 64, "lora_target": "q_proj,v_proj", "disable_gradient_checkpointing": True})
    assert (m.lora_rank, m.lora_targets, m.gradient_checkpointing) == (64, ("q_proj", "v_proj"), False)
    # Hugging Face's own key switches checkpointing on even when LLaMA-Factory's is off.
    on = flops.Method.from_args({"disable_gradient_checkpointing": True, "gradient_checkpointing": True})
    assert on.gradient_checkpointing


@pytest.mark.parametrize(("shape", "published"), [("qwen2.5-7b", 7.62e9), ("qwen2.5-1.5b", 1.54e9)])
def test_published_shapes_match_parameter_counts(shape, published):
    s = architectures.Shape.from_config(architectures.SHAPES[shape])
    linears = sum(i * o for i, o in s.linears().values()) * s.layers
    embeddings = s.hidden * s.vocab * (1 if architectures.SHAPES[shape]["tie_word_embeddings"] else 2)
    # Biases and norms are the remaining ~0.1%.
    assert abs(linears + embeddings - published) / published < 0.01


def test_shape_for_hub_names():
    assert architectures.shape_for("Qwen/Qwen2.5-7B-Instruct") == "qwen2.5-7b"
    assert architectures.shape_for("Qwen/Qwen2-7B-Instruct") == "qwen2-7b"
    assert architectures.shape_for("models/Qwen2.5-1.5B-Instruct") == "qwen2.5-1.5b"
    assert architectures.shape_for("outputs/models/tiny-qwen2") is None
    with pytest.raises(KeyError, match="qwen2.5-72b"):
        architectures.shape_for("Qwen/Qwen2.5-72B-Instruct")


def test_peak_tflops_lookup():
    assert flops.peak_tflops("NVIDIA H100 80GB HBM3") == pytest.approx(989.4)
    assert flops.peak_tflops("NVIDIA H100 PCIe") == pytest.approx(756.0)
    assert flops.peak_tflops("NVIDIA GeForce RTX 4090") == pytest.approx(165.2)
    assert flops.peak_tflops("cpu") is None


def test_build_random_writes_complete_model(tmp_path, tiny_model, monkeypatch):
    monkeypatch.setitem(architectures.SHAPES, "qwen2.5-0b", {
        "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 4096, "tie_word_embeddings": False,
    })
    out = architectures.build_random("qwen2.5-0b", tmp_path / "m", tiny_model)
    config = json.loads((out / "config.json").read_text())
    assert (config["hidden_size"], config["vocab_size"], config["torch_dtype" if "torch_dtype" in config else "dtype"]) == (
        32, 4096, "bfloat16")
    assert (out / "tokenizer_config.json").exists() and not (tmp_path / "m.partial").exists()
    # Ids beyond the tokenizer can never win greedy decoding: their output rows are zero, the others are not.
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    head = load_file(out / "model.safetensors")["lm_head.weight"]
    known = len(AutoTokenizer.from_pretrained(str(tiny_model)))
    assert known < 4096 and not head[known:].any() and bool(head[:known].abs().sum(dim=1).all())


def test_every_shipped_suite_names_existing_files():
    # Prediction suites (*predict*.yaml) have their own harness and test (test_predict_benchmark.py).
    suites = sorted(p for p in (ROOT / "benchmarks").glob("*.yaml") if "predict" not in p.name)
    assert suites
    for path in suites:
        spec = suite.load_suite(path)
        assert spec["runs"], path
        for run in spec["runs"]:
            if run.get("profile"):
                profiles.load(run["profile"])
            ds = (run.get("overrides") or {}).get("deepspeed")
            if ds:
                assert (ROOT / ds).exists(), f"{path}: {ds}"
            assert "Run:" in path.read_text().split("steps:")[0], f"{path}: header must give the command"


def test_deepspeed_configs_leave_batch_to_llamafactory():
    """Every batch figure is "auto": the GPU count changes the global batch, never the file."""
    stages = {}
    for path in sorted((ROOT / "configs" / "deepspeed").glob("*.json")):
        cfg = json.loads(path.read_text())
        for key in ("train_batch_size", "train_micro_batch_size_per_gpu", "gradient_accumulation_steps"):
            assert cfg[key] == "auto", f"{path.name}: {key}"
        assert cfg["bf16"]["enabled"] == "auto"
        stages[path.name] = cfg["zero_optimization"]["stage"]
        if stages[path.name] == 3:  # the adapter must be gathered to be saved
            assert cfg["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True
    assert sorted(stages.values()) == [2, 3]


def test_suite_with_unknown_profile_fails_before_anything_runs(tmp_path):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump({"runs": [{"name": "bad", "config": "configs/train/tiny_qlora_psyqa.yaml",
                                              "profile": "36gb"}]}))
    with pytest.raises(ValueError, match=r"suite\.yaml: run 'bad': no profile '36gb'"):
        suite.load_suite(path)


def test_failed_run_is_reported_and_suite_goes_on(tmp_path, tiny_model):
    bad = {"model_name_or_path": str(tiny_model), "finetuning_type": "bogus"}
    spec = {"runs": [{"name": "bad", "config": "configs/train/tiny_qlora_psyqa.yaml", "overrides": bad},
                     {"name": "missing", "config": "configs/train/tiny_qlora_psyqa.yaml",
                      "overrides": {"model_name_or_path": str(tmp_path / "nowhere")}}]}
    results = suite.run_suite(spec, tmp_path / "out", steps=1, warmup=0, log=lambda _: None)
    assert [r["status"] for r in results] == ["failed", "failed"]
    assert "Invalid fine-tuning method" in results[0]["error"] and "nowhere" in results[1]["error"]
    assert (tmp_path / "out" / "results.md").read_text().count(" | failed: ") == 2


def test_merge_keeps_rows_not_rerun_in_suite_order(tmp_path, tiny_model):
    """--merge: a re-measured run replaces its namesake, the other earlier rows stay, suite order holds."""
    out = tmp_path / "out"
    out.mkdir()
    earlier = [{"name": n, "status": "failed", "error": "earlier"} for n in ("first", "bad", "gone")]
    (out / "results.json").write_text(json.dumps(earlier))
    bad = {"model_name_or_path": str(tiny_model), "finetuning_type": "bogus"}
    spec = {"runs": [{"name": "first", "config": "configs/train/tiny_qlora_psyqa.yaml"},
                     {"name": "bad", "config": "configs/train/tiny_qlora_psyqa.yaml", "overrides": bad}]}
    fresh = suite.run_suite(spec, out, steps=1, warmup=0, only=["bad"], log=lambda _: None, merge=True)
    assert [r["name"] for r in fresh] == ["bad"] and fresh[0]["date"]
    rows = json.loads((out / "results.json").read_text())
    assert [(r["name"], r["error"][:7]) for r in rows] == [("first", "earlier"), ("bad", "exit 1:"), ("gone", "earlier")]
    # Without --merge the earlier rows are gone; an unknown run name is an error, not an empty table.
    suite.run_suite(spec, out, steps=1, warmup=0, only=["bad"], log=lambda _: None)
    assert [r["name"] for r in json.loads((out / "results.json").read_text())] == ["bad"]
    with pytest.raises(KeyError, match="no run named nope"):
        suite.run_suite(spec, out, steps=1, warmup=0, only=["nope"], log=lambda _: None)


@pytest.mark.slow
def test_cpu_smoke_run_side_by_side(tmp_path, tiny_model):
    """Two configs side by side through LLaMA-Factory on the tiny model: JSON and table, real-token counts."""
    smoke = yaml.safe_load((ROOT / "benchmarks" / "cpu_tiny_smoke.yaml").read_text())
    smoke["overrides"]["model_name_or_path"] = str(tiny_model)
    suite_path = tmp_path / "smoke.yaml"
    suite_path.write_text(yaml.safe_dump(smoke))
    out = tmp_path / "out"
    proc = run_script("scripts/benchmark.py", str(suite_path), "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    assert [r["name"] for r in results] == ["unpacked", "24gb-profile"]
    assert all(r["status"] == "ok" and r["steps_measured"] == smoke["steps"] for r in results)
    assert all(r["software"]["llamafactory"] == "0.9.5" and r["software"]["torch"] for r in results)
    unpacked, packed = results
    assert (unpacked["packing"], packed["packing"]) == ("no", "neat")
    cutoff = smoke["overrides"]["cutoff_len"]
    for r in results:
        bs, acc, gpus = (int(x) for x in r["batch"].split("x"))
        meter = json.loads((out / r["name"] / "meter" / "rank0.json").read_text())
        assert len(meter["steps"]) == smoke["warmup"] + smoke["steps"]
        for step in meter["steps"]:
            # Real tokens never exceed the slots, and the records are at least 64 tokens long.
            assert 64 * bs * acc <= step["tokens"] * (cutoff / 64 if r is packed else 1)
            assert step["tokens"] <= bs * acc * gpus * cutoff
    # The profile's packed rows hold far more real tokens per step than 2 x 2 unpacked records.
    assert packed["tokens"] > 4 * unpacked["tokens"]
    table = (out / "results.md").read_text()
    assert table.count("\n| unpacked |") + table.count("\n| 24gb-profile |") == 2
    assert str(out / "results.json") in proc.stdout


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "benchmarks").glob("*.sh")))
def test_benchmark_shell_scripts_have_help(script):
    import subprocess

    proc = subprocess.run(["bash", f"benchmarks/{script}", "--help"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "Needs:" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.slow
def test_merge_check_script_glue_on_cpu(tmp_path, tiny_model):
    """benchmarks/zero3_merge_check.sh past its training step (export, then the logit check), on the tiny model.

    ZeRO-3 itself needs GPUs; this runs the same script on a one-process suite so the steps after training
    (finding the adapter, writing the export config, export, check) are tested where CI runs.
    """
    import os
    import subprocess
    import sys

    spec = {"steps": 2, "warmup": 1, "data": {"min_tokens": 64, "max_tokens": 192},
            "overrides": {"model_name_or_path": str(tiny_model), "cutoff_len": 256, "preprocessing_num_workers": 1},
            "runs": [{"name": "adapter", "config": "configs/train/tiny_qlora_psyqa.yaml"}]}
    suite_path = tmp_path / "suite.yaml"
    suite_path.write_text(yaml.safe_dump(spec))
    env = {**os.environ, "SUITE": str(suite_path), "PYTHON": sys.executable, "HF_HUB_OFFLINE": "1",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    out = tmp_path / "out"
    proc = subprocess.run(["bash", "benchmarks/zero3_merge_check.sh", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    check = json.loads((out / "merged" / "merge_check.json").read_text())
    assert check["ok"] and check["max_diff_base_vs_reference"] > 0


def test_published_shapes_get_their_familys_real_tokenizer(tmp_path, monkeypatch, qwen25):
    """A benchmark's random-weight model of a published shape carries Qwen's real vocabulary, named in the results."""
    from qwen_recipes import qwen_tokenizer
    from qwen_recipes.bench import suite

    built = []

    def fake_build(shape, target, tokenizer_dir, tokenizer_label=None):
        built.append((shape, Path(tokenizer_dir), tokenizer_label))
        target.mkdir(parents=True)
        (target / "RANDOM_MODEL.json").write_text(json.dumps({"tokenizer": tokenizer_label}))
        return target

    monkeypatch.setattr(suite.architectures, "build_random", fake_build)
    folder, shape = suite.model_for("Qwen/Qwen2.5-7B-Instruct", tmp_path, lambda _: None)
    assert (shape, built[-1]) == ("qwen2.5-7b", ("qwen2.5-7b", qwen25, "qwen2.5"))
    assert suite.tokenizer_of(folder) == "qwen2.5" and folder.endswith("qwen2.5-7b-random-qwen2.5-vocab")
    suite.model_for("Qwen/Qwen2-7B-Instruct", tmp_path, lambda _: None)
    assert built[-1][1:] == (qwen_tokenizer.path("qwen2", log=lambda _: None), "qwen2")


def test_a_suite_trains_on_real_records_where_they_exist(tmp_path, tiny_model):
    """``data: {task, input}``: the source's preprocessed train records, repeated to the rows needed, said so."""
    from transformers import AutoTokenizer

    from qwen_recipes.bench import synthetic

    tok = AutoTokenizer.from_pretrained(tiny_model)
    got = synthetic.write_real_dataset(tok, tmp_path, "bench_real", 40, "psyqa", ROOT / "dataset/samples/psyqa/PsyQA_sample.json")
    rows = json.loads((tmp_path / "bench_real.json").read_text(encoding="utf-8"))
    assert got["kind"] == "real records" and got["records"] == len(rows) == 40 and 1 < got["distinct"] < 40
    assert rows[got["distinct"]] == rows[0]  # repeated in order
    assert json.loads((tmp_path / "dataset_info.json").read_text())["bench_real"] == {"file_name": "bench_real.json"}
    assert synthetic.write_dataset(tok, tmp_path, "bench_syn", 4, 64, 128)["kind"] == "synthetic"
