"""ShareGPT reader: multi-turn conversations in any of the shapes exporters write, one record per conversation.

Detected per record (the file's variant lists what was seen):

| turns under       | tags             | roles                                              | seen in                      |
|-------------------|------------------|----------------------------------------------------|------------------------------|
| ``conversations`` | ``from/value``   | human, gpt, system (also user, assistant)          | ShareGPT dumps, LLaMA-Factory |
| ``messages``      | ``role/content`` | user, assistant, system                            | OpenAI chat format, ms-swift  |

Roles are read case-blind. A system prompt is a first ``system`` turn or a ``system`` field (both: they must agree).
What LLaMA-Factory needs and silently skips otherwise is checked here, with file, line and field: the first turn after
the system prompt is the user's, turns alternate, roles are known (tool turns are not supported by these generic
sources), contents are text. Repairs that keep the rest of a conversation are listed with the record (``dropped_turns``,
``dropped_inside_items`` in report.json): an exchange (a user turn and its answer) with an empty turn is dropped, and so
is a final user turn that has no answer. A conversation with nothing left is rejected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qwen_recipes.readers.common import FileRead, Rejected, SplitFiles, preview, text_problem
from qwen_recipes.readers.conversations import Bad, Conversation, Raw, read_with, where
from qwen_recipes.readers.conversations import find_files as _find_files
from qwen_recipes.readers.conversations import type_name as _type

TURN_KEYS = ("conversations", "messages")
TAG_STYLES = (("from", "value"), ("role", "content"))
ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}
TOOL_ROLES = ("function_call", "observation", "tool", "function", "ipython")
ALPACA_FIELDS = ("instruction", "output", "query", "response")


def _turns(item: dict[str, Any]) -> tuple[str, list[Any]]:
    keys = [k for k in TURN_KEYS if k in item]
    if not keys:
        hint = " (this record has Alpaca fields: use the alpaca source)" if set(ALPACA_FIELDS) & set(item) else ""
        raise Bad(f"missing: a ShareGPT record holds its turns under 'conversations' or 'messages'{hint}", "conversations")
    if len(keys) > 1:
        raise Bad("both 'conversations' and 'messages': which one holds the turns?", "conversations")
    key = keys[0]
    turns = item[key]
    if not isinstance(turns, list):
        raise Bad(f"not a list of turns but {_type(turns)}", key)
    if not turns:
        raise Bad("no turns", key)
    return key, turns


def _turn(turn: Any, at: str) -> tuple[str, str, str, str]:
    """(role, text, style, field of the text) of one turn."""
    if not isinstance(turn, dict):
        raise Bad(f"turn is not a JSON object but {_type(turn)}", at)
    styles = [s for s in TAG_STYLES if s[0] in turn or s[1] in turn]
    if not styles:
        raise Bad("no role tag: expected from/value (ShareGPT) or role/content (OpenAI messages)", at)
    if len(styles) > 1:
        raise Bad("mixes from/value and role/content tags in one turn", at)
    role_tag, content_tag = styles[0]
    for tag in styles[0]:
        if tag not in turn:
            raise Bad("missing", f"{at}.{tag}")
    role = turn[role_tag]
    if not isinstance(role, str):
        raise Bad(f"role is not text but {_type(role)}", f"{at}.{role_tag}")
    name = role.strip().lower()
    if name in TOOL_ROLES:
        raise Bad(f"tool turn {role!r}: tool calls are not supported by the generic sources", f"{at}.{role_tag}")
    if name not in ROLES:
        raise Bad(f"unknown role {role!r} (expected human/user, gpt/assistant or system)", f"{at}.{role_tag}")
    content = turn[content_tag]
    if content is not None and not isinstance(content, str):  # null is an empty turn; a number or list is bad input
        raise Bad(f"not text but {_type(content)}", f"{at}.{content_tag}")
    return ROLES[name], (content or "").strip(), "/".join(styles[0]), f"{at}.{content_tag}"


def parse(item: Any, raw: Raw, path: str) -> tuple[Conversation, str]:
    """A conversation and its layout (``conversations (from/value)``), or ``Bad``."""
    if not isinstance(item, dict):
        raise Bad(f"record is not a JSON object but {_type(item)}", None)
    key, raw_turns = _turns(item)
    system = item.get("system")
    if system is not None and not isinstance(system, str):
        raise Bad(f"not text but {_type(system)}", "system")
    system = "" if text_problem(system) else system.strip()
    turns = [_turn(t, f"{key}[{i}]") for i, t in enumerate(raw_turns)]
    layout = f"{key} ({' + '.join(sorted({style for _, _, style, _ in turns}))})"
    role_tag = [f"{key}[{i}].{'from' if style == 'from/value' else 'role'}" for i, (_, _, style, _) in enumerate(turns)]
    start = 0
    if turns[0][0] == "system":
        if system and turns[0][1] and turns[0][1] != system:
            raise Bad("a system turn and a different 'system' field: which is the system prompt?", f"{key}[0]")
        system = system or turns[0][1]
        start = 1
    for i in range(start, len(turns)):
        role = turns[i][0]
        if role == "system":
            raise Bad("a system turn after the first turn (the system prompt comes first)", role_tag[i])
        if i == start and role == "assistant":
            raise Bad("the conversation starts with an assistant turn (the first turn after the system prompt must be "
                      "the user's)", role_tag[i])
        if i > start and role == turns[i - 1][0]:
            raise Bad(f"two {role} turns in a row (turns must alternate user, assistant)", role_tag[i])
    body = turns[start:]
    if not body:
        raise Bad("no user or assistant turn", key)
    conv = Conversation(system, [], path, raw.line, raw.end_line if raw.end_line != raw.line else None)
    if body[-1][0] == "user":
        conv.dropped_turns.append(Rejected(path, raw.line, "a final user turn with no answer: dropped",
                                           where(raw, body[-1][3]), preview(body[-1][1])))
        body = body[:-1]
    first_empty: tuple[str, str] | None = None
    for n in range(0, len(body), 2):
        (_, question, _, q_at), (_, answer, _, a_at) = body[n], body[n + 1]
        empty = [(problem, at) for text, at in ((question, q_at), (answer, a_at)) if (problem := text_problem(text))]
        if empty:
            first_empty = first_empty or empty[0]
            conv.dropped_turns.append(Rejected(path, raw.line, f"{empty[0][0]} turn: its exchange (a user turn and its "
                                               "answer) dropped", where(raw, empty[0][1]), preview(question or answer)))
            continue
        conv.turns += [("user", question), ("assistant", answer)]
    if not conv.turns:
        if first_empty:
            raise Bad(f"{first_empty[0]} turn, and no other exchange", first_empty[1])
        raise Bad("a single user turn with no answer", role_tag[start])
    return conv, layout


def read_file(path: str | Path, encoding: str = "utf-8") -> FileRead:
    return read_with(parse, "sharegpt", path, encoding)


def find_files(path: str | Path) -> SplitFiles:
    return _find_files(path, "pass a .json / .jsonl file of conversations, or a folder of them (train/dev/test files "
                             "keep their split)")
