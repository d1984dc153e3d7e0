"""Self-written Chinese counseling records in the Alpaca layout users bring (no third-party text).

``counseling_alpaca.json``: one pretty-printed JSON array with ``instruction``, ``input``, ``output``, and on some
records ``system`` and ``history`` (earlier exchanges as ``[question, answer]`` pairs). ``counseling_alpaca.jsonl``:
JSON Lines with ``instruction`` and ``output`` only, and an ``id`` field the reader ignores.

Planted quirks, one record each: an empty output, a record without ``output``, an ``input`` that is a number, a
``history`` entry that is not a pair, a prompt with nothing in it, a ShareGPT record in the wrong source, an empty
answer inside ``history`` (that earlier exchange is dropped, the record kept), an exact copy inside the JSON file and
a copy of a JSON record in the JSONL file (both duplicates).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from qwen_recipes.io import write_text

SEED = 29
INSTRUCTIONS = ["请以心理咨询师的身份回应来访者。", "你是一名心理咨询师，请温和地回应下面这段倾诉。", ""]
SYSTEMS = ["你是一名耐心的心理咨询师，回答要先理解来访者的感受，再给出一两条具体、可行的建议。",
           "你是高校心理中心的咨询老师，语气亲切，不评判，不下诊断。"]
# (the client's opening, follow-ups): the project's own phrases, other topics than the ShareGPT sample's.
TOPICS = [
    ("我毕业快一年了还没找到工作，觉得自己很失败。", ["投了很多简历都没有回音。", "看到同学都上班了，我更着急。"]),
    ("孩子上初中以后不愿意和我说话了。", ["一问学校的事他就关上房门。", "我担心他在学校遇到了什么事。"]),
    ("分手三个月了，我还是每天都会想起他。", ["朋友都劝我往前看，可我做不到。", "我会反复翻看以前的聊天记录。"]),
    ("我一坐地铁就心慌，总怕自己会晕倒。", ["现在上班宁可多花一个小时坐公交。", "去医院检查过，身体没有问题。"]),
    ("我总是忍不住刷手机到半夜，第二天又很后悔。", ["一放下手机就觉得空落落的。", "我试过删软件，过两天又装回来。"]),
    ("父亲生病住院了，我每天都很焦虑。", ["我白天上班，晚上去医院陪护。", "我不敢在家人面前表现出难过。"]),
]
REPLIES = [
    "谢谢你愿意把这些说出来，这段时间你一定很辛苦。",
    "这种担心和难过都是很自然的反应，并不说明你不够好。",
    "我们可以先看看，这件事里哪些是你能掌控的，哪些暂时不能。",
    "试着给自己定一个很小的目标，比如今天只做一件让自己感觉好一点的事。",
    "也可以找一位信任的朋友或家人聊一聊，不必一个人扛着。",
    "如果这些感受持续影响你的睡眠和生活，建议到医院或专业机构寻求帮助。",
]


def dialogue(rng: random.Random, i: int, exchanges: int) -> list[tuple[str, str]]:
    """``exchanges`` user/assistant exchanges on topic ``i`` (round robin)."""
    opener, follow_ups = TOPICS[i % len(TOPICS)]
    questions = [opener, *follow_ups][:exchanges]
    turns = []
    for question in questions:
        turns += [("user", question), ("assistant", "".join(rng.sample(REPLIES, k=2)))]
    return turns


def _record(rng: random.Random, i: int, history_len: int, system: str | None) -> dict:
    turns = dialogue(rng, i, exchanges=history_len + 1)
    pairs = [[turns[n][1], turns[n + 1][1]] for n in range(0, len(turns), 2)]
    record = {"instruction": INSTRUCTIONS[i % len(INSTRUCTIONS)], "input": pairs[-1][0], "output": pairs[-1][1]}
    if not record["instruction"]:  # the question as the instruction itself, no input: both occur
        record["instruction"], record["input"] = record["input"], ""
    if system:
        record["system"] = system
    if history_len:
        record["history"] = pairs[:-1]
    return record


def build() -> tuple[list[dict], list[dict]]:
    """(JSON array records), (JSONL records)."""
    rng = random.Random(SEED)
    array = [_record(rng, i, history_len=i % 3, system=SYSTEMS[i % 2] if i % 4 == 0 else None) for i in range(12)]
    array[4]["history"][0][1] = ""  # an empty earlier answer: that exchange goes, the record stays
    array.insert(6, dict(array[1]))  # an exact copy
    array.append({"instruction": "请回应来访者。", "input": "我最近总是心慌。", "output": ""})
    array.append({"instruction": "请回应来访者。", "input": 404, "output": "能说说心慌一般在什么时候出现吗？"})
    array.append({"instruction": "请回应来访者。", "input": "我又失眠了。", "output": "失眠的时候你一般会做些什么？",
                  "history": [["你好"]]})
    jsonl = []
    for i in range(12, 22):
        record = _record(rng, i, history_len=0, system=None)
        jsonl.append({"id": f"c{i}", "instruction": "\n".join(x for x in (record["instruction"], record["input"]) if x),
                      "output": record["output"]})
    jsonl.insert(2, {"id": "c-copy", **{k: array[3][k] for k in ("instruction", "input", "output")}})
    jsonl.append({"id": "c-missing", "instruction": "我和同事相处得不好。"})
    jsonl.append({"id": "c-blank", "instruction": " ", "input": "", "output": "我在这里陪着你。"})
    jsonl.append({"id": "c-sharegpt", "conversations": [{"from": "human", "value": "你好"}, {"from": "gpt", "value": "你好"}]})
    return array, jsonl


def render() -> dict[str, str]:
    array, jsonl = build()
    return {"counseling_alpaca.json": json.dumps(array, ensure_ascii=False, indent=2) + "\n",
            "counseling_alpaca.jsonl": "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in jsonl)}


def write(directory: str | Path) -> list[Path]:
    return [write_text(Path(directory) / name, text) for name, text in render().items()]
