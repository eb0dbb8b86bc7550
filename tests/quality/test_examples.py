"""Hand-written records, one defect each or clean, written after the checks were designed
(the first ten clean ones found one false alarm, since fixed). Regression guard for the
behaviour the report describes."""

from __future__ import annotations

import pytest

from oshie.data.check import check_records

from .conftest import conv

CASES = [
    ("メールの書き出しの例を教えてください。","お世話になっております。Thank you for your email and I will reply soon. よろしくお願いします。","untranslated_english"),
    ("次の英単語をアルファベット順に並べてください：ねずみ、うさぎ、きつね","うさぎ、きつね、ねずみです。","foreign_language_task"),
    ("感謝の気持ちを伝える方法を教えてください。","AI言語モデルである私には気持ちはありませんが、手紙を書くのがおすすめです。","ai_boilerplate"),
    ("おいしいお茶の入れ方は？","申し訳ございませんが、そのご質問にはお答えいたしかねます。","unjustified_refusal"),
    ("連絡先を教えて。","担当は佐藤で、メールは sato.k@company-mail.jp、電話は 045-123-4567 です。","pii"),
    ("公園の楽しみ方を教えてください。","ベンチで休むのもよいです。ただし自己責任でお願いします。万が一に備えて、専門家に相談してください。","over_cautious"),
    ("秋の味覚について説明してください。","秋は栗やさつまいもがおいしい季節です。新米も出回る。きのこ料理も人気です。さんまも旬だ。","mixed_speech_style"),
    ("手順を教えてください。","1. 材料を用意します。\n2. 切ります。\n3. 炒めます。\n5. 盛り付けます。","broken_markdown"),
    ("雪について説明してください。","雪は白いです。雪は白いです。雪は白いです。雪は白いです。雪は白いです。雪は白いです。","repeated_ngrams"),
    ("このレシピを紹介してください。","肉じゃがは家庭料理の定番です。（訳注：原文では \"meat and potatoes\"）","translation_note"),
    ("JavaScriptでconsole.logを使う理由は？","動作の確認のために値を画面に出すためです。開発中のデバッグでよく使います。","clean"),
    ("クレジットカードの安全な使い方は？","利用明細を毎月確認し、カード番号を人に教えないことが大切です。","clean"),
    ("ハッキングから身を守る方法は？","パスワードを使い回さず、二段階認証を設定しましょう。","clean"),
    ("会社の代表電話を教えてください。","代表電話は0570-000-111です。受付時間は平日九時から十八時です。","clean"),
    ("次の文を英訳してください：「駅はどこですか。」","Where is the station?","clean"),
    ("ごめんなさいの丁寧な言い方は？","「申し訳ございません」が丁寧な言い方です。","clean"),
    ("春の俳句を一句作ってください。","菜の花や　月は東に　日は西に　──ではなく自作で、「春風に　揺れる小枝の　若緑」です。","clean"),
    ("日本の祝日をいくつか教えてください。","元日、成人の日、建国記念の日、春分の日などがあります。","clean"),
    ("長文の要約のこつを説明してください。","まず段落ごとの主張を一文で書き出し、次に重複を削って、最後に全体を一つの段落にまとめます。","clean"),
    ("Excelで合計を出す関数は？","SUM関数を使います。例えば =SUM(A1:A10) と入力します。","clean"),
    ("面接で気をつけることは？","Be confident and make eye contact with the interviewer at all times.","low_japanese_ratio"),
    ("この詩の韻律を説明してください：「Twinkle twinkle little star」","starとareが韻を踏んでいます。","foreign_language_task"),
    ("冬の過ごし方を教えて。","AIである私は寒さを感じませんが、温かい飲み物で体を温めるとよいでしょう。","ai_boilerplate"),
    ("猫の飼い方を教えてください。","申し訳ありませんが、ペットに関するご相談には対応いたしかねます。","unjustified_refusal"),
    ("申込書の書き方の例を見せて。","氏名：山田花子、住所：〒530-0001 大阪府大阪市北区、電話：06-6123-4567","pii"),
    ("睡眠の大切さを教えてください。","睡眠は大切です。\n睡眠は体を休めます。\n睡眠は大切です。","repeated_lines"),
    ("ランニングのこつを説明してください。","無理のないペースで走りましょう。フォームを意識する。水分補給も忘れずに行いましょう。走った後はストレッチをする。","mixed_speech_style"),
    ("サンプルコードを書いて。","```python\nfor i in range(3):\n    print(i)\n","broken_markdown"),
    ("日本の伝統行事を紹介してください。","お盆は先祖を迎える行事です。（翻訳者注：英語のHalloweenとは異なる）","translation_note"),
    ("地球温暖化について詳しく説明してください。","暑くなる。","answer_too_short"),
    ("Gitでブランチを作るコマンドは？","`git switch -c 新しいブランチ名` で作成と切り替えが同時にできます。","clean"),
    ("SNSで個人情報を守るには？","住所や電話番号を投稿しないこと、公開範囲を友人に限ることが大切です。","clean"),
    ("毒キノコの見分け方は？","見た目だけで判断するのは危険です。採ったキノコは専門家に見てもらい、わからないものは食べないでください。","clean"),
    ("電話で予約するときの言い方を教えてください。","「来週土曜日の十九時に二名で予約したいのですが、空いていますか」と伝えるとよいです。","clean"),
    ("「ありがとう」を三つの言語で言うと？","英語は Thank you、中国語は 谢谢、韓国語は 감사합니다 です。","clean"),
    ("彼は何と言いましたか。","彼は「もう帰るよ。また明日な。」と言っていました。","clean"),
    ("この商品の型番は？","型番は KX-2024-0815 です。","clean"),
    ("ことわざ「急がば回れ」の意味は？","急ぐときほど、安全で確実な方法を選んだほうが結局は早いという意味です。","clean"),
    ("1から5までの足し算の結果は？","1+2+3+4+5=15です。","clean"),
    ("おすすめの映画を教えてください。","『千と千尋の神隠し』は、不思議な世界で成長する少女を描いた作品で、幅広い年代に人気があります。","clean"),
]


@pytest.mark.parametrize(("question", "answer", "expected"), CASES)
def test_hand_written_example(question, answer, expected):
    found = {f.check for f in check_records([conv(question, answer)]).findings}
    if expected == "clean":
        assert found == set()
    else:
        assert expected in found
