"""Qwen2 / Qwen2.5's real tokenizer, built offline from the BPE ranks that Alibaba Cloud's own SDK ships on PyPI.

Qwen2 and Qwen2.5 share one byte-level BPE vocabulary of 151,643 ranks; they differ in their special tokens (Qwen2:
3, Qwen2.5: 22, ids 151643-151664), chat template and maximum length. The ranks are the file
``dashscope/resources/qwen.tiktoken`` inside the ``dashscope`` wheel (Apache-2.0). ``rank_file`` takes that one file
out of the wheel (``pip download``: the SDK's code and its dependencies are never installed) into a cache folder and
checks its sha256 before every use. ``path(name)`` builds the tokenizer there on first use: vocabulary and merges
recovered from the ranks by transformers' own ``TikTokenConverter``, inside transformers' ``Qwen2Tokenizer`` (NFC,
Qwen2's split pattern, byte-level), then the special tokens at their ids and the release's tokenizer settings. The
result encodes exactly as tiktoken does with the same ranks (a test checks it on every sample line).

The cache is ``$QWEN_RECIPES_CACHE`` or ``~/.cache/qwen_recipes``; ``$QWEN_TIKTOKEN`` may point at a copy of the
rank file instead of fetching it (its hash is checked all the same).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from qwen_recipes.errors import DataError

NAMES = ("qwen2.5", "qwen2")
WHEEL = "dashscope==2.0.2"
MEMBER = "dashscope/resources/qwen.tiktoken"
SHA256 = "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186"
RANKS = 151_643

# Qwen2's pre-tokenizer pattern (its tokenizer.json): contractions, letters, single digits, punctuation, spaces.
QWEN_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Added tokens in id order from 151643, with whether the release marks them special (skipped when decoding).
_QWEN25_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
                   "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
                   "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
_QWEN25_PLAIN = ["<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
                 "<|repo_name|>", "<|file_sep|>"]
ADDED = {
    "qwen2": [(t, True) for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]],
    "qwen2.5": [(t, True) for t in _QWEN25_SPECIAL] + [(t, False) for t in _QWEN25_PLAIN],
}

_QWEN2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
# Qwen2.5-Instruct's template (tool calls included), as its tokenizer_config.json ships it.
_QWEN25_TEMPLATE = (Path(__file__).parent / "chat_templates" / "qwen2.5.jinja").read_text(encoding="utf-8")
# What the Instruct releases' tokenizer_config.json say besides the tokens.
SETTINGS = {
    "qwen2": {"chat_template": _QWEN2_TEMPLATE, "model_max_length": 32768},
    "qwen2.5": {"chat_template": _QWEN25_TEMPLATE, "model_max_length": 131072},
}


def _recipe(name: str) -> str:
    """A digest of what a build puts besides the ranks: a cached build made from other settings is rebuilt."""
    return hashlib.sha256(json.dumps([ADDED[name], SETTINGS[name], QWEN_SPLIT]).encode()).hexdigest()[:16]


def cache_dir() -> Path:
    return Path(os.environ.get("QWEN_RECIPES_CACHE") or Path.home() / ".cache" / "qwen_recipes")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _checked(path: Path, where: str) -> Path:
    digest = _sha256(path)
    if digest != SHA256:
        raise DataError(f"sha256 {digest[:16]}... is not Qwen's rank file ({SHA256[:16]}...)", path=path,
                        hint=f"{where}; delete it to fetch it again")
    return path


def rank_file(log=print) -> Path:
    """Qwen's BPE rank file, hash-checked: ``$QWEN_TIKTOKEN``, the cached copy, or one fetched from the wheel."""
    if os.environ.get("QWEN_TIKTOKEN"):
        given = Path(os.environ["QWEN_TIKTOKEN"])
        if not given.is_file():
            raise DataError("not found", path=given, field="QWEN_TIKTOKEN")
        return _checked(given, "QWEN_TIKTOKEN points at it")
    cached = cache_dir() / "qwen.tiktoken"
    if cached.is_file():
        return _checked(cached, "the cached copy")
    log(f"fetching Qwen's BPE ranks ({MEMBER} from the {WHEEL} wheel on PyPI) into {cached}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                               "--disable-pip-version-check", "-d", tmp, WHEEL], capture_output=True, text=True, check=False)
        wheels = sorted(Path(tmp).glob("dashscope-*.whl"))
        if proc.returncode != 0 or not wheels:
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no wheel"]
            raise DataError(f"cannot download {WHEEL} to take Qwen's BPE ranks from it ({last[0][:160]})",
                            path=cached, hint="on a machine with PyPI access run python scripts/make_qwen_tokenizer.py, "
                            "or set QWEN_TIKTOKEN to a copy of dashscope/resources/qwen.tiktoken")
        part = Path(tmp) / "qwen.tiktoken"
        with zipfile.ZipFile(wheels[0]) as wheel:
            part.write_bytes(wheel.read(MEMBER))
        _checked(part, f"taken from {wheels[0].name}")
        part.replace(cached)
    return cached


def build(name: str, out_dir: str | Path, ranks: Path) -> Path:
    """Write the ``name`` tokenizer (``qwen2.5`` or ``qwen2``) to ``out_dir``, whole or not at all."""
    from tokenizers import AddedToken
    from transformers.convert_slow_tokenizer import TikTokenConverter
    from transformers.models.qwen2.tokenization_qwen2 import Qwen2Tokenizer

    vocab, merges = TikTokenConverter(pattern=QWEN_SPLIT).extract_vocab_merges_from_model(str(ranks))
    if len(vocab) != RANKS:
        raise DataError(f"holds {len(vocab)} ranks, Qwen's vocabulary has {RANKS}", path=ranks)
    added = ADDED[name]
    # In the vocabulary at their ids first: the tokenizer's own start-up adds eos/pad, which would take 151643 on.
    vocab.update({token: RANKS + i for i, (token, _) in enumerate(added)})
    specials = [t for t, special in added if special]
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=merges, unk_token=None, eos_token="<|im_end|>",
                               pad_token="<|endoftext|>", additional_special_tokens=specials[1:],
                               clean_up_tokenization_spaces=False, errors="replace", split_special_tokens=False,
                               **SETTINGS[name])
    tokenizer.add_tokens([AddedToken(t, special=s, normalized=False) for t, s in added])
    got = tokenizer.convert_tokens_to_ids([t for t, _ in added])
    if got != list(range(RANKS, RANKS + len(added))):
        raise RuntimeError(f"added tokens landed at {got[:4]}..., not at {RANKS}...")
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        tokenizer.save_pretrained(staging)
        (staging / "BUILT_FROM.json").write_text(json.dumps(
            {"name": name, "ranks": MEMBER, "wheel": WHEEL, "sha256": SHA256, "vocab": RANKS, "added": len(added),
             "recipe": _recipe(name)},
            indent=2) + "\n", encoding="utf-8")
        staging.chmod(0o755)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def path(name: str, log=print) -> Path:
    """The folder of the ``name`` tokenizer, built on first use (from a hash-checked rank file) and cached."""
    if name not in NAMES:
        raise ValueError(f"unknown Qwen tokenizer {name!r}; choose from {', '.join(NAMES)}")
    ranks = rank_file(log)
    folder = cache_dir() / "tokenizers" / name
    marker = folder / "BUILT_FROM.json"
    if marker.is_file():
        built = json.loads(marker.read_text(encoding="utf-8"))
        if (built.get("sha256"), built.get("recipe")) == (SHA256, _recipe(name)):
            return folder
    log(f"building the {name} tokenizer from Qwen's BPE ranks into {folder} (once, a few seconds)")
    return build(name, folder, ranks)


def family(model: str) -> str | None:
    """``qwen2.5`` / ``qwen2`` for a hub id of those families (``Qwen/Qwen2.5-7B-Instruct``), else None."""
    base = str(model).rsplit("/", 1)[-1].lower()
    if re.match(r"qwen2\.5(?![0-9])", base):
        return "qwen2.5"
    if re.match(r"qwen2(?![.0-9])", base):
        return "qwen2"
    return None
