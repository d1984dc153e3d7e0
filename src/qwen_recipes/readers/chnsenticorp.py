"""ChnSentiCorp reader: every variant users have, detected from the header.

| variant              | header (first line or columns) | seen in                                 |
|----------------------|--------------------------------|-----------------------------------------|
| ``tsv:label,text_a`` | ``label<TAB>text_a``           | ymcui / Chinese-BERT-wwm, LUGE train    |
| ``tsv:qid,label,text_a`` | ``qid<TAB>label<TAB>text_a`` | PaddleNLP / LUGE dev                  |
| ``tsv:qid,text_a``   | ``qid<TAB>text_a`` (no labels) | PaddleNLP / LUGE test: prediction only  |
| ``csv:label,review`` | ``label,review`` (quoted CSV)  | ChnSentiCorp_htl_all.csv                |
| ``hf:text,label``    | columns ``text``, ``label``    | Hugging Face copies (json, jsonl, parquet) |

Label 1 is positive and 0 negative in every variant. Rows with an empty text or a label other than 0/1
are rejected with file, line and field; structural problems (missing file, unknown header, bytes that
do not decode) stop the run with an error naming the file and line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from qwen_recipes.errors import DataError
from qwen_recipes.readers.common import FileRead, Rejected, find_split_files, read_text, text_problem

# Header -> variant name, for the delimited formats.
TSV_HEADERS: dict[tuple[str, ...], str] = {
    ("label", "text_a"): "tsv:label,text_a",
    ("qid", "label", "text_a"): "tsv:qid,label,text_a",
    ("qid", "text_a"): "tsv:qid,text_a",
}
CSV_HEADERS: dict[tuple[str, ...], str] = {("label", "review"): "csv:label,review"}
HF_COLUMNS = ("text", "label")
DATA_SUFFIXES = (".tsv", ".csv", ".txt", ".json", ".jsonl", ".parquet")
VALID_LABELS = {"0": 0, "1": 1}


@dataclass
class Review:
    text: str
    label: int | None  # None: unlabeled (prediction only)
    path: str
    line: int
    qid: str | None = None


def _label(value: object) -> int | None:
    """Map a raw label to 0/1, or None if it is not one (the row is then rejected)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    return VALID_LABELS.get(str(value).strip())


def _accepted() -> str:
    names = [" <TAB> ".join(h) for h in TSV_HEADERS] + [",".join(h) for h in CSV_HEADERS]
    return "; ".join(names) + "; or json/jsonl/parquet with columns text,label"


def _take(out: FileRead, path: str, line: int, text: object, label: object, fields: tuple[str, str], qid=None) -> None:
    """Validate one row and file it as a record or a rejection."""
    text_field, label_field = fields
    problem = text_problem(text)
    text = "" if text is None else str(text)
    if label_field and _label(label) is None:
        out.rejected.append(Rejected(path, line, f"label {label!r} is not 0 or 1", label_field, text))
    elif problem:
        out.rejected.append(Rejected(path, line, "empty text" if problem == "empty" else problem, text_field, text))
    else:
        out.records.append(Review(text.strip(), _label(label) if label_field else None, path, line, qid))


ROW_START = re.compile(r"^\s*\"?\s*[01]\s*\"?\s*,")  # how a label,review row begins


def _read_delimited(path: Path, text: str) -> FileRead:
    first = text.split("\n", 1)[0].rstrip("\r")
    tsv_header = tuple(c.strip().lower() for c in first.split("\t"))
    csv_header = tuple(c.strip().lower() for c in next(csv.reader([first]), []))
    if tsv_header in TSV_HEADERS:
        variant = TSV_HEADERS[tsv_header]
        out = FileRead(str(path), variant)
        ncols = len(tsv_header)
        for lineno, row in enumerate(text.split("\n")[1:], start=2):
            row = row.rstrip("\r")
            if not row.strip():
                continue  # blank lines (a trailing newline) carry no record
            # The text is the last column, so extra tabs belong to it rather than making new columns.
            cells = row.split("\t", ncols - 1)
            if len(cells) < ncols:
                out.rejected.append(
                    Rejected(str(path), lineno, f"expected {ncols} tab-separated columns, found {len(cells)}", None, row)
                )
                continue
            record = dict(zip(tsv_header, cells, strict=True))
            has_label = "label" in record
            _take(
                out, str(path), lineno, record["text_a"], record.get("label"),
                ("text_a", "label" if has_label else ""), record.get("qid"),
            )
        return out
    if csv_header in CSV_HEADERS:
        out = FileRead(str(path), CSV_HEADERS[csv_header])
        reader = csv.reader(io.StringIO(text))
        next(reader)
        start = reader.line_num + 1
        blank = in_rows = 0
        for cells in reader:
            lineno, start = start, reader.line_num + 1
            end = reader.line_num
            if not any(c.strip() for c in cells):
                blank += end - lineno + 1
                continue
            in_rows += end - lineno + 1
            if end > lineno:
                # A line break inside a row. A quoted review may hold one (kept, and its line range listed); but when
                # a later line looks like a row of its own, a quote left open has joined the rows after it.
                joined = [ln for c in cells for ln in c.split("\n")[1:]]
                if len(cells) != 2 or any(ROW_START.match(ln) for ln in joined):
                    out.rejected.append(Rejected(
                        str(path), lineno, f"one row spans lines {lineno}-{end}: a quote opened and not closed on its "
                        "line joins the rows after it", "review", ",".join(cells), end_line=end))
                    continue
                out.multiline_rows.append((lineno, end))
            if len(cells) != 2:
                out.rejected.append(
                    Rejected(str(path), lineno, f"expected 2 comma-separated columns, found {len(cells)}", None,
                             ",".join(cells))
                )
                continue
            _take(out, str(path), lineno, cells[1], cells[0], ("review", "label"))
        physical = len(text.split("\n")) - (1 if text.endswith("\n") else 0)
        out.lines = {"physical": physical, "header": 1, "blank": blank, "in_rows": in_rows}
        if physical != 1 + blank + in_rows:
            raise DataError(f"line count does not reconcile: {out.lines}", path=path)
        return out
    raise DataError(
        f"unrecognised header {first[:80]!r}; expected one of: {_accepted()}", path=path, line=1,
    )


def _read_hf(path: Path, encoding: str) -> FileRead:
    out = FileRead(str(path), "hf:text,label")
    if path.suffix == ".parquet":
        import pandas as pd

        try:
            frame = pd.read_parquet(path)
        except Exception as err:  # pyarrow raises several types; the user needs the file and the cause
            raise DataError(f"cannot read parquet: {err}", path=path) from None
        missing = [c for c in HF_COLUMNS if c not in frame.columns]
        if missing:
            raise DataError(f"missing columns {missing}; found {list(frame.columns)}", path=path)
        rows = [(i, r) for i, r in enumerate(frame[list(HF_COLUMNS)].to_dict("records"), start=1)]
    else:
        text = read_text(path, encoding)
        rows = []
        if text.lstrip().startswith("["):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as err:
                raise DataError(f"invalid JSON: {err.msg}", path=path, line=err.lineno) from None
            rows = list(enumerate(data, start=1))
        else:
            for lineno, line in enumerate(text.split("\n"), start=1):
                if not line.strip():
                    continue
                try:
                    rows.append((lineno, json.loads(line)))
                except json.JSONDecodeError as err:
                    raise DataError(f"invalid JSON: {err.msg}", path=path, line=lineno) from None
        if rows and isinstance(rows[0][1], dict) and not set(HF_COLUMNS) <= set(rows[0][1]):
            raise DataError(
                f"unrecognised columns {sorted(rows[0][1])}; expected one of: {_accepted()}", path=path, line=rows[0][0]
            )
    for lineno, row in rows:
        if not isinstance(row, dict):
            out.rejected.append(Rejected(str(path), lineno, "record is not a JSON object", None, str(row)))
            continue
        if "label" not in row:
            out.rejected.append(Rejected(str(path), lineno, "missing", "label", str(row.get("text", ""))))
            continue
        _take(out, str(path), lineno, row.get("text"), row["label"], ("text", "label"))
    return out


def read_file(path: str | Path, encoding: str = "utf-8") -> FileRead:
    """Read one ChnSentiCorp file of any known variant; ``FileRead.variant`` says which was found."""
    path = Path(path)
    if path.suffix in (".json", ".jsonl", ".parquet"):
        if not path.exists():
            raise DataError("file not found", path=path)
        return _read_hf(path, encoding)
    return _read_delimited(path, read_text(path, encoding))




def find_files(path: str | Path) -> dict[str, list[Path]]:
    return find_split_files(path, DATA_SUFFIXES, "put the raw files under dataset/ or pass their path")
