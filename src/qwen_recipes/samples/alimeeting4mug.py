"""Self-written AliMeeting4MUG-format meetings for the demo and the tests (no third-party text).

Raw layout as ModelScope serves it: tab-separated ``idx``/``content`` with the meeting as a JSON string.
Each meeting has three or four speakers, paragraphs of a few sentences, three topics with three candidate
titles and key sentences each, three session-level annotators with key sentences and keywords, and
action items. Ids are written as strings in some meetings and ints in others, and one meeting uses
``org_segment_id`` for its paragraphs, as real rows do. One train meeting is broken on purpose (a topic
id beyond its last sentence) so that the reader's rejection shows in the report.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from qwen_recipes.io import write_text

SEED = 3
TOPICS = {
    "招聘": ("新生招聘工作安排", ["这次招聘主要面向大一新生", "我们要在图书馆门口摆摊发传单", "面试安排在下周三下午",
                              "报名表要提前打印好", "面试官需要三个人"], ["招聘", "传单", "面试"]),
    "宣传": ("线上线下宣传方式", ["线上可以在抖音和公众号发视频", "线下在食堂门口贴海报", "宣传视频要突出我们的特色",
                              "可以请往届学长录一段介绍", "海报设计交给美工组"], ["宣传", "海报", "抖音"]),
    "经费": ("活动经费预算", ["这次活动预算大概两千元", "礼品大概要花五百", "场地费学校可以报销",
                          "每笔支出都要留发票", "财务下周五前汇总"], ["经费", "预算", "发票"]),
    "产品": ("新品推广方案", ["这款洗发水主打去屑", "目标人群是二十到三十岁的上班族", "可以做买一送一的活动",
                          "请几个博主试用写体验", "旗舰店首页要换新的图"], ["洗发水", "推广", "旗舰店"]),
    "培训": ("新人培训计划", ["新人第一周先熟悉业务流程", "每天下午安排一小时答疑", "培训结束要有一个小考核",
                          "资料由老员工整理", "考核不通过的要再培训一周"], ["培训", "考核", "新人"]),
    "安全": ("宿舍用电安全", ["最近宿舍里用违规电器的比较多", "要组织一次全楼检查", "发现违规电器先登记",
                          "检查结果要通报到班级", "下个月再复查一次"], ["用电安全", "检查", "违规电器"]),
}
FILLERS = ["嗯", "对对对", "这个我同意", "那我们就这么定", "还有别的想法吗", "我补充一点", "好的没问题", "行"]
ACTIONS = ["{who}负责在周五之前把{thing}整理好发到群里", "这件事就交给{who}去跟进{thing}", "{who}明天去联系一下{thing}的事情"]
SPEAKERS = ["主持人", "小王", "小李", "小张"]


def _meeting(rng: random.Random, key: str, topic_names: list[str], string_ids: bool, org_ids: bool) -> dict:
    sentences, paragraph_ends, topics, actions = [], [], [], []
    session_keys: list[list[str]] = [[], [], []]
    keywords: list[list[str]] = [[], [], []]
    for name in topic_names:
        title, lines, words = TOPICS[name]
        start = len(sentences) + 1
        body = rng.sample(lines, k=rng.randint(3, 5)) + rng.sample(FILLERS, k=rng.randint(1, 6))
        rng.shuffle(body)
        thing = words[rng.randrange(len(words))]
        body.insert(rng.randrange(1, len(body)), rng.choice(ACTIONS).format(who=rng.choice(SPEAKERS[1:]), thing=thing))
        para_left = rng.randint(2, 4)  # paragraphs of 2-4 sentences, so topic ends are not every n-th paragraph
        for text in body:
            sid = len(sentences) + 1
            if "负责" in text or "交给" in text or "去联系" in text:
                actions.append(sid)
            sentences.append({"id": sid, "speaker": rng.choice(SPEAKERS), "start_time": round(sid * 3.2, 2),
                              "end_time": round(sid * 3.2 + 2.9, 2), "s": text + "。"})
            para_left -= 1
            if para_left == 0:
                paragraph_ends.append(sid)
                para_left = rng.randint(2, 4)
        end = len(sentences)
        if not paragraph_ends or paragraph_ends[-1] != end:
            paragraph_ends.append(end)  # a topic always ends a paragraph
        content_ids = [str(i) for i in range(start, end + 1) if sentences[i - 1]["s"][:-1] in lines]
        variants = [title, title.replace("安排", "").replace("方案", "") + "讨论", f"关于{words[0]}的讨论"]
        candidates = [{"title": v, "key_sentence": sorted(rng.sample(content_ids, k=2), key=int)} for v in variants]
        topics.append({"id": end, "candidate": candidates})
        # Annotators pick keywords that were said (the action sentence always names one of them).
        spoken = [w for w in words if any(w in x for x in body)]
        for a in range(3):
            session_keys[a].append(rng.choice(content_ids))
            keywords[a] += rng.sample(spoken, k=min(2, len(spoken)))
    ident = (lambda i: str(i)) if string_ids else (lambda i: i)
    for s in sentences:
        s["id"] = ident(s["id"])
    content = {
        "meeting_key": key,
        "sentences": sentences,
        ("org_segment_id" if org_ids else "paragraph_segment_ids"): [{"id": ident(i)} for i in paragraph_ends],
        "topic_segment_ids": [{"id": ident(t["id"]), "candidate": t["candidate"]} for t in topics],
        "candidate": [{"key_sentence": sorted(k, key=int), "key_word": w} for k, w in zip(session_keys, keywords, strict=True)],
        "action_ids": [{"id": ident(i)} for i in actions],
    }
    return content


def build() -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    names = sorted(TOPICS)
    plan = {"train": [("S0001", 3), ("S0002", 3), ("S0003", 3)], "dev": [("S0101", 3)], "test": [("S0201", 3)]}
    out: dict[str, list[dict]] = {}
    for n, (split, meetings) in enumerate(plan.items()):
        out[split] = [_meeting(rng, key, rng.sample(names, k), string_ids=(i + n) % 2 == 0, org_ids=key == "S0002")
                      for i, (key, k) in enumerate(meetings)]
    broken = _meeting(rng, "S0009", rng.sample(names, 2), string_ids=True, org_ids=False)
    broken["topic_segment_ids"][-1]["id"] = str(len(broken["sentences"]) + 5)
    out["train"].append(broken)
    return out


def render() -> dict[str, str]:
    files = {}
    for split, meetings in build().items():
        rows = [f"{i}\t{json.dumps(m, ensure_ascii=False)}" for i, m in enumerate(meetings)]
        files[f"{split}.csv"] = "idx\tcontent\n" + "\n".join(rows) + "\n"
    return files


def write(directory: str | Path) -> list[Path]:
    return [write_text(Path(directory) / name, text) for name, text in render().items()]
