"""Self-written Chinese counseling conversations in the two ShareGPT shapes users bring (no third-party text).

``counseling_sharegpt.jsonl``: JSON Lines, turns under ``conversations`` with ``from``/``value`` (human, gpt, a
``system`` first turn on some; one record writes its roles as Human/GPT). ``counseling_messages.json``: one
pretty-printed JSON array, OpenAI-style ``messages`` with ``role``/``content`` (user, assistant), the system prompt
as a ``system`` field on some records and as a first message on others.

Planted quirks, one record each unless said: an unknown role (``doctor``), a conversation that starts with the
assistant, two user turns in a row, a content that is a number, a line that is not JSON, a record without turns, an
empty assistant turn in the middle (its exchange is dropped, the rest kept), a conversation whose only exchange is
empty (rejected), a final user turn with no answer (dropped, the rest kept), an exact copy inside the JSONL file and
a copy of a JSONL conversation in the other file and the other tag style (both duplicates).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from qwen_recipes.io import write_text

SEED = 23
SYSTEMS = [
    "你是一名温和、专业的心理咨询师。先共情，再帮助来访者理清想法，不做诊断，必要时建议寻求线下专业帮助。",
    "你是心理支持热线的志愿者，用简短、温暖的话回应来访者，并鼓励对方说出自己的感受。",
]
# (topic opener by the client, the client's follow-ups, the counselor's replies): the project's own phrases.
TOPICS = [
    ("最近工作压力特别大，每天下班都觉得很累，晚上也睡不好。",
     ["领导经常临时加任务，我不敢拒绝。", "周末也会一直想着工作的事。", "我担心这样下去身体会垮掉。"]),
    ("我和男朋友总是因为小事吵架，吵完又后悔。",
     ["他回消息慢我就会很生气。", "其实我也知道这样不好，可就是控制不住。", "我怕他有一天会受不了离开我。"]),
    ("一到考试前我就紧张得吃不下饭。",
     ["平时做题都会，一进考场脑子就一片空白。", "爸妈对我的期望很高。", "我觉得如果考不好就对不起他们。"]),
    ("我刚搬到一个新城市，一个朋友都没有，很孤单。",
     ["下班回到出租屋，一整晚都不说一句话。", "想认识新朋友，又怕被拒绝。", "有时候会怀疑来这里是不是错了。"]),
    ("妈妈总是拿我和表姐比较，我很委屈。",
     ["从小到大都是这样，我做什么都不够好。", "我现在说话都很小心，怕她又不满意。", "我不知道怎么和她沟通。"]),
    ("这一个月我每天凌晨三四点才能睡着。",
     ["躺在床上脑子里一直回放白天的事。", "白天上班总是走神。", "我试过喝牛奶，但没什么用。"]),
    ("我总觉得自己什么都做不好，很没用。",
     ["别人夸我，我会觉得他们只是客气。", "犯一点小错我就会反复责怪自己。", "我也想变得自信一点。"]),
    ("我在公司开会从来不敢发言。",
     ["明明有想法，可一想到大家都看着我就心跳很快。", "会后又后悔自己没说。", "同事都觉得我很内向。"]),
]
REPLIES = [
    "听起来你这段时间承受了很多，愿意说出来已经很不容易了。",
    "我能感受到你的疲惫和委屈，这种感受是可以被理解的。",
    "你提到的这些让我想多了解一点：这种情况通常在什么时候最明显？",
    "我们可以先试着把让你最困扰的一件事写下来，再看看哪一步是你现在就能做的。",
    "你对自己的要求很高，这份认真很可贵，同时也可以允许自己有做不到的时候。",
    "可以试着每天留出十分钟，安静地做几次深呼吸，留意身体的感觉。",
    "如果这种状态持续很久，影响了生活，也可以考虑去医院或找线下的心理咨询师。",
    "你愿意和我一起想一想，有没有一个你信任的人可以聊聊这些？",
]


def dialogue(rng: random.Random, i: int, exchanges: int) -> list[tuple[str, str]]:
    """A counseling conversation of ``exchanges`` user/assistant exchanges on topic ``i`` (round robin)."""
    opener, follow_ups = TOPICS[i % len(TOPICS)]
    questions = [opener, *rng.sample(follow_ups, k=min(len(follow_ups), exchanges - 1))]
    turns = []
    for question in questions[:exchanges]:
        turns += [("user", question), ("assistant", "".join(rng.sample(REPLIES, k=2)))]
    return turns


def _sharegpt(system: str | None, turns: list[tuple[str, str]], *, system_turn: bool = True) -> dict:
    rows = [{"from": {"user": "human", "assistant": "gpt"}.get(role, role), "value": text} for role, text in turns]
    if system and system_turn:
        rows.insert(0, {"from": "system", "value": system})
    return {"conversations": rows}


def _messages(system: str | None, turns: list[tuple[str, str]], *, system_field: bool = True) -> dict:
    rows = [{"role": role, "content": text} for role, text in turns]
    if system and not system_field:
        return {"messages": [{"role": "system", "content": system}, *rows]}
    return {"messages": rows, **({"system": system} if system else {})}


def build() -> tuple[list[object], list[dict]]:
    """(JSONL records: a str is a raw line, as written), (JSON array records)."""
    rng = random.Random(SEED)
    jsonl: list[object] = []
    for i in range(12):
        system = SYSTEMS[i % len(SYSTEMS)] if i % 3 == 0 else None
        jsonl.append(_sharegpt(system, dialogue(rng, i, exchanges=2 + i % 3)))
    copy_across = jsonl[4]["conversations"]
    jsonl[5]["conversations"][0]["from"], jsonl[5]["conversations"][1]["from"] = "Human", "GPT"  # roles read case-blind
    jsonl[1]["conversations"][3]["value"] = ""  # an empty middle answer: that exchange goes, the rest stays
    jsonl[7]["conversations"].append({"from": "human", "value": "那我下次再来找你聊。"})  # no answer: dropped
    jsonl.insert(9, dict(jsonl[2]))  # an exact copy
    jsonl.append(_sharegpt(None, [("user", "我最近总是很烦躁。"), ("doctor", "能具体说说是什么让你烦躁吗？")]))
    jsonl.append({"conversations": [{"from": "gpt", "value": "你好，我是你的咨询师。"},
                                    {"from": "human", "value": "你好，我想聊聊失眠的事。"}]})
    jsonl.append("{\"conversations\": [{\"from\": \"human\", \"value\": \"写到一半的记录")  # cut off: not JSON
    array: list[dict] = []
    for i in range(12, 22):
        system = SYSTEMS[i % len(SYSTEMS)] if i % 2 == 0 else None
        array.append(_messages(system, dialogue(rng, i, exchanges=1 + i % 3), system_field=i % 4 == 0))
    array.insert(3, {"messages": [{"role": "user" if t["from"] == "human" else "assistant", "content": t["value"]}
                                  for t in copy_across]})  # the same conversation as JSONL line 5, other tags
    array.append({"messages": [{"role": "user", "content": "我和室友闹矛盾了。"},
                               {"role": "user", "content": "她总是很晚回来吵醒我。"},
                               {"role": "assistant", "content": "被反复吵醒确实很难受，你有和她聊过作息吗？"}]})
    array.append({"messages": [{"role": "user", "content": "我这周睡了几个小时？"},
                               {"role": "assistant", "content": 42}]})
    array.append({"messages": [{"role": "user", "content": "   "}, {"role": "assistant", "content": "我在听。"}]})
    array.append({"id": "draft-1", "title": "还没写完的对话"})
    return jsonl, array


def render() -> dict[str, str]:
    jsonl, array = build()
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in jsonl]
    return {"counseling_sharegpt.jsonl": "\n".join(lines) + "\n",
            "counseling_messages.json": json.dumps(array, ensure_ascii=False, indent=2) + "\n"}


def write(directory: str | Path) -> list[Path]:
    return [write_text(Path(directory) / name, text) for name, text in render().items()]
