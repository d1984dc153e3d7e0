"""Self-written ChnSentiCorp-format reviews for the demo and the tests (no third-party text).

Reviews are composed from hand-written phrases about hotels, laptops and books, with a fixed seed, and
written in the ymcui layout (``label<TAB>text_a``; train/dev/test). The quirks of the real data are
planted on purpose so the demo exercises the cleaning: duplicates in train (some with conflicting
labels), dev/test texts copied from train (leakage), a traditional-Chinese review, an empty review
and an unknown label.
"""

from __future__ import annotations

import random
from pathlib import Path

from qwen_recipes.io import write_text

SEED = 20261122
SIZES = {"train": 400, "dev": 60, "test": 60}

DOMAINS: dict[str, dict[str, list[str]]] = {
    "hotel": {
        "subject": ["这家酒店", "这次入住的宾馆", "酒店", "这个度假村", "商务酒店"],
        "pos": [
            "房间干净整洁", "服务员态度很热情", "早餐品种丰富", "位置方便，离地铁站很近", "床很舒服，睡得很好",
            "性价比很高", "前台办理入住很快", "隔音效果不错", "窗外风景很美", "卫生间设施很新",
        ],
        "neg": [
            "房间有一股霉味", "服务员态度冷淡", "早餐种类太少", "位置偏僻，打车都难", "床单上有污渍",
            "价格偏贵，不值这个价", "前台办理入住等了半个小时", "隔音太差，一晚上没睡好", "空调坏了也没人修",
            "热水时有时无",
        ],
    },
    "laptop": {
        "subject": ["这台笔记本", "电脑", "这款本子", "买的这台机器", "笔记本电脑"],
        "pos": [
            "运行速度很快", "屏幕显示清晰", "电池续航能力强", "做工精致，手感不错", "散热很好，玩游戏也不烫",
            "键盘手感舒服", "物流很快，第二天就到了", "系统预装干净", "重量很轻，方便携带", "接口齐全",
        ],
        "neg": [
            "开机就卡顿", "屏幕有坏点", "电池用两个小时就没电了", "外壳做工粗糙，有毛刺", "风扇噪音很大",
            "键盘有几个键不灵", "客服推来推去不解决问题", "预装了一堆垃圾软件", "机身发烫得厉害", "触摸板经常失灵",
        ],
    },
    "book": {
        "subject": ["这本书", "这套书", "书", "这本小说", "这本教材"],
        "pos": [
            "内容很有深度", "印刷清晰，纸张质量好", "故事情节引人入胜", "翻译流畅", "孩子很喜欢看",
            "值得反复阅读", "包装完好，没有破损", "作者文笔细腻", "讲解通俗易懂", "插图很精美",
        ],
        "neg": [
            "内容空洞，东拼西凑", "印刷模糊，有错别字", "情节拖沓，看不下去", "翻译生硬，读起来很别扭",
            "纸张很薄，还有一股味道", "买来就后悔了", "书角都压坏了", "和宣传的完全不一样", "错误太多，误人子弟",
            "装订松散，没看几页就掉了",
        ],
    },
}
OPENERS = ["", "", "入住/使用了一段时间，", "第二次购买了，", "给家里人买的，", "总体来说，", "说实话，"]
CLOSERS = {
    1: ["推荐！", "五星好评！", "总的来说很满意。", "物有所值。", "会推荐给朋友。", ""],
    0: ["不推荐。", "非常失望。", "总之很不满意。", "大家慎重。", "不会再有下次了。", ""],
}
# Mixed reviews: a minor point of the other polarity, then the verdict.
TURNS = {1: "虽然{minor}，但是{major}，", 0: "虽然{minor}，可是{major}，"}
TRADITIONAL = (1, "房間乾淨，服務很周到，早餐也不錯，下次還會再來。")


def _review(rng: random.Random, label: int) -> str:
    domain = DOMAINS[rng.choice(sorted(DOMAINS))]
    good, bad = ("pos", "neg") if label == 1 else ("neg", "pos")
    opener = rng.choice(OPENERS).replace("入住/使用", "入住" if domain is DOMAINS["hotel"] else "使用")
    subject = rng.choice(domain["subject"])
    if rng.random() < 0.2:
        body = TURNS[label].format(minor=rng.choice(domain[bad]), major=rng.choice(domain[good]))
    else:
        body = "，".join(rng.sample(domain[good], k=rng.randint(1, 3))) + "，"
    closer = rng.choice(CLOSERS[label])
    return f"{opener}{subject}{body}{closer}" if closer else f"{opener}{subject}{body[:-1]}。"


def build() -> dict[str, list[tuple[str, str]]]:
    """Rows (label, text) per split; labels are strings as in the files, quirks included."""
    rng = random.Random(SEED)
    seen: set[str] = set()
    splits: dict[str, list[tuple[str, str]]] = {}
    for split, size in SIZES.items():
        rows = []
        while len(rows) < size:
            label = rng.randint(0, 1)
            text = _review(rng, label)
            if text not in seen:
                seen.add(text)
                rows.append((str(label), text))
        splits[split] = rows
    train = splits["train"]
    # Exact duplicates, and copies carrying the opposite label (conflicts).
    train += [train[i] for i in (3, 17, 42, 99, 150)]
    train += [(str(1 - int(train[i][0])), train[i][1]) for i in (7, 64)]
    train.append((str(TRADITIONAL[0]), TRADITIONAL[1]))
    train.insert(120, ("1", ""))  # an empty review
    train.insert(200, ("2", "物流挺快的，包装也还行。"))  # a label outside 0/1
    # Evaluation texts that also occur in train (leakage).
    splits["dev"] += [train[i] for i in (11, 23, 250)]
    splits["test"] += [train[i] for i in (31, 77)]
    for split in ("dev", "test"):
        random.Random(f"{SEED}-{split}").shuffle(splits[split])
    return splits


def render() -> dict[str, str]:
    """File name -> content."""
    return {f"{split}.tsv": "label\ttext_a\n" + "".join(f"{lab}\t{txt}\n" for lab, txt in rows)
            for split, rows in build().items()}


def write(directory: str | Path) -> list[Path]:
    return [write_text(Path(directory) / name, text) for name, text in render().items()]
