"""SFT on the tiny model for real: loss falls, labels are exactly the assistant turns,
the run directory is complete, and --resume continues deterministically."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from oshie.errors import UsageError
from oshie.train.config import load_train_config
from oshie.train.data import IGNORE, read_records


def _losses(history: list[dict]) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in history if "loss" in e}


def test_sft_loss_falls(sft_model_dir):
    _, result = sft_model_dir
    losses = [e["loss"] for e in result.log_history if "loss" in e]
    assert len(losses) == 12
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < first * 0.75, losses
    assert result.initial_loss == losses[0] and result.final_loss == losses[-1]


def test_sft_run_directory(sft_model_dir, chat_file):
    import transformers

    out, result = sft_model_dir
    assert (out / "model.safetensors").is_file()
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["stage"] == "train.sft"
    assert manifest["config"]["learning_rate"] == 3e-3
    assert len(manifest["inputs"]["dataset[0]"]["sha256"]) == 64
    assert "transformers" in manifest["versions"] and "trl" in manifest["versions"]
    assert manifest["token_counts"]["trained_tokens"] > 0
    assert manifest["token_counts"]["tokens"] > manifest["token_counts"]["trained_tokens"]
    assert manifest["tokens_per_second"] > 0 and manifest["wall_time_s"] > 0
    log_lines = [json.loads(x) for x in (out / "log_history.jsonl").read_text("utf-8").splitlines()]
    assert [e["loss"] for e in log_lines if "loss" in e] == [e["loss"] for e in result.log_history if "loss" in e]
    # the tokenizer is saved with the training template, so inference renders the same way
    tok = transformers.AutoTokenizer.from_pretrained(out)
    assert "{% generation %}" in tok.chat_template.replace("{%- generation -%}", "{% generation %}")
    assert result.tokens_seen > 0
    report = (out / "report.html").read_text("utf-8")
    assert 'alt="loss"' in report and 'alt="DPO rewards"' not in report and "learning_rate" in report


def _assistant_spans(text: str, messages: list[dict]) -> list[tuple[int, int]]:
    """Character spans of each assistant message's content plus its <|im_end|>."""
    spans, pos = [], 0
    for m in messages:
        if m["role"] != "assistant":
            continue
        head = "<|im_start|>assistant\n"
        start = text.index(head + m["content"] + "<|im_end|>", pos) + len(head)
        end = start + len(m["content"]) + len("<|im_end|>")
        spans.append((start, end))
        pos = end
    return spans


def test_labels_mask_everything_but_assistant_content(tiny_model_dir, chat_file, tmp_path, sft_cfg):
    """Token by token: trained <=> inside an assistant message's content or its <|im_end|>."""
    from oshie.train.sft import SFT

    cfg = load_train_config(sft_cfg(tiny_model_dir, chat_file, tmp_path / "run", max_steps=1,
                              max_length=512), kind="sft")
    trainer, stats, tokenizer, _ = SFT.build_trainer(cfg)
    assert stats["truncated"] == 0
    records = read_records(chat_file)
    rows = trainer.train_dataset
    assert len(rows) == len(records) == stats["examples"]
    n_trained = n_masked = 0
    for record, row in zip(records, rows, strict=True):
        messages = record.chat()
        text = tokenizer.apply_chat_template(messages, tokenize=False)
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        assert enc["input_ids"] == row["input_ids"]
        spans = _assistant_spans(text, messages)
        assert len(spans) == 2  # multi-turn: both assistant answers
        for tok_id, label, (s, e) in zip(row["input_ids"], row["labels"], enc["offset_mapping"], strict=True):
            inside = any(a <= s and e <= b for a, b in spans)
            if inside:
                assert label == tok_id, (text[s:e], text)
                n_trained += 1
            else:
                assert label == IGNORE, (text[s:e], text)
                n_masked += 1
        # the system prompt and user turns are never trained, the final <|im_end|> is
        im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
        trained_ids = [t for t, lab in zip(row["input_ids"], row["labels"], strict=True) if lab != IGNORE]
        assert trained_ids.count(im_end) == 2
    assert n_trained == stats["trained_tokens"] and n_masked > n_trained


def test_resume_continues_from_checkpoint(sft_model_dir, tiny_model_dir, chat_file, tmp_path, sft_cfg):
    """A copy of the run without its last checkpoint resumes at step 6 and repeats the
    original losses of steps 7-12 exactly (same data order, same updates)."""
    from oshie.train.sft import train_sft

    out, first = sft_model_dir
    run = tmp_path / "run"
    shutil.copytree(out, run)
    shutil.rmtree(run / "checkpoint-12")
    settings = sft_cfg(tiny_model_dir, chat_file, run)

    with pytest.raises(UsageError, match="already holds a run"):
        train_sft(load_train_config(settings, kind="sft"))
    resumed = train_sft(load_train_config(settings, kind="sft"), resume=True)
    assert resumed.resumed_from and resumed.resumed_from.endswith("checkpoint-6")
    assert resumed.global_step == 12
    before, after = _losses(first.log_history), _losses(resumed.log_history)
    assert sorted(after) == list(range(1, 13))
    for step in range(7, 13):
        assert after[step] == pytest.approx(before[step], rel=1e-5, abs=1e-6), step
    # the resumed run processed only the steps after the checkpoint
    assert 0 < resumed.tokens_seen < first.tokens_seen


@pytest.mark.parametrize("max_steps", [6, 12])
def test_resume_of_a_finished_run_refuses_and_leaves_it_alone(
        sft_model_dir, tiny_model_dir, chat_file, tmp_path, sft_cfg, max_steps):
    """Resuming a run whose last checkpoint already reached max_steps exits 2 before
    touching anything (it used to train nothing and rewrite the manifest with 0 tokens/s)."""
    import yaml
    from tests.support.cli import run_cli

    out, _ = sft_model_dir
    run = tmp_path / "run"
    shutil.copytree(out, run)
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(yaml.safe_dump(sft_cfg(tiny_model_dir, chat_file, run)), encoding="utf-8")
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    code, _, err = run_cli(["train", "sft", str(cfg), "--resume", "--set", f"max_steps={max_steps}"])
    assert code == 2
    assert "checkpoint-12 has already trained 12 steps" in err and "--overwrite" in err
    after = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert after == before


def test_same_seed_same_losses(tiny_model_dir, chat_file, tmp_path, sft_model_dir, sft_cfg):
    from oshie.train.sft import train_sft

    _, reference = sft_model_dir
    again = train_sft(load_train_config(
        sft_cfg(tiny_model_dir, chat_file, tmp_path / "again", max_steps=3), kind="sft"))
    ref = _losses(reference.log_history)
    assert len(_losses(again.log_history)) == 3
    for step, loss in _losses(again.log_history).items():
        assert loss == pytest.approx(ref[step], rel=1e-5, abs=1e-6)


def test_packing_trains_and_fills_blocks(tiny_model_dir, chat_file, tmp_path, sft_cfg):
    from oshie.train.sft import SFT

    cfg = load_train_config(sft_cfg(tiny_model_dir, chat_file, tmp_path / "p", packing=True,
                              max_length=192, max_steps=1, batch_size=2), kind="sft")
    trainer, stats, _, _ = SFT.build_trainer(cfg)
    packed = trainer.train_dataset
    assert len(packed) < stats["examples"]  # several conversations per block
    total = sum(len(r["input_ids"]) for r in packed)
    assert total == stats["tokens"]
    # masks survive packing: the same number of trained tokens
    assert sum(sum(lab != IGNORE for lab in r["labels"]) for r in packed) == stats["trained_tokens"]
    out = trainer.train()
    assert out.global_step == 1


def test_packed_documents_do_not_attend_to_each_other(tiny_model_dir, chat_file, tmp_path, sft_cfg):
    """A packed (padding-free) training batch gives each conversation the same logits as
    running it alone: no attention across the packed boundaries."""
    import torch

    from oshie.train.sft import SFT

    cfg = load_train_config(sft_cfg(tiny_model_dir, chat_file, tmp_path / "p", packing=True,
                              max_length=192, max_steps=1, batch_size=1), kind="sft")
    trainer, _, _, _ = SFT.build_trainer(cfg)
    batch = next(iter(trainer.get_train_dataloader()))
    starts = (batch["position_ids"][0] == 0).nonzero().flatten().tolist()
    assert len(starts) >= 2  # at least two conversations share the row
    model = trainer.model
    model.train()  # the mode training runs in (dropout is 0 in the tiny config)
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        packed = model(**inputs).logits[0]
        s, e = starts[1], (starts[2] if len(starts) > 2 else batch["input_ids"].shape[1])
        alone = model(input_ids=batch["input_ids"][:, s:e]).logits[0]
    torch.testing.assert_close(packed[s:e], alone, atol=1e-4, rtol=1e-4)


def test_dataset_weights_mix(tiny_model_dir, chat_file, tmp_path, sft_cfg):
    from oshie.train.sft import SFT

    cfg = load_train_config(sft_cfg(tiny_model_dir, chat_file, tmp_path / "w", max_steps=1), kind="sft",
                      overrides=[f"datasets=[{{path: {chat_file}, weight: 2}}, {{path: {chat_file}, weight: 0.5}}]"])
    _, stats, _, _ = SFT.build_trainer(cfg)
    assert stats["records"] == 24 * 2 + 12


def test_cli_sft_summary(tiny_model_dir, chat_file, tmp_path, sft_cfg):
    import yaml
    from typer.testing import CliRunner

    from oshie.cli.app import app

    cfg = tmp_path / "sft.yaml"
    cfg.write_text(yaml.safe_dump(sft_cfg(tiny_model_dir, chat_file, tmp_path / "cli")), "utf-8")
    res = CliRunner().invoke(app, ["--quiet", "train", "sft", str(cfg), "--set", "max_steps=2",
                                   "--set", "eval_split=0.25", "--set", "eval_steps=1", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout[res.stdout.index("{"):])
    assert data["global_step"] == 2 and data["kind"] == "sft"
    assert data["data"]["eval_examples"] == 6 and data["data"]["train_examples"] == 18
    assert "eval_loss" in data["metrics"] or any(
        "eval_loss" in json.loads(x) for x in (tmp_path / "cli" / "log_history.jsonl").read_text().splitlines())
    assert Path(data["output_dir"]) == tmp_path / "cli"
