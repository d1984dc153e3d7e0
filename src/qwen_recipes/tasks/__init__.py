"""Task registry: every module in this package (and its wings, e.g. ``tasks/mug/``) that defines a ``Task``
subclass with a ``name`` is a task.

Nothing lists the tasks by hand: adding a module adds the task to preprocessing, dataset_info.json and
evaluation at once.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from qwen_recipes.errors import DataError
from qwen_recipes.tasks.base import Task

__all__ = ["Task", "all_tasks", "get_task", "task_for_dataset"]


@cache
def all_tasks() -> dict[str, Task]:
    found: dict[str, Task] = {}
    for info in sorted(pkgutil.walk_packages(__path__, prefix=f"{__name__}."), key=lambda m: m.name):
        if info.ispkg or info.name.rsplit(".", 1)[-1] == "base":
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            concrete = issubclass(cls, Task) and not inspect.isabstract(cls) and getattr(cls, "name", None)
            if concrete and cls.__module__ == module.__name__:
                if cls.name in found:
                    raise RuntimeError(f"task name {cls.name!r} defined twice ({module.__name__})")
                found[cls.name] = cls()
    return dict(sorted(found.items()))


def get_task(name: str) -> Task:
    tasks = all_tasks()
    if name not in tasks:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(tasks)}")
    return tasks[name]


def task_for_dataset(name: str) -> Task:
    """The task whose dataset_info entries hold ``name`` (e.g. chnsenticorp_dev -> chnsenticorp)."""
    for task in all_tasks().values():
        if name in task.dataset_info():
            return task
    raise DataError(f"dataset {name!r} belongs to no task", hint=f"known tasks: {', '.join(all_tasks())}")
