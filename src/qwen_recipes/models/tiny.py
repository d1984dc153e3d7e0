"""A tiny random-weight Qwen2-architecture causal LM, built offline, for the demo and the tests.

It is the real architecture (``Qwen2ForCausalLM``) at toy size with a byte-level BPE tokenizer trained
here on the project's own samples, carrying Qwen's ChatML special tokens and chat template, so that
LLaMA-Factory's ``template: qwen``, QLoRA, export and chat run unchanged. Its outputs mean nothing:
it exists to exercise the pipeline, never as a quality result.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from qwen_recipes.qwen_tokenizer import QWEN_SPLIT

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Qwen2.5-Instruct's template, without tool calls: what `apply_chat_template` users expect.
CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if not (message['role'] == 'system' and loop.first) %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
DEFAULT_SHAPE = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}


def corpus_from(paths: Iterable[str | Path]) -> list[str]:
    """Lines of every text file under the given paths, in a fixed order (so the tokenizer is reproducible)."""
    lines: list[str] = []
    for root in paths:
        root = Path(root)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for f in files:
            lines += [ln for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return lines


def train_tokenizer(corpus: list[str], vocab_size: int):
    """Byte-level BPE (as Qwen's) over ``corpus``, wrapped as a transformers fast tokenizer."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        # At most two CJK characters (three bytes each) per token, like Qwen's vocabulary: the samples repeat
        # phrases, and unbounded merges would turn whole phrases into single tokens that the tiny model can only
        # memorise, not generalise from.
        max_token_length=6,
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        chat_template=CHAT_TEMPLATE,
        model_max_length=32768,
        clean_up_tokenization_spaces=False,
    )


def build(
    out_dir: str | Path,
    corpus: list[str] | None = None,
    *,
    vocab_size: int = 2048,
    seed: int = 0,
    shape: dict[str, int] | None = None,
    tokenizer_dir: str | Path | None = None,
) -> Path:
    """Write tokenizer + random-weight Qwen2 model to ``out_dir`` (atomically: a folder appears whole or not at all).

    The tokenizer is trained on ``corpus`` (the demo's small vocabulary), or taken from ``tokenizer_dir`` (e.g.
    Qwen's real one, ``qwen_tokenizer.path("qwen2.5")``, so that the path a real model takes is exercised)."""
    import torch
    from transformers import AutoTokenizer, GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    if tokenizer_dir is not None:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    elif corpus is not None:
        tokenizer = train_tokenizer(corpus, vocab_size)
    else:
        raise ValueError("give a corpus to train the tokenizer on, or tokenizer_dir")
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        # Larger than Qwen's 0.02: with tied, frozen embeddings of width 64 the logits could not move far
        # enough for LoRA to learn anything, and the demo would show a flat loss.
        initializer_range=0.2,
        bos_token_id=pad,
        eos_token_id=eos,
        pad_token_id=pad,
        **(shape or DEFAULT_SHAPE),
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=pad, eos_token_id=[eos, pad], pad_token_id=pad, do_sample=False, max_new_tokens=64
    )
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        tokenizer.save_pretrained(staging)
        model.save_pretrained(staging)
        (staging / "TINY_MODEL.json").write_text(
            json.dumps({"what": "random weights; for pipeline tests only", "seed": seed,
                        "tokenizer": str(tokenizer_dir) if tokenizer_dir else f"trained on {len(corpus or [])} lines",
                        "vocab_size": len(tokenizer)}, indent=2) + "\n",
            encoding="utf-8",
        )
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.chmod(0o755)  # mkdtemp makes it private; the model is an ordinary output
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
