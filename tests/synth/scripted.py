"""A deterministic scripted 'model' for the synthesis tests.

The answer depends only on the request body (never on call order or timing), like a
model at temperature 0, so a run with injected faults and a clean run must produce the
same output, and a resumed run must equal an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tests.support.openai_server import last_user_text

TOPICS = [
    "梅雨", "富士山", "茶道", "俳句", "新幹線", "確定申告", "睡眠", "味噌汁", "温泉", "敬語",
    "漢字", "将棋", "盆栽", "台風", "リサイクル", "七夕", "年賀状", "素数", "光合成", "火山",
    "花粉症", "落語", "相撲", "紅葉", "読書", "家計簿", "筋トレ", "防災", "地図記号", "方言",
]
TASKS = [
    "{t}について、小学生にもわかるように説明してください。",
    "{t}に関するよくある誤解を三つ挙げてください。",
    "{t}をテーマにした短い詩を書いてください。",
    "{u}と比べたときの{t}の長所は何でしょうか。",
    "{t}を初めて知る人に、最初に伝えるべきことは何ですか。",
    "クイズを一問作ってください。題材は{t}で、答えも添えること。",
    "もし明日から{t}が世界から消えたら、暮らしはどう変わると思いますか。",
    "{t}と{u}を組み合わせた新しい遊びを考えて。",
    "祖父母に{t}の話をするなら、どんな順番で話せば伝わりやすいですか。",
    "{t}に関係する四字熟語かことわざを一つ紹介し、意味を解説せよ。",
    "{u}の専門家が{t}を見たら、何に驚くでしょうか。想像して答えてください。",
    "{t}を説明する百字程度の文章を、中学生向けの新聞記事ふうに書いてください。",
]


def h(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)


def self_instruct_answer(prompt: str, numbered: bool = False) -> str:
    """Four good tasks and three every filter should catch, as the JSON array the prompt
    asks for or (`numbered`) as the numbered list models often write instead."""
    k = h(prompt)
    items = []
    for i in range(4):
        t = TOPICS[(k + 7 * i) % len(TOPICS)]
        u = TOPICS[(k // 7 + 3 * i + 1) % len(TOPICS)]
        task = TASKS[(k // 3 + 5 * i) % len(TASKS)].format(t=t, u=u)
        items.append({"instruction": task, "input": "", "output": f"{t}についての回答です。"})
    # candidates every filter should catch
    items.append({"instruction": "この画像に写っているものを説明してください。", "input": "", "output": "x"})
    items.append({"instruction": "Write a poem about the sea.", "input": "", "output": "x"})
    items.append(dict(items[0]))  # an exact copy of a candidate of the same answer
    if numbered:
        lines = [f"{i}. {it['instruction']}" for i, it in enumerate(items, 1)]
        return "新しい指示を考えました。\n" + "\n".join(lines)
    return "以下が新しい指示です。\n```json\n" + json.dumps(items, ensure_ascii=False) + "\n```"


def respond(kind: str, body: dict[str, Any]) -> str:
    if kind == "completion":  # Magpie: the model completes the user turn
        k = h(body["prompt"] + str(body.get("seed")))
        t = TOPICS[k % len(TOPICS)]
        return f"{t}について教えてください。<|im_end|>\n<|im_start|>assistant\n{t}は…"
    text = last_user_text(body)
    if "# 作成のルール" in text:
        return self_instruct_answer(text)
    if "#与えられたプロンプト#" in text:
        original = text.split("#与えられたプロンプト#\n", 1)[1].split("\n\n#", 1)[0].strip()
        if h(original) % 5 == 0:
            return "#書き換えたプロンプト#: " + original  # a leaked template word
        return original.rstrip("。") + "。ただし、具体例を二つ挙げて三百字以内で答えてください。"
    if "<<<データここから>>>" in text:
        k = h(text)
        return json.dumps({"input_quality": 3 + k % 3, "difficulty": "medium", "category": "説明",
                           "safety": "unsafe" if k % 7 == 0 else "safe",
                           "quality": 2 + k % 4}, ensure_ascii=False)
    if "<<<回答ここから>>>" in text:
        answer = text.split("<<<回答ここから>>>\n", 1)[1].split("\n<<<回答ここまで>>>", 1)[0]
        return json.dumps({"score": 1 + h(answer) % 10, "reason": "理由"}, ensure_ascii=False)
    if "# これまでの会話" in text:
        turns = text.count("【利用者】")
        if turns >= 2:
            return "[終了]"
        return "もう少し詳しく、具体例を挙げて説明してもらえますか。"
    seed = body.get("seed")
    return f"「{text[:30]}」へのお答えです。要点を順に説明します（{h(text + str(seed)) % 1000}）。"
