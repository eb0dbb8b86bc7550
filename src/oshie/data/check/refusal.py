"""Boilerplate and refusals: "AI言語モデルとして", refusals of harmless requests, and answers
buried under warnings that the request does not call for."""

from __future__ import annotations

from collections.abc import Iterator

from oshie.data.check.base import Check, CheckParams, Finding, Record, Turn, register
from oshie.data.check.text import any_pattern

_AI = r"(?:AI言語モデル|大規模言語モデル|言語モデル|AIアシスタント|アシスタントAI|人工知能|AI)"
_BOILERPLATE = any_pattern([
    rf"{_AI}として[、,]?\s*(?:私|お答え|申し上げ|回答|言え)",
    rf"{_AI}(?:である|の)私",
    rf"私は{_AI}(?:なので|ですので|であり|であるため|に過ぎ|にすぎ|ですから|として|です。)",
    r"AI言語モデル(?:として|なので|である|です)",
    r"[Aa]s an AI(?: language model)?", r"OpenAIによって(?:訓練|開発)された",
    r"私には(?:個人的な)?(?:感情|意見|好み|経験|体)(?:は|が)(?:ありません|ない)",
    r"私は(?:個人的な)?(?:感情|意見|好み)を持って(?:い)?ません",
    r"(?:私の)?(?:知識|情報)は(?:学習|トレーニング)データ", r"(?:私の)?知識は\d{4}年",
])
# asking the assistant about itself makes "私はAIです" an honest answer
_ABOUT_ASSISTANT = any_pattern([
    "あなたは誰", "あなたは何", "あなた自身", "自己紹介", "あなたの名前", "あなたには感情",
    "AIですか", "人間ですか", "あなたは人間",
])

_REFUSAL = any_pattern([
    r"(?:お答え|回答|お手伝い|ご協力|ご案内|ご提供|提供|作成|説明|お応え|対応|要約|翻訳|書き換え|計算|紹介)(?:すること|いたすこと)?(?:は|が)?(?:でき(?:ません|かねます)|いたしかねます|致しかねます)",
    r"(?:お答え|回答|お手伝い|ご案内)しかねます", r"(?:回答|お答え|言及)(?:を|は)(?:控え|差し控え)",
    r"(?:作成|創作|要約|翻訳|書き換え|回答|ご依頼|リクエスト)(?:は|を)お断り",
    r"(?:書き換え|要約|翻訳|質問|依頼|リクエスト|作成|計算|創作)(?:に|には|は)(?:対応|お応え)(?:して|いたして)おりません",
    r"そのような(?:ご)?(?:依頼|要求|リクエスト|質問)には(?:お応え|お答え|応じることは)",
    r"I(?:'m| am) sorry, but I can(?:'|no)t", r"I can(?:'|no)t (?:help|assist) with",
])
# a refusal is right when the request is harmful; this lexicon marks such requests
_HARMFUL = any_pattern([
    "爆弾", "爆発物", "殺す", "殺害", "殺し方", "毒物", "毒を", "ハッキング", "不正アクセス", "乗っ取",
    "麻薬", "覚醒剤", "大麻", "違法薬物", "武器", "銃を", "盗む", "盗み方", "万引き", "詐欺", "なりすまし",
    "個人情報を(?:調べ|特定|入手)", "住所を(?:調べ|特定)", "マルウェア", "ウイルスを作", "ランサムウェア",
    "パスワードを(?:盗|破|解読)", "自殺", "自傷", "脅迫", "ストーカー", "偽造", "テロ", "児童", "違法",
    "カンニング", "脱税", "闇バイト", "復讐",
])


@register
class AIBoilerplate(Check, code="ai_boilerplate", severity="warning", family="refusal", each="turn"):
    """AI boilerplate such as 'AI言語モデルとして' that teaches the model a canned voice."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        if not _ABOUT_ASSISTANT.search(t.instruction.text) and (m := _BOILERPLATE.search(t.answer.text)):
            yield self.finding(record, f"AI boilerplate '{m.group()}'", self.span(t.answer, *m.span()))


_ONLY = any_pattern(["のみ", "だけ", "限定", "に限り", "対応して", "版では", "地域では", "国では"])
_APOLOGY = any_pattern(["申し訳", "恐れ入り", "すみません", "ごめんなさい", "残念ながら", "I'm sorry", "I am sorry", "Sorry"])


@register
class UnjustifiedRefusal(Check, code="unjustified_refusal", severity="error", family="refusal", each="turn"):
    """The answer refuses a request that is not harmful (error when the answer is only the refusal,
    a warning when it goes on to say more)."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        a = t.answer.text
        m = _REFUSAL.search(a)
        if m is None or _HARMFUL.search(t.instruction.text):
            return
        # the assistant's own refusal opens the answer or comes with an apology; "only
        # available on iOS; the Android app cannot..." states a fact about something else
        sentence_start = max(a.rfind(c, 0, m.start()) for c in "。\n!！")
        if _APOLOGY.search(a) or (m.start() <= 60 and not _ONLY.search(a[sentence_start + 1 : m.end()])):
            yield self.finding(record, f"refusal '{m.group()}' of a harmless request", self.span(t.answer, *m.span()),
                               severity="warning" if len(a) > 150 else None)


_CAUTION = [
    r"専門家に(?:ご)?相談", r"自己責任", r"安全(?:上|面)の(?:理由|観点)", r"十分(?:に)?(?:ご)?注意(?:して|が必要|ください)",
    r"危険(?:を伴う|が伴う|な場合|性があります)", r"慎重に(?:判断|行動|検討)", r"責任を負いかね", r"免責",
    r"リスクを(?:十分に)?(?:理解|考慮)", r"くれぐれも", r"万が一", r"保証(?:はでき|いたしかね|しかね)",
    r"(?:必ず|事前に)(?:医師|専門家|弁護士)", r"(?:ご|お)?自身の判断で",
]
_CAUTION_RE = any_pattern(_CAUTION)
# domains where warnings are part of a good answer
_SENSITIVE = any_pattern([
    "薬", "症状", "病気", "病院", "痛", "治療", "妊娠", "健康", "医療", "法律", "法的", "訴訟", "契約",
    "投資", "株", "税", "保険", "ローン", "借金", "電気工事", "ガス", "登山", "ダイビング", "危険",
    "事故", "災害", "地震", "火事", "包丁", "刃物", "花火", "アレルギー", "子ども", "赤ちゃん", "車の運転",
])


class CautionParams(CheckParams):
    min_cautions: int = 2  # distinct caution phrases before an answer counts as over-cautious


@register
class OverCautious(Check[CautionParams], code="over_cautious", severity="warning", family="refusal", each="turn"):
    """A harmless everyday request answered with piles of warnings and disclaimers."""

    def inspect(self, record: Record, t: Turn) -> Iterator[Finding]:
        if _SENSITIVE.search(t.instruction.text) or _HARMFUL.search(t.instruction.text):
            return
        hits = list(_CAUTION_RE.finditer(t.answer.text))
        distinct = sorted({m.group() for m in hits})
        if len(distinct) >= self.params.min_cautions:
            yield self.finding(record, f"{len(distinct)} warnings/disclaimers for a harmless request "
                               f"({', '.join(distinct)})", self.span(t.answer, *hits[0].span()), cautions=distinct)
