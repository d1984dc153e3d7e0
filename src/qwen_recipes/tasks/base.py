"""The task contract: one object owns the prompt, the record builder, the output parser and the scorer,
so the text a model is trained on and the text it is evaluated on come from the same place.

A task declares its ``kind``, which decides how it is evaluated: ``label`` (a closed set of answers: accuracy,
probabilities, calibration), ``generation`` (free text: similarity metrics, a judge) or ``meeting`` (answers per
window, merged per meeting and scored by the challenge's rules). Optional parts are declared here with defaults,
so callers never probe a task for what it has."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

ALPACA_COLUMNS = {"prompt": "instruction", "query": "input", "response": "output"}
Kind = Literal["label", "generation", "meeting"]


def alpaca_messages(record: dict[str, Any]) -> tuple[str, list[dict[str, str]]]:
    """An Alpaca record as LLaMA-Factory's converter reads it: ``history`` pairs first, then instruction and input
    joined by a newline, then the output; ``system`` when the record has one."""
    turns = []
    for question, answer in record.get("history") or []:
        turns += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    user = "\n".join(x for x in (record["instruction"], record.get("input", "")) if x)
    turns += [{"role": "user", "content": user}, {"role": "assistant", "content": record["output"]}]
    return record.get("system") or "", turns


class Task(ABC):
    """Subclass, set the class attributes, and put the module in ``qwen_recipes.tasks``: the registry finds it."""

    name: ClassVar[str]  # registry key, dataset-name prefix and folder under data/
    kind: ClassVar[Kind]
    source: ClassVar[str]  # the reader module in qwen_recipes.readers
    instruction: ClassVar[str]
    splits: ClassVar[tuple[str, ...]] = ("train", "dev", "test")
    # How the preprocessor recognises the same input twice: "text" (reviews) or "key" (question / case ids).
    dedupe_by: ClassVar[str] = "text"
    # Room for an answer: the predict configs' max_new_tokens, and what a meeting window keeps free for it.
    max_new_tokens: ClassVar[int] = 512
    # Label tasks: the answers, their names in plots, and published results to set beside ours.
    labels: ClassVar[tuple[str, ...]] = ()
    plot_names: ClassVar[dict[str, str]] = {}
    published: ClassVar[tuple[tuple[str, float], ...]] = ()
    published_note: ClassVar[str] = ""
    # Written into report.json when the source has no split of its own and the project makes one.
    split_note: ClassVar[str] = ""
    # A command the field's official score needs besides scripts/evaluate.py ({predictions}: the predictions
    # folder); the predict configs name it after the evaluate line.
    official_score: ClassVar[str] = ""
    # Whether the record builder takes ``tokenizer`` and ``cutoff_len`` (meeting windows are packed to a budget).
    sized_by_tokens: ClassVar[bool] = False
    # The records' prompts are the user's own data (generic Alpaca / ShareGPT): ``instruction`` is empty and the
    # project adds no prompt of its own.
    prompt_from_data: ClassVar[bool] = False

    def begin(self) -> None:  # noqa: B027 (a hook: doing nothing is the right default)
        """Called by the preprocessor before a run, so per-run statistics start from zero."""

    def run_report(self) -> dict[str, Any]:
        """What a preprocessing run adds to report.json beyond the counts (meeting tasks: their windows)."""
        return {}

    def gold(self, example: Any) -> dict[str, Any] | None:
        """One item's gold for ``<split>.gold.jsonl``, for tasks scored per item group (meetings); None: no file."""
        return None

    @abstractmethod
    def build_record(self, example: Any) -> dict[str, str]:
        """An Alpaca record (instruction, input, output) for one example of the source."""

    def unusable(self, example: Any, split_examples: Sequence[Any]) -> tuple[str, str] | None:
        """Why this task cannot use an example its reader kept, as (reason, field), or None.

        Readers check what every task of a source needs; this checks what only this task needs (a meeting without
        topic segmentation is fine for action items, not for topic titles). ``split_examples`` are the examples read
        for the same split, so that a missing annotation can be told apart from a split that is not annotated at all
        (prediction only). The preprocessor rejects the example with the reason, and the counts include it.
        """
        return None

    def build_records(self, example: Any, **options: Any) -> list[dict[str, str]]:
        """All records of one source item (several for a question with several answers)."""
        return [self.build_record(example)]

    @abstractmethod
    def parse(self, text: str) -> Any | None:
        """What a model's output means for this task, or None when it cannot be read."""

    @abstractmethod
    def score(self, predictions: list[str], references: list[str], **context: Any) -> dict[str, Any]:
        """Metrics the field reports for this task, from raw model outputs and gold outputs. ``context`` is what a
        task scored per group needs besides (meeting tasks: each record's window meta and each meeting's gold)."""

    def messages(self, record: dict[str, Any]) -> tuple[str, list[dict[str, str]]]:
        """(system prompt, turns as role/content) of one written record, as LLaMA-Factory's converter reads it, so that
        token counts and "has an answer" are judged on what training sees (default: an Alpaca record)."""
        return alpaca_messages(record)

    def dataset_name(self, split: str) -> str:
        return f"{self.name}_{split}"

    def data_file(self, split: str) -> str:
        """Path of a split's Alpaca file, relative to the dataset_dir LLaMA-Factory is given."""
        return f"{self.name}/{split}.json"

    def dataset_info(self) -> dict[str, dict[str, Any]]:
        """This task's entries of LLaMA-Factory's dataset_info.json."""
        return {
            self.dataset_name(split): {"file_name": self.data_file(split), "columns": dict(ALPACA_COLUMNS)}
            for split in self.splits
        }
