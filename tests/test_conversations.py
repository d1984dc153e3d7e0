"""Bring your own data: the Alpaca and ShareGPT samples through preprocessing (exact counts, every record written or
rejected with file, line and field), LLaMA-Factory's own converter reading the files as registered, one short training
run of the shipped ms-swift-style recipe on the tiny model and a multi-turn chat with the result; bad input ends in one
line naming file, record and field, exit status 2, and leaves an earlier run's outputs as they were."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT, run_main, run_script

from qwen_recipes import configs
from qwen_recipes.data.prepare import prepare
from qwen_recipes.errors import DataError
from qwen_recipes.tasks import get_task

SAMPLES = ROOT / "dataset" / "samples"
QUIET = {"log": lambda _: None}
CONFIG = "qwen2.5-7b-instruct_qlora_sharegpt.yaml"
SYSTEM = "你是一名温和、专业的心理咨询师。先共情，再帮助来访者理清想法，不做诊断，必要时建议寻求线下专业帮助。"

# (file, line, field, how the reason starts) of every record the samples' readers reject.
REJECTED = {
    "sharegpt": [
        ("counseling_messages.json", 233, "[11].messages[1].role", "two user turns in a row"),
        ("counseling_messages.json", 249, "[12].messages[1].content", "not text but int"),
        ("counseling_messages.json", 261, "[13].messages[0].content", "empty turn, and no other exchange"),
        ("counseling_messages.json", 273, "[14].conversations", "missing: a ShareGPT record holds its turns"),
        ("counseling_sharegpt.jsonl", 14, "conversations[1].from", "unknown role 'doctor'"),
        ("counseling_sharegpt.jsonl", 15, "conversations[0].from", "the conversation starts with an assistant turn"),
        ("counseling_sharegpt.jsonl", 16, None, "invalid JSON"),
    ],
    "alpaca": [
        ("counseling_alpaca.json", 140, "[13].output", "empty output"),
        ("counseling_alpaca.json", 145, "[14].input", "not text but int"),
        ("counseling_alpaca.json", 150, "[15].history[0]", "not an (instruction, answer) pair"),
        ("counseling_alpaca.jsonl", 12, "output", "missing"),
        ("counseling_alpaca.jsonl", 13, "instruction", "empty prompt"),
        ("counseling_alpaca.jsonl", 14, "instruction", "missing (this record has ShareGPT turns: use the sharegpt source)"),
    ],
}
DUPLICATES = {  # (file, line, what it copies): inside one file, and across files and tag styles
    "sharegpt": [("counseling_sharegpt.jsonl", 5, f"{SAMPLES}/sharegpt/counseling_messages.json:67"),
                 ("counseling_sharegpt.jsonl", 10, "line 3")],
    "alpaca": [("counseling_alpaca.json", 66, "line 8"),
               ("counseling_alpaca.jsonl", 3, f"{SAMPLES}/alpaca/counseling_alpaca.json:34")],
}
INSIDE = {  # exchanges dropped inside kept records
    "sharegpt": [(2, "conversations[3].value", "empty turn"), (8, "conversations[6].value", "a final user turn")],
    "alpaca": [(39, "[4].history[0][1]", "empty turn in history")],
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, qwen25) -> tuple[Path, dict]:
    """Both samples preprocessed into one data dir (as a user with both layouts would), lengths on Qwen2.5's vocabulary."""
    data = tmp_path_factory.mktemp("conversations") / "data"
    cutoff = configs.load(f"configs/train/{CONFIG}")["cutoff_len"]
    results = {task: prepare(task, SAMPLES / task, data, lengths={"tokenizer": str(qwen25), "cutoff_len": cutoff}, **QUIET)
               for task in ("sharegpt", "alpaca")}
    return data, results


@pytest.mark.parametrize("task", ["sharegpt", "alpaca"])
def test_samples_counts_add_up_and_every_record_is_accounted_for(prepared, task):
    data, results = prepared
    report = results[task].report
    assert report["counts"] == {"all": {"read": 31 if task == "sharegpt" else 30, "rejected": len(REJECTED[task]),
                                        "duplicates": 2, "conflicts": 0, "leaks": 0, "kept": 22}}
    assert {s: w["n"] for s, w in report["written"].items()} == {"train": 18, "dev": 2, "test": 2}
    dropped = report["dropped"]
    rejected = [(Path(d["path"]).name, d["line"], d["field"], d["reason"]) for d in dropped if d["category"] == "rejected"]
    assert len(rejected) == len(REJECTED[task])
    for got, (name, line, field, reason) in zip(rejected, REJECTED[task], strict=True):
        assert got[:3] == (name, line, field) and got[3].startswith(reason), got
    assert [(Path(d["path"]).name, d["line"], d["reason"]) for d in dropped if d["category"] == "duplicate"] == [
        (name, line, f"duplicate: duplicate of {what}") for name, line, what in DUPLICATES[task]]
    inside = [(d["line"], d["field"], d["reason"]) for d in report["dropped_inside_items"]]
    assert [(line, field) for line, field, _ in inside] == [(line, field) for line, field, _ in INSIDE[task]]
    assert all(got[2].startswith(want[2]) for got, want in zip(inside, INSIDE[task], strict=True))
    # Split by conversation: every kept conversation in exactly one split, none twice.
    written = [json.dumps(r, ensure_ascii=False, sort_keys=True) for s in ("train", "dev", "test")
               for r in json.loads((data / task / f"{s}.json").read_text(encoding="utf-8"))]
    assert len(written) == len(set(written)) == 22
    # Token lengths with Qwen2.5's real tokenizer, counted per exchange of the multi-turn records.
    train = report["lengths"]["splits"]["train"]
    assert train["n"] == 18 and train["exchanges"]["max"] >= 3 and train["exchanges"]["cut_at_cutoff"] == 0
    assert train["total_tokens"]["max"] < report["lengths"]["cutoff_len"]


def test_llamafactory_reads_the_files_as_registered(prepared):
    """Its own dataset_info parser and converters turn every written record into exactly the task's turns and system
    prompt (formatting, columns and tags are right), with the system prompts the samples carry."""
    from llamafactory.data.converter import get_dataset_converter
    from llamafactory.data.parser import get_dataset_list
    from llamafactory.hparams import DataArguments

    data, _ = prepared
    info = json.loads((data / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["sharegpt_train"] == {"file_name": "sharegpt/train.json", "formatting": "sharegpt",
                                      "columns": {"messages": "conversations", "system": "system"},
                                      "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human",
                                               "assistant_tag": "gpt", "system_tag": "system"}}
    assert info["alpaca_train"]["columns"] == {"prompt": "instruction", "query": "input", "response": "output",
                                               "system": "system", "history": "history"}
    committed = json.loads((ROOT / "data" / "dataset_info.json").read_text(encoding="utf-8"))
    assert all(committed[name] == info[name] for name in info), "the run registers what make_dataset_info.py writes"
    systems = Counter()
    for task in ("sharegpt", "alpaca"):
        for split in ("train", "dev", "test"):
            attr = get_dataset_list([f"{task}_{split}"], str(data))[0]
            convert = get_dataset_converter(attr.formatting, attr, DataArguments(dataset_dir=str(data)))
            for record in json.loads((data / attr.dataset_name).read_text(encoding="utf-8")):
                got = convert(record)
                system, turns = get_task(task).messages(record)
                assert got["_prompt"] + got["_response"] == turns and got["_system"] == system
                assert len(turns) % 2 == 0 and [t["role"] for t in turns[:2]] == ["user", "assistant"]
                systems[task] += bool(system)
    assert systems["sharegpt"] == 9 and systems["alpaca"] == 3


@pytest.mark.slow
def test_the_recipe_trains_the_tiny_model_and_chats_in_several_turns(prepared, tmp_path, tiny_model):
    """The shipped QLoRA recipe (neat packing, rank 8, all linear layers) with only paths, size and CPU switches
    overridden, on both layouts at once; then the chat config's model answers a second turn with the first as history."""
    data, _ = prepared
    adapter = tmp_path / "adapter"
    proc = run_script("llamafactory-cli", "train", f"configs/train/{CONFIG}", f"model_name_or_path={tiny_model}",
                      f"dataset_dir={data}", "dataset=sharegpt_train,alpaca_train", f"output_dir={adapter}",
                      "bf16=false", "enable_liger_kernel=false", "preprocessing_num_workers=1", "dataloader_num_workers=0",
                      "max_steps=3", "per_device_train_batch_size=1", "gradient_accumulation_steps=1", "logging_steps=1")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (adapter / "adapter_model.safetensors").exists()
    log = [json.loads(line) for line in (adapter / "trainer_log.jsonl").read_text().splitlines()]
    assert [r["current_steps"] for r in log if "loss" in r] == [1, 2, 3] and all(r["loss"] > 0 for r in log if "loss" in r)
    assert "<|im_start|>assistant\n" in proc.stdout and proc.stdout.count("<|im_start|>user\n") > 2, "packed multi-turn rows"

    from llamafactory.chat import ChatModel
    from llamafactory.data.template import TEMPLATES

    chat = {**configs.load(f"configs/chat/{CONFIG}"), "model_name_or_path": str(tiny_model),
            "adapter_name_or_path": str(adapter), "max_new_tokens": 12, "default_system": SYSTEM}
    # LLaMA-Factory sets default_system on its one shared template object: put it back, or every later test in this
    # process that renders the qwen template would get this system prompt.
    shipped = TEMPLATES[chat["template"]].default_system
    try:
        model = ChatModel(chat)
        assert model.engine.template.default_system == SYSTEM
        history = [{"role": "user", "content": "最近工作压力特别大，晚上也睡不好。"}]
        history.append({"role": "assistant", "content": model.chat(history)[0].response_text})
        history.append({"role": "user", "content": "周末也会一直想着工作的事。"})
        second = model.chat(history)[0]
    finally:
        TEMPLATES[chat["template"]].default_system = shipped
    assert history[1]["content"] and second.response_text and second.prompt_length > 30


# ---- Bad input: one line naming file, record and field; exit status 2; nothing written --------------------------

ONE_USER = {"from": "human", "value": "我最近总是睡不好。"}
BAD = [
    ("sharegpt", "bad.jsonl", json.dumps({"conversations": [ONE_USER, {"from": "doctor", "value": "嗯。"}]}) + "\n",
     ["bad.jsonl:1", "field 'conversations[1].from'", "unknown role 'doctor'"]),
    ("sharegpt", "bad.json", json.dumps([{"messages": [{"role": "assistant", "content": "你好。"}, {"role": "user",
                                                                                                   "content": "你好。"}]}],
                                        indent=2),
     ["bad.json:2", "field '[0].messages[0].role'", "starts with an assistant turn"]),
    ("sharegpt", "bad.jsonl", json.dumps({"conversations": [ONE_USER, {"from": "gpt", "value": 3}]}) + "\n",
     ["bad.jsonl:1", "field 'conversations[1].value'", "not text but int"]),
    ("sharegpt", "empty.jsonl", "", ["empty.jsonl", "holds no records"]),
    ("alpaca", "bad.jsonl", "\n" + json.dumps({"instruction": "请回应。", "output": ["好的"]}) + "\n",
     ["bad.jsonl:2", "field 'output'", "not text but list"]),
    ("alpaca", "bad.json", '[\n  {"instruction": "请回应。", "output": "好的"},\n  {"instruction": \n',
     ["bad.json:4", "invalid JSON"]),
]


@pytest.mark.parametrize(("task", "name", "text", "expected"), BAD, ids=[f"{t}-{n}-{i}" for i, (t, n, _, _) in enumerate(BAD)])
def test_bad_input_is_one_line_naming_file_record_and_field(tmp_path, monkeypatch, capsys, task, name, text, expected):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / name).write_text(text, encoding="utf-8")
    code = run_main("preprocess", [task, "--input", str(tmp_path / name), "--data-dir", str(tmp_path / "data")])
    out = capsys.readouterr().out
    assert code == 2, out
    error = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "Traceback" not in out, out
    for text_ in expected:
        assert text_ in error[0], (text_, error[0])
    assert not (tmp_path / "data").exists(), "bad input writes nothing"


def test_split_files_keep_their_split_and_a_failed_run_leaves_the_last_good_one(tmp_path):
    """train/test files keep their split, a test conversation already in train is a leak, not a second copy; a later
    run on a file with no usable record stops before anything changes."""
    src = tmp_path / "in"
    src.mkdir()
    talk = [ONE_USER, {"from": "gpt", "value": "睡不好多久了？"}]
    other = [{"from": "human", "value": "我和同事吵架了。"}, {"from": "gpt", "value": "发生了什么？"}]
    (src / "train.jsonl").write_text("".join(json.dumps({"conversations": c}) + "\n" for c in (talk, other)), "utf-8")
    (src / "test.json").write_text(json.dumps([{"messages": [{"role": "user", "content": ONE_USER["value"]},
                                                             {"role": "assistant", "content": "睡不好多久了？"}]},
                                               {"messages": [{"role": "user", "content": "我想换工作。"},
                                                             {"role": "assistant", "content": "是什么让你想换？"}]}],
                                              indent=1), "utf-8")
    data = tmp_path / "data"
    result = prepare("sharegpt", src, data, **QUIET)
    assert result.report["counts"]["test"] == {"read": 2, "rejected": 0, "duplicates": 0, "conflicts": 0, "leaks": 1,
                                               "kept": 1}
    leak = next(d for d in result.report["dropped"] if d["category"] == "leak")
    assert leak["line"] == 2 and "also in train" in leak["reason"] and "train.jsonl:1" in leak["reason"]
    assert set(result.outputs) == {"train", "test"}
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}

    (src / "test.json").write_text(json.dumps([{"messages": [{"role": "bot", "content": "？"}]}]), "utf-8")
    with pytest.raises(DataError, match=r"test.json:1, field '\[0\].messages\[0\].role': unknown role 'bot'"):
        prepare("sharegpt", src, data, **QUIET)
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == before


def test_ms_swift_query_response_records_read_as_alpaca(tmp_path):
    """ms-swift's own layout (query, response, history, system) is the Alpaca task's instruction and output."""
    from qwen_recipes.readers import alpaca

    rows = [{"system": SYSTEM, "query": "我总是失眠。", "response": "失眠多久了？", "history": [["你好", "你好，我在。"]]},
            {"query": "", "response": "我在。"}]
    (tmp_path / "swift.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    got = alpaca.read_file(tmp_path / "swift.jsonl")
    assert got.variant == "alpaca:jsonl query/response+system+history"
    assert get_task("alpaca").build_record(got.records[0]) == {
        "instruction": "我总是失眠。", "input": "", "output": "失眠多久了？", "system": SYSTEM,
        "history": [["你好", "你好，我在。"]]}
    assert [(r.line, r.field, r.reason) for r in got.rejected] == [(2, "query", "empty prompt (query is empty)")]
