"""JCommonsenseQA scoring speed and agreement: oshie vs lm-evaluation-harness vs a naive loop.

Run by hand:  .venv/bin/python bench/mc_scoring.py [--items 300] [--models tiny,base,tiny-sp,base-sp]
Needs the bench extra (lm-eval 0.4.13): pip install -c constraints.txt -e ".[bench]"

Every contender is timed as a whole process (start-up, model load, scoring), on the
same local JSONL file of synthetic JCommonsenseQA items, the same 3-shot "plain"
prompt and the same local model, offline (HF_HUB_OFFLINE=1):

- oshie:   `oshie eval run --task jcommonsenseqa --template plain --shots 3`
- lm-eval: `lm_eval --model hf` with a task YAML (written here) whose doc_to_text renders
           the identical prompt; `target_delimiter: ""` so the choice follows directly
- naive:   this script in a subprocess: one forward pass per (question, choice), tokens
           chosen by lm-eval's rule (context + choice encoded together)

Agreement: per item, every contender must pick the same choice (acc and acc_norm), and
lm-eval's logged contexts must equal oshie's prompts. Models: the tiny preset and the
~50M "base" preset, each with two tokenizers trained here: byte-level BPE (`tiny`,
`base`) and SentencePiece with a dummy prefix (`tiny-sp`, `base-sp`: "▁" before every
text, as in Llama-2 / llm-jp / Swallow, where encoding the choice apart from the prompt
would score other tokens). All random (speed, not accuracy, is measured), with a
2048-token window so no prompt is truncated.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

NOUNS = [
    "傘", "帽子", "手袋", "靴下", "眼鏡", "鉛筆", "消しゴム", "定規", "はさみ", "包丁", "まな板",
    "鍋", "茶碗", "箸", "皿", "冷蔵庫", "洗濯機", "掃除機", "扇風機", "電灯", "時計", "カレンダー",
    "図書館", "郵便局", "駅", "空港", "病院", "学校", "公園", "銀行", "交番", "映画館", "美術館",
    "医者", "教師", "料理人", "運転手", "大工", "歌手", "警察官", "消防士", "農家", "漁師",
    "桜", "紅葉", "雪", "雨", "台風", "虹", "太陽", "月", "星", "海", "川", "山", "森", "砂漠",
    "犬", "猫", "金魚", "馬", "牛", "鶏", "象", "キリン", "ペンギン", "カブトムシ",
    "切手", "封筒", "手紙", "新聞", "雑誌", "辞書", "絵本", "教科書", "地図", "財布", "鍵",
]
TEMPLATES = [
    "{a}を使うときに一緒に必要になることが多いものは？",
    "{a}と聞いて最初に思い浮かぶ場所は？",
    "{a}がたくさんある場所はどこ？",
    "{a}の仕事をしている人がよく使う道具は？",
    "雨の日に{a}の代わりになるものは？",
    "子どもが{a}を見に行くとしたら、どこへ行く？",
    "{a}について詳しく調べたいとき、最初に手に取るものは？",
    "{a}と{b}の両方に関係が深いものはどれ？",
]


def make_items(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    items = []
    for i in range(n):
        a, b, *choices = rng.sample(NOUNS, 7)
        q = rng.choice(TEMPLATES).format(a=a, b=b)
        items.append({"q_id": i, "question": q, **{f"choice{k}": c for k, c in enumerate(choices)},
                      "label": rng.randrange(5)})
    return items


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def build_model(work: Path, name: str) -> Path:
    from oshie.train.tiny import init_model
    from oshie.train.tokenizer import train_bpe_tokenizer, train_sentencepiece_tokenizer

    model_dir = work / f"model_{name}"
    if (model_dir / "config.json").is_file():
        return model_dir
    from importlib import resources

    preset, _, kind = name.partition("-")
    corpus = resources.files("oshie").joinpath("resources/corpus/ja_sample.txt").read_text("utf-8")
    # only the shipped corpus: the bench's own nouns must not become single tokens by
    # construction (lm-eval shares the context pass when every choice is one token)
    lines = [x for x in corpus.splitlines() if x.strip()]
    if kind == "sp":  # SentencePiece needs every frequent character plus 256 byte pieces
        vocab = 2000 if preset == "tiny" else 8000
        tok = train_sentencepiece_tokenizer(lines, vocab, work / f"tok_{name}", add_dummy_prefix=True)
    else:
        vocab = 600 if preset == "tiny" else 32000  # BPE stops early when the corpus runs out of merges
        tok = train_bpe_tokenizer(lines, vocab_size=vocab, out_dir=work / f"tok_{name}")
    # the shipped corpus caps the vocabulary near 8k, so the "base" preset alone is ~27M
    # parameters; 16 layers bring it to the ~50M the comparison is meant for
    depth = {"num_hidden_layers": 16} if preset == "base" else {}
    return init_model(tok, model_dir, preset=preset, seed=0, max_position_embeddings=2048, **depth)


def lm_eval_yaml(task_dir: Path, data: Path, shots_prefix: str) -> str:
    """A task whose doc_to_text reproduces oshie's plain prompt (shots baked in as text)."""
    name = "oshie_bench_jcqa"
    query = ("質問: {{question}}\n選択肢: "
             + "、".join("{{choice" + str(k) + "}}" for k in range(5)) + "\n答え:")
    text = shots_prefix + query
    task_dir.mkdir(parents=True, exist_ok=True)
    (task_dir / f"{name}.yaml").write_text(
        f"task: {name}\n"
        "dataset_path: json\n"
        f"dataset_kwargs:\n  data_files:\n    test: {json.dumps(str(data))}\n"
        "test_split: test\n"
        "output_type: multiple_choice\n"
        f"doc_to_text: {json.dumps(text, ensure_ascii=False)}\n"
        "doc_to_choice: \"{{[choice0, choice1, choice2, choice3, choice4]}}\"\n"
        "doc_to_target: label\n"
        "target_delimiter: \"\"\n"
        "metric_list:\n  - metric: acc\n  - metric: acc_norm\n",
        encoding="utf-8")
    return name


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return wall


def naive_main(model_dir: str, prompts_file: str, out_file: str) -> None:
    """One forward pass per (question, choice): the baseline the shared context beats.
    Tokens as lm-eval chooses them: the prompt's trailing whitespace goes to the choice,
    prompt + choice are encoded together, the choice is what follows the prompt's tokens."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    out = []
    for rec in json.loads(Path(prompts_file).read_text(encoding="utf-8")):
        prompt = rec["prompt"].rstrip()
        space = rec["prompt"][len(prompt):]
        ctx = tok(prompt)["input_ids"]
        scores = []
        for c in rec["choices"]:
            cont = tok(prompt + space + c)["input_ids"][len(ctx):]
            with torch.inference_mode():
                logp = torch.log_softmax(model(torch.tensor([ctx + cont])).logits[0].float(), -1)
            scores.append(sum(float(logp[len(ctx) - 1 + t, x]) for t, x in enumerate(cont)))
        out.append({"id": rec["id"], "logprobs": scores})
    Path(out_file).write_text(json.dumps(out), encoding="utf-8")


def lm_eval_samples(out_dir: Path) -> list[dict]:
    files = sorted(out_dir.rglob("samples_*.jsonl"))
    if not files:
        sys.exit(f"lm-eval wrote no samples under {out_dir}")
    return [json.loads(x) for x in files[-1].read_text(encoding="utf-8").splitlines()]


def _args_of(sample: dict) -> list[tuple[str, str]]:
    args = sample["arguments"]
    if isinstance(args, dict):  # {"gen_args_0": {"arg_0": ctx, "arg_1": cont}, ...}
        return [(v["arg_0"], v["arg_1"]) for v in args.values()]
    return [(a[0], a[1]) for a in args]


def argmax(xs: list[float]) -> int:
    return max(range(len(xs)), key=xs.__getitem__)


def bench_model(preset: str, work: Path, items: int, batch_size: int, env: dict[str, str]) -> dict:
    from oshie.eval.prompting import Example, build_prompt
    from oshie.eval.tasks.jcommonsenseqa import JCommonsenseQA

    model_dir = build_model(work, preset)
    data = write_jsonl(work / "valid.jsonl", make_items(items, seed=1))
    train = write_jsonl(work / "train.jsonl", make_items(50, seed=2))
    venv_bin = Path(sys.executable).parent

    # oshie, whole process
    oshie_out = work / f"oshie_{preset}"
    oshie_cmd = [str(venv_bin / "oshie"), "-q", "eval", "run", "--model", str(model_dir),
                 "--task", "jcommonsenseqa", "--data", str(data), "--train-data", str(train),
                 "--shots", "3", "--template", "plain", "--batch-size", str(batch_size),
                 "--out", str(oshie_out)]
    subprocess.run(["rm", "-rf", str(oshie_out)], check=True)
    t_oshie = timed(oshie_cmd, env)
    recs = [json.loads(x) for x in (oshie_out / "jcommonsenseqa" / "items.jsonl").read_text().splitlines()]
    by_id = {r["id"]: r for r in recs}
    ordered = [by_id[str(i)] for i in range(items)]

    # the identical prompt for lm-eval: oshie's few-shot block, then the query
    from oshie.eval.tasks.base import TaskSpec

    task = JCommonsenseQA(TaskSpec(task="jcommonsenseqa", data=data, train_data=train, shots=3),
                          chat=None)
    empty = build_prompt("plain", task.instruction, "", [Example(s.input, s.answer) for s in task.shots])
    shots_prefix = empty[: -len("\n答え:")]
    assert ordered[0]["prompt"].startswith(shots_prefix)
    task_name = lm_eval_yaml(work / "lm_eval_tasks", data, shots_prefix)
    lm_out = work / f"lm_eval_{preset}"
    subprocess.run(["rm", "-rf", str(lm_out)], check=True)
    lm_cmd = [str(venv_bin / "lm_eval"), "--model", "hf", "--model_args",
              f"pretrained={model_dir},dtype=float32", "--tasks", task_name,
              "--include_path", str(work / "lm_eval_tasks"), "--device", "cpu",
              "--batch_size", str(batch_size), "--output_path", str(lm_out), "--log_samples"]
    t_lm = timed(lm_cmd, env)
    samples = sorted(lm_eval_samples(lm_out), key=lambda s: s["doc_id"])

    # naive loop, whole process
    prompts = work / "naive_prompts.json"
    prompts.write_text(json.dumps([{"id": r["id"], "prompt": r["prompt"], "choices": r["choices"]}
                                   for r in ordered], ensure_ascii=False), encoding="utf-8")
    naive_out = work / f"naive_{preset}.json"
    t_naive = timed([sys.executable, __file__, "--naive", str(model_dir), str(prompts), str(naive_out)], env)
    naive = json.loads(naive_out.read_text())

    choice_tokens = [n for r in ordered for n in r["n_tokens"]]
    same_ctx = same_acc = same_norm = same_naive = 0
    max_diff_lm = max_diff_naive = 0.0
    for rec, s, nv in zip(ordered, samples, naive, strict=True):
        pairs = _args_of(s)
        same_ctx += all(ctx == rec["prompt"] for ctx, _ in pairs)
        lm_lp = [float(r[0]) for r in s["filtered_resps"]] if isinstance(s["filtered_resps"][0], list) \
            else [float(r) for r in s["filtered_resps"]]
        lm_norm = [lp / len(c) for lp, c in zip(lm_lp, rec["choices"], strict=True)]
        same_acc += argmax(lm_lp) == rec["pred"]
        same_norm += argmax(lm_norm) == rec["pred_norm"]
        same_naive += argmax(nv["logprobs"]) == rec["pred"]
        max_diff_lm = max(max_diff_lm, *(abs(a - b) for a, b in zip(lm_lp, rec["logprobs"], strict=True)))
        max_diff_naive = max(max_diff_naive, *(abs(a - b) for a, b in
                                                zip(nv["logprobs"], rec["logprobs"], strict=True)))
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(model_dir)
    return {
        "preset": preset, "tokenizer": "sp+dummy-prefix" if preset.endswith("-sp") else "byte-BPE",
        "vocab": cfg.vocab_size, "items": items,
        "choice_tokens": sum(choice_tokens) / len(choice_tokens),
        "single_token_choices": sum(n == 1 for n in choice_tokens) / len(choice_tokens),
        "prompt_chars": sum(len(r["prompt"]) for r in ordered) / items,
        "oshie_s": t_oshie, "lm_eval_s": t_lm, "naive_s": t_naive,
        "same_context": same_ctx, "same_acc_choice": same_acc, "same_norm_choice": same_norm,
        "same_naive_choice": same_naive, "max_logprob_diff_lm_eval": max_diff_lm,
        "max_logprob_diff_naive": max_diff_naive,
        "params_m": _param_count(model_dir) / 1e6,
    }


def _param_count(model_dir: Path) -> int:
    import math

    from safetensors import safe_open

    total = 0
    for f in model_dir.glob("*.safetensors"):
        with safe_open(str(f), "np") as fh:
            total += sum(math.prod(fh.get_slice(k).get_shape()) for k in fh.keys())
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=300)
    ap.add_argument("--models", default="tiny,base,tiny-sp,base-sp")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--workdir", type=Path, default=Path("runs/bench_mc_scoring"))
    ap.add_argument("--naive", nargs=3, metavar=("MODEL", "PROMPTS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.naive:
        naive_main(*args.naive)
        return
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"JCommonsenseQA, {args.items} synthetic items, 3-shot plain prompt, batch {args.batch_size}, "
          f"CPU threads {os.cpu_count()}; whole-process wall time", flush=True)
    print(f"{'model':<8} {'tokenizer':<15} {'params':>8} {'vocab':>6} {'tok/choice':>10} {'oshie':>8} {'lm-eval':>8} {'naive':>8} "
          f"{'lm-eval/oshie':>14} {'naive/oshie':>12}  agreement (of {args.items})", flush=True)
    rows = []
    for p in args.models.split(","):  # each row printed as soon as it is measured
        r = bench_model(p, args.workdir.resolve(), args.items, args.batch_size, env)
        rows.append(r)
        print(f"{r['preset']:<8} {r['tokenizer']:<15} {r['params_m']:>7.1f}M {r['vocab']:>6} {r['choice_tokens']:>10.2f} {r['oshie_s']:>7.1f}s "
              f"{r['lm_eval_s']:>7.1f}s {r['naive_s']:>7.1f}s {r['lm_eval_s'] / r['oshie_s']:>13.2f}x "
              f"{r['naive_s'] / r['oshie_s']:>11.2f}x  context {r['same_context']}, acc {r['same_acc_choice']}, "
              f"acc_norm {r['same_norm_choice']}, naive {r['same_naive_choice']}; max |dlogp| "
              f"lm-eval {r['max_logprob_diff_lm_eval']:.1e}, naive {r['max_logprob_diff_naive']:.1e}", flush=True)
    (args.workdir / "results.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
