"""Atomic file writing (a failed command never leaves a half-written output behind), and JSON reading whose
errors name the file and line."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def _new_file_mode() -> int:
    """What ``open()`` would give a new file: 0666 less the umask (mkstemp's 0600 would hide it from a team)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and move it into place only on success. A symlink is written
    through (its target is replaced, the link stays); an existing file keeps its mode, a new one gets the umask's."""
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    file_mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else _new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, file_mode)
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: str | Path, missing: str = "not found", hint: str | None = None) -> Any:
    """Parsed JSON of ``path``; a missing file or invalid JSON is a DataError naming the file (and line)."""
    from qwen_recipes.errors import DataError

    path = Path(path)
    if not path.exists():
        raise DataError(missing, path=path, hint=hint)
    if path.is_dir():
        raise DataError("is a folder, not a JSON file", path=path, hint=hint)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"invalid JSON ({err.msg})", path=path, line=err.lineno) from None
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text (a JSON file is expected)", path=path, hint=hint) from None


def read_jsonl(path: str | Path, missing: str = "not found", hint: str | None = None) -> list[Any]:
    """Parsed lines of a JSONL file (blank lines skipped); a missing file or a line that is not JSON is a DataError
    naming the file and the line."""
    from qwen_recipes.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(missing if not path.exists() else "is a folder, not a JSONL file", path=path, hint=hint)
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text (a JSONL file is expected)", path=path, hint=hint) from None
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise DataError(f"invalid JSON ({err.msg})", path=path, line=number) from None
    return rows


def write_json(path: str | Path, obj: Any, indent: int | None = 2) -> Path:
    with atomic_open(path) as handle:
        json.dump(obj, handle, ensure_ascii=False, indent=indent)
        handle.write("\n")
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    with atomic_open(path) as handle:
        handle.write(text)
    return Path(path)


def write_jsonl(path: str | Path, rows: list[dict[str, Any]]) -> Path:
    with atomic_open(path) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return Path(path)


def markdown_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """The lines of a markdown table (reports, results files, summaries)."""
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *["| " + " | ".join(str(c) for c in row) + " |" for row in rows]]
