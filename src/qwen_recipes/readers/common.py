"""Pieces every reader shares: decoding with a line-accurate error, and the record/rejection types."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qwen_recipes.errors import DataError

PREVIEW_CHARS = 60


@dataclass
class Rejected:
    """An input row that was not written, with where it came from and why."""

    path: str
    line: int
    reason: str
    field: str | None = None
    text: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["text"] = preview(self.text)
        return out


@dataclass
class FileRead:
    """What one reader call got out of one file."""

    path: str
    variant: str
    records: list[Any] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.records) + len(self.rejected)


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """Read a whole file, turning a missing file or undecodable bytes into an error naming the line."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=path)
    if not path.is_file():
        raise DataError("not a regular file", path=path)
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise DataError(
            f"bytes not valid {encoding} at column {column} (byte 0x{raw[err.start]:02x})",
            path=path,
            line=line,
            hint="if the whole file is in another encoding, pass e.g. --encoding gbk",
        ) from None
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}", path=path) from None
    return text.removeprefix("\ufeff")


SPLIT_NAMES = {"train": ("train",), "dev": ("dev", "validation", "valid", "val"), "test": ("test",)}


def split_of(path: Path) -> str | None:
    """The split a file's name announces: ``train.tsv``, ``dev-00000-of-00001.parquet``, ``PsyQA_valid.json``...
    A name counts when it is the whole stem, or is followed (or, after an underscore, preceded) by a non-letter,
    so ``trainee.json`` or ``testimonials.csv`` do not."""
    stem = path.stem.lower()
    for split, names in SPLIT_NAMES.items():
        for n in names:
            after = stem[len(n): len(n) + 1]
            if (stem.startswith(n) and not after.isalpha()) or stem.endswith("_" + n):
                return split
    return None


def find_split_files(path: str | Path, suffixes: tuple[str, ...], hint: str) -> dict[str, list[Path]]:
    """Map split -> files, for every reader. A folder whose files are named by split keeps that split; a single
    file (or a folder holding one) is one unsplit part, ``all``, which the preprocessor splits with a seed."""
    path = Path(path)
    if not path.exists():
        raise DataError("input not found", path=path, hint=hint)
    if path.is_file():
        return {"all": [path]}
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise DataError(f"no data files ({', '.join(suffixes)}) in directory", path=path, hint=hint)
    parts: dict[str, list[Path]] = {}
    for f in files:
        split = split_of(f)
        if split:
            parts.setdefault(split, []).append(f)
    if parts:
        return parts
    if len(files) == 1:
        return {"all": files}
    raise DataError(f"cannot tell the splits apart: {[f.name for f in files]}", path=path,
                    hint="name files train.*, dev.* (or valid.*, validation.*), test.*, or pass a single file")
