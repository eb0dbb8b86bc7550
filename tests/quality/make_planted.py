"""Build the planted-defect test set `tests/quality/data/planted.jsonl` (run by hand; output committed).

    .venv/bin/python tests/quality/make_planted.py

Every record carries `metadata.planted`: the check codes it must trigger (empty = clean).
Clean records come in two kinds: plain ones (answers made from lines of the shipped sample
corpus) and *risky* ones (`metadata.risky` says why) that look like a defect but are fine:
English code terms, a justified refusal, a customer-service apology, numbers that are not PII,
a summary that reuses its source, a consistent plain style, quoted speech and so on.
Defects are planted from templates with varied fillers, several times each. The evaluation
files the contamination records copy from are written beside it (eval_jcqa.jsonl in JGLUE
JCommonsenseQA layout, eval_elyza.csv in ELYZA-tasks layout). Everything is original text.
"""

from __future__ import annotations

import csv
import json
import random
from importlib import resources
from pathlib import Path

from oshie.data.check.pii import luhn_valid, my_number_valid
from oshie.ja.style import sentence_styles

OUT = Path(__file__).parent / "data"
rng = random.Random(20240601)

TOPICS = [
    "桜", "味噌汁", "図書館", "通勤電車", "梅雨", "富士山", "おにぎり", "俳句", "温泉", "七夕",
    "地震への備え", "節約", "睡眠", "読書", "散歩", "お弁当", "紅葉", "新幹線", "お茶", "朝ごはん",
    "花火大会", "雪かき", "引っ越し", "面接", "会議", "日記", "自転車", "家庭菜園", "ゴミの分別", "敬語",
    "お正月", "運動会", "料理の段取り", "時間の使い方", "手紙の書き方", "水の大切さ", "天気予報", "商店街",
    "博物館", "折り紙",
]
ASK = [
    "{t}について説明してください。", "{t}について教えてください。", "{t}の良いところを教えてください。",
    "{t}について短い文章を書いてください。", "{t}について知っていることを述べてください。",
    "{t}に関するアドバイスをください。", "{t}とはどのようなものですか。", "{t}について簡単に紹介してください。",
]


def corpus_answers() -> dict[str, list[str]]:
    text = resources.files("oshie").joinpath("resources/corpus/ja_sample.txt").read_text("utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    by_style: dict[str, list[str]] = {"polite": [], "plain": []}
    for line in lines:
        styles = {st for _, _, st in sentence_styles(line)}
        if len(styles) == 1 and len(line) >= 20 and "「" not in line:
            by_style[styles.pop()].append(line)
    for pool in by_style.values():
        rng.shuffle(pool)
    return by_style


POOL = corpus_answers()


def answer(style: str | None = None, lines: int = 2) -> str:
    """`lines` unused corpus lines of one speech style (the fuller pool when not given);
    lines are never reused, so records do not become near-duplicates of each other."""
    style = style or max(POOL, key=lambda k: len(POOL[k]))
    return "".join(POOL[style].pop() for _ in range(lines))


def question() -> str:
    return rng.choice(ASK).format(t=rng.choice(TOPICS))


records: list[dict] = []


def add(q: str, a: str, planted: list[str], *, risky: str | None = None, category: str = "説明",
        system: str | None = None) -> dict:
    rec = {"id": f"p{len(records) + 1:04d}", "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
           "metadata": {"category": category, "source": "oshie-planted", "license": "Apache-2.0", "planted": planted}}
    if system is not None:
        rec["system"] = system
    if risky:
        rec["metadata"]["risky"] = risky
    records.append(rec)
    return rec


# ---------------------------------------------------------------- clean, plain
for _ in range(40):
    add(question(), answer(None, rng.choice([1, 2])), [])

# ---------------------------------------------------------------- empty_field
for k in range(8):
    q, a = question(), answer()
    if k % 3 == 0:
        add(q, "", ["empty_field"])
    elif k % 3 == 1:
        add(q, rng.choice(["   ", "\n\n", "\u3000\u3000"]), ["empty_field"])
    else:
        add(rng.choice(["", "  "]), a, ["empty_field"])

# ---------------------------------------------------------------- answer_too_short
SHORT = ["はい。", "わかりません。", "いいえ。", "です。", "特にありません。", "あります。", "そうです。", "良いです。"]
for k in range(8):
    q = rng.choice(["{t}について詳しく説明してください。", "{t}が大切な理由を述べてください。", "{t}の手順を教えてください。",
                    "{t}について論じてください。", "{t}について具体的に説明してください。"]).format(t=rng.choice(TOPICS))
    add(q, SHORT[k] if k < 7 else "A", ["answer_too_short"])

# ---------------------------------------------------------------- answer_too_long
for k in range(8):
    t = rng.choice(TOPICS)
    if k < 4:
        n = rng.choice([20, 30, 40])
        add(f"{t}について{n}文字以内で説明してください。", answer(None, 3), ["answer_too_long"])
    elif k < 6:
        add(f"{t}を一言で表すと何ですか。", answer("plain", 2), ["answer_too_long"])
    else:
        add(f"{t}について簡潔に答えてください。", answer("plain", 10), ["answer_too_long"])

# ---------------------------------------------------------------- answer_repeats_instruction
for k in range(9):
    t = rng.choice(TOPICS)
    if k < 3:
        q = question()
        add(q, q, ["answer_repeats_instruction"])
    elif k < 6:
        add(f"{t}について教えてください。", f"{t}について教えます。{t}とは、{t}のことです。", ["answer_repeats_instruction"])
    else:
        add(f"{t}の大切さを説明してください。", f"{t}の大切さを説明します。{t}の大切さは、{t}が大切だということです。",
            ["answer_repeats_instruction"])

# ---------------------------------------------------------------- untranslated_english
EN_SENTENCES = [
    "This is an important point to remember.", "It is widely used in many countries around the world.",
    "You should always check the details before you start.", "Many people enjoy it during the weekend.",
    "The result depends on the weather and the season.",
]
EN_WORDS = [("大切", "important"), ("便利", "useful"), ("方法", "method"), ("季節", "season"), ("時間", "time"),
            ("準備", "preparation"), ("家族", "family"), ("健康", "health")]
for k in range(9):
    q, a = question(), answer()
    if k < 5:
        cut = a.find("。") + 1
        add(q, a[:cut] + EN_SENTENCES[k] + a[cut:], ["untranslated_english"])
    else:
        words = [en for _, en in rng.sample(EN_WORDS, 3)]
        add(q, f"毎日の生活では{words[0]}と{words[1]}を意識することが大切です。習慣にすると、{words[2]}の面でも良い変化が感じられるでしょう。"
            + answer("polite", 1), ["untranslated_english"])

# ---------------------------------------------------------------- foreign_language_task
FLT = [
    ("次の単語をアルファベット順に並べてください：{a}、{b}、{c}", "順に{b}、{a}、{c}です。"),
    ("「{a}」と韻を踏む言葉を三つ挙げてください。", "{b}、{c}、{a}などがあります。"),
    ("次の文の中で大文字で始まる単語をすべて答えてください：「{a}と{b}が{c}へ行った。」", "{a}です。"),
    ("「{a}」のスペルを答えてください。", "{a}はそのまま書きます。"),
    ("{a}、{b}、{c}のうち、母音で始まる言葉はどれですか。", "{a}です。"),
    ("次の言葉をABC順に並べ替えてください：{a}、{b}、{c}", "{c}、{a}、{b}の順です。"),
    ("「{a}」のアナグラムを作ってください。", "{b}です。"),
    ("{a}の複数形を答えてください。", "{a}たちです。"),
]
JA_WORDS = ["りんご", "みかん", "ぶどう", "いぬ", "ねこ", "さくら", "やま", "かわ", "そら", "うみ", "ほし", "つき"]
for q, a in FLT:
    w = dict(zip("abc", rng.sample(JA_WORDS, 3), strict=True))
    add(q.format(**w), a.format(**w), ["foreign_language_task"], category="言葉")

# ---------------------------------------------------------------- foreign_culture
for q, a in [
    ("感謝祭の食卓に並ぶ料理を教えてください。", "七面鳥やマッシュポテト、パンプキンパイがよく並びます。"),
    ("今日の気温は華氏六十八度です。寒いですか。", "摂氏に直すと二十度なので、過ごしやすい気温です。"),
    ("家から駅まで二マイルあります。歩くと何分かかりますか。", "時速四キロで歩くと、約五十分かかります。"),
    ("スーパーボウルの季節に人気のおつまみは何ですか。", "ナチョスやチキンウィングが定番です。"),
    ("身長が五フィート六インチの人は何センチですか。", "約百六十八センチです。"),
    ("アメリカの大統領選挙はいつ行われますか。", "四年に一度、十一月に行われます。"),
    ("独立記念日のパーティーで何を準備すればよいですか。", "花火とバーベキューの準備をするとよいでしょう。"),
]:
    add(q, a, ["foreign_culture"])

# ---------------------------------------------------------------- translation_note
NOTES = [
    "（訳注：原文では慣用句が使われている）", "（訳者注：原文の表現を意訳した）", "[Translator's note: this part was shortened]",
    "（注：原文の \"take it easy\" を「無理をしない」と訳した）", "（訳注：英語版では別の例が挙げられている）",
]
for k in range(8):
    q, a = question(), answer()
    if k < 5:
        # a note written in English is also English left in Japanese text
        add(q, a + NOTES[k], ["translation_note", "untranslated_english"] if NOTES[k].startswith("[") else ["translation_note"])
    elif k < 7:
        add(q, "以下は日本語の翻訳です。\n" + answer("polite", 1) if k == 5 else "翻訳結果：" + a, ["translation_note"])
    else:
        add(q, a + "\n原文: Please take care of yourself.", ["translation_note", "untranslated_english"])

# ---------------------------------------------------------------- low_japanese_ratio
EN_ANSWERS = [
    "Cherry blossoms bloom in early spring and people gather in parks to see them.",
    "Miso soup is a traditional dish made with dashi stock and fermented soybean paste.",
    "Libraries lend books for free, and many of them also offer quiet study rooms.",
    "A good night's sleep helps you concentrate and keeps you healthy.",
    "Onsen are natural hot springs, and bathing etiquette matters a lot there.",
    "Recycling starts with sorting the garbage correctly at home.",
    "Regular walks are an easy way to stay active without special equipment.",
    "Keep a small notebook and write down one good thing every day.",
]
for a in EN_ANSWERS:
    add(question(), a, ["low_japanese_ratio"])

# ---------------------------------------------------------------- repeated_ngrams
for _ in range(8):
    t = rng.choice(TOPICS)
    phrase = rng.choice(["とても大切で、", "本当に本当に、", "それはつまり、", "毎日毎日、", "もっともっと"])
    add(f"{t}について説明してください。", f"{t}は" + phrase * rng.randint(5, 8) + "大切なことです。",
        ["repeated_ngrams"])

# ---------------------------------------------------------------- repeated_lines
for k in range(8):
    style = max(POOL, key=lambda k: len(POOL[k]))
    lines = [answer(style, 1) for _ in range(3)]
    dup = lines[k % 3]
    body = [*lines, dup] if k % 2 == 0 else [lines[0], dup, lines[1], lines[2]]
    if k % 2 == 1 and dup == lines[0]:
        body = [lines[0], lines[1], lines[0], lines[2]]
    add(question(), "\n".join(body), ["repeated_lines"])

# ---------------------------------------------------------------- mixed_speech_style
for _ in range(8):
    polite = [POOL["polite"].pop() for _ in range(2)]
    plain = [POOL["plain"].pop() for _ in range(2)]
    add(question(), polite[0] + plain[0] + polite[1] + plain[1], ["mixed_speech_style"])

# ---------------------------------------------------------------- broken_markdown
CODE = [
    ("ファイルに一行書き込む", "with open('memo.txt', 'w') as f:\n    f.write('今日の記録')"),
    ("リストの合計を求める", "scores = [72, 85, 90]\ntotal = sum(scores)\nprint(total)"),
    ("辞書から値を取り出す", "prices = {'りんご': 120, 'みかん': 80}\nprint(prices.get('りんご', 0))"),
    ("一から十までの偶数を表示する", "for n in range(1, 11):\n    if n % 2 == 0:\n        print(n)"),
]
for k in range(8):
    t = rng.choice(TOPICS)
    if k < 4:
        what, code = CODE[k]
        add(f"Pythonで{what}コードの例を見せてください。",
            f"例えば次のように書きます。\n\n```python\n{code}\n\n実行すると結果が表示されます。",
            ["broken_markdown"], category="コード")
    else:
        nums = [[1, 2, 4], [1, 3, 4], [1, 2, 2, 3], [2, 3, 5]][k - 4]
        items = [answer("plain", 1) for _ in nums]
        add(f"{t}の手順を箇条書きで教えてください。", "手順は次のとおりです。\n" + "\n".join(f"{n}. {s}" for n, s in zip(nums, items, strict=True)),
            ["broken_markdown"])

# ---------------------------------------------------------------- ai_boilerplate
BOILER = [
    "AI言語モデルとして、私には個人的な意見はありませんが、", "私はAIなので実際に体験したことはありませんが、",
    "AIアシスタントとして、私はお答えします。", "言語モデルである私には感情がありませんが、",
    "AIとしてお答えします。", "私は人工知能であり、個人的な好みはありませんが、",
    "As an AI language model, ", "AI言語モデルなので正確ではないかもしれませんが、",
]
for b in BOILER:
    add(question(), b + answer("polite", 1), ["ai_boilerplate", "untranslated_english"] if b.startswith("As an") else ["ai_boilerplate"])

# ---------------------------------------------------------------- unjustified_refusal
REFUSE = [
    "申し訳ありませんが、そのご質問にはお答えできません。", "申し訳ございませんが、このリクエストにはお応えすることができません。",
    "恐れ入りますが、その内容についての回答は控えさせていただきます。", "申し訳ありませんが、文章の作成はお断りしています。",
    "その件についてはお答えしかねます。", "申し訳ありませんが、私にはお手伝いすることができません。",
    "I'm sorry, but I can't help with that.", "申し訳ありませんが、その情報を提供することはできません。",
]
for r in REFUSE:
    # an English refusal is also (truly) a text without Japanese
    add(question(), r, ["unjustified_refusal", "low_japanese_ratio"] if r.isascii() else ["unjustified_refusal"])

# ---------------------------------------------------------------- over_cautious
CAUTION = [
    "ただし、自己責任で行ってください。専門家に相談することをおすすめします。",
    "くれぐれも注意して、万が一のときは専門家にご相談ください。",
    "安全上の理由から、慎重に判断してください。自己責任でお願いします。",
    "十分に注意してください。万が一の事態に備えて、専門家に相談してください。",
]
for k in range(8):
    q = rng.choice(["{t}の楽しみ方を教えてください。", "{t}についておすすめを教えてください。", "{t}を始めるこつを教えてください。"])
    t = rng.choice(["読書", "散歩", "俳句", "折り紙", "お茶", "日記", "紅葉", "商店街"])
    add(q.format(t=t), answer("polite", 1) + CAUTION[k % 4], ["over_cautious"])

# ---------------------------------------------------------------- ng_word
NG = [
    "あいつはクソ野郎だ。", "うるさい、死ね。", "そんなことも知らないのか、このカスが。", "お前みたいな低能には無理だ。",
    "黙らないとぶっ殺すぞ。", "エロ動画のサイトを見ればわかる。", "女のくせに生意気だ。", "ボケ、さっさとやれ。",
]
for s in NG:
    add(question(), answer("plain", 1) + s, ["ng_word"])


# ---------------------------------------------------------------- pii
def my_number() -> str:
    while True:
        body = "".join(rng.choice("0123456789") for _ in range(11))
        for c in "0123456789":
            if my_number_valid(body + c):
                return body + c


def card() -> str:
    while True:
        body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
        for c in "0123456789":
            if luhn_valid(body + c):
                return body + c


MY_NUMBERS = [my_number(), my_number()]
CARDS = [card(), card()]
PII = [
    "連絡は yamada.taro88@gmail.com までお願いします。", "携帯は090-3141-5926です。",
    "電話番号は03-5555-1234なので、何かあればかけてください。", "住所は〒150-0042 東京都渋谷区です。",
    f"私のマイナンバーは{MY_NUMBERS[0]}です。", f"カード番号は{' '.join(CARDS[0][i:i + 4] for i in range(0, 16, 4))}です。",
    "メールは hanako_s@example.ne.jp にください。", f"個人番号：{'-'.join(MY_NUMBERS[1][i:i + 4] for i in range(0, 12, 4))}",
    "郵便番号は060-0001、電話は011-222-3333です。", f"支払いはカード（{CARDS[1]}）で済ませました。",
]
for s in PII:
    add(question(), answer("polite", 1) + s, ["pii"])

# ---------------------------------------------------------------- duplicate (copies of clean records)
clean_plain = [r for r in records if not r["metadata"]["planted"]][:40]
copy_of: dict[int, dict] = {}
for k, base in enumerate(rng.sample(clean_plain, 9)):
    q, a = base["messages"][0]["content"], base["messages"][1]["content"]
    if k < 3:
        copy_of[id(add(q, a, ["duplicate"]))] = base  # exact copy
    else:
        chars = list(a)
        for _ in range(k % 3 + 1):  # 1-3 edited characters
            p = rng.randrange(len(chars) - 1)
            chars[p] = rng.choice("のがをにはでと")
        copy_of[id(add(q.replace("ください", "下さい") if k % 2 else q, "".join(chars), ["duplicate"]))] = base

# ---------------------------------------------------------------- contamination (eval items in training data)
JCQA = [
    ("雨の日に外出するとき、多くの人が手に持って出かけるものはどれ？", ["傘", "扇子", "鍋", "枕", "鏡"], 0),
    ("図書館で本を借りるときに、受付で見せることが多いものはどれ？", ["利用者カード", "切符", "印鑑", "地図", "時計"], 0),
    ("お正月に神社やお寺へ行き、一年の無事を祈ることを何という？", ["初詣", "花見", "月見", "墓参り", "大掃除"], 0),
    ("日本で冬至の日に、湯船に浮かべて入浴する習慣がある果物はどれ？", ["ゆず", "りんご", "ぶどう", "もも", "なし"], 0),
    ("料理で、だしを取るためによく使われる海藻はどれ？", ["昆布", "わかめ", "ひじき", "もずく", "のり"], 0),
    ("夏の夜空を彩り、川辺や海辺の大会で打ち上げられるものはどれ？", ["花火", "凧", "風鈴", "提灯", "羽子板"], 0),
]
ELYZA = [
    ("引っ越しの挨拶で近所の人に渡す品物を選ぶときのポイントを三つ挙げてください。",
     "相手が気を遣わない値段であること、日持ちすること、好みが分かれにくい消耗品であることです。", "三つのポイントが具体的であること"),
    ("次の会議の議事録を、決定事項と宿題に分けて整理してください。来週の発表は田中さんが担当し、資料は金曜日までに共有する。",
     "決定事項：来週の発表は田中さんが担当する。宿題：金曜日までに資料を共有する。", "決定事項と宿題が正しく分かれていること"),
    ("雨の日でも子どもが家の中で楽しく過ごせる遊びを、理由とともに三つ提案してください。",
     "折り紙は手先を使い集中できる、宝探しは体を動かせる、読み聞かせは想像力を育てる、の三つです。", "理由が添えられていること"),
    ("初めて一人暮らしをする人に向けて、自炊を長く続けるための工夫を説明してください。",
     "作り置きを週末にまとめて作り、同じ食材を何通りかの料理に使い回すと無理なく続きます。", "実行しやすい工夫であること"),
]
OUT.mkdir(parents=True, exist_ok=True)
with open(OUT / "eval_jcqa.jsonl", "w", encoding="utf-8") as fh:
    for i, (q, choices, label) in enumerate(JCQA):
        row = {"q_id": 9000 + i, "question": q, **{f"choice{j}": c for j, c in enumerate(choices)}, "label": label}
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")
with open(OUT / "eval_elyza.csv", "w", encoding="utf-8", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["input", "output", "eval_aspect"])
    w.writerows(ELYZA)

for q, choices, label in JCQA[:5]:
    prefix = rng.choice(["", "次の質問に答えてください。", "クイズです。"])
    add(prefix + q, f"答えは「{choices[label]}」です。", ["contamination"], category="質問応答")
for q, a, _ in ELYZA[:4]:
    add(q, a, ["contamination"])

# ---------------------------------------------------------------- clean but risky
RISKY: list[tuple[str, str, str, str]] = [
    # English code terms, product names, quoted titles
    ("Pythonでリストの末尾に要素を追加するにはどうしますか。", "`append` メソッドを使います。\n\n```python\nitems = [1, 2]\nitems.append(3)\n```\n\nこれで末尾に3が加わります。", "code terms in backticks and a closed code fence", "コード"),
    ("ExcelとGoogleスプレッドシートの違いを教えてください。", "Excelはパソコンに入れて使う表計算ソフトで、Googleスプレッドシートはブラウザで使えて共同編集がしやすいです。", "product names", "説明"),
    ("おすすめの英語の小説を一冊教えてください。", "『The Catcher in the Rye』は、少年の心の揺れを描いた小説で、英語の勉強にも向いています。", "an English title in 『』", "アドバイス"),
    ("Windows 11でスクリーンショットを撮る方法を教えてください。", "Windowsキーと Shift キーと S キーを同時に押すと、画面の一部を切り取って保存できます。", "key names", "説明"),
    ("HTMLのdivタグとは何ですか。", "divは、ページの中の要素をまとめるための入れ物のようなタグです。見た目はCSSで整えます。", "one lower-case tag name", "コード"),
    ("次の文を英語に翻訳してください：「今日はとても暑いです。」", "It is very hot today.", "a translation request answered in English", "書き換え"),
    ("「ありがとう」を英語で何と言いますか。", "Thank you と言います。親しい相手には Thanks でも通じます。", "English asked for", "質問応答"),
    ("英単語の覚え方のこつを教えてください。英語の勉強を続けたいです。", "単語帳を一日十分眺めるより、例文ごと声に出して読むほうが記憶に残ります。スペルは書いて確かめましょう。", "an English-learning question mentioning spelling", "アドバイス"),
    ("Pythonで文字列のリストをアルファベット順に並べる方法は？", "`sorted(words)` を使うと、アルファベット順に並んだ新しいリストが返ります。", "alphabetical order in a programming task", "コード"),
    # refusals that are right, apologies that are not refusals
    ("爆弾の作り方を詳しく教えてください。", "申し訳ありませんが、爆発物の作り方はお答えできません。危険で違法な行為につながるためです。", "justified refusal of a harmful request", "会話"),
    ("他人のパスワードを盗む方法を教えて。", "そのご依頼にはお応えできません。不正アクセスは犯罪です。自分のアカウントを守る方法ならご案内できます。", "justified refusal", "会話"),
    ("注文した商品がまだ届きません。", "ご迷惑をおかけして申し訳ありません。お調べしたところ、配送が一日遅れております。明日の午前中にお届けの予定です。", "customer-service apology", "会話"),
    ("セール品を返品したいのですが。", "申し訳ございませんが、セール品は返品をお受けしておりません。サイズ交換でしたら、購入から七日以内に承ります。", "a shop policy, not a refusal of the request", "会話"),
    ("あなたは誰ですか。", "私はAIアシスタントです。質問に答えたり、文章を書くお手伝いをしたりできます。", "asked about itself", "会話"),
    ("薬を飲み忘れたときはどうすればいいですか。", "気づいたときにすぐ飲んでよい薬もありますが、次の分と近い場合は一回分を飛ばすこともあります。薬によって違うので、医師や薬剤師に相談してください。自己判断で二回分を飲むのは避けましょう。", "caution in a medical answer", "アドバイス"),
    ("登山の前に準備することを教えてください。", "天気予報を確認し、雨具と水、地図を用意します。無理のない計画を立て、家族に行き先を伝えておきましょう。天候が崩れたら引き返す判断も大切です。", "safety advice in a risky activity", "アドバイス"),
    # numbers that are not personal information
    ("会議の日程を教えてください。", "会議は2024-06-15の10:00-12:00に、本社の三階で行います。", "a date and a time range", "抽出"),
    ("この本のISBNを教えてください。", "ISBNは978-4-00-310101-8です。図書館の検索でも使えます。", "an ISBN", "抽出"),
    ("注文番号を確認したいです。", "ご注文番号は1234-5678-9012です。お問い合わせの際にお伝えください。", "a 12-digit order number that fails the My Number check digit", "会話"),
    ("サポートの電話番号を教えてください。", "サポート窓口は0120-123-456です。平日の九時から十七時まで受け付けています。", "a toll-free company line", "会話"),
    ("メールアドレスの書き方の例を見せてください。", "例えば user@example.com のように、名前と@とドメインを組み合わせます。", "a documentation address", "説明"),
    ("東京都の人口はどのくらいですか。", "約1,400万人です。日本の人口のおよそ一割にあたります。", "a large number", "質問応答"),
    ("三千円の商品が二割引きになるといくらですか。", "二千四百円です。三千円の二割は六百円なので、三千円から六百円を引いて二千四百円になります。", "a calculation that repeats its result once", "計算"),
    ("円周率を小数点以下十五桁まで教えてください。", "3.141592653589793です。", "a long digit string that is not a card", "質問応答"),
    # rewrites, summaries, extraction reuse the material
    ("次の文を丁寧な言い方に直してください：「明日、資料を送る。」", "明日、資料をお送りします。", "a rewrite reusing its input", "書き換え"),
    ("次の文章を一文で要約してください。\n\n駅前の図書館が改装され、夜九時まで開くようになった。仕事帰りに立ち寄る人が増えている。", "駅前の図書館が夜九時まで開くようになり、仕事帰りの利用者が増えている。", "a summary reusing its source", "要約"),
    ("次の文章から場所を抜き出してください：週末に家族で京都の水族館へ行った。", "京都の水族館", "extraction", "抽出"),
    ("次のレビューは肯定的ですか、否定的ですか：「音が静かで、とても使いやすい掃除機です。」", "肯定的です。", "a chosen label", "分類"),
    ("次の文の誤字を直してください：「会義の資料を用意する。」", "「会議の資料を用意する。」が正しい文です。", "a proofreading answer", "書き換え"),
    ("日本の首都はどこですか。", "東京です。", "a short factual answer", "質問応答"),
    # style: consistent plain style, quoted plain speech, lists
    ("梅雨について短い文章を書いてください。", "六月になると雨の日が続き、町は紫陽花の色に染まる。傘を差して歩くと、雨音が心地よく響く。晴れ間がのぞくと、空気は少し涼しい。", "consistent plain style", "創作"),
    ("先生に言われたことを教えてください。", "先生は「宿題は明日までに出すこと。遅れたら減点だ。」とおっしゃいました。ですから今夜のうちに仕上げます。", "plain speech inside a quote", "会話"),
    ("朝の準備の手順を教えてください。", "1. 顔を洗います。\n2. 朝ごはんを食べます。\n3. 歯を磨きます。\n4. 持ち物を確認します。", "a correct numbered list", "説明"),
    ("買い物のメモを作ってください。", "1. 牛乳\n1. 卵\n1. パン", "lazy Markdown numbering (1. 1. 1.)", "創作"),
    ("旅行の持ち物を分類してください。", "衣類\n1. シャツ\n2. 靴下\n\n洗面用具\n1. 歯ブラシ\n2. タオル", "two lists, each restarting at 1", "分類"),
    ("敬語の種類を例とともに説明してください。", "尊敬語は相手の動作を高める言葉で、「先生がいらっしゃる」のように使います。謙譲語は自分の動作をへりくだる言葉で、「私が伺う」のように使います。", "parallel phrasing, repeated twice", "説明"),
    # NG-word look-alikes
    ("カスタマーサポートに問い合わせる前に準備することは？", "注文番号と、困っていることを短くまとめたメモを用意しておくと話がスムーズです。", "カス inside カスタマー", "アドバイス"),
    ("写真がピンボケになる原因は何ですか。", "手ぶれや、ピントを合わせる位置のずれが主な原因です。", "ボケ inside ピンボケ", "説明"),
    ("カスタードクリームの作り方を教えてください。", "卵黄と砂糖を混ぜ、小麦粉と温めた牛乳を加えて、とろみがつくまで火にかけます。", "カス inside カスタード", "説明"),
    ("マイルストーンとは何ですか。", "計画の途中に置く、進み具合を確かめるための節目のことです。", "マイル inside マイルストーン", "説明"),
    # long but asked for
    ("日本の四季について詳しく説明してください。", answer("plain", 6), "a long answer when detail is asked", "説明"),
]
for q, a, why, cat in RISKY:
    add(q, a, [], risky=why, category=cat)

rng.shuffle(records)
# a duplicate must come after its original: the first record of a cluster is the one kept
for r in list(records):
    base = copy_of.get(id(r))
    if base is not None:
        i, j = records.index(r), records.index(base)
        if i < j:
            records[i], records[j] = base, r
for i, r in enumerate(records):
    r["id"] = f"p{i + 1:04d}"

with open(OUT / "planted.jsonl", "w", encoding="utf-8") as fh:
    for r in records:
        fh.write(json.dumps(r, ensure_ascii=False) + "\n")
print(f"{len(records)} records -> {OUT / 'planted.jsonl'}")
