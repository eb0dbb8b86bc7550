"""The plan pieces the NEC seed needs: continued pre-training (RoPE position interpolation)
of a local base model as well as of a built one, and a preference stage between SFT and
DPO, with config errors that name the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from oshie.errors import ConfigError
from oshie.experiment.config import load_experiment
from oshie.experiment.plan import build_plan

NEC = Path(__file__).resolve().parents[2] / "examples" / "seeds" / "nec.yaml"
JUDGE = {"base_url": "http://127.0.0.1:9/v1", "model": "judge"}


def test_the_nec_seed_plans_cpt_sft_prefs_dpo_in_order() -> None:
    config = load_experiment(NEC)
    ids = [s.id for s in build_plan(config).stages]
    chain = ["base/tiny", "pretrain/tiny", "synth/chat/0-extend", "sft/tiny/chat",
             "prefs/tiny/chat", "dpo/tiny/chat", "eval/tiny/chat", "pairwise/tiny"]
    assert [i for i in ids if i in chain] == chain
    plan = build_plan(config)
    assert plan.by_id["pretrain/tiny"].params["rope_scaling"] == {
        "type": "linear", "factor": 2.0, "extra": {}}
    # prompts default to the variant's own data; the judge's cache file is not in the key
    assert plan.by_id["prefs/tiny/chat"].deps == ["sft/tiny/chat", "data/chat"]
    assert plan.by_id["dpo/tiny/chat"].deps == ["sft/tiny/chat", "prefs/tiny/chat"]


def test_a_local_base_takes_continued_pretraining_on_its_own_corpus(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("日本語の文です。\n", "utf-8")
    sets = {"base_models": [{"name": "real", "path": str(tiny_model_dir), "pretrain": {
        "corpus": [str(corpus)], "max_length": 256, "rope_scaling": {"factor": 2}}}]}
    config = load_experiment(NEC, sets)
    plan = build_plan(config)
    pre = plan.by_id["pretrain/real"]
    assert pre.deps == ["base/real"] and pre.files == {"corpus[0]": str(corpus)}
    assert plan.by_id["sft/real/chat"].deps[0] == "pretrain/real"  # SFT tunes the CPT'd model


@pytest.mark.parametrize(("sets", "message"), [
    ({"base_models.0.pretrain": {"max_steps": 2}}, "goes in 'build.pretrain'"),
    ({"base_models": [{"name": "x", "path": "m", "pretrain": {"max_steps": 2}}]},
     "'pretrain.corpus' names the text"),
    ({"recipe.dpo": None}, "recipe.preference makes pairs for DPO"),
    ({"recipe.preference": None, "recipe.dpo.datasets": []}, "recipe.dpo needs pairs"),
    ({"recipe.preference.judge": {"model": "j", "api_key": "sk-x"}}, "api_key"),
    ({"recipe.preference.samples": 1}, "samples"),
])
def test_bad_nec_settings_name_the_key(sets: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_experiment(NEC, sets)
