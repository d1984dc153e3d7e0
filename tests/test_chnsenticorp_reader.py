"""The ChnSentiCorp reader on every variant, on bad input, and (when present) on the real files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import REAL_DATA

from qwen_recipes.errors import DataError
from qwen_recipes.readers import chnsenticorp as R


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("name", "text", "variant", "expected"),
    [
        ("a.tsv", "label\ttext_a\n1\t好酒店\n0\t太差了\n", "tsv:label,text_a", [("好酒店", 1, None), ("太差了", 0, None)]),
        ("dev.tsv", "qid\tlabel\ttext_a\n7\t1\t不错\n", "tsv:qid,label,text_a", [("不错", 1, "7")]),
        ("test.tsv", "qid\ttext_a\n0\t一般般\n1\t很好\n", "tsv:qid,text_a", [("一般般", None, "0"), ("很好", None, "1")]),
        ("h.csv", 'label,review\n1,"房间大,干净"\n0,"隔音差\n服务慢"\n', "csv:label,review",
         [("房间大,干净", 1, None), ("隔音差\n服务慢", 0, None)]),
    ],
)
def test_delimited_variants_are_detected_from_the_header(tmp_path, name, text, variant, expected):
    out = R.read_file(write(tmp_path / name, text))
    assert out.variant == variant
    assert [(r.text, r.label, r.qid) for r in out.records] == expected
    assert out.rejected == []


def test_tabs_inside_the_text_stay_in_the_text(tmp_path):
    out = R.read_file(write(tmp_path / "t.tsv", "label\ttext_a\n1\t前半句\t后半句\n"))
    assert out.records[0].text == "前半句\t后半句"


def test_csv_line_numbers_point_at_the_start_of_a_multiline_record(tmp_path):
    out = R.read_file(write(tmp_path / "h.csv", 'label,review\n1,"第一行\n第二行"\n0,""\n'))
    assert [r.line for r in out.records] == [2]
    assert out.rejected[0].line == 4 and out.rejected[0].field == "review"
    assert out.multiline_rows == [(2, 3)] and out.lines == {"physical": 4, "header": 1, "blank": 0, "in_rows": 3}


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".parquet"])
def test_hugging_face_copies(tmp_path, suffix):
    rows = [{"text": "物流很快", "label": 1}, {"text": "质量太差", "label": 0}, {"text": "还行", "label": 5}]
    path = tmp_path / f"train{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    elif suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    else:
        pd.DataFrame(rows).to_parquet(path)
    out = R.read_file(path)
    assert out.variant == "hf:text,label"
    assert [(r.text, r.label) for r in out.records] == [("物流很快", 1), ("质量太差", 0)]
    assert len(out.rejected) == 1
    rej = out.rejected[0]
    assert (rej.line, rej.field) == (3, "label") and "not 0 or 1" in rej.reason


def test_bad_rows_are_rejected_with_line_field_and_reason(tmp_path):
    text = "label\ttext_a\n1\t好\n2\t未知标签\n0\t   \n1\n0\t差\n"
    out = R.read_file(write(tmp_path / "train.tsv", text))
    assert [r.text for r in out.records] == ["好", "差"]
    got = [(r.line, r.field, r.reason) for r in out.rejected]
    assert got == [
        (3, "label", "label '2' is not 0 or 1"),
        (4, "text_a", "empty text"),
        (5, None, "expected 2 tab-separated columns, found 1"),
    ]
    assert out.rows == 5


def test_missing_file_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(DataError, match="nope.tsv: file not found"):
        R.read_file(tmp_path / "nope.tsv")
    with pytest.raises(DataError, match="input not found"):
        R.find_files(tmp_path / "missing-dir")


def test_unknown_header_is_an_error_naming_file_and_line(tmp_path):
    path = write(tmp_path / "x.tsv", "sentiment\tsentence\n1\t好\n")
    with pytest.raises(DataError) as err:
        R.read_file(path)
    assert f"{path}:1" in str(err.value) and "unrecognised header" in str(err.value)
    assert "label <TAB> text_a" in str(err.value)


def test_undecodable_bytes_name_the_line_and_suggest_an_encoding(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_bytes("label\ttext_a\n1\t好\n".encode() + "0\t差评\n".encode("gbk"))
    with pytest.raises(DataError) as err:
        R.read_file(path)
    assert f"{path}:3" in str(err.value) and "--encoding gbk" in str(err.value)
    # ...and the suggested encoding does read a GBK file.
    write(path, "label\ttext_a\n0\t差评\n", "gbk")
    assert R.read_file(path, encoding="gbk").records[0].text == "差评"


def test_utf8_bom_is_accepted(tmp_path):
    out = R.read_file(write(tmp_path / "a.tsv", "\ufefflabel\ttext_a\n1\t好\n"))
    assert out.variant == "tsv:label,text_a" and len(out.records) == 1


def test_split_files_are_found_by_name(tmp_path):
    for name in ("train.tsv", "validation.tsv", "test.tsv", "README.md"):
        write(tmp_path / name, "label\ttext_a\n1\t好\n")
    parts = R.find_files(tmp_path)
    assert {k: [p.name for p in v] for k, v in parts.items()} == {
        "train": ["train.tsv"], "dev": ["validation.tsv"], "test": ["test.tsv"]
    }
    assert R.find_files(tmp_path / "train.tsv") == {"all": [tmp_path / "train.tsv"]}


@pytest.mark.skipif(not (REAL_DATA / "chnsenticorp").exists(), reason="../shared/real-data not present")
def test_real_files_read_without_surprises():
    for split, n in (("train", 9600), ("dev", 1200), ("test", 1200)):
        out = R.read_file(REAL_DATA / "chnsenticorp" / "ymcui" / f"{split}.tsv")
        assert out.variant == "tsv:label,text_a"
        assert (len(out.records), len(out.rejected)) == (n, 0)
    out = R.read_file(REAL_DATA / "chnsenticorp" / "htl_all" / "ChnSentiCorp_htl_all.csv")
    assert out.variant == "csv:label,review"
    assert out.rows == 7766
    assert [(r.reason, r.field) for r in out.rejected] == [("empty text", "review")]


@pytest.mark.parametrize(
    ("name", "split"),
    [("train.tsv", "train"), ("dev-00000-of-00001.parquet", "dev"), ("validation.json", "dev"), ("PsyQA_valid.json", "dev"),
     ("test.csv", "test"), ("trainee.json", None), ("testimonials.csv", None), ("ChnSentiCorp_htl_all.csv", None),
     ("eval.tsv", "dev"), ("evaluation.jsonl", "dev"), ("development.tsv", "dev"), ("training.json", "train"),
     ("testing.csv", "test"), ("evaluate_me.csv", None)],
)
def test_split_names_shared_by_all_readers(name, split):
    from pathlib import Path

    from qwen_recipes.readers.common import split_of

    assert split_of(Path(name)) == split


def test_files_the_reader_does_not_take_are_listed_with_the_reason(tmp_path):
    """eval.tsv is the dev split (it was neither read nor mentioned, and dev was carved out of train instead); a file
    of another type and one whose name says no split are listed in the report as ignored, with why."""
    from qwen_recipes.data.prepare import prepare

    src = tmp_path / "src"
    src.mkdir()
    samples = Path(__file__).resolve().parent.parent / "dataset/samples/chnsenticorp"
    (src / "train.tsv").write_text((samples / "train.tsv").read_text(encoding="utf-8"), encoding="utf-8")
    (src / "eval.tsv").write_text((samples / "dev.tsv").read_text(encoding="utf-8"), encoding="utf-8")
    (src / "extra.tsv").write_text("label\ttext_a\n1\t好\n", encoding="utf-8")
    (src / "README.md").write_text("notes", encoding="utf-8")
    lines: list[str] = []
    result = prepare("chnsenticorp", src, tmp_path / "data", log=lines.append)
    assert [f["path"] for f in result.report["files"] if f["part"] == "dev"] == [str(src / "eval.tsv")]
    assert not any("held out as dev" in line for line in lines)
    ignored = {Path(i["path"]).name: i["reason"] for i in result.report["ignored_files"]}
    assert set(ignored) == {"extra.tsv", "README.md"}
    assert "says no split" in ignored["extra.tsv"] and ignored["README.md"].startswith("not a .tsv")
    assert sum("ignored" in line for line in lines) == 2



def test_a_stray_quote_in_a_csv_is_named_with_its_line_range_and_every_line_is_counted(tmp_path):
    path = tmp_path / "htl.csv"
    path.write_text('label,review\n1,好酒店\n0,"房间很差\n1,早餐不错\n\n1,服务好\n', encoding="utf-8")
    from qwen_recipes.readers import chnsenticorp

    read = chnsenticorp.read_file(path)
    assert [r.text for r in read.records] == ["好酒店"]  # no later row is merged into a kept review
    (rej,) = read.rejected
    assert (rej.line, rej.end_line, rej.field) == (3, 6, "review") and "spans lines 3-6" in rej.reason
    assert read.lines == {"physical": 6, "header": 1, "blank": 0, "in_rows": 5}
    path.write_text('label,review\n1,好酒店\n\n0,"干净"\n', encoding="utf-8")
    read = chnsenticorp.read_file(path)
    assert [r.text for r in read.records] == ["好酒店", "干净"] and read.lines["blank"] == 1
