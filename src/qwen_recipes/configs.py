"""The project's LLaMA-Factory configs: where they are and how the stages point at each other.

Configs are grouped by stage (``configs/<stage>/<model>_<method>_<task>.yaml``). A predict, chat or
export config belongs to the train config of the same file name, and reads the adapter from that
config's ``output_dir``: tests check it, so a path is never written two different ways.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path("configs")
STAGES = ("train", "predict", "chat", "export")


def load(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of LLaMA-Factory arguments")
    return data


def train_config_for(path: str | Path) -> Path:
    """The train config a predict/chat/export config belongs to: same name, in the sibling ``train`` folder."""
    path = Path(path)
    return path.parent.parent / "train" / path.name


def all_configs(root: Path = CONFIG_DIR) -> dict[str, list[Path]]:
    return {stage: sorted((root / stage).glob("*.yaml")) for stage in STAGES}
