"""The offline tiny model works with LLaMA-Factory's qwen template as a real Qwen2 checkpoint does."""

from __future__ import annotations

import json


def test_it_is_a_qwen2_with_chatml_tokens(tiny_model):
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(tiny_model)
    assert config.model_type == "qwen2" and config.architectures == ["Qwen2ForCausalLM"]
    tok = AutoTokenizer.from_pretrained(tiny_model)
    for special in ("<|endoftext|>", "<|im_start|>", "<|im_end|>"):
        ids = tok(special, add_special_tokens=False).input_ids
        assert len(ids) == 1, f"{special} must be one token"
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    text = "这家酒店房间干净整洁。Hello"
    assert tok.decode(tok(text).input_ids) == text  # byte-level: lossless
    assert json.loads((tiny_model / "TINY_MODEL.json").read_text())["what"].startswith("random weights")


def test_llamafactory_qwen_template_encodes_with_it(tiny_model):
    from llamafactory.data import get_template_and_fix_tokenizer
    from llamafactory.hparams import DataArguments
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    template = get_template_and_fix_tokenizer(tok, DataArguments(template="qwen"))
    prompt_ids, answer_ids = template.encode_oneturn(
        tok, [{"role": "user", "content": "评论：房间很好"}, {"role": "assistant", "content": "正面"}]
    )
    assert tok.decode(prompt_ids).endswith("<|im_start|>assistant\n")
    assert tok.decode(answer_ids) == "正面<|im_end|>\n"
    chat = tok.apply_chat_template([{"role": "user", "content": "你好"}], tokenize=False, add_generation_prompt=True)
    assert chat.endswith("<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n")


def test_build_is_reproducible(tiny_model, tmp_path):
    from conftest import ROOT

    from qwen_recipes.models import tiny as tm
    from qwen_recipes.tasks import all_tasks

    corpus = tm.corpus_from([ROOT / "dataset" / "samples"]) + [t.instruction for t in all_tasks().values()]
    again = tm.build(tmp_path / "again", corpus)
    for name in ("model.safetensors", "tokenizer.json"):
        assert (again / name).read_bytes() == (tiny_model / name).read_bytes()
