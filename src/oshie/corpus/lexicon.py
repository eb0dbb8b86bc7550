"""Large, varied Japanese text from a seeded combinatorial lexicon (offline, deterministic).

The sample corpus has a few hundred sentences: enough for filters and dedup, far too few
distinct substrings for a 50k-piece tokenizer (SentencePiece finds about 10k pieces in 50M
characters of it). Here a seed builds a lexicon of ~150k words instead — kanji compounds from
the sample's kanji, katakana loanwords composed from morae, place and person names, suru-verbs,
godan/ichidan verbs and adjectives with their conjugations — and sentences come from varied
templates whose slots are drawn with Zipf-like frequencies, as words are in real text: a few
words are everywhere, most are rare but recur. Each document is a few paragraphs of sentences.

Everything follows from the seed (`random.Random`); words are drawn in blocks
(`random.choices` with cumulative weights), so tens of millions of characters take minutes.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

_HIRA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわ"
_KATA_BASE = ("ア イ ウ エ オ カ キ ク ケ コ サ シ ス セ ソ タ チ ツ テ ト ナ ニ ヌ ネ ノ ハ ヒ フ ヘ ホ マ ミ ム メ モ "
              "ヤ ユ ヨ ラ リ ル レ ロ ワ ン ガ ギ グ ゲ ゴ ザ ジ ズ ゼ ゾ ダ デ ド バ ビ ブ ベ ボ パ ピ プ ペ ポ "
              "キャ キュ キョ シャ シュ ショ チャ チュ チョ ジャ ジュ ジョ ティ ディ ファ フィ フェ フォ ヴァ ウィ "
              "トゥ デュ リュ ミュ ニュ ビュ ピュ ギュ ヒュ").split()
_KATA_TAIL = ("ー", "ン", "ッ", "ル", "ス", "ト", "ク", "")
_PLACE_SUFFIX = ("市", "町", "村", "県", "区", "川", "山", "駅", "港", "島", "谷", "湖", "橋", "台", "浜", "原")
_ORG_SUFFIX = ("株式会社", "大学", "研究所", "協会", "病院", "図書館", "美術館", "高校", "銀行", "工業", "財団", "委員会")
_HONORIFIC = ("さん", "氏", "先生", "教授", "社長", "部長", "選手", "監督", "")
_UNITS = ("年", "月", "日", "人", "円", "件", "回", "台", "冊", "本", "社", "校", "キロ", "メートル", "パーセント",
          "時間", "分", "トン", "万人", "億円", "倍", "度")
_GODAN = {"く": ("く", "き", "か", "いた", "いて", "け"), "す": ("す", "し", "さ", "した", "して", "せ"),
          "む": ("む", "み", "ま", "んだ", "んで", "め"), "る": ("る", "り", "ら", "った", "って", "れ"),
          "う": ("う", "い", "わ", "った", "って", "え"), "つ": ("つ", "ち", "た", "った", "って", "て"),
          "ぐ": ("ぐ", "ぎ", "が", "いだ", "いで", "げ")}
_ICHIDAN = ("る", "", "", "た", "て", "れ")
_SURU = ("する", "した", "して", "します", "しました", "される", "された", "できる", "しない", "すべき", "している",
         "しています", "しよう", "させる")
_ADJ_FORMS = ("い", "く", "かった", "くない", "さ", "くて", "ければ")
_CONNECT = ("しかし、", "また、", "さらに、", "一方で、", "そのため、", "ところが、", "実際に、", "例えば、", "つまり、",
            "なお、", "特に、", "その後、", "これに対して、", "結果として、", "当時、", "現在、", "", "", "", "", "", "")
_END = ("。", "。", "。", "。", "。", "！", "？")


def _zipf(n: int, s: float = 1.05) -> list[float]:
    """Cumulative Zipf-like weights for ranks 0..n-1 (for random.choices)."""
    return list(itertools.accumulate(1.0 / (r + 3.0) ** s for r in range(n)))


@dataclass
class _Slot:
    words: list[str]
    cum: list[float]


class Lexicon:
    """Word classes built from a seed; `draw(name)` returns one word of that class."""

    def __init__(self, kanji: str, seed: int = 0, scale: float = 1.0) -> None:
        rnd = random.Random(seed)
        self._rnd = random.Random(seed + 1)
        k = sorted(set(kanji))

        def unique(make: Callable[[], str], n: int) -> list[str]:
            seen: dict[str, None] = {}
            tries = 0
            while len(seen) < n and tries < n * 20:
                seen.setdefault(make(), None)
                tries += 1
            return list(seen)

        def kanji_word(lo: int, hi: int) -> Callable[[], str]:
            return lambda: "".join(rnd.choice(k) for _ in range(rnd.randint(lo, hi)))

        def katakana() -> str:
            body = "".join(rnd.choice(_KATA_BASE) for _ in range(rnd.randint(2, 5)))
            return body + rnd.choice(_KATA_TAIL)

        n = lambda x: max(20, int(x * scale))  # noqa: E731
        nouns = unique(kanji_word(2, 3), n(60_000))
        loan = unique(katakana, n(30_000))
        suru = unique(kanji_word(2, 2), n(8_000))
        places = unique(lambda: kanji_word(1, 2)() + rnd.choice(_PLACE_SUFFIX), n(12_000))
        surnames = unique(kanji_word(2, 2), n(5_000))
        given = unique(lambda: kanji_word(1, 2)() + rnd.choice(("", "", "子", "美", "太", "郎", "介", "恵")), n(5_000))
        orgs = unique(lambda: rnd.choice((katakana, kanji_word(2, 3)))() + rnd.choice(_ORG_SUFFIX), n(8_000))
        verbs = unique(lambda: rnd.choice(k) + rnd.choice([*_GODAN, "える", "いる", "める", "ける"]), n(5_000))
        adjs = unique(lambda: rnd.choice(k) + rnd.choice(("し", "", "た", "ろ", "か")), n(2_000))
        self._slots = {
            "N": _Slot(nouns, _zipf(len(nouns))), "K": _Slot(loan, _zipf(len(loan))),
            "S": _Slot(suru, _zipf(len(suru))), "P": _Slot(places, _zipf(len(places))),
            "F": _Slot(surnames, _zipf(len(surnames))), "G": _Slot(given, _zipf(len(given))),
            "O": _Slot(orgs, _zipf(len(orgs))), "V": _Slot(verbs, _zipf(len(verbs))),
            "A": _Slot(adjs, _zipf(len(adjs))),
        }
        self._buffers: dict[str, Iterator[str]] = {}

    def size(self) -> int:
        return sum(len(s.words) for s in self._slots.values())

    def draw(self, name: str) -> str:
        buf = self._buffers.get(name)
        word = next(buf, None) if buf is not None else None
        if word is None:
            slot = self._slots[name]
            buf = iter(self._rnd.choices(slot.words, cum_weights=slot.cum, k=4096))
            self._buffers[name] = buf
            word = next(buf)
        return word

    def verb(self, form: int) -> str:
        """A verb in one of six forms: plain, stem, negative stem, past, te, conditional stem."""
        stem = self.draw("V")
        if stem.endswith(("える", "いる", "める", "ける")):
            return stem[:-1] + _ICHIDAN[form]
        return stem[:-1] + _GODAN[stem[-1]][form]

    def adjective(self) -> str:
        return self.draw("A") + self._rnd.choice(_ADJ_FORMS)

    def person(self) -> str:
        return self.draw("F") + (self.draw("G") if self._rnd.random() < 0.4 else "") + self._rnd.choice(_HONORIFIC)

    def number(self) -> str:
        r = self._rnd
        value = str(r.choice((r.randint(1, 12), r.randint(1, 100), r.randint(100, 99_999), r.randint(1900, 2030))))
        return value + r.choice(_UNITS)


def _templates(lx: Lexicon) -> list[Callable[[], str]]:
    d, v, r = lx.draw, lx.verb, lx._rnd
    return [
        lambda: f"{d('P')}の{d('N')}は{d('N')}として{d('S')}{r.choice(_SURU)}",
        lambda: f"{lx.person()}は{d('O')}で{d('K')}の{d('N')}を{d('S')}{r.choice(_SURU)}",
        lambda: f"{lx.number()}に{d('P')}で{d('N')}が{v(3)}",
        lambda: f"この{d('K')}は{d('N')}に{lx.adjective()}、{d('N')}も{v(0)}",
        lambda: f"{d('N')}と{d('N')}の{d('S')}について{lx.person()}が{v(1)}ました",
        lambda: f"{d('O')}によると、{d('N')}の{d('N')}は{lx.number()}に{v(3)}という",
        lambda: f"{d('P')}から{d('P')}まで{d('K')}で{v(1)}、{d('N')}を{v(0)}ことができる",
        lambda: f"{d('K')}や{d('K')}などの{d('N')}を{d('S')}{r.choice(_SURU)}",
        lambda: f"{lx.person()}の{d('N')}は{lx.adjective()}ので、{d('N')}が{v(2)}ない",
        lambda: f"{d('N')}を{v(4)}{d('N')}を{v(3)}のは{lx.person()}だった",
        lambda: f"{d('P')}には{lx.number()}の{d('N')}があり、{d('K')}として{v(2)}れている",
        lambda: f"もし{d('N')}が{v(5)}ば、{d('N')}は{d('S')}{r.choice(_SURU)}",
        lambda: f"「{d('K')}」という{d('N')}は{d('O')}の{d('N')}に{v(0)}",
        lambda: f"{d('N')}の{d('N')}（{d('K')}）は{lx.number()}ほど{v(3)}",
        lambda: f"{lx.number()}、{lx.person()}は{d('P')}の{d('O')}に{v(3)}",
        lambda: f"{d('N')}では{d('K')}の{d('S')}が{lx.adjective()}と{v(2)}れる",
        lambda: f"{d('N')}に{v(4)}ください。{d('K')}は{d('N')}の{d('N')}です",
        lambda: f"なぜ{d('N')}は{d('P')}で{v(3)}のだろうか",
        lambda: f"{d('O')}は{lx.number()}の{d('N')}を{d('S')}し、{d('N')}を{v(3)}",
        lambda: f"{d('K')}・{d('K')}・{d('K')}の{d('N')}を{v(1)}たい",
    ]


def documents(seed: int = 0, *, kanji: str | None = None, scale: float = 1.0,
              paragraphs: tuple[int, int] = (2, 5), sentences: tuple[int, int] = (3, 8)) -> Iterator[str]:
    """Endless documents (paragraphs separated by blank lines) from a lexicon built from `seed`.
    `kanji` defaults to the kanji of the shipped sample corpus; `scale` shrinks the lexicon
    (for tests)."""
    if kanji is None:
        from oshie.corpus.synthetic import sample_sentences

        kanji = "".join(c for s in sample_sentences() for c in s if "\u4e00" <= c <= "\u9fff")
    lx = Lexicon(kanji, seed, scale)
    templates = _templates(lx)
    r = random.Random(seed + 2)
    while True:
        paras = []
        for _ in range(r.randint(*paragraphs)):
            paras.append("".join(r.choice(_CONNECT) + r.choice(templates)() + r.choice(_END)
                                 for _ in range(r.randint(*sentences))))
        yield "\n\n".join(paras)


def write_shards(out_dir: Path, source: str, chars: int, *, seed: int = 0, shard_chars: int = 10_000_000,
                 fmt: str = "parquet", scale: float = 1.0, on_chars: Callable[[int], None] | None = None) -> tuple[list[Path], int]:
    """Stream documents of `source` into `out_dir/<source>/part-NNNNN.<fmt>` until `chars`
    characters are written (a document is never cut), a new shard every `shard_chars`; never more
    than one batch in memory. Returns the shards and the characters written."""
    from oshie.corpus.shards import ShardWriter, part_name

    written, shard_size, index = 0, 0, 0
    paths: list[Path] = []
    writer = ShardWriter(out_dir / source / part_name(index), fmt)
    batch: list[dict[str, str]] = []
    for i, text in enumerate(documents(seed, scale=scale)):
        batch.append({"id": f"{source}-{i}", "text": text, "source": source, "meta": "{}"})
        written += len(text)
        shard_size += len(text)
        if on_chars is not None:
            on_chars(len(text))
        done = written >= chars
        if len(batch) >= 1000 or shard_size >= shard_chars or done:
            writer.write(batch)
            batch = []
        if done:
            break
        if shard_size >= shard_chars:
            paths.append(writer.close())
            index, shard_size = index + 1, 0
            writer = ShardWriter(out_dir / source / part_name(index), fmt)
    paths.append(writer.close())
    return paths, written
