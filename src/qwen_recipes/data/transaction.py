"""A preprocessing run is one transaction: it builds the task's whole folder in a staging folder beside it, then
switches the folder and ``dataset_info.json`` over together, so after any failure the data dir is what it was.

The run owns ``<data_dir>/<task>/``: files an earlier run left there that this run does not write (a test split the
new input does not have, its meta files) go with the old folder, and the task's ``dataset_info.json`` entries for
splits this run did not write are removed; both are listed in the report. Staging and old folders that a killed run
left behind are removed by the next run of the task, and so are temporary files of interrupted atomic writes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qwen_recipes.errors import DataError
from qwen_recipes.io import write_text

STAGING, OLD = "staging", "old"


def _leftover(data_dir: Path, name: str, kind: str) -> Path:
    return data_dir / f".{name}.{kind}"


def clean_leftovers(data_dir: str | Path, name: str) -> list[Path]:
    """Remove what a killed run of task ``name`` left in ``data_dir``; returns what was removed."""
    data_dir = Path(data_dir)
    removed = []
    for kind in (STAGING, OLD):
        for path in data_dir.glob(f".{name}.{kind}*"):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
            removed.append(path)
    for folder in (data_dir, data_dir / name):
        for tmp in folder.glob(".*.tmp") if folder.is_dir() else ():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def check_writable(data_dir: str | Path) -> None:
    """Before any work: the data dir (or the nearest folder above it that exists) can be written: one line naming
    it, not an OSError at the end. Nothing is created."""
    folder = Path(data_dir).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise DataError("is a file, not a folder", path=folder, field="--data-dir")
    probe = folder / f".write-check-{os.getpid()}.tmp"
    try:
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as err:
        raise DataError(f"cannot write here ({err.strerror})", path=folder, field="--data-dir") from None


@contextmanager
def staged(data_dir: str | Path, name: str) -> Iterator[Path]:
    """An empty staging folder for task ``name``, removed if the block fails."""
    stage = _leftover(Path(data_dir), name, STAGING)
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def commit(stage: Path, target: Path, info_path: Path, info_text: str) -> None:
    """Put ``stage`` in place of ``target`` and write ``info_text`` to ``info_path`` (through a symlink, keeping its
    mode); undo the folder switch if the registry cannot be written."""
    old = _leftover(target.parent, target.name, OLD)
    shutil.rmtree(old, ignore_errors=True)
    had = target.exists()
    if had:
        os.rename(target, old)
    try:
        os.rename(stage, target)
        try:
            write_text(info_path, info_text)
        except BaseException:
            os.rename(target, stage)
            raise
    except BaseException:
        if had:
            os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
