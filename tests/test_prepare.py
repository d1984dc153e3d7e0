"""Preprocessing: cleaning counts reconcile, splits are seeded, outputs are atomic, dataset_info is merged."""

from __future__ import annotations

import json

import pytest
from conftest import REAL_DATA, run_script

from qwen_recipes.data.prepare import prepare
from qwen_recipes.errors import DataError

TRAIN = (
    "label\ttext_a\n"
    "1\t房间干净\n"      # 2
    "1\t房间干净\n"      # 3 duplicate of 2
    "0\t服务差\n"        # 4 conflict with 5
    "1\t服务差\n"        # 5 conflict with 4
    "0\t早餐难吃\n"      # 6
    "1\t\n"              # 7 empty: rejected
    "1\t位置好\n"        # 8
)
DEV = "label\ttext_a\n1\t位置好\n0\t空调坏了\n"  # line 2 leaks from train
TEST = "label\ttext_a\n0\t空调坏了\n1\t床很舒服\n0\t  服务差 \n"  # leaks from dev (2) and train (4, whitespace aside)


def make_source(tmp_path, test: str = TEST):
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.tsv").write_text(TRAIN, encoding="utf-8")
    (src / "dev.tsv").write_text(DEV, encoding="utf-8")
    (src / "test.tsv").write_text(test, encoding="utf-8")
    return src


def test_counts_per_split_and_every_row_accounted_for(tmp_path):
    result = prepare("chnsenticorp", make_source(tmp_path), tmp_path / "data", log=lambda _: None)
    counts = result.report["counts"]
    assert counts["train"] == {"read": 7, "rejected": 1, "duplicates": 1, "conflicts": 2, "leaks": 0, "kept": 3}
    assert counts["dev"] == {"read": 2, "rejected": 0, "duplicates": 0, "conflicts": 0, "leaks": 1, "kept": 1}
    assert counts["test"] == {"read": 3, "rejected": 0, "duplicates": 0, "conflicts": 0, "leaks": 2, "kept": 1}
    dropped = result.report["dropped"]
    assert len(dropped) == sum(c["read"] - c["kept"] for c in counts.values())
    leak = next(d for d in dropped if d["part"] == "test" and d["line"] == 4)
    assert leak["category"] == "leak" and "also in train" in leak["reason"] and "train.tsv:4" in leak["reason"]
    rows = json.loads((tmp_path / "data" / "chnsenticorp" / "train.json").read_text(encoding="utf-8"))
    assert [(r["input"], r["output"]) for r in rows] == [("房间干净", "正面"), ("早餐难吃", "负面"), ("位置好", "正面")]
    assert all(r["instruction"] == rows[0]["instruction"] for r in rows)
    meta = (tmp_path / "data" / "chnsenticorp" / "train.meta.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(m)["line"] for m in meta] == [2, 6, 8]


def test_unsplit_source_gets_a_seeded_stratified_split(tmp_path):
    src = tmp_path / "all.csv"
    lines = ["label,review"] + [f"{i % 4 == 0:d},评论{i}" for i in range(200)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    a = prepare("chnsenticorp", src, tmp_path / "a", seed=1, log=lambda _: None)
    b = prepare("chnsenticorp", src, tmp_path / "b", seed=1, log=lambda _: None)
    c = prepare("chnsenticorp", src, tmp_path / "c", seed=2, log=lambda _: None)
    read = lambda r, s: (r.outputs[s]).read_text(encoding="utf-8")  # noqa: E731
    assert read(a, "test") == read(b, "test") != read(c, "test")
    written = a.report["written"]
    assert {s: w["n"] for s, w in written.items()} == {"train": 160, "dev": 20, "test": 20}
    for split in written:  # 1 in 4 positive, in every split (the source is not shuffled)
        assert written[split]["labels"]["正面"] * 4 == written[split]["n"]
    texts = [x["input"] for s in written for x in json.loads(read(a, s))]
    assert len(texts) == len(set(texts)) == 200  # every review in exactly one split


def test_unlabeled_test_is_kept_whole_for_prediction(tmp_path):
    src = make_source(tmp_path, test="qid\ttext_a\n0\t房间干净\n1\t房间干净\n2\t新评论\n")
    result = prepare("chnsenticorp", src, tmp_path / "data", log=lambda _: None)
    assert result.report["counts"]["test"]["kept"] == 3
    assert result.report["written"]["test"]["labeled"] is False
    rows = json.loads(result.outputs["test"].read_text(encoding="utf-8"))
    assert [r["output"] for r in rows] == ["", "", ""]


def test_a_bad_file_leaves_no_output_behind(tmp_path):
    src = make_source(tmp_path)
    (src / "test.tsv").write_bytes(b"label\ttext_a\n1\t\xff\xfe\n")
    data = tmp_path / "data"
    with pytest.raises(DataError, match=r"test.tsv:2"):
        prepare("chnsenticorp", src, data, log=lambda _: None)
    assert not data.exists()


def test_dataset_info_is_merged_not_overwritten(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "dataset_info.json").write_text(json.dumps({"my_own": {"file_name": "mine.json"}}), encoding="utf-8")
    prepare("chnsenticorp", make_source(tmp_path), data, log=lambda _: None)
    info = json.loads((data / "dataset_info.json").read_text(encoding="utf-8"))
    assert set(info) == {"my_own", "chnsenticorp_train", "chnsenticorp_dev", "chnsenticorp_test"}
    assert info["chnsenticorp_train"]["file_name"] == "chnsenticorp/train.json"


def test_broken_dataset_info_is_reported_not_replaced(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "dataset_info.json").write_text('{"a": 1,\n', encoding="utf-8")
    with pytest.raises(DataError, match="dataset_info.json:2: not valid JSON"):
        prepare("chnsenticorp", make_source(tmp_path), data, log=lambda _: None)
    assert (data / "dataset_info.json").read_text(encoding="utf-8") == '{"a": 1,\n'


def test_cli_reports_counts_and_outputs(tmp_path):
    proc = run_script("scripts/preprocess.py", "chnsenticorp", "--input", str(make_source(tmp_path)),
                      "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 0, proc.stderr
    assert "tsv:label,text_a" in proc.stdout
    assert "read 12, kept 5; dropped: rejected 1, duplicates 1, conflicts 2, leaks 3" in proc.stdout
    assert str(tmp_path / "d" / "chnsenticorp" / "report.json") in proc.stdout


@pytest.mark.parametrize(("packing", "expected"), [(False, 256), (True, 255)])
def test_a_packing_config_sizes_records_at_the_cutoff_llamafactory_trains_with(tmp_path, tiny_model, packing, expected):
    """LLaMA-Factory trains packed rows at cutoff_len - 1: the length report (and meeting windows) must use that."""
    config = tmp_path / "train.yaml"
    config.write_text(f"model_name_or_path: {tiny_model}\ncutoff_len: 256\nneat_packing: {str(packing).lower()}\n",
                      encoding="utf-8")
    proc = run_script("scripts/preprocess.py", "chnsenticorp", "--input", "dataset/samples/chnsenticorp",
                      "--config", str(config), "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((tmp_path / "d" / "chnsenticorp" / "report.json").read_text(encoding="utf-8"))
    assert report["lengths"]["cutoff_len"] == expected


def test_cli_bad_input_is_one_clear_line(tmp_path):
    (tmp_path / "x.tsv").write_text("foo\tbar\n", encoding="utf-8")
    proc = run_script("scripts/preprocess.py", "chnsenticorp", "--input", str(tmp_path / "x.tsv"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"{tmp_path / 'x.tsv'}:1: unrecognised header" in proc.stdout


@pytest.mark.skipif(not (REAL_DATA / "chnsenticorp").exists(), reason="../shared/real-data not present")
def test_real_data_counts(tmp_path):
    ymcui = prepare("chnsenticorp", REAL_DATA / "chnsenticorp" / "ymcui", tmp_path / "y", log=lambda _: None)
    train = ymcui.report["counts"]["train"]
    # 1,351 surplus copies in train, 24 texts with conflicting labels (all their copies dropped).
    assert train["read"] == 9600 and train["duplicates"] + train["conflicts"] - 24 == 1351
    for part in ymcui.report["counts"].values():
        assert part["read"] == part["kept"] + part["rejected"] + part["duplicates"] + part["conflicts"] + part["leaks"]
    assert ymcui.report["counts"]["dev"]["leaks"] > 300
    htl = prepare("chnsenticorp", REAL_DATA / "chnsenticorp" / "htl_all" / "ChnSentiCorp_htl_all.csv",
                  tmp_path / "h", log=lambda _: None)
    assert htl.report["totals"]["rejected"] == 1 and htl.report["totals"]["kept"] == 7765
