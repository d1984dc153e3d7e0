"""The predict, chat and export configs, written from their train config and its task: never edited by hand.

A predict, chat or export config only restates its train config (the base model, the adapter in the train
``output_dir``, quantization, template, ``cutoff_len``, data) and adds what the task needs (the test split, room
for an answer). Kept by hand, 66 files drifted in wording and in small keys; ``scripts/make_configs.py`` now writes
them from ``configs/train/<name>.yaml`` into ``configs/{predict,chat,export}/<name>.yaml`` (the files users run),
and a test checks the committed files are byte for byte what it writes.

What a train config declares for them, in one header line (read here, never written)::

    # Adapter: action item detection   (...)
    # Adapter: tiny emotion_summary; stages=predict; max_new_tokens=64   (...)

- the words before the first ``;``: what the later configs call the adapter ("the ... adapter");
- ``stages=``: which of predict, chat, export it gets (default: all three; the tiny side configs need no chat);
- ``max_new_tokens=``: room for an answer when predicting, instead of the task's own ``Task.max_new_tokens``
  (the largest over the tasks of a combined config): the tiny CPU configs check the pipeline, not answers;
- ``chat_max_new_tokens=``: the same for chat (default: the predict value): a label task predicts a few tokens,
  but a person chatting with it wants a sentence.

Three or more spaces end the declaration: the rest of the line is a comment for the reader.

Everything else follows from the train config: the predict config scores the test split of the train config's
first dataset (``eval_dataset=<task>_test``) into ``<output_dir>/predict/<that split>``, with the train config's
``per_device_eval_batch_size`` (or its training micro-batch, which fits the card with gradients besides); the
export config merges into the unquantized base (never a 4-bit model, so it has no ``quantization_bit``) under
``<output_dir>/merged``. Each config opens with the exact commands, run from the repository root, that make what it
needs and that use it; a meeting task's (``kind == "meeting"``) score needs ``--data`` (windows are merged per meeting).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from qwen_recipes.configs import CONFIG_DIR
from qwen_recipes.errors import DataError

STAGES = ("predict", "chat", "export")  # the stages written from a train config, in the order they are written
_ADAPTER_LINE = re.compile(r"^# Adapter:[ \t]*(.*)$")
_OPTIONS = ("stages", "max_new_tokens", "chat_max_new_tokens")


@dataclass(frozen=True)
class Declared:
    """What a train config's ``# Adapter:`` header line declares (see the module docstring)."""

    adapter: str
    stages: tuple[str, ...] = STAGES
    max_new_tokens: int | None = None
    chat_max_new_tokens: int | None = None


def _header(text: str) -> list[str]:
    lines = text.splitlines()
    return lines[: next((i for i, line in enumerate(lines) if line.startswith("### ")), len(lines))]


def declared(text: str) -> Declared:
    """The ``# Adapter:`` line of a train config's header, parsed; a missing or malformed line is a ValueError."""
    found = [m.group(1) for line in _header(text) if (m := _ADAPTER_LINE.match(line))]
    if len(found) != 1:
        raise ValueError("no '# Adapter: <name>' header line" if not found else "more than one '# Adapter:' line")
    spec = re.split(r"\s{3,}", found[0].strip(), maxsplit=1)[0]
    adapter, *options = (part.strip() for part in spec.split(";"))
    if not adapter:
        raise ValueError("the '# Adapter:' line names no adapter")
    values: dict[str, Any] = {}
    for option in options:
        key, sep, value = (s.strip() for s in option.partition("="))
        if not sep or key not in _OPTIONS or key in values:
            raise ValueError(f"'# Adapter:' option {option!r} is not one of {', '.join(k + '=...' for k in _OPTIONS)}"
                             " (each at most once)")
        if key == "stages":
            stages = [s.strip() for s in value.split(",")]
            if not stages or set(stages) - set(STAGES) or len(set(stages)) != len(stages):
                raise ValueError(f"stages={value!r}: a comma-separated list of {', '.join(STAGES)}")
            values[key] = tuple(s for s in STAGES if s in stages)
        elif not value.isdigit() or int(value) < 1:
            raise ValueError(f"{key}={value!r}: a positive whole number of tokens")
        else:
            values[key] = int(value)
    result = Declared(adapter, **values)
    if result.chat_max_new_tokens is not None and "chat" not in result.stages:
        raise ValueError("chat_max_new_tokens= without a chat stage")
    return result


# ---- The three configs -----------------------------------------------------------------------------------------


def _kv(key: str, value: Any) -> str:
    return yaml.safe_dump({key: value}, default_flow_style=False, sort_keys=False, allow_unicode=True).strip()


def _config(header: list[str], sections: list[tuple[str, list[tuple[str, Any]]]]) -> str:
    lines = [*header]
    for title, keys in sections:
        lines += ["", f"### {title}", *(_kv(k, v) for k, v in keys)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class _Train:
    """A train config as the later stages see it."""

    name: str
    cfg: dict[str, Any]
    decl: Declared
    tasks: list[Any]  # the Task of each training dataset, in order

    def path(self, stage: str) -> str:
        """The file as users run it from the repository root (wherever the generator writes it)."""
        return (CONFIG_DIR / stage / self.name).as_posix()

    def model_keys(self) -> list[tuple[str, Any]]:
        return [("model_name_or_path", self.cfg["model_name_or_path"]), ("adapter_name_or_path", self.cfg["output_dir"])]

    def quantization(self) -> list[tuple[str, Any]]:
        keys = ("quantization_bit", "quantization_method") if "quantization_bit" in self.cfg else ()
        return [(k, self.cfg[k]) for k in keys if k in self.cfg]

    @property
    def trust(self) -> tuple[str, Any]:
        return "trust_remote_code", self.cfg.get("trust_remote_code", False)

    @property
    def max_new_tokens(self) -> int:
        return self.decl.max_new_tokens or max(task.max_new_tokens for task in self.tasks)


def _predict(t: _Train) -> str:
    task, cfg = t.tasks[0], t.cfg
    test = task.dataset_name("test")
    predictions = f"{cfg['output_dir']}/predict/{test}"
    others = {x.name for x in t.tasks} - {task.name}
    if others:  # one adapter of several tasks: the config scores the first; the note says how to score the rest
        prefix = os.path.commonprefix([x.name for x in t.tasks])
        placeholder = task.dataset_name("test").replace(task.name, prefix[: prefix.rfind("_") + 1] + "<task>", 1)
        note = f" (set eval_dataset={placeholder} for the others)"
    else:
        note = ""
    data = f" --data {cfg['dataset_dir']}/{task.data_file('test')}" if task.kind == "meeting" else ""
    header = [f"# Greedy predictions of the {t.decl.adapter} adapter on {test}{note}.",
              f"# Needs: llamafactory-cli train {t.path('train')}",
              f"# Run:   llamafactory-cli train {t.path('predict')}",
              f"#        python scripts/evaluate.py {task.name} {predictions}{data}"]
    if task.official_score:  # the field scores with a command of its own besides scripts/evaluate.py
        header.append("#        " + task.official_score.format(predictions=predictions))
    eval_batch = cfg.get("per_device_eval_batch_size", cfg.get("per_device_train_batch_size"))
    return _config(header, [
        ("model", [*t.model_keys(), t.trust, *t.quantization()]),
        ("method", [("stage", cfg["stage"]), ("do_predict", True), ("finetuning_type", cfg["finetuning_type"])]),
        ("dataset", [("dataset_dir", cfg["dataset_dir"]), ("eval_dataset", test), ("template", cfg["template"]),
                     ("cutoff_len", cfg["cutoff_len"]), ("overwrite_cache", True),
                     ("preprocessing_num_workers", cfg["preprocessing_num_workers"])]),
        ("output", [("output_dir", predictions), ("overwrite_output_dir", True), ("report_to", "none")]),
        ("eval", [("per_device_eval_batch_size", eval_batch), ("predict_with_generate", True), ("do_sample", False),
                  ("max_new_tokens", t.max_new_tokens)]),
    ])


def _chat(t: _Train) -> str:
    header = [f"# Chat with the {t.decl.adapter} adapter in the terminal (`exit` leaves; `clear` drops the history).",
              f"# Needs: llamafactory-cli train {t.path('train')}",
              f"# Run:   llamafactory-cli chat {t.path('chat')}",
              "#        (llamafactory-cli webui offers the same model in a browser)"]
    return _config(header, [
        ("model", [*t.model_keys(), t.trust, *t.quantization(), ("template", t.cfg["template"]),
                   ("infer_backend", "huggingface")]),
        ("method", [("finetuning_type", t.cfg["finetuning_type"])]),
        ("eval", [("do_sample", False), ("max_new_tokens", t.decl.chat_max_new_tokens or t.max_new_tokens)]),
    ])


def _export(t: _Train) -> str:
    bf16 = bool(t.cfg.get("bf16"))  # a bf16 base is what the merge loads into CPU memory (15 GB for a 7B)
    base = f"{t.cfg['model_name_or_path']}, bf16" if bf16 else t.cfg["model_name_or_path"]
    header = [f"# Merge the {t.decl.adapter} adapter into the unquantized base ({base}); never into a 4-bit model.",
              f"# Needs: llamafactory-cli train {t.path('train')}" + ("; CPU RAM to hold the bf16 base." if bf16 else ""),
              f"# Run:   llamafactory-cli export {t.path('export')}",
              f"#        python scripts/check_merge.py {t.path('export')}"]
    return _config(header, [
        ("model", [*t.model_keys(), ("template", t.cfg["template"]), t.trust]),
        ("method", [("finetuning_type", t.cfg["finetuning_type"])]),
        ("export", [("export_dir", f"{t.cfg['output_dir']}/merged"), ("export_size", 5), ("export_device", "cpu"),
                    ("export_legacy_format", False)]),
    ])


_WRITERS = {"predict": _predict, "chat": _chat, "export": _export}
_NEEDED = ("model_name_or_path", "output_dir", "stage", "finetuning_type", "template", "dataset_dir", "dataset",
           "cutoff_len", "preprocessing_num_workers")


def render(name: str, text: str, path: str | Path | None = None) -> dict[str, str]:
    """The later-stage configs of the train config ``name`` whose text is ``text``: {stage: file text}.

    ``path`` is where the train config is, for error messages (default: ``configs/train/<name>``). A missing
    ``# Adapter:`` line, a missing key or a dataset that is no task's split is a DataError naming it.
    """
    where = path if path is not None else CONFIG_DIR / "train" / name
    try:
        decl = declared(text)
    except ValueError as err:
        raise DataError(str(err), path=where, hint="the header needs one line '# Adapter: <what its predict, chat and "
                        "export configs call the adapter>[; option=value...]'; options: src/qwen_recipes/config_gen.py") from None
    try:
        cfg = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise DataError(f"not valid YAML: {err}", path=where) from None
    if not isinstance(cfg, dict):
        raise DataError("expected a mapping of LLaMA-Factory arguments (key: value lines)", path=where)
    for key in _NEEDED:
        if cfg.get(key) in (None, ""):
            raise DataError("the later stages' configs are written from this key, which is missing", path=where,
                            field=key)
    from qwen_recipes.tasks import all_tasks

    splits = {task.dataset_name(split): (task, split) for task in all_tasks().values() for split in task.splits}
    tasks = []
    for dataset in str(cfg["dataset"]).split(","):
        if dataset.strip() not in splits:
            raise DataError(f"dataset {dataset.strip()!r} is no task's split (<task>_<split> from the task registry)",
                            path=where, field="dataset")
        tasks.append(splits[dataset.strip()][0])
    if "test" not in tasks[0].splits:
        raise DataError(f"task {tasks[0].name!r} has no test split to predict", path=where, field="dataset")
    train = _Train(name, cfg, decl, tasks)
    return {stage: _WRITERS[stage](train) for stage in decl.stages}
