"""One reader per raw source. A reader turns every variant of its source into plain records and lists,
with file, line and field, every row it could not take; it never decides splits or prompts.

``READERS`` is the table a task's ``source`` names: each module has ``find_files(path)`` (split name -> files)
and ``read_file(path, encoding)`` (-> ``FileRead``). ``alpaca`` and ``sharegpt`` read users' own conversations (what
they share is in ``conversations``)."""

from __future__ import annotations

from types import ModuleType

from qwen_recipes.readers import alimeeting, alpaca, chnsenticorp, longemotion, psyqa, sharegpt

READERS: dict[str, ModuleType] = {
    "alimeeting": alimeeting,
    "alpaca": alpaca,
    "chnsenticorp": chnsenticorp,
    "longemotion": longemotion,
    "psyqa": psyqa,
    "sharegpt": sharegpt,
}
