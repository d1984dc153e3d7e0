"""What every entry script shares: a console, clean errors for bad input, and the closing "outputs" list."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.console import Console

from qwen_recipes.errors import DataError, ProjectError

console = Console(stderr=False, highlight=False, soft_wrap=True)


def parser(description: str | None) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        description=(description or "").strip().split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def run(main: Callable[[], int | None]) -> None:
    """Run an entry point: bad input ends with one line naming file/line/field and exit status 2."""
    try:
        sys.exit(main() or 0)
    except (ProjectError, FileNotFoundError) as err:
        console.print(f"[bold red]error:[/] {err}")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


def output_dir(path: str | Path, option: str = "--out") -> Path:
    """An output folder given on the command line: it may not exist yet, but it may not be a file."""
    path = Path(path)
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise DataError("is a file, not a folder to write into", path=part, field=option)
    return path


def tool(name: str) -> str:
    """A console script of the running environment (the venv), whatever PATH says."""
    import shutil

    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def outputs(title: str, paths: Iterable[str | Path]) -> None:
    console.print(f"[bold green]{title}[/]")
    for p in paths:
        console.print(f"  {p}")
