"""Fetching real models into a local folder: ModelScope by default (reachable from China), Hugging Face on request."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from qwen_recipes.errors import ProjectError

HUBS = {
    "modelscope": os.environ.get("MODELSCOPE_DOMAIN", "https://www.modelscope.cn"),
    "huggingface": os.environ.get("HF_ENDPOINT", "https://huggingface.co"),
}


class HubError(ProjectError, RuntimeError):
    """A download that cannot happen, with the reason in words."""


def is_local_model(path: str | Path) -> bool:
    return (Path(path) / "config.json").is_file()


def reachable(hub: str, timeout: float = 5.0) -> bool:
    """Whether the hub's host answers on its port; checked first so that no network means a clear message
    within seconds instead of a library retrying for minutes."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # behind a proxy a direct connection proves nothing: let the client try
    url = urlparse(HUBS[hub])
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def download(name: str, hub: str = "modelscope", models_dir: str | Path = "models", revision: str | None = None) -> Path:
    """Return a local folder holding ``name``: a local path passes through; a hub id is downloaded once."""
    if is_local_model(name):
        return Path(name)
    if Path(name).exists():
        raise HubError(f"{name} exists but has no config.json: not a model folder")
    if hub not in HUBS:
        raise HubError(f"unknown hub {hub!r}; choose from {', '.join(HUBS)}")
    target = Path(models_dir) / name.split("/")[-1]
    if is_local_model(target):
        return target
    if not reachable(hub):
        raise HubError(
            f"cannot reach {HUBS[hub]} (no network?). Download {name} on a machine with network access "
            f"and pass its local folder instead, or try --hub {'huggingface' if hub == 'modelscope' else 'modelscope'}"
        )
    try:
        if hub == "modelscope":
            from modelscope import snapshot_download

            snapshot_download(name, revision=revision, local_dir=str(target))
        else:
            from huggingface_hub import snapshot_download

            snapshot_download(name, revision=revision, local_dir=str(target))
    except Exception as err:  # hub clients raise many types; the user needs the cause in one line
        raise HubError(f"download of {name} from {hub} failed: {type(err).__name__}: {err}") from None
    if not is_local_model(target):
        raise HubError(f"download of {name} finished but {target} has no config.json")
    return target


# Datasets a user can fetch with scripts/download_data.py: name -> (ModelScope dataset, namespace, splits).
DATASETS = {
    "alimeeting4mug": ("Alimeeting4MUG", "modelscope", {"train": "train", "dev": "validation", "test": "test"}),
}


def download_dataset(name: str, out_dir: str | Path, subset: str = "default") -> list[Path]:
    """Fetch a dataset from ModelScope and write it in the raw layout the project's reader takes
    (AliMeeting4MUG: tab-separated ``idx``/``content``, one file per split). Files are written atomically."""
    import csv

    from qwen_recipes.io import atomic_open

    if name not in DATASETS:
        raise HubError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    if not reachable("modelscope"):
        raise HubError(f"cannot reach {HUBS['modelscope']} (no network?). Download the files on a machine with network "
                       f"access and put them under {out_dir}/")
    dataset, namespace, splits = DATASETS[name]
    from modelscope.msdatasets import MsDataset

    written = []
    for ours, theirs in splits.items():
        try:
            rows = MsDataset.load(dataset, namespace=namespace, subset_name=subset, split=theirs)
        except Exception as err:  # the hub client raises many types; one line with the cause is what helps
            raise HubError(f"loading {namespace}/{dataset} [{subset}/{theirs}] failed: {type(err).__name__}: {err}") from None
        path = Path(out_dir) / f"{ours}.csv"
        with atomic_open(path) as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(["idx", "content"])
            for i, row in enumerate(rows):
                content = row["content"] if isinstance(row["content"], str) else json.dumps(row["content"], ensure_ascii=False)
                writer.writerow([row.get("idx", i), content])
        written.append(path)
    return written


def load_tokenizer(name: str | Path, field: str = "--tokenizer", path: str | Path | None = None,
                   log: Callable[[str], None] = print) -> Any:
    """``AutoTokenizer`` for a folder, a hub id in the local cache, or ``qwen2.5`` / ``qwen2`` (Qwen's real tokenizer,
    built offline: ``qwen_tokenizer``). A Qwen2 / Qwen2.5 hub id that cannot be loaded offline falls back to that
    tokenizer, saying so once: the ids are the same. Anything else is one DataError naming the option (or ``path``
    and ``field`` of a config): offline, a hub id is otherwise a failed download deep inside transformers."""
    from transformers import AutoTokenizer

    from qwen_recipes import qwen_tokenizer
    from qwen_recipes.errors import DataError

    if str(name) in qwen_tokenizer.NAMES:
        return AutoTokenizer.from_pretrained(qwen_tokenizer.path(str(name), log))
    local = Path(name).is_dir()
    family = None if local else qwen_tokenizer.family(str(name))
    try:
        # A Qwen hub id is looked up in the local cache only: without it the same ids are at hand, and a hub that
        # cannot be reached would otherwise cost minutes of retries first.
        return AutoTokenizer.from_pretrained(str(name), **({"local_files_only": True} if family else {}))
    except (OSError, ValueError) as err:
        if family:
            if str(name) not in _FELL_BACK:
                _FELL_BACK.add(str(name))
                log(f"  {name}: not available offline; using the {family} tokenizer built from Qwen's published BPE "
                    "ranks (the same ids)")
            return AutoTokenizer.from_pretrained(qwen_tokenizer.path(family, log))
        where = "a folder without a tokenizer" if local else "not a local folder, not in the cache, not downloadable"
        hint = "pass a model folder" if local else f"download it once: python scripts/download_model.py {name}"
        raise DataError(f"tokenizer {str(name)!r} cannot be loaded: {where}; {str(err).splitlines()[0][:120]}",
                        path=path, field=field, hint=hint) from None


_FELL_BACK: set[str] = set()  # names already reported as falling back, so a run says it once
