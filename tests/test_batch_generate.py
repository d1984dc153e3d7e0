"""scripts/predict.py (the prediction engine, and model.generate in batches) against LLaMA-Factory's own do_predict on
the tiny model: the same prompts, answers and labels, in the same order; and bad input that names its file and field.

The data mixes two datasets (PsyQA and ChnSentiCorp, as the preprocessor writes them) with a cutoff_len that cuts
the PsyQA prompts but not the reviews, so sorting by length really reorders the rows and LLaMA-Factory's truncation
rule (which depends on the answer's length) is exercised. The adapter is made here rather than trained (seconds
instead of minutes): random LoRA weights on every linear layer, plus an lm_head LoRA that raises <|im_end|> by an
amount that depends on the hidden state, so some answers stop early and others run to max_new_tokens.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_script

from qwen_recipes import configs
from qwen_recipes.errors import DataError
from qwen_recipes.eval import prediction as bg
from qwen_recipes.eval.predictions import compare

NAME = "tiny_qlora_psyqa.yaml"
# Passed to llamafactory-cli and to scripts/predict.py alike: 6 + 6 examples in batches of 4.
OVERRIDES = ["eval_dataset=psyqa_train,chnsenticorp_test", "max_samples=6", "cutoff_len=160", "per_device_eval_batch_size=4"]
STOP_BOOST = 3.0  # scale of the <|im_end|> row of the lm_head LoRA: some answers stop early, some do not
# The tiny model ties lm_head to the embeddings; PEFT warns about an lm_head LoRA on it. LLaMA-Factory merges such an
# adapter the same way we do, which is what the merged comparison checks.
pytestmark = pytest.mark.filterwarnings("ignore:Model with `tie_word_embeddings=True`:UserWarning")


def make_adapter(tiny_model: Path, out: Path) -> Path:
    """A LoRA adapter folder as LLaMA-Factory training leaves it (weights, config, tokenizer), with seeded weights."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head"]
    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=targets, init_lora_weights=False,
                                                  task_type="CAUSAL_LM"))
    stop = tokenizer.convert_tokens_to_ids("<|im_end|>")
    with torch.no_grad():
        lora_b = peft_model.base_model.model.lm_head.lora_B["default"].weight
        row = lora_b[stop].clone()
        lora_b.zero_()
        lora_b[stop] = row * STOP_BOOST
    peft_model.save_pretrained(out, save_embedding_layers=False)
    tokenizer.save_pretrained(out)
    return out


def write_config(tmp: Path, tiny_model: Path, **changes) -> Path:
    """The shipped tiny PsyQA predict config with its paths moved under ``tmp``."""
    cfg = configs.load(f"configs/predict/{NAME}")
    cfg.update(model_name_or_path=str(tiny_model), adapter_name_or_path=str(tmp / "adapter"),
               dataset_dir=str(tmp / "data"), output_dir=str(tmp / "predict"), **changes)
    cfg = {k: v for k, v in cfg.items() if v is not None}
    path = tmp / "configs" / "predict" / NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, tiny_model) -> Path:
    """Data from the project's samples (preprocessed as scripts/preprocess.py does) and the adapter."""
    from qwen_recipes.data.prepare import prepare

    tmp = tmp_path_factory.mktemp("batch_generate")
    prepare("psyqa", ROOT / "dataset/samples/psyqa/PsyQA_sample.json", tmp / "data", log=lambda _: None)
    prepare("chnsenticorp", ROOT / "dataset/samples/chnsenticorp", tmp / "data", log=lambda _: None)
    make_adapter(tiny_model, tmp / "adapter")
    return tmp


def read_rows(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def lf_and_ours(tmp_path: Path, workspace: Path, tiny_model: Path, quantization_bit: int | None,
               overrides: list[str] = OVERRIDES) -> Path:
    """A relocated config in ``tmp_path`` (data and adapter linked from the workspace) and LLaMA-Factory's
    predictions for it (``<tmp_path>/predict``)."""
    for sub in ("adapter", "data"):
        (tmp_path / sub).symlink_to(workspace / sub)
    config = write_config(tmp_path, tiny_model, quantization_bit=quantization_bit,
                          quantization_method="bnb" if quantization_bit else None)
    proc = run_script("llamafactory-cli", "train", str(config), *overrides)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return config


def assert_same_rows(ours: Path, theirs: Path) -> list[dict[str, str]]:
    our_rows, lf_rows = read_rows(ours / "generated_predictions.jsonl"), read_rows(theirs / "generated_predictions.jsonl")
    assert len(lf_rows) == 12
    for i, (a, b) in enumerate(zip(our_rows, lf_rows, strict=True)):
        assert a == b, f"row {i}: ours {a!r}\nLLaMA-Factory {b!r}"
    return lf_rows


@pytest.mark.slow
def test_engine_gives_llamafactory_output_lora_merged(workspace, tiny_model, tmp_path):
    """The default path (the engine: one slot per prompt here, refilled as answers stop) against do_predict with the
    adapter merged into a float32 base: every row identical, in the same order."""
    config = lf_and_ours(tmp_path, workspace, tiny_model, None)
    proc = run_script("scripts/predict.py", str(config), *OVERRIDES)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    theirs, ours = tmp_path / "predict", tmp_path / "predict" / "batched"
    assert str(ours / "generated_predictions.jsonl") in proc.stdout  # printed at the end
    lf_rows = assert_same_rows(ours, theirs)

    proc = run_script("scripts/compare_predictions.py", str(ours), str(theirs))
    assert proc.returncode == 0 and "identical predict: 12/12" in proc.stdout, proc.stdout + proc.stderr

    # What the comparison covered: PsyQA prompts cut by cutoff_len (they lose the assistant header), reviews whole,
    # batches that sorting reordered (checked in test_order_is_restored_after_length_sorting), answers that stop early.
    assert sum(not r["prompt"].endswith("<|im_start|>assistant\n") for r in lf_rows) == 6
    speed = json.loads((ours / "predict_speed.json").read_text())
    assert speed["examples"] == 12 and speed["device"] == "cpu" and speed["sorted_by_length"]
    assert speed["engine"] == "graph" and speed["batch_size"] == 12 == speed["engine_stats"]["slots"]
    assert 12 <= speed["generated_tokens"] < 12 * 64 and speed["generated_tokens_per_second"] > 0


@pytest.mark.slow
def test_same_batches_give_llamafactory_output_qlora_4bit(workspace, tiny_model, tmp_path):
    """The shipped QLoRA setting (4-bit base, adapter unmerged) with LLaMA-Factory's batches: every row identical.

    Batches in data order because bitsandbytes' 4-bit CPU kernel computes in bf16 on CPUs with AVX512-BF16, so its
    rounding depends on the batch shape, and on this random model some top-2 logits are closer than bf16 can tell
    apart: do_predict's own answer to such a row changes with per_device_eval_batch_size (measured: row 6 at batch
    sizes 5 and 12 differs from 1, 3, 4, 6). The same batches must give the same answers bit for bit.
    """
    config = lf_and_ours(tmp_path, workspace, tiny_model, 4)
    ours = tmp_path / "ours"
    paths = bg.predict(config, ours, overrides=OVERRIDES, device="cpu", sort_by_length=False, log=lambda _: None)
    assert paths["predictions"] == ours / "generated_predictions.jsonl"
    assert_same_rows(ours, tmp_path / "predict")


@pytest.mark.slow
def test_engine_gives_llamafactory_output_qlora_4bit(workspace, tiny_model, tmp_path):
    """The shipped QLoRA setting (4-bit base, adapter unmerged) through the engine: every row identical to do_predict's.

    One sequence at a time on both sides (do_predict at batch 1, the engine with one slot, refilled 12 times): on CPUs
    with AVX512-BF16, bitsandbytes' fused 4-bit kernel computes in bf16 and its rounding depends on how many rows one
    matmul holds, so any two batchings (do_predict at two batch sizes too) can split at a near-tie. Measured here: the
    engine with 3 slots against do_predict at batch 4 first differs at row 7, partway into its answer. With the float32
    base (test above) batch shapes do not matter and the engine runs 12 slots. The merged path (dequantized base +
    adapter) runs too; its agreement with the 4-bit path is what the GPU benchmark reports.
    """
    one = [o for o in OVERRIDES if not o.startswith("per_device_eval_batch_size")] + ["per_device_eval_batch_size=1"]
    config = lf_and_ours(tmp_path, workspace, tiny_model, 4, one)
    paths = bg.predict(config, tmp_path / "ours", overrides=one, device="cpu", max_slots=1, log=lambda _: None)
    speed = json.loads(paths["speed"].read_text())
    assert speed["engine"] == "graph" and speed["batch_size"] == 1 and speed["quantization_bit"] == 4
    assert not speed["merged_4bit_adapter"] and speed["engine_stats"]["steps"] > 12 * 8
    assert_same_rows(tmp_path / "ours", tmp_path / "predict")

    paths = bg.predict(config, tmp_path / "merged", overrides=one, device="cpu", merge=True, log=lambda _: None)
    speed = json.loads(paths["speed"].read_text())
    assert speed["merged_4bit_adapter"] and speed["dtype"] == "float32" and speed["examples"] == 12
    assert len(read_rows(paths["predictions"])) == 12


def test_order_is_restored_after_length_sorting(workspace, tiny_model, tmp_path):
    """Batched answers come back in data order and equal each prompt generated alone (no padding at all)."""
    for sub in ("adapter", "data"):
        (tmp_path / sub).symlink_to(workspace / sub)
    settings = bg.settings_from(write_config(tmp_path, tiny_model, quantization_bit=None, quantization_method=None),
                                OVERRIDES)
    examples = bg.load_examples(settings)
    assert [e.dataset for e in examples] == ["psyqa_train"] * 6 + ["chnsenticorp_test"] * 6
    model, tokenizer, template, _ = bg.load_model(settings, "cpu")
    prompts = [bg.encode(e, template, tokenizer, settings.cutoff_len)[0] for e in examples]
    order = bg.length_order(prompts)
    assert order[:6] != list(range(6)), "the data must make sorting move rows, or this test proves nothing"

    kwargs = {"pad_token_id": tokenizer.pad_token_id, "stop_ids": bg.stop_token_ids(tokenizer, template),
              "max_new_tokens": settings.max_new_tokens}
    batched = bg.generate(model, prompts, batch_size=4, **kwargs)
    alone = [bg.generate(model, [p], batch_size=1, **kwargs).tokens[0] for p in prompts]
    assert batched.tokens == alone
    lengths = [len(t) for t in batched.tokens]
    assert batched.generated_tokens == sum(lengths)
    assert min(lengths) < settings.max_new_tokens == max(lengths), f"both stop paths must be exercised: {lengths}"
    stops = set(kwargs["stop_ids"])
    assert all(t[-1] in stops for t in batched.tokens if len(t) < settings.max_new_tokens)


def test_length_order_and_trim():
    assert bg.length_order([[1], [1, 2, 3], [1, 2], [4, 5, 6]]) == [1, 3, 2, 0]  # longest first, ties keep data order
    assert bg.trim_at_stop([5, 6, 2, 0, 0], [2, 1]) == [5, 6, 2]
    assert bg.trim_at_stop([5, 6, 7], [2]) == [5, 6, 7]


def test_missing_dataset_entry_is_named(workspace, tiny_model, tmp_path):
    (tmp_path / "data").symlink_to(workspace / "data")
    config = write_config(tmp_path, tiny_model, eval_dataset="psyqa_nope")
    with pytest.raises(DataError, match=r"dataset_info\.json.*field 'eval_dataset'.*no dataset 'psyqa_nope'"):
        bg.load_examples(bg.settings_from(config))
    # The script says the same in one line, exit status 2, no traceback, before loading any model.
    proc = run_script("scripts/predict.py", str(config))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no dataset 'psyqa_nope'" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def test_missing_data_file_and_bad_records_are_named(tiny_model, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    info = {"gone": {"file_name": "gone/test.json"}, "bad": {"file_name": "bad.json"}}
    (data / "dataset_info.json").write_text(json.dumps(info), encoding="utf-8")
    (data / "bad.json").write_text(json.dumps([{"instruction": "a", "input": "", "output": "b"},
                                               {"input": "no instruction", "output": "c"}]), encoding="utf-8")
    config = write_config(tmp_path, tiny_model, eval_dataset="gone")
    with pytest.raises(DataError, match=r"gone/test\.json: data file of dataset 'gone' not found"):
        bg.load_examples(bg.settings_from(config))
    with pytest.raises(DataError, match=r"bad\.json:2, field 'instruction': missing"):
        bg.load_examples(bg.settings_from(config, ["eval_dataset=bad"]))
    (data / "dataset_info.json").unlink()
    with pytest.raises(DataError, match=r"dataset_info\.json: not found"):
        bg.load_examples(bg.settings_from(config))
    with pytest.raises(DataError, match=r"field 'eval_dataset': missing"):
        bg.settings_from(write_config(tmp_path, tiny_model, eval_dataset=None))
    with pytest.raises(DataError, match=r"nope\.yaml: predict config not found"):
        bg.settings_from(tmp_path / "nope.yaml")


def test_compare_reports_the_first_difference(tmp_path):
    rows = [{"prompt": f"p{i}", "predict": f"a{i}", "label": f"l{i}"} for i in range(3)]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "generated_predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    rows[1]["predict"] = "different"
    (tmp_path / "b" / "generated_predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result, _, _ = compare(tmp_path / "a", tmp_path / "b")
    assert (result.same_predict, result.same_prompt, result.first_difference, result.identical) == (2, 3, 1, False)
    proc = run_script("scripts/compare_predictions.py", str(tmp_path / "a"), str(tmp_path / "b"))
    assert proc.returncode == 1 and "identical predict: 2/3" in proc.stdout and "line 2" in proc.stdout, proc.stdout
    assert "'a1'" in proc.stdout and "'different'" in proc.stdout
    proc = run_script("scripts/compare_predictions.py", str(tmp_path / "a"), str(tmp_path / "missing"))
    assert proc.returncode == 2 and "predictions not found" in proc.stdout


def test_full_determinism_is_honoured_before_the_model_loads(workspace, tiny_model, tmp_path, monkeypatch):
    """``full_determinism: true`` in a predict config switches deterministic kernels on, with the config's seed, as
    the Trainer does for do_predict; without it nothing is switched."""
    import transformers

    calls: list[int] = []

    class Stop(Exception):
        pass

    def fake(seed: int) -> None:
        calls.append(seed)
        raise Stop

    monkeypatch.setattr(transformers, "enable_full_determinism", fake)
    (tmp_path / "data").symlink_to(workspace / "data")
    config = write_config(tmp_path, tiny_model)
    with pytest.raises(Stop):
        bg.predict(config, tmp_path / "ours", overrides=[*OVERRIDES, "full_determinism=true", "seed=7"], device="cpu",
                   log=lambda _: None)
    assert calls == [7]
    assert not bg.settings_from(config, OVERRIDES).full_determinism
