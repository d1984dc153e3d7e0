"""Qwen's real tokenizer, built offline from the BPE ranks in the dashscope wheel: pinned to ids anyone can check
against the released tokenizer, equal to tiktoken on the same ranks, and to LLaMA-Factory's `qwen` template."""

from __future__ import annotations

import unicodedata

import pytest
from conftest import ROOT

from qwen_recipes import hub, qwen_tokenizer
from qwen_recipes.errors import DataError


def sample_lines() -> list[str]:
    lines = []
    for f in sorted((ROOT / "dataset" / "samples").rglob("*.*")):
        lines += [x for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    return lines


@pytest.fixture(scope="module")
def tok(qwen25):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(qwen25)


@pytest.mark.parametrize(("text", "ids"), [
    ("Hello world", [9707, 1879]), ("你好", [108386]), ("你好世界", [108386, 99489]),
    ("正面", [106557]), ("负面", [103276]),
])
def test_ids_users_can_check_against_the_release(tok, text, ids):
    assert tok(text, add_special_tokens=False).input_ids == ids


def test_special_tokens_at_their_ids():
    from transformers import AutoTokenizer

    for name, count in (("qwen2.5", 22), ("qwen2", 3)):
        t = AutoTokenizer.from_pretrained(qwen_tokenizer.path(name, log=lambda _: None))
        added = [token for token, _ in qwen_tokenizer.ADDED[name]]
        assert len(added) == count and t.convert_tokens_to_ids(added) == list(range(151643, 151643 + count))
        assert len(t) == 151643 + count
        assert (t.eos_token, t.eos_token_id, t.pad_token_id) == ("<|im_end|>", 151645, 151643)
        # A special token in text is one id, not split into pieces; decoding skips the special ones.
        ids = t("<|im_start|>user\n你好<|im_end|>", add_special_tokens=False).input_ids
        assert ids == [151644, 872, 198, 108386, 151645] and t.decode(ids, skip_special_tokens=True) == "user\n你好"
    t = AutoTokenizer.from_pretrained(qwen_tokenizer.path("qwen2.5", log=lambda _: None))
    assert t.convert_tokens_to_ids(["<|file_sep|>", "<tool_call>"]) == [151664, 151657]


def test_round_trip_and_tiktoken_agree_on_every_sample_line(tok):
    """decode(encode(x)) == x, and the ids are tiktoken's with the same ranks and Qwen's split pattern."""
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    ranks = load_tiktoken_bpe(str(qwen_tokenizer.rank_file(log=lambda _: None)))
    reference = tiktoken.Encoding("qwen", pat_str=qwen_tokenizer.QWEN_SPLIT, mergeable_ranks=ranks, special_tokens={})
    lines = sample_lines()
    real = ROOT.parent / "shared" / "real-data" / "psyqa" / "PsyQA_example.json"
    if real.exists():
        lines += real.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 500
    for line in lines:
        ids = tok(line, add_special_tokens=False).input_ids
        assert ids == reference.encode(unicodedata.normalize("NFC", line), disallowed_special=()), line[:60]
        assert tok.decode(ids) == unicodedata.normalize("NFC", line)


def test_llamafactory_qwen_template_encodes_like_the_chat_template(qwen25):
    from llamafactory.data import get_template_and_fix_tokenizer
    from llamafactory.hparams import DataArguments
    from transformers import AutoTokenizer

    messages = [{"role": "user", "content": "下面是一条酒店评论：房间很干净，服务周到。"},
                {"role": "assistant", "content": "正面"}]
    chat = AutoTokenizer.from_pretrained(qwen25).apply_chat_template(messages, tokenize=True)
    chat = chat["input_ids"] if isinstance(chat, dict) or hasattr(chat, "keys") else chat
    tok = AutoTokenizer.from_pretrained(qwen25)
    template = get_template_and_fix_tokenizer(tok, DataArguments(template="qwen"))
    prompt, answer = template.encode_oneturn(tok, messages)
    assert prompt + answer == list(chat)
    assert answer == [106557, 151645, 198]  # the label is one token, then <|im_end|> and the newline


def test_a_rank_file_with_another_hash_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "qwen.tiktoken"
    fake.write_text("IQ== 0\n")
    monkeypatch.setenv("QWEN_TIKTOKEN", str(fake))
    with pytest.raises(DataError, match="is not Qwen's rank file"):
        qwen_tokenizer.rank_file()


def test_names_work_offline_and_qwen_hub_ids_fall_back_once(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    said = []
    for _ in range(2):
        t = hub.load_tokenizer("Qwen/Qwen2.5-7B-Instruct-NotCached", log=said.append)
        assert t("你好", add_special_tokens=False).input_ids == [108386] and len(t) == 151665
    assert len(said) == 1 and "qwen2.5 tokenizer" in said[0] and "same ids" in said[0]
    assert len(hub.load_tokenizer("qwen2", log=said.append)) == 151646
    with pytest.raises(DataError, match="not in the cache"):
        hub.load_tokenizer("someone/llama-7b", log=said.append)


@pytest.mark.parametrize(("name", "family"), [
    ("Qwen/Qwen2.5-7B-Instruct", "qwen2.5"), ("Qwen2.5-1.5B", "qwen2.5"), ("Qwen/Qwen2-7B-Instruct", "qwen2"),
    ("qwen/qwen2-1.5b", "qwen2"), ("Qwen/Qwen3-8B", None), ("Qwen/Qwen2.50-x", None), ("meta-llama/Llama-3-8B", None),
])
def test_family_of_a_model_name(name, family):
    assert qwen_tokenizer.family(name) == family
