"""GPU-size profiles: how a recipe splits its work to fit and fill a 24, 48 or 80 GB card.

A profile never changes what is learned, only how: every profile trains on the same number of tokens per
optimizer step (``step_tokens`` per GPU), and differs in how many go through the GPU at once
(``micro_batch_tokens``) and in the switches that trade memory for speed (packing, Liger kernels, gradient
checkpointing, attention kernel). A profile may add switches for configs without quantization (``unquantized``):
a bf16 model's weights are four times a 4-bit model's, so a card that fits QLoRA easily may need more help to fit
LoRA. Batch size and accumulation follow from the config's ``cutoff_len``::

    per_device_train_batch_size = max(1, micro_batch_tokens // cutoff_len)
    gradient_accumulation_steps = max(1, step_tokens // (per_device_train_batch_size * cutoff_len))

A train config names its profile in its header (``# Profile: 24gb``); ``scripts/make_configs.py`` writes the
resulting keys into the config, and a test checks the committed configs match. Files: ``configs/profiles/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qwen_recipes.errors import DataError

PROFILE_DIR = Path("configs/profiles")
# The keys a profile owns in a train config; make_configs.py rewrites exactly these.
OWNED_KEYS = (
    "per_device_train_batch_size", "gradient_accumulation_steps", "packing", "neat_packing", "enable_liger_kernel",
    "disable_gradient_checkpointing", "gradient_checkpointing", "flash_attn", "use_unsloth_gc", "optim",
)


@dataclass(frozen=True)
class Profile:
    name: str
    micro_batch_tokens: int
    step_tokens: int
    switches: dict[str, Any] = field(default_factory=dict)
    unquantized: dict[str, Any] = field(default_factory=dict)  # added when the config has no quantization_bit

    def resolve(self, cutoff_len: int, *, quantized: bool) -> dict[str, Any]:
        """The LLaMA-Factory keys this profile sets for a config with ``cutoff_len``, quantized or not."""
        batch = max(1, self.micro_batch_tokens // cutoff_len)
        accumulation = max(1, self.step_tokens // (batch * cutoff_len))
        keys = {"per_device_train_batch_size": batch, "gradient_accumulation_steps": accumulation, **self.switches}
        if not quantized:
            keys.update(self.unquantized)
        # Hugging Face's own ``gradient_checkpointing`` would switch it back on behind LLaMA-Factory's back.
        keys["gradient_checkpointing"] = not keys.get("disable_gradient_checkpointing", False)
        return keys


def names(root: Path = PROFILE_DIR) -> list[str]:
    return sorted(p.stem for p in root.glob("*.yaml"))


def load(name: str, root: Path = PROFILE_DIR) -> Profile:
    path = root / f"{name}.yaml"
    if not path.exists():
        raise KeyError(f"no profile {name!r} in {root} (have: {', '.join(names(root)) or 'none'})")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    switches, unquantized = data.get("switches") or {}, data.get("unquantized") or {}
    for section, keys in (("switches", switches), ("unquantized", unquantized)):
        unknown = set(keys) - set(OWNED_KEYS) | ({"gradient_checkpointing"} & set(keys))
        if unknown:
            raise ValueError(f"{path}: {section} {sorted(unknown)} are not profile keys ({', '.join(OWNED_KEYS)})")
    return Profile(name, int(data["micro_batch_tokens"]), int(data["step_tokens"]), dict(switches), dict(unquantized))


# ---- Writing a profile into a train config (scripts/make_configs.py) --------------------------------------------
#
# The config is edited as text, so that every other line, comment and the order stay as written: the owned keys
# are taken out wherever they are and written back as one block, under one marker comment, at the end of
# ``### train``. The header's ``# Profile:`` line and the card size in ``# Needs:`` are kept in step with the name.

GENERATOR = "scripts/make_configs.py"
_PROFILE_LINE = re.compile(r"^# Profile:[ \t]*(\S*)")
_OWNED_LINE = re.compile(rf"^({'|'.join(OWNED_KEYS)})\s*:")  # top-level keys only: the configs are flat
_MARKER = "# From profile "
_CARD = re.compile(r"(?:\d+ GB or more )?\(profile [^)\s]*\)")


def _header_end(lines: list[str]) -> int:
    """Index of the first section line (``### ...``): the header is everything before it."""
    return next((i for i, line in enumerate(lines) if line.startswith("### ")), len(lines))


def profile_of(text: str) -> str | None:
    """The profile a config's header names (``# Profile: <name> ...``), or None for a config without one."""
    lines = text.splitlines()
    found = [m.group(1) for line in lines[: _header_end(lines)] if (m := _PROFILE_LINE.match(line))]
    if len(found) > 1:
        raise ValueError(f"more than one '# Profile:' line in the header: {found}")
    if found and not found[0]:
        raise ValueError("the '# Profile:' line names no profile")
    return found[0] if found else None


def profile_path(name: str, root: Path = PROFILE_DIR) -> str:
    return (root / f"{name}.yaml").as_posix()


def profile_line(name: str, root: Path = PROFILE_DIR) -> str:
    return (f"# Profile: {name}   ({profile_path(name, root)}; another card size: change the name, "
            f"run python {GENERATOR})")


def card(name: str) -> str:
    """How a ``# Needs:`` line states the card a profile is for: ``24 GB or more (profile 24gb)``."""
    size = re.fullmatch(r"(\d+)gb", name)
    return f"{size.group(1)} GB or more (profile {name})" if size else f"(profile {name})"


def _yaml_line(key: str, value: Any) -> str:
    return yaml.safe_dump({key: value}, default_flow_style=False, sort_keys=False, allow_unicode=True).strip()


def apply(text: str, profile: Profile, cutoff_len: int, root: Path = PROFILE_DIR, *, quantized: bool) -> str:
    """``text`` (a train config) with ``profile``'s keys for ``cutoff_len`` written in; idempotent.

    Removes every owned key and any earlier generated block, writes the block at the end of ``### train``
    (before the blank lines that close it), and brings the header's ``# Profile:`` line and ``# Needs:``
    card size up to date. Every other line is kept as it is.
    """
    lines = text.splitlines()
    head = _header_end(lines)
    for i in range(head):
        if _PROFILE_LINE.match(lines[i]):
            lines[i] = profile_line(profile.name, root)
        elif lines[i].startswith("# Needs:"):
            lines[i] = _CARD.sub(card(profile.name), lines[i])
    lines = lines[:head] + [
        line for line in lines[head:] if not (_OWNED_LINE.match(line) or line.startswith(_MARKER))
    ]
    try:
        start = lines.index("### train")
    except ValueError:
        raise ValueError("no '### train' section to write the profile's keys into") from None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("### ")), len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    keys = profile.resolve(cutoff_len, quantized=quantized)
    block = [f"{_MARKER}{profile.name} ({profile_path(profile.name, root)}) by {GENERATOR}: "
             "edit the profile or the header, not these lines."]
    block += [_yaml_line(key, keys[key]) for key in OWNED_KEYS if key in keys]
    lines[end:end] = block
    return "\n".join(lines) + "\n"


def render(path: str | Path, root: Path = PROFILE_DIR) -> str | None:
    """What the train config at ``path`` should read, or None when its header names no profile.

    Bad input (an unknown profile, no ``cutoff_len``, no ``### train``) is a DataError naming the file.
    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        name = profile_of(text)
    except ValueError as err:
        raise DataError(str(err), path=path) from None
    if name is None:
        return None
    if name not in names(root):
        raise DataError(f"the header names profile {name!r}, which does not exist", path=path,
                        hint=f"have: {', '.join(names(root)) or 'none'} in {root.as_posix()}/; "
                             "fix the '# Profile:' line or add the profile")
    try:
        profile = load(name, root)
    except (KeyError, ValueError, TypeError, yaml.YAMLError) as err:
        raise DataError(f"profile {name!r} is invalid: {err}", path=profile_path(name, root)) from None
    try:
        data = yaml.safe_load(text)
        cutoff = data.get("cutoff_len") if isinstance(data, dict) else None
    except yaml.YAMLError as err:
        raise DataError(f"not valid YAML: {err}", path=path) from None
    if not isinstance(cutoff, int) or isinstance(cutoff, bool) or cutoff < 1:
        raise DataError(f"profile {name!r} needs the config's own cutoff_len (a positive integer), found {cutoff!r}",
                        path=path, field="cutoff_len")
    try:
        return apply(text, profile, cutoff, root, quantized=data.get("quantization_bit") is not None)
    except ValueError as err:
        raise DataError(str(err), path=path) from None
