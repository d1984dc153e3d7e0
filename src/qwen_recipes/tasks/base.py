"""The task contract: one object owns the prompt, the record builder, the output parser and the scorer,
so the text a model is trained on and the text it is evaluated on come from the same place."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

ALPACA_COLUMNS = {"prompt": "instruction", "query": "input", "response": "output"}


class Task(ABC):
    """Subclass, set the class attributes, and put the module in ``qwen_recipes.tasks``: the registry finds it."""

    name: ClassVar[str]  # registry key, dataset-name prefix and folder under data/
    source: ClassVar[str]  # the reader module in qwen_recipes.readers
    instruction: ClassVar[str]
    splits: ClassVar[tuple[str, ...]] = ("train", "dev", "test")
    # How the preprocessor recognises the same input twice: "text" (reviews) or "key" (question / case ids).
    dedupe_by: ClassVar[str] = "text"
    # Room for an answer: the predict configs' max_new_tokens, and what a meeting window keeps free for it.
    max_new_tokens: ClassVar[int] = 512

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
    def score(self, predictions: list[str], references: list[str]) -> dict[str, Any]:
        """Metrics the field reports for this task, from raw model outputs and gold outputs."""

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
