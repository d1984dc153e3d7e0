"""Derived files are generated, never hand-edited: what is committed is what the generators make."""

from __future__ import annotations

from conftest import ROOT, run_script

from qwen_recipes.data import dataset_info
from qwen_recipes.tasks import all_tasks


def test_registry_discovers_the_task_modules():
    tasks = all_tasks()
    assert "chnsenticorp" in tasks
    for task in tasks.values():
        assert task.__class__.__module__.startswith("qwen_recipes.tasks.")
        # A task brings its own instruction, unless its prompts are the user's own data (generic Alpaca / ShareGPT).
        assert bool(task.instruction) != task.prompt_from_data
        assert task.__class__.__module__ != "qwen_recipes.tasks.base"


def test_committed_dataset_info_matches_the_generator():
    committed = (ROOT / "data" / "dataset_info.json").read_text(encoding="utf-8")
    assert committed == dataset_info.render(dataset_info.build())
    assert run_script("scripts/make_dataset_info.py", "--check").returncode == 0


def test_dataset_info_covers_every_task_split():
    entries = dataset_info.build()
    for task in all_tasks().values():
        for split in task.splits:
            assert entries[f"{task.name}_{split}"]["file_name"] == f"{task.name}/{split}.json"


def test_committed_samples_match_the_generator():
    proc = run_script("scripts/make_samples.py", "--check")
    assert proc.returncode == 0, proc.stdout


def test_samples_carry_the_quirks_the_demo_must_clean(tmp_path):
    from qwen_recipes.data.prepare import prepare

    report = prepare("chnsenticorp", ROOT / "dataset" / "samples" / "chnsenticorp", tmp_path,
                     log=lambda _: None).report
    t = report["totals"]
    assert t["duplicates"] > 0 and t["conflicts"] > 0 and t["leaks"] > 0 and t["rejected"] == 2
