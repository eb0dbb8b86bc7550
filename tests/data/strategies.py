"""Hypothesis strategies for Japanese records, restricted to what each format can hold."""

from __future__ import annotations

from hypothesis import strategies as st

from oshie.records import Conversation, Message, PreferencePair, Provenance

# hiragana, katakana, common kanji, full-width punctuation, ASCII letters/digits, space, newline
_ALPHABET = (
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんがぎぐげご"
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンー"
    "日本語東京大阪富士山学校先生質問答説明今年月火水木金土人名前時間会社仕事電車駅天気雨雪"
    "、。！？「」『』（）・…〜ａｂ１２"
    "abcXYZ0123456789 \n\t.,:;!?-_/'\"<>=+*#%&@"
)

japanese_text = st.text(alphabet=_ALPHABET, min_size=1, max_size=60).filter(lambda s: s.strip() != "")

# extra columns of a source row: plain text values (a CSV cell cannot say whether "3" was a number)
extra_fields = st.dictionaries(
    # include names other formats use for their own fields: they must survive without clashing
    st.sampled_from(["難易度", "タグ", "note", "text", "input", "meta", "messages", "prompt", "ID"]),
    japanese_text.filter(lambda s: s.lstrip()[:1] not in ("[", "{")),
    max_size=2,
)

provenance = st.builds(
    lambda source, license_, category, language, writer, model, params, extra: Provenance(
        source=source, license=license_, category=category, language=language,
        answer_writer=writer, generator_model=model, generation_params=params,
        **({"extra": extra} if extra else {}),
    ),
    st.none() | st.sampled_from(["ichikara", "手作業", "synth"]),
    st.none() | st.sampled_from(["CC-BY-4.0", "Apache-2.0"]),
    st.none() | japanese_text,
    st.sampled_from(["ja", "en", None]),
    st.none() | japanese_text,
    st.none() | st.sampled_from(["tiny-llama", "gpt-x"]),
    st.none() | st.fixed_dictionaries({"temperature": st.sampled_from([0.0, 0.7, 1.0])}),
    extra_fields,
)

record_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12).filter(
    lambda s: not s.isdigit()  # a spreadsheet would turn "12" into a number; ids stay text here
)


@st.composite
def conversations(draw: st.DrawFn, single_turn: bool = False) -> Conversation:
    turns = 1 if single_turn else draw(st.integers(1, 3))
    messages = []
    for _ in range(turns):
        messages.append(Message(role="user", content=draw(japanese_text)))
        messages.append(Message(role="assistant", content=draw(japanese_text)))
    return Conversation(
        id=draw(record_ids), system=draw(st.none() | japanese_text),
        messages=messages, metadata=draw(provenance),
    )


@st.composite
def preference_pairs(draw: st.DrawFn) -> PreferencePair:
    prompt = []
    for _ in range(draw(st.integers(0, 1))):  # optional earlier exchange
        prompt += [Message(role="user", content=draw(japanese_text)),
                   Message(role="assistant", content=draw(japanese_text))]
    prompt.append(Message(role="user", content=draw(japanese_text)))
    return PreferencePair(
        id=draw(record_ids), system=draw(st.none() | japanese_text), prompt=prompt,
        chosen=[Message(role="assistant", content=draw(japanese_text))],
        rejected=[Message(role="assistant", content=draw(japanese_text))],
        chosen_score=draw(st.none() | st.sampled_from([1.0, 4.5])),
        rejected_score=draw(st.none() | st.sampled_from([0.0, 2.0])),
        metadata=draw(provenance),
    )


SINGLE_TURN_ONLY = {"alpaca", "ichikara"}


def records_for(fmt: str, *others: str) -> st.SearchStrategy:
    """Records every one of the given formats can represent."""
    if fmt == "preference":
        return preference_pairs()
    return conversations(single_turn=bool(SINGLE_TURN_ONLY & {fmt, *others}))


def unique_ids(records: list) -> list:
    seen, out = set(), []
    for r in records:
        if r.id not in seen:
            seen.add(r.id)
            out.append(r)
    return out
