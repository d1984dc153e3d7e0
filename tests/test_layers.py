"""The house's floors, checked from the code's own imports: a package imports only the floors below it, no task is
probed with hasattr/getattr or recognised by its name, and no source file is over 500 lines."""

from __future__ import annotations

import ast
import re

from conftest import ROOT

SRC = ROOT / "src" / "qwen_recipes"
# Ground floor first. Modules at the package's top (errors, io, cli, configs, hub, the Qwen tokenizer) are the
# foundation every floor may use; they may import no floor, except the config generator, which reads the tasks.
FLOORS = ["metrics", "readers", "tasks", "models", "data", "eval", "bench"]
FOUNDATION_ABOVE_TASKS = {"config_gen"}
SEPARATE = {"samples"}  # the project's own sample data: foundation only


def imports(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qwen_recipes"):
            parts = node.module.split(".")
            yield parts[1] if len(parts) > 1 else node.names[0].name


def test_floors_import_only_downwards():
    bad = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        mine = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        for target in imports(path):
            if target not in FLOORS and target not in SEPARATE:
                continue  # the foundation
            if mine in FLOORS and target in FLOORS and FLOORS.index(target) <= FLOORS.index(mine):
                continue
            if mine in FOUNDATION_ABOVE_TASKS and target in FLOORS[: FLOORS.index("tasks") + 1]:
                continue
            bad.append(f"{rel} imports {target}")
    assert not bad, bad


def test_no_task_is_probed_or_named():
    pattern = re.compile(r"hasattr\(task|getattr\(task|startswith\([\"']mug_")
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in [*SRC.rglob("*.py"), *(ROOT / "scripts").glob("*.py")]
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1) if pattern.search(line)]
    assert not hits, hits


def test_no_source_file_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in SRC.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert not long, long
