"""Experiment YAML: validation errors name the key, paths resolve, overrides apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from oshie.config import parse_overrides
from oshie.errors import ConfigError
from oshie.experiment.config import load_experiment, resource_path
from oshie.experiment.plan import build_plan

EXAMPLE = Path(__file__).parents[2] / "examples" / "experiment.yaml"


def test_shipped_configs_load_and_resolve_resources() -> None:
    for path in (EXAMPLE, resource_path("experiments/quickstart.yaml")):
        config = load_experiment(path)
        for v in config.variants:
            for d in v.datasets:
                assert Path(d.path).is_file(), d.path
        for t in config.eval.tasks:
            assert Path(t.data).is_file(), t.data


def test_unknown_key_is_an_error_naming_it(tmp_path: Path) -> None:
    text = EXAMPLE.read_text("utf-8").replace("seed: 0", "seed: 0\nsede: 1")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as exc:
        load_experiment(bad)
    assert "sede" in str(exc.value) and str(bad) in str(exc.value)


def test_recipe_may_not_set_what_the_experiment_owns() -> None:
    with pytest.raises(ConfigError, match="output_dir"):
        load_experiment(EXAMPLE, {"recipe.sft.output_dir": "x"})


def test_overrides_reach_nested_fields_and_lists() -> None:
    over = parse_overrides(["recipe.sft.epochs=2", "eval.tasks.0.limit=5", "seed=3"])
    config = load_experiment(EXAMPLE, over)
    assert config.recipe.sft["epochs"] == 2
    assert config.eval.tasks[0].limit == 5
    assert config.seed == 3
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["no-equals-sign"])


def test_duplicate_and_reserved_variant_names_are_rejected() -> None:
    with pytest.raises(ConfigError, match="repeated: A"):
        load_experiment(EXAMPLE, {"variants.1.name": "A"})
    with pytest.raises(ConfigError, match="reserved"):
        load_experiment(EXAMPLE, {"variants.0.name": "base"})


def test_plan_keys_change_only_downstream_of_an_edit() -> None:
    before = {s.id: s.key for s in build_plan(load_experiment(EXAMPLE)).stages}
    after = {
        s.id: s.key
        for s in build_plan(load_experiment(EXAMPLE, {"variants.1.filter": {"limit": 50}})).stages
    }
    changed = {sid for sid in before if before[sid] != after[sid]}
    assert changed == {"data/B", "sft/tiny/B", "eval/tiny/B"}


def test_plan_crosses_every_base_model_with_every_variant(tmp_path: Path) -> None:
    model_dir = tmp_path / "local-model"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}", "utf-8")
    raw = load_experiment(EXAMPLE).model_dump(mode="json")
    raw["base_models"] = [raw["base_models"][0], {"name": "local", "path": str(model_dir)}]
    plan = build_plan(load_experiment(raw))
    ids = [s.id for s in plan.stages]
    for model in ("tiny", "local"):
        assert f"eval/{model}/base" in ids
        for v in ("A", "B", "B-audited", "A-plus-B"):
            assert f"sft/{model}/{v}" in ids and f"eval/{model}/{v}" in ids
    assert "pretrain/local" not in ids and "pretrain/tiny" in ids
    assert [(r.model, r.variant) for r in plan.rows][:2] == [("tiny", "base"), ("tiny", "A")]
    # dependencies always come before the stages that use them
    seen: set[str] = set()
    for s in plan.stages:
        assert set(s.deps) <= seen, s.id
        seen.add(s.id)


def test_a_second_run_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    from oshie.errors import UsageError
    from oshie.experiment.runner import run_experiment, run_lock

    with run_lock(tmp_path), pytest.raises(UsageError, match="another experiment run"):
        run_experiment(load_experiment(EXAMPLE), tmp_path)
    assert not (tmp_path / "stages").exists()  # refused before any stage started
