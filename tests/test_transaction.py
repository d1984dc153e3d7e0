"""A preprocessing run is one transaction (data/transaction.py): it owns the task's outputs, a failure part-way leaves
the data dir byte for byte as it was, leftovers of a killed run are cleaned, and files keep the user's modes."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import ROOT

from qwen_recipes.data import transaction
from qwen_recipes.data.prepare import prepare
from qwen_recipes.errors import DataError

SAMPLES = ROOT / "dataset/samples/chnsenticorp"
QUIET = {"log": lambda _: None}


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
            for p in sorted(folder.rglob("*")) if p.is_file()}


def only_train(tmp_path: Path) -> Path:
    """A folder holding just train.tsv, which is a copy of the first run's test file (the issue's example)."""
    src = tmp_path / "only_train"
    src.mkdir()
    shutil.copy(SAMPLES / "test.tsv", src / "train.tsv")
    return src


def test_a_rerun_owns_the_task_outputs(tmp_path):
    data = tmp_path / "data"
    prepare("chnsenticorp", SAMPLES, data, **QUIET)
    assert (data / "chnsenticorp/test.json").exists()
    info = json.loads((data / "dataset_info.json").read_text())
    assert "chnsenticorp_test" in info
    info["my_own_data"] = {"file_name": "mine.json"}  # a user's entry must survive
    (data / "dataset_info.json").write_text(json.dumps(info))

    lines: list[str] = []
    result = prepare("chnsenticorp", only_train(tmp_path), data, log=lines.append)
    assert sorted(result.outputs) == ["dev", "train"]
    assert not (data / "chnsenticorp/test.json").exists() and not (data / "chnsenticorp/test.meta.jsonl").exists()
    info = json.loads((data / "dataset_info.json").read_text())
    assert "chnsenticorp_test" not in info and {"chnsenticorp_train", "chnsenticorp_dev", "my_own_data"} <= set(info)
    replaced = result.report["replaced_earlier_run"]
    assert replaced == {"removed_files": ["test.json", "test.meta.jsonl"], "unregistered": ["chnsenticorp_test"]}
    assert any("unregistered chnsenticorp_test" in line for line in lines)
    assert any("test.json: left by an earlier run" in line for line in lines)
    report = json.loads((data / "chnsenticorp/report.json").read_text())
    assert report["replaced_earlier_run"] == replaced


@pytest.mark.parametrize("where", ["staging", "registry"])
def test_a_failure_part_way_leaves_the_data_dir_as_it_was(tmp_path, monkeypatch, where):
    data = tmp_path / "data"
    prepare("chnsenticorp", SAMPLES, data, **QUIET)
    before = snapshot(data)

    def disk_full(path, *_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    # While the new folder is built, or at the very end, when dataset_info.json is written after the switch.
    target = "qwen_recipes.data.prepare.write_json" if where == "staging" else "qwen_recipes.data.transaction.write_text"
    monkeypatch.setattr(target, disk_full)
    with pytest.raises(DataError, match=r"cannot write the outputs \(No space left on device\); the data dir is unchanged"):
        prepare("chnsenticorp", only_train(tmp_path), data, **QUIET)
    assert snapshot(data) == before
    assert sorted(p.name for p in data.iterdir()) == ["chnsenticorp", "dataset_info.json"]


def test_leftovers_of_a_killed_run_are_cleaned(tmp_path):
    data = tmp_path / "data"
    prepare("chnsenticorp", SAMPLES, data, **QUIET)
    (data / ".chnsenticorp.staging").mkdir()
    (data / ".chnsenticorp.staging" / "train.json").write_text("half")
    (data / ".chnsenticorp.old").mkdir()
    (data / "chnsenticorp" / ".train.json.x1y2.tmp").write_text("half")
    (data / ".dataset_info.json.abc.tmp").write_text("half")
    lines: list[str] = []
    prepare("chnsenticorp", SAMPLES, data, log=lines.append)
    assert sorted(p.name for p in data.iterdir()) == ["chnsenticorp", "dataset_info.json"]
    assert not list((data / "chnsenticorp").glob(".*"))
    assert sum("left by an interrupted run" in line for line in lines) == 4


def test_files_follow_the_umask_and_the_registry_keeps_its_mode_and_link(tmp_path):
    data = tmp_path / "data"
    shared = tmp_path / "team" / "dataset_info.json"
    shared.parent.mkdir()
    shared.write_text(json.dumps({"team_data": {"file_name": "t.json"}}))
    os.chmod(shared, 0o640)
    data.mkdir()
    (data / "dataset_info.json").symlink_to(shared)
    old = os.umask(0o022)
    try:
        prepare("chnsenticorp", SAMPLES, data, **QUIET)
    finally:
        os.umask(old)
    for name in ("train.json", "test.json", "report.json", "train.meta.jsonl"):
        assert stat.S_IMODE((data / "chnsenticorp" / name).stat().st_mode) == 0o644, name
    link = data / "dataset_info.json"
    assert link.is_symlink() and link.resolve() == shared.resolve()  # updated through the link, not replaced
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640
    assert {"team_data", "chnsenticorp_train"} <= set(json.loads(shared.read_text()))


def test_a_data_dir_that_cannot_be_written_is_named_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match=r"file, field '--data-dir': is a file, not a folder"):
        prepare("chnsenticorp", SAMPLES, blocker / "data", **QUIET)
    if os.geteuid() != 0:  # root writes anywhere, so the read-only case only runs for other users
        ro = tmp_path / "ro"
        ro.mkdir()
        os.chmod(ro, 0o555)
        with pytest.raises(DataError, match="cannot write here"):
            prepare("chnsenticorp", SAMPLES, ro / "data", **QUIET)
    assert transaction.clean_leftovers(tmp_path / "none", "chnsenticorp") == []
