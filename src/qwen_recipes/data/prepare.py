"""Raw source -> Alpaca JSON per split + report + dataset_info.json entries, for every task.

The pipeline, per input part (train / dev / test as the source ships them, or ``all`` when it has no split):
read (reader rejects bad rows) -> de-duplicate (classification tasks: by text, dropping texts whose copies
disagree on the label; item tasks such as PsyQA: by item id) -> drop evaluation items seen in an earlier split
(leakage) -> split ``all`` with a seed (stratified by label, or k-fold), or carve dev out of train when it is
missing -> build records with the task (one item may give several records) -> write everything atomically.
Every input row ends up written or in ``report.json``'s ``dropped`` list with its reason, and the counts are
checked to add up before anything is written.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_recipes.data import dataset_info, transaction
from qwen_recipes.data.cleaning import dedupe, kfold_split, remove_leaks, stratified_split, text_key
from qwen_recipes.errors import DataError
from qwen_recipes.io import atomic_open, write_json, write_jsonl
from qwen_recipes.readers import READERS
from qwen_recipes.readers.common import FileRead, Rejected
from qwen_recipes.tasks import Task, get_task

SPLIT_ORDER = ("train", "dev", "test")
DEFAULT_RATIOS = {"train": 0.8, "dev": 0.1, "test": 0.1}


@dataclass
class Part:
    """One input part and what happened to its rows."""

    name: str
    files: list[FileRead]
    kept: list[Any] = field(default_factory=list)
    dropped: list[tuple[str, Rejected]] = field(default_factory=list)  # (category, rejection)

    @property
    def read(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def labeled(self) -> bool:
        return any(getattr(r, "label", None) is not None for f in self.files for r in f.records)

    def counts(self) -> dict[str, int]:
        by = Counter(cat for cat, _ in self.dropped)
        return {
            "read": self.read,
            "rejected": by["rejected"],
            "duplicates": by["duplicate"],
            "conflicts": by["conflict"],
            "leaks": by["leak"],
            "kept": len(self.kept),
        }


@dataclass
class Prepared:
    task: str
    out_dir: Path
    outputs: dict[str, Path]
    report_path: Path
    report: dict[str, Any]


def _key(task: Task) -> Callable[[Any], Any]:
    """What makes two input rows the same: their text (reviews) or their id (questions, cases)."""
    return (lambda r: text_key(r.text)) if task.dedupe_by == "text" else (lambda r: r.key)


# Where an item was read, and what was dropped inside it: not what it says.
_NOT_CONTENT = ("path", "line", "end_line", "dropped_answers", "dropped_turns")
_INSIDE = ("dropped_answers", "dropped_turns")  # PsyQA answers, conversation exchanges


def _content(item: Any) -> str:
    """Everything an item says, without where it was read: two copies of one id must say the same."""
    fields = {k: v for k, v in dataclasses.asdict(item).items() if k not in _NOT_CONTENT}
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)


def _clean(part: Part, seen: dict[Any, tuple[str, Any]], log: Callable[[str], None], task: Task) -> None:
    records = [r for f in part.files for r in f.records]
    part.dropped += [("rejected", r) for f in part.files for r in f.rejected]
    key = _key(task)
    if task.dedupe_by == "text" and not part.labeled:
        # Prediction-only rows are all kept: a submission needs an answer for every id.
        part.kept = records
        overlap = sum(key(r) in seen for r in records)
        if overlap:
            log(f"  note: {overlap} unlabeled {part.name} texts also occur in labeled splits (kept)")
        return
    if task.dedupe_by == "text":
        kept, dropped = dedupe(records, key, lambda r: r.label)
    else:
        kept, dropped = dedupe(records, key, _content, what="id")
    part.dropped += [(d.reason.split(":", 1)[0], d) for d in dropped]
    if part.name in ("dev", "test"):
        kept, leaks = remove_leaks(kept, seen, key)
        part.dropped += [("leak", d) for d in leaks]
    # Later splits are checked against every text read here, conflicting copies included.
    for r in records:
        seen.setdefault(key(r), (part.name, r))
    part.kept = kept


def _screen(task: Task, files: list[FileRead]) -> None:
    """Move the examples this task cannot use (``Task.unusable``) from kept to rejected, file by file."""
    examples = [r for f in files for r in f.records]
    for f in files:
        kept = []
        for r in f.records:
            problem = task.unusable(r, examples)
            if problem is None:
                kept.append(r)
            else:
                f.rejected.append(Rejected(f.path, r.line, problem[0], problem[1], str(getattr(r, "key", ""))))
        f.records = kept


def _distribute(parts: dict[str, Part], ratios: dict[str, float], seed: int, log: Callable[[str], None],
                kfold: tuple[int, int] | None = None) -> dict:
    label = lambda r: r.label  # noqa: E731  (None for item tasks: one stratum, i.e. a plain seeded split)
    if "all" in parts:
        if kfold:
            k, fold = kfold
            log(f"  no split in the source: {k}-fold split, fold {fold} is test, fold {(fold + 1) % k} is dev, seed {seed}")
            return kfold_split(parts["all"].kept, k, fold, seed)
        log(f"  no split in the source: {'stratified ' if parts['all'].labeled else ''}{ratios} split, seed {seed}")
        return stratified_split(parts["all"].kept, ratios, label, seed)
    out = {name: list(p.kept) for name, p in parts.items()}
    if "train" in out and "dev" not in out and parts["train"].labeled:
        share = ratios["dev"] / (ratios["train"] + ratios["dev"])
        log(f"  no dev split in the source: {share:.0%} of train held out as dev, seed {seed}")
        carved = stratified_split(out["train"], {"train": 1 - share, "dev": share}, label, seed)
        out["train"], out["dev"] = carved["train"], carved["dev"]
    return out


def prepare(
    task_name: str,
    input_path: str | Path,
    data_dir: str | Path = "data",
    *,
    seed: int = 42,
    ratios: dict[str, float] | None = None,
    encoding: str = "utf-8",
    kfold: tuple[int, int] | None = None,
    options: dict[str, Any] | None = None,
    lengths: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> Prepared:
    """``kfold`` = (k, fold) for unsplit sources; ``options`` go to the task's record builder (e.g. PsyQA's
    answers=labeled); ``lengths`` = {"tokenizer": path, "cutoff_len": n, "template": "qwen"} adds token-length
    statistics to the report."""
    task: Task = get_task(task_name)
    # Preconditions before any work: a broken dataset_info.json or a folder we cannot write stop the run here.
    dataset_info.existing(data_dir)
    transaction.check_writable(data_dir)
    for path in transaction.clean_leftovers(data_dir, task.name):
        log(f"  removed {path}, left by an interrupted run")
    ratios = ratios or dict(DEFAULT_RATIOS)
    reader = READERS[task.source]
    found = reader.find_files(input_path)
    for entry in found.ignored:
        log(f"  ignored {entry['path']}: {entry['reason']}")
    parts: dict[str, Part] = {}
    for name in (*SPLIT_ORDER, "all"):
        if name not in found:
            continue
        files = []
        for path in found[name]:
            fr = reader.read_file(path, encoding=encoding)
            log(f"  {path}: {fr.variant} ({fr.rows} rows, {len(fr.rejected)} rejected) -> {name}")
            if fr.rows == 0:
                raise DataError("holds no records (an empty file, [] or a header only)", path=path)
            files.append(fr)
        _screen(task, files)
        parts[name] = Part(name, files)
    if "all" in parts and len(parts) > 1:
        raise DataError("mixes split files with an unsplit file", path=input_path)

    seen: dict[Any, tuple[str, Any]] = {}
    for part in parts.values():
        _clean(part, seen, log, task)
    splits = _distribute(parts, ratios, seed, log, kfold)

    counts = {name: part.counts() for name, part in parts.items()}
    for name, c in counts.items():
        dropped = c["rejected"] + c["duplicates"] + c["conflicts"] + c["leaks"]
        if c["read"] != c["kept"] + dropped:
            raise RuntimeError(f"counts do not add up for {name}: {c}")
    if sum(c["kept"] for c in counts.values()) != sum(len(v) for v in splits.values()):
        raise RuntimeError("kept rows and written rows differ")

    out_dir = Path(data_dir) / task.name
    options = options or {}
    task.begin()
    # Records may carry "meta" (window spans, references) for evaluation: it goes to meta.jsonl, not to training.
    built: dict[str, list[tuple[Any, dict[str, Any], dict[str, str]]]] = {}
    barren: list[dict[str, Any]] = []  # kept items that give no record under these options
    for split in (s for s in SPLIT_ORDER if s in splits):
        built[split] = []
        for item in splits[split]:
            made = task.build_records(item, split=split, **options)
            if not made:
                barren.append({"split": split, "id": str(item.key), "path": item.path, "line": item.line,
                               "reason": f"gives no record with options {options or {}}"})
            built[split] += [(item, rec.pop("meta", {}), rec) for rec in made]
        if not built[split]:
            files = [f.path for p in parts.values() for f in p.files]
            raise DataError(f"the {split} split would be empty ({len(splits[split])} items kept, no record built); "
                            "nothing was written", path=files[0] if len(files) == 1 else input_path,
                            hint="check the input and its counts, or the options (e.g. --answers)")
    records = {s: [rec for _, _, rec in triples] for s, triples in built.items()}
    written = {}
    for split, rows in records.items():
        answers = [task.messages(r)[1][-1]["content"] for r in rows]  # the last answer: what predict scores against
        labels = Counter(a for a in answers if a) if task.dedupe_by == "text" else Counter()
        written[split] = {
            "file": str(Path(data_dir) / task.data_file(split)),
            "dataset": task.dataset_name(split),
            "items": len(splits[split]),
            "n": len(rows),
            "labeled": bool(labels) or any(answers),
            "labels": dict(sorted(labels.items())),
        }
    report = {
        "task": task.name,
        "input": str(input_path),
        "seed": seed,
        "ratios": ratios,
        "files": [{"part": p.name, "path": f.path, "variant": f.variant, "rows": f.rows,
                   **({"lines": f.lines} if f.lines else {}),
                   **({"multiline_rows": [list(r) for r in f.multiline_rows]} if f.multiline_rows else {})}
                  for p in parts.values() for f in p.files],
        "counts": counts,
        "totals": {k: sum(c[k] for c in counts.values()) for k in next(iter(counts.values()))} if counts else {},
        "written": written,
        "dropped": [{"part": p.name, "category": cat, **rej.as_dict()} for p in parts.values() for cat, rej in p.dropped],
        "options": options,
        "kfold": list(kfold) if kfold else None,
        "ignored_files": found.ignored,
        "items_without_records": barren,
    }
    # Sub-records dropped inside an item that was kept (e.g. an empty PsyQA answer): listed, not counted as rows.
    inner = [{"part": p.name, **r.as_dict()} for p in parts.values() for f in p.files for item in f.records
             for name in _INSIDE for r in getattr(item, name, [])]
    if inner:
        report["dropped_inside_items"] = inner
    if task.split_note and "all" in parts:
        report["note"] = task.split_note
    report.update(task.run_report())
    if lengths:
        from qwen_recipes.data.lengths import length_report

        report["lengths"] = length_report(records, **lengths, messages=task.messages)

    # Only the splits written are registered; the task's entries for other splits go (they would point at nothing,
    # or at an earlier run's file).
    names = {task.dataset_name(split) for split in records}
    entries = {name: entry for name, entry in task.dataset_info().items() if name in names}
    current = dataset_info.existing(data_dir)
    stale = sorted(name for name in task.dataset_info() if name not in names and name in current)
    info = {**{k: v for k, v in current.items() if k not in stale}, **entries}
    outputs = {split: Path(data_dir) / task.data_file(split) for split in records}
    try:
        with transaction.staged(data_dir, task.name) as stage:
            for split, rows in records.items():
                with atomic_open(stage / outputs[split].relative_to(out_dir)) as handle:
                    json.dump(rows, handle, ensure_ascii=False, indent=1)
                with atomic_open(stage / f"{split}.meta.jsonl") as handle:
                    for item, extra, _ in built[split]:
                        meta = {"id": getattr(item, "qid", None) or getattr(item, "key", None), "path": item.path,
                                "line": item.line, **extra}
                        handle.write(json.dumps(meta, ensure_ascii=False) + "\n")
                golds = [g for g in map(task.gold, splits[split]) if g is not None]
                if golds:
                    write_jsonl(stage / f"{split}.gold.jsonl", golds)
            earlier = sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file()
                             and p.name != "report.json" and not (stage / p.relative_to(out_dir)).exists()
                             ) if out_dir.is_dir() else []
            report["replaced_earlier_run"] = {"removed_files": earlier, "unregistered": stale}
            write_json(stage / "report.json", report)
            transaction.commit(stage, out_dir, Path(data_dir) / dataset_info.FILE_NAME, dataset_info.render(info))
    except OSError as err:  # disk full, read-only, quota: nothing was switched over
        raise DataError(f"cannot write the outputs ({err.strerror or err}); the data dir is unchanged",
                        path=err.filename or data_dir) from None
    for name in stale:
        log(f"  unregistered {name} from dataset_info.json: this run wrote no such split")
    for name in earlier:
        log(f"  removed {out_dir / name}: left by an earlier run, not written by this one")
    report_path = out_dir / "report.json"
    return Prepared(task.name, out_dir, outputs, report_path, report)
