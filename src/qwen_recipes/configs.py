"""The project's LLaMA-Factory configs: where they are and how the stages point at each other.

Configs are grouped by stage (``configs/<stage>/<model>_<method>_<task>.yaml``). A predict, chat or
export config belongs to the train config of the same file name, and reads the adapter from that
config's ``output_dir``: ``scripts/make_configs.py`` writes them from it (``qwen_recipes.config_gen``), so a
path is never written two different ways.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path("configs")
STAGES = ("train", "predict", "chat", "export")


def read_yaml(path: str | Path, what: str = "config file") -> Any:
    """Parsed YAML of ``path``; a missing file, a folder, bytes that are not UTF-8 or text that is not YAML is a
    DataError naming the file (and the line of a YAML error)."""
    from qwen_recipes.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError("not found" if not path.exists() else f"is a folder, not a {what}", path=path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DataError(f"not a UTF-8 text file (a YAML {what} is expected)", path=path) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise DataError(f"not valid YAML ({getattr(err, 'problem', None) or err})", path=path,
                        line=mark.line + 1 if mark else None) from None


def load(path: str | Path) -> dict[str, Any]:
    """A config as a dict; a missing file, a folder, text that is not YAML or YAML that is not a mapping is a
    DataError naming the file (and the line of a YAML error)."""
    from qwen_recipes.errors import DataError

    data = read_yaml(path)
    if not isinstance(data, dict):
        raise DataError("expected a mapping of LLaMA-Factory arguments (key: value lines)", path=path)
    return data


def train_config_for(path: str | Path) -> Path:
    """The train config a predict/chat/export config belongs to: same name, in the sibling ``train`` folder."""
    path = Path(path)
    return path.parent.parent / "train" / path.name


def all_configs(root: Path = CONFIG_DIR) -> dict[str, list[Path]]:
    return {stage: sorted((root / stage).glob("*.yaml")) for stage in STAGES}
