"""Self-written PsyQA-format questions and answers for the demo and the tests (no third-party text).

The layout follows the public example file: one JSON array, CRLF line ends, ``keywords`` as one
comma-separated string, ``labels_sequence`` null on unlabeled answers and character spans of the seven
strategies on the one labeled answer per question. Planted quirks: a repeated questionID, a record
without answers, and an empty answer inside an otherwise good question.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from qwen_recipes.io import write_text

SEED = 7
TOPICS = [
    ("恋爱", "恋爱经营", "和男朋友总是因为小事吵架，是不是我们不合适？",
     "在一起两年了，最近几乎每周都吵架，吵完又和好，我很累。"),
    ("学业", "考试焦虑", "一到考试就紧张得睡不着，怎么办？", "平时成绩还可以，但每次大考前都失眠，考试时脑子一片空白。"),
    ("家庭", "亲子关系", "父母总是拿我和别人比较，我该怎么沟通？", "从小到大他们都说别人家的孩子更好，我现在工作了还是这样。"),
    ("职场", "工作压力", "工作压力很大，每天都不想上班，是抑郁了吗？",
     "加班很多，领导要求高，周末也在担心工作，对什么都提不起兴趣。"),
    ("人际", "社交恐惧", "害怕和陌生人说话，怎样才能自然一点？", "在公司开会不敢发言，聚会时也总是一个人坐在角落。"),
    ("情绪", "情绪管理", "控制不住自己的脾气，事后又很后悔，怎么改？", "经常对家人发火，冷静下来觉得自己很过分。"),
    ("成长", "自我认同", "总觉得自己什么都做不好，怎样建立自信？", "别人夸我的时候我会觉得他们只是客气。"),
    ("睡眠", "失眠", "晚上总是想很多事情，越想越睡不着。", "躺下以后脑子里不停回放白天的事情，已经持续一个多月。"),
    ("婚姻", "婚姻危机", "结婚三年感觉没有话题了，婚姻还能维持吗？", "下班回家各玩各的手机，一天说不了几句话。"),
    ("学业", "专业选择", "不喜欢现在的专业，要不要转专业？", "大二了，对专业课完全没有兴趣，但是转专业要重新开始。"),
    ("家庭", "原生家庭", "小时候父母经常吵架，现在我很怕亲密关系。", "每次有人对我好，我就想逃开。"),
    ("情绪", "焦虑", "总担心会发生不好的事情，怎么停止胡思乱想？", "家人晚回家一会儿我就会想是不是出事了。"),
]
# One sentence per strategy, combined into answers; the labeled answer keeps each sentence's strategy span.
SENTENCES = {
    "Restatement": ["我听到你说{q}这让你很困扰。", "你提到{d}"],
    "Approval and Reassurance": ["你愿意说出来，已经是很勇敢的一步了。", "有这样的感受很正常，你并不孤单。"],
    "Interpretation": ["这种情况往往和长期积累的压力有关，身体和情绪都在提醒你需要照顾自己。",
                       "很多时候我们反复担心，是因为心里有一部分需要被看见。"],
    "Direct Guidance": ["可以试着每天留出十分钟，把想法写下来，再挑一件最小的事去做。",
                        "建议你先和信任的人聊一聊，必要时寻求专业咨询师的帮助。"],
    "Information": ["研究发现，规律作息和适量运动对缓解焦虑有明显帮助。",
                    "心理咨询中常用的认知行为方法，可以帮助我们识别自动化的消极想法。"],
    "Self-disclosure": ["我自己也曾经有过类似的阶段，那时候我也很迷茫。"],
    "Others": ["祝你一切顺利。", "希望我的回答对你有一点帮助。"],
}
PLAN = ["Restatement", "Approval and Reassurance", "Interpretation", "Direct Guidance", "Information",
        "Self-disclosure", "Others"]


def _answer(rng: random.Random, question: str, description: str, labeled: bool) -> dict:
    chosen = [PLAN[0], *sorted(rng.sample(PLAN[1:-1], k=rng.randint(2, 4)), key=PLAN.index), PLAN[-1]]
    text, spans = "", []
    for strategy in chosen:
        sentence = rng.choice(SENTENCES[strategy]).format(q=question, d=description)
        spans.append({"start": len(text), "end": len(text) + len(sentence), "type": strategy})
        text += sentence
    return {"answer_text": text, "has_label": labeled, "labels_sequence": spans if labeled else None}


def build() -> list[dict]:
    rng = random.Random(SEED)
    questions = []
    for i, (tag, sub, question, description) in enumerate(TOPICS):
        answers = [_answer(rng, question, description, labeled=(j == 0)) for j in range(rng.randint(2, 3))]
        rng.shuffle(answers)
        questions.append({"question": question, "description": description, "keywords": f"{tag},{sub}",
                          "answers": answers, "questionID": 1000 + i})
    questions[3]["answers"].append({"answer_text": "", "has_label": False, "labels_sequence": None})
    questions.append(dict(questions[5]))  # the same questionID twice
    questions.append({"question": "没有回答的问题？", "description": "", "keywords": "其他", "questionID": 2000})
    return questions


def render() -> dict[str, str]:
    text = json.dumps(build(), ensure_ascii=False, indent=4)
    return {"PsyQA_sample.json": text.replace("\n", "\r\n") + "\r\n"}


def write(directory: str | Path) -> list[Path]:
    return [write_text(Path(directory) / name, text) for name, text in render().items()]
