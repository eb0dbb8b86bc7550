"""Novelty filter speed and agreement: oshie vs rouge_score ROUGE-L on characters.

Run by hand:  .venv/bin/python bench/novelty.py [--n 5000] [--check 500] [--seed 0]
Needs the bench extra (rouge-score).

The workload is Self-Instruct's: candidates arrive one by one and each is kept only if
its ROUGE-L F against every instruction kept so far is <= 0.7. The instructions are
varied Japanese generated from templates, with planted near-copies of earlier ones.

The reference is the plain approach: rouge_score's scorer with a character tokenizer,
called for every (candidate, pool item) pair. It needs ~N^2/2 calls, so it is timed on a
sample of pairs and extrapolated; its decisions are checked fully on the first `--check`
candidates and on a random sample of later candidates (each against its full pool).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from oshie.synth.novelty import DEFAULT_THRESHOLD, NoveltyFilter, char_tokens

TOPICS = [
    "日本の四季", "富士山", "江戸時代の文化", "茶道", "俳句", "新幹線", "円安", "少子高齢化",
    "地震への備え", "リモートワーク", "再生可能エネルギー", "人工知能", "量子コンピュータ",
    "光合成", "ブラックホール", "ワクチン", "睡眠の質", "朝ごはん", "味噌汁の作り方",
    "寿司の歴史", "ラーメンの種類", "温泉の効能", "京都の寺院", "北海道の観光地", "沖縄の方言",
    "敬語の使い分け", "漢字の成り立ち", "ひらがなとカタカナ", "源氏物語", "夏目漱石",
    "プログラミング学習", "Pythonのリスト", "データベースの正規化", "暗号資産", "確定申告",
    "年金制度", "住宅ローン", "転職活動", "面接対策", "時間管理", "ストレス解消法", "筋力トレーニング",
    "マラソンの練習", "野球のルール", "サッカーの戦術", "将棋の定跡", "囲碁の歴史", "折り紙",
    "盆栽の手入れ", "家庭菜園", "猫の飼い方", "犬のしつけ", "金魚の世話", "梅雨の過ごし方",
    "台風の仕組み", "気候変動", "海洋プラスチック", "リサイクル", "食品ロス", "防災グッズ",
    "初詣", "お盆の風習", "七夕", "ひな祭り", "年賀状の書き方", "お中元", "引っ越しの手続き",
    "電車の乗り換え", "外国人観光客への案内", "英語の勉強法", "読書感想文", "自由研究",
    "統計の基礎", "確率の考え方", "微分と積分", "三角関数", "素数", "化学反応式", "電気回路",
]
AUDIENCES = ["小学生", "中学生", "高校生", "大学生", "社会人一年目の人", "高齢者", "外国人", "専門家",
             "初心者", "子育て中の親"]
STYLES = ["箇条書きで", "三つのポイントに絞って", "具体例を交えて", "二百字以内で", "表形式で",
          "わかりやすく", "丁寧な敬語で", "ユーモアを交えて", "歴史的な背景も含めて", "手順を追って"]
TEMPLATES = [
    "{t}について{a}にもわかるように{s}説明してください。",
    "{a}向けに{t}の基本を{s}まとめてください。",
    "{t}に関するよくある誤解を{s}三つ挙げ、それぞれ訂正してください。",
    "{t}の長所と短所を{s}比較してください。",
    "{a}が{t}を学ぶときに最初に知っておくべきことは何ですか。",
    "{t}をテーマにした短い物語を{s}書いてください。",
    "{t}について{a}から質問されたら、どう答えますか。{s}答えてください。",
    "次の文章を{a}向けに{s}書き直してください：{t}は大切です。",
    "{t}に関するクイズを五問作り、答えも付けてください。",
    "{t}の将来について、あなたの考えを{s}述べてください。",
    "もし{a}が{t}に挑戦するなら、どんな準備が必要でしょうか。",
    "{t}と{t2}の共通点と相違点を{s}説明してください。",
    "{t}を一言で表すとしたら何ですか。理由も添えてください。",
    "{a}に{t}の魅力を伝えるキャッチコピーを考えてください。",
    "{t}についてのブログ記事の見出しを五つ提案してください。",
]
OPENERS = ["", "", "", "来週の授業で使いたいので、", "友人に頼まれたのですが、", "仕事の資料作りで困っています。",
           "最近気になっているのですが、", "子どもに聞かれて答えられませんでした。", "ブログを始めました。",
           "試験が近いので、", "地域の勉強会で話します。", "念のため確認したいのですが、",
           "旅行の計画を立てています。", "社内研修の担当になりました。", "趣味として始めたいです。"]
CLOSERS = ["", "", "", "参考文献があれば教えてください。", "専門用語は避けてください。",
           "最後に一文で要約してください。", "難しい点があれば補足してください。", "なるべく短めでお願いします。",
           "よくある質問も加えてください。", "注意点も忘れずに。", "例を二つ以上挙げてください。"]
EDITS = [
    lambda s: s.replace("ください", "下さい"),
    lambda s: s.replace("。", "").strip() + "ね。",
    lambda s: "簡単に言うと、" + s,
    lambda s: s.replace("について", "に関して"),
    lambda s: s[:-1] + "か。" if s.endswith("。") else s + "？",
    lambda s: s.replace("説明", "解説"),
]


TEXT_TASKS = [
    "次の文を英語に翻訳してください：{x}", "次の文の要点を一言でまとめてください。{x}",
    "{x}この文の主語と述語を答えてください。", "次の文を子ども向けのやさしい言葉に言い換えてください：{x}",
    "{x}{y}この二つの文を一つの自然な文章にまとめてください。", "{x}この文に続く一文を考えてください。",
    "次の二文のうち、より丁寧なのはどちらですか。「{x}」「{y}」", "{x}この文の誤りを指摘してください。",
    "次の文章の感情を肯定・否定・中立で分類してください：{x}{y}", "{x}この文からわかることを三つ挙げてください。",
]


def corpus_sentences() -> list[str]:
    from importlib import resources

    text = resources.files("oshie").joinpath("resources/corpus/ja_sample.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def make_instructions(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    sentences = corpus_sentences()
    out: list[str] = []
    while len(out) < n:
        r = rng.random()
        if out and r < 0.12:  # a planted near-copy of an earlier instruction
            out.append(rng.choice(EDITS)(rng.choice(out)))
            continue
        if r < 0.7:  # a task over sentences of the shipped sample corpus
            x, y = rng.sample(sentences, 2)
            out.append(rng.choice(TEXT_TASKS).format(x=x, y=y))
            continue
        t, t2 = rng.sample(TOPICS, 2)
        body = rng.choice(TEMPLATES).format(
            t=t, t2=t2, a=rng.choice(AUDIENCES), s=rng.choice(STYLES))
        out.append(rng.choice(OPENERS) + body + rng.choice(CLOSERS))
    return out


class CharTokenizer:
    """The reference's tokenizer: the same characters oshie scores."""

    def tokenize(self, text: str) -> list[str]:
        return char_tokens(text)


def reference_filter(items: list[str], scorer, threshold: float) -> list[bool]:
    pool: list[str] = []
    kept = []
    for cand in items:
        scores = [scorer.score(p, cand)["rougeL"].fmeasure for p in pool]
        keep = not scores or max(scores) <= threshold
        kept.append(keep)
        if keep:
            pool.append(cand)
    return kept


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--check", type=int, default=500, help="candidates checked fully in order")
    ap.add_argument("--later", type=int, default=40, help="later candidates spot-checked")
    ap.add_argument("--pairs", type=int, default=3000, help="pairs timed for the reference")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--big-pool", type=int, default=10000,
                    help="also filter the candidates against a pre-filled pool this large (0: skip)")
    args = ap.parse_args()
    from rouge_score import rouge_scorer

    items = make_instructions(args.n, args.seed)
    threshold = DEFAULT_THRESHOLD

    t0 = time.perf_counter()
    filt = NoveltyFilter(threshold)
    decisions = [filt.offer(x).novel for x in items]
    oshie_s = time.perf_counter() - t0
    kept = sum(decisions)

    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=CharTokenizer())
    # pairs the reference must score: every candidate against the pool kept before it
    pool_sizes, size = [], 0
    for d in decisions:
        pool_sizes.append(size)
        size += d
    total_pairs = sum(pool_sizes)
    rng = random.Random(args.seed + 1)
    sample = [(rng.choice(items), rng.choice(items)) for _ in range(args.pairs)]
    t0 = time.perf_counter()
    for a, b in sample:
        scorer.score(a, b)
    per_pair = (time.perf_counter() - t0) / len(sample)
    ref_s = per_pair * total_pairs

    # agreement 1: the first `check` candidates, exactly as the reference would run them
    t0 = time.perf_counter()
    ref_first = reference_filter(items[: args.check], scorer, threshold)
    check_s = time.perf_counter() - t0
    same_first = ref_first == decisions[: args.check]
    # agreement 2: later candidates, each against the pool oshie had kept before it
    pool_at: list[str] = []
    later_idx = set(rng.sample(range(args.check, args.n), min(args.later, args.n - args.check)))
    same_later = 0
    for i, (text, d) in enumerate(zip(items, decisions, strict=True)):
        if i in later_idx:
            best = max((scorer.score(p, text)["rougeL"].fmeasure for p in pool_at), default=0.0)
            same_later += (best <= threshold) == d
        if d:
            pool_at.append(text)

    lens = [len(char_tokens(x)) for x in items]
    print(f"instructions          {args.n} (median {statistics.median(lens):.0f} chars), "
          f"threshold {threshold}")
    print(f"kept / dropped        {kept} / {args.n - kept}")
    print(f"pairs to score        {total_pairs:,}")
    print(f"oshie                 {oshie_s:8.2f} s   ({oshie_s / max(total_pairs, 1) * 1e9:.1f} ns/pair)")
    print(f"rouge_score (extrap.) {ref_s:8.1f} s   ({per_pair * 1e6:.0f} us/pair, "
          f"timed on {len(sample)} pairs)")
    print(f"speed-up              {ref_s / oshie_s:8.0f}x")
    print(f"agreement, first {args.check:<5}{'identical' if same_first else 'DIFFERENT'} "
          f"({sum(ref_first)} kept by both: {sum(decisions[: args.check])}; reference took "
          f"{check_s:.1f} s)")
    print(f"agreement, later      {same_later}/{len(later_idx)} identical decisions")
    if args.big_pool:
        big_pool(items, args, scorer, per_pair, threshold)


def big_pool(items: list[str], args: argparse.Namespace, scorer, per_pair: float,
             threshold: float) -> None:
    """The same candidates against a pool pre-filled with `--big-pool` other instructions."""
    pool_items = make_instructions(args.big_pool, args.seed + 100)
    t0 = time.perf_counter()
    filt = NoveltyFilter(threshold)
    filt.extend(pool_items)
    fill_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    decisions = [filt.offer(x).novel for x in items]
    oshie_s = time.perf_counter() - t0
    pairs, size = 0, len(pool_items)
    for d in decisions:
        pairs += size
        size += d
    ref_s = per_pair * pairs
    # spot-check a few decisions fully (each one is ~10k reference calls)
    rng = random.Random(args.seed + 2)
    check = set(rng.sample(range(len(items)), min(5, len(items))))
    pool = list(pool_items)
    same = 0
    for i, (text, d) in enumerate(zip(items, decisions, strict=True)):
        if i in check:
            best = max((scorer.score(p, text)["rougeL"].fmeasure for p in pool), default=0.0)
            same += (best <= threshold) == d
        if d:
            pool.append(text)
    print(f"--- pool pre-filled with {args.big_pool} instructions (built in {fill_s:.2f} s)")
    print(f"kept / dropped        {sum(decisions)} / {len(items) - sum(decisions)}")
    print(f"pairs to score        {pairs:,}")
    print(f"oshie                 {oshie_s:8.2f} s")
    print(f"rouge_score (extrap.) {ref_s:8.1f} s")
    print(f"speed-up              {ref_s / oshie_s:8.0f}x")
    print(f"agreement, spot check {same}/{len(check)} identical decisions")


if __name__ == "__main__":
    main()
