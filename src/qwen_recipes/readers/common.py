"""Pieces every reader shares: decoding with a line-accurate error, and the record/rejection types."""

from __future__ import annotations

import unicodedata
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
    end_line: int | None = None  # a row that spans physical lines: its last line

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
    lines: dict[str, int] | None = None  # physical lines = header + blank + lines in rows, where a reader counts them
    multiline_rows: list[tuple[int, int]] = field(default_factory=list)  # kept rows whose text holds a line break

    @property
    def rows(self) -> int:
        return len(self.records) + len(self.rejected)


def text_problem(value: object) -> str | None:
    """Why ``value`` cannot be training text, or None: it must be a string with at least one visible character
    (zero-width characters, a BOM, NUL and other control or format characters are not)."""
    if not isinstance(value, str):
        return f"not text but {type(value).__name__}" if value is not None else "empty"
    if not any(not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value):
        return "empty" if not value.strip() else "no visible character (only zero-width, BOM, NUL or control characters)"
    return None


def id_problem(value: object) -> str | None:
    """Why ``value`` cannot be a record id (null, empty, or not a string or integer), or None."""
    if value is None:
        return "null id"
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"id is a {type(value).__name__}, not a string or integer"
    return "empty id" if not str(value).strip() else None


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """Read a whole file, turning a missing file or undecodable bytes into an error naming the line.

    Line endings are read the way Python's text files read them (universal newlines): ``\r\n`` (Windows) and a
    lone ``\r`` (old Mac exports, some spreadsheet tools) become ``\n``, so every reader counts the same lines."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=path)
    if not path.is_file():
        raise DataError("not a regular file", path=path)
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        head = raw[: err.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        line = head.count(b"\n") + 1
        column = len(head) - (head.rfind(b"\n") + 1) + 1
        raise DataError(
            f"bytes not valid {encoding} at column {column} (byte 0x{raw[err.start]:02x})",
            path=path,
            line=line,
            hint="if the whole file is in another encoding, pass e.g. --encoding gbk",
        ) from None
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}", path=path) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


# The names users give their splits (Hugging Face, PaddleNLP, CLUE, Kaggle copies); longer names first.
SPLIT_NAMES = {"train": ("training", "train"),
               "dev": ("development", "validation", "evaluation", "valid", "eval", "dev", "val"),
               "test": ("testing", "test")}


class SplitFiles(dict):
    """split -> files, plus ``ignored``: every other file of an input folder, with the reason it was not read."""

    def __init__(self, parts: dict[str, list[Path]], ignored: list[dict[str, str]] | None = None) -> None:
        super().__init__(parts)
        self.ignored = ignored or []


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


def find_split_files(path: str | Path, suffixes: tuple[str, ...], hint: str) -> SplitFiles:
    """Map split -> files, for every reader. A folder whose files are named by split keeps that split; a single
    file (or a folder holding one) is one unsplit part, ``all``, which the preprocessor splits with a seed."""
    path = Path(path)
    if not path.exists():
        raise DataError("input not found", path=path, hint=hint)
    if path.is_file():
        return SplitFiles({"all": [path]})
    everything = sorted(p for p in path.iterdir())
    files = [p for p in everything if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(".")]
    ignored = [{"path": str(p), "reason": "a folder" if p.is_dir() else "a hidden file" if p.name.startswith(".")
                else f"not a {' / '.join(suffixes)} file"} for p in everything if p not in files]
    if not files:
        raise DataError(f"no data files ({', '.join(suffixes)}) in directory", path=path, hint=hint)
    parts: dict[str, list[Path]] = {}
    for f in files:
        split = split_of(f)
        if split:
            parts.setdefault(split, []).append(f)
        else:
            ignored.append({"path": str(f), "reason": "its name says no split (train, dev / eval / valid / validation "
                                                      "/ val, test) while other files do"})
    if parts:
        return SplitFiles(parts, sorted(ignored, key=lambda x: x["path"]))
    if len(files) == 1:
        return SplitFiles({"all": files}, [i for i in ignored if i["path"] != str(files[0])])
    raise DataError(f"cannot tell the splits apart: {[f.name for f in files]}", path=path,
                    hint="name files train.*, dev.* (or eval.*, valid.*, validation.*), test.*, or pass a single file")
