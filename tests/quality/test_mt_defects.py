"""Each new translation-defect check and each fixed false-alarm class: a hit and a near miss."""

from __future__ import annotations

import pytest

from oshie.data.check import check_records
from oshie.records import Conversation

from .conftest import conv


def codes(record) -> set[str]:
    return {f.check for f in check_records([record]).findings}


def severities(record, code: str) -> set[str]:
    return {f.severity for f in check_records([record]).findings if f.check == code}


def alpaca(instruction: str, passage: str, answer: str) -> Conversation:
    """A record as the alpaca reader builds it: the input after a blank line, kept in metadata."""
    return Conversation(id="a1", messages=[{"role": "user", "content": f"{instruction}\n\n{passage}"},
                                           {"role": "assistant", "content": answer}],
                        metadata={"alpaca_input": passage})


CASES = [
    # (check, defect record (question, answer), look-alike that is not the defect)
    ("collapsed_translation", ("オランダとオランダの違いは何ですか。", "どちらも同じ国を指します。"),
     ("オランダとベルギーの違いは何ですか。", "言語や王室の歴史などが違います。")),
    ("collapsed_translation", ("イギリスやイギリスで人気の料理は？", "フィッシュアンドチップスです。"),
     ("毎日毎日、何をしていますか。", "毎日毎日、散歩をしています。")),
    ("translated_placeholder", ("次の文を要約してください。\n\nノインプット", "要約する文がありません。"),
     ("インプットとアウトプットの違いを教えてください。", "入力と出力の違いです。")),
    ("translation_framing", ("この段落によると、富士山の高さは？", "この段落を考えると、富士山の高さは三七七六メートルです。"),
     ("富士山の高さは？", "段落の最初にあるとおり、三七七六メートルです。")),
    ("junk_answer", ("日本の首都について説明してください。", "あ"),
     ("次のうち正しいものを記号で選んでください。ア 東京 イ 大阪", "ア")),
    ("lost_label_colon", ("次の文の感情を分類してください。\n文章 今日は最高の一日だった。", "ポジティブ"),
     ("次の文の感情を分類してください。\n文章：今日は最高の一日だった。", "ポジティブ")),
    ("word_limit_as_chars", ("春について50字以内で説明してください。", "春は三月から五月ごろの季節で、桜が咲き、新しい学年や仕事が始まります。"
                             "気温が上がり、花粉が飛ぶ時期でもあります。各地で花見が行われ、入学式や入社式で街がにぎわいます。"
                             "山では雪解けが進み、田植えの準備も始まります。"),
     ("春について100字以内で説明してください。", "春は三月から五月ごろの季節で、桜が咲き、新しい学年が始まります。")),
    ("word_limit_as_chars", ("夏休みの思い出を100単語で書いてください。", "海に行って泳いだことが一番の思い出です。"),
     ("「ありがとう」を一語で英訳してください。", "Thanks")),
    ("wiki_debris", ("ナイル川について教えて。", "ナイル川はアフリカ最長の川である[2]。流域には多くの国がある[note a]。"),
     ("Pythonのリストの三番目の要素は？", "リストを`a`とすると a[2] で取り出せます。")),
    ("wiki_debris", ("ショパンについて教えて。", "フレデリック・ショパン(listen)はポーランドの作曲家です。"),
     ("ショパンを聴くならどの曲？", "まずはノクターン第2番を聴いてみてください。")),
    ("missing_task", ("りんご、バナナ、にんじん、キャベツ、ぶどう", "果物：りんご、バナナ、ぶどう。野菜：にんじん、キャベツ。"),
     ("りんご、バナナ、にんじんを果物と野菜に分けてください。", "果物：りんご、バナナ。野菜：にんじん。")),
    ("imperial_units", ("家から駅まで3マイルあります。遠いですか。", "歩くと一時間ほどかかる距離です。"),
     ("家から駅まで3マイル（約4.8キロ）あります。遠いですか。", "歩くと一時間ほどかかる距離です。")),
    ("imperial_units", ("今日の気温は華氏90度です。", "とても暑い日です。"),
     ("27インチのモニターはどのくらいの大きさ？", "対角線が約69センチです。")),
    ("foreign_language_task", ("次の曜日をアルファベット順に並べてください：月曜日、火曜日、水曜日", "火曜日、月曜日、水曜日"),
     ("アスペルガー症候群とゴスペルについて説明して", "アスペルガー症候群は発達障害の一つで、ゴスペルは教会音楽の一つです。")),
    ("foreign_culture", ("カリフォルニア州の州都はどこですか。", "サクラメントです。"),
     ("日本の県庁所在地で一番北にあるのは？", "札幌市です。")),
]


@pytest.mark.parametrize(("code", "defect", "lookalike"), CASES, ids=[c[0] for c in CASES])
def test_check_hits_the_defect_and_not_the_lookalike(code, defect, lookalike):
    assert code in codes(conv(*defect))
    assert code not in codes(conv(*lookalike))


def test_ng_word_katakana_words_matched_whole():
    assert "ng_word" not in codes(conv("探検家について", "コロンブスやフォーブス誌、カブスのギブス"))
    assert "ng_word" not in codes(conv("旅の悩みは？", "時差ボケがつらいです。"))
    assert "ng_word" in codes(conv("何と言われた？", "お前はブスだと言われた。"))


def test_ng_word_conjugations_and_mentions():
    assert "ng_word" not in codes(conv("もしもの話", "もし死ねば、と考えるのはやめましょう。死ねない理由がある。"))
    assert severities(conv("返事して", "うるさい、死ね！"), "ng_word") == {"error"}
    # quoted or asked about: a mention, worth a look, never a blind drop
    assert severities(conv("「死ね」という言葉の問題は？", "「死ね」は人を深く傷つける暴言です。"), "ng_word") == {"warning"}
    assert severities(conv("番組の感想は？", "セックス・アンド・ザ・シティが好きです。"), "ng_word") <= {"warning"}


def test_echo_is_judged_on_the_request_not_the_passage():
    passage = "富士山は静岡県と山梨県にまたがる日本最高峰の山で、標高は三七七六メートルである。二〇一三年に世界文化遺産に登録された。"
    extractive = alpaca("この文章から、富士山の標高を抜き出してください。", passage, "標高は三七七六メートルである。")
    assert "answer_repeats_instruction" not in codes(extractive)
    assert "answer_repeats_instruction" not in codes(conv("カナダの公用語は何ですか？", "カナダの公用語は英語とフランス語です。"))
    assert severities(conv("カナダの公用語は何ですか？", "カナダの公用語は何ですか？"), "answer_repeats_instruction") == {"error"}


def test_untranslated_english_prose_versus_names_titles_and_urls():
    assert "untranslated_english" in codes(conv("感想は？", "とても良かった。The story was really moving and I cried at the end."))
    assert "untranslated_english" not in codes(conv("好きな本は？", "『The Lord of the Rings』と The Catcher in the Rye が好きです。"))
    assert "untranslated_english" not in codes(conv("この人は誰？", "Álex Rodríguez はスペインの俳優です。"))
    assert "untranslated_english" not in codes(conv("URLは？", "https://ja.wikipedia.org/wiki/%E5%AF%8C%E5%A3%AB%E5%B1%B1 を見てください。"))
    # the English material of a translation task is its input, not a leftover
    task = alpaca("次の英文を日本語に翻訳してください。", "The weather is nice today and we are going to the park.", "今日は天気が良いので公園に行きます。")
    assert not {"untranslated_english", "low_japanese_ratio"} & codes(task)


def test_translation_note_tn_is_a_whole_word():
    assert "translation_note" not in codes(conv("TNAとは？", "TNA（トータル・ノンストップ・アクション）はプロレス団体です。"))
    assert "translation_note" in codes(conv("説明して", "これは例です。（TN: 原文を省略）"))


def test_refusal_in_the_assistants_voice_only():
    assert "unjustified_refusal" not in codes(conv("このアプリはAndroidで使えますか？",
                                                   "このアプリはiOS版のみで提供されており、Android版は提供できません。"))
    assert severities(conv("お茶の入れ方は？", "申し訳ございませんが、お答えできません。"), "unjustified_refusal") == {"error"}


def test_repeated_ngrams_loops_versus_parallel_lists():
    parallel = "リンゴは果物です。バナナは果物です。ニンジンは野菜です。キャベツは野菜です。ブドウは果物です。"
    assert "repeated_ngrams" not in codes(conv("次を果物と野菜に分けて", parallel))
    assert "repeated_ngrams" in codes(conv("感想は？", "とても楽しかったです。" * 5))


def test_pii_japanese_kinds_placeholders_and_masking_tasks():
    card = "マイナンバーは123456789018です。パスポート番号はTK1234567、口座はみずほ銀行 新宿支店 普通 1234567です。"
    found = {f.details["kind"]: f.severity for f in check_records([conv("私の情報", card)]).findings if f.check == "pii"}
    assert found == {"my_number": "error", "passport": "error", "bank_account": "error"}
    placeholder = conv("連絡先の書き方の例は？", "電話 090-XXXX-XXXX、メール taro@example.com のように書きます。")
    assert "pii" not in codes(placeholder)
    foreign = conv("問い合わせ先は？", "米国本社は +1 (415) 867-5309 です。")
    assert severities(foreign, "pii") == {"warning"}
    masking = conv("次の文の個人情報をマスクしてください：山田の携帯は080-3141-5926です。", "山田の携帯は[電話番号]です。")
    assert severities(masking, "pii") == {"info"}


def test_duplicates_ignore_a_shared_passage_unless_asked():
    passage = "江戸時代は一六〇三年に徳川家康が江戸幕府を開いてから、一八六七年の大政奉還までの約二百六十年間を指す。" * 2
    a = alpaca("江戸幕府を開いたのは誰ですか。", passage, "徳川家康です。")
    b = alpaca("江戸時代が終わったのは何年ですか。", passage, "一八六七年です。")
    b.id = "a2"
    assert not check_records([a, b]).findings or "duplicate" not in {f.check for f in check_records([a, b]).findings}
    whole = check_records([a, b], _config(duplicate={"mode": "whole_record"}))
    assert "duplicate" in {f.check for f in whole.findings}


def test_duplicate_ids_are_reported():
    r1, r2 = conv("猫の名前の案を三つ", "たま、みけ、くろ", rid="x"), conv("犬の名前の案を三つ", "ぽち、しろ、はな", rid="x")
    (f,) = [f for f in check_records([r1, r2]).findings if f.check == "duplicate_id"]
    assert f.index == 1 and f.severity == "warning"


def _config(**checks):
    from oshie.data.check import CheckConfig

    return CheckConfig(checks=checks)
