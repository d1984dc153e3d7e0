"""Recipes for fine-tuning Qwen2 / Qwen2.5 on Chinese tasks with LLaMA-Factory.

The package is the small library behind the thin entry points in ``scripts/``:

- ``readers``: one reader per raw source, turning every variant users have into plain records.
- ``tasks``: one module per task; each task owns its prompt, record builder, output parser and scorer,
  so training data and evaluation can never disagree on the prompt. ``tasks.registry`` discovers them.
- ``data``: cleaning (duplicates, conflicts, leakage), splitting, Alpaca writing and ``dataset_info.json``.
- ``eval``: reading LLaMA-Factory predictions, metrics, reports and plots.
"""

__version__ = "0.1.0"
