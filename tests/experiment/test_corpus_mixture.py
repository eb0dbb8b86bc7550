"""The Ridge-i-style example as one experiment file: generated corpus -> clean -> dedup -> two
mixtures -> a tokenizer and a tiny pre-trained base per mixture -> SFT -> JGLUE, run end to
end offline at tiny size through the CLI, with the two mixtures side by side in the results
and the report; plus the planning rules (shared steps, keys, config errors) without running."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.errors import ConfigError
from oshie.experiment.cache import MARKER
from oshie.experiment.config import load_experiment
from oshie.experiment.plan import build_plan

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "corpus_mixture" / "experiment.yaml"
TASKS = ("jcommonsenseqa", "jnli", "marc_ja", "jsquad")
SHARED = ["corpus-generate/news-heavy+web-heavy", "corpus-clean/news-heavy+web-heavy",
          "corpus-dedup/news-heavy+web-heavy"]

# the shipped plan, only smaller: fewer documents, a narrower model, a few steps and items
SMALL: dict[str, Any] = {
    **{f"base_models.{i}.build.{k}": v for i in (0, 1) for k, v in {
        "mixture.generate.n": 60,
        "mixture.workers": 1,
        "vocab_size": 400,
        "pretrain.max_steps": 4,
        "model_overrides": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2},
    }.items()},
    "recipe.sft.max_steps": 2,
    "recipe.sft.batch_size": 4,
    "recipe.sft.max_length": 128,
    **{f"eval.tasks.{i}.limit": 6 for i in range(4)},
}
SETS = [a for k, v in SMALL.items() for a in ("--set", f"{k}={json.dumps(v)}")]  # JSON is YAML


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _stage_dirs(out: Path, kind: str) -> list[Path]:
    return sorted((out / "stages").glob(f"{kind}-*"))


@pytest.mark.slow
def test_the_shipped_mixture_experiment_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _cli("experiment", "run", str(EXAMPLE), "--out", str(out), *SETS)

    # the clean and dedup steps the two bases share ran once, into one directory each;
    # the two mixes are two stages
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert [s for s in manifest["ran"] if s.startswith("corpus-")] == [
        *SHARED, "corpus-mix/news-heavy", "corpus-mix/web-heavy"]
    for kind, n in (("corpus-generate", 1), ("corpus-clean", 1), ("corpus-dedup", 1), ("corpus-mix", 2)):
        assert len(_stage_dirs(out, kind)) == n, kind
    clean = json.loads((_stage_dirs(out, "corpus-clean")[0] / "corpus" / "manifest.json").read_text("utf-8"))
    t = clean["totals"]
    assert t["in"] == 120 and t["in"] == t["kept"] + t["rejected"] + t["quarantined"] and 0 < t["kept"] < 120
    for d in _stage_dirs(out, "corpus-"):  # every stage keeps its own manifest
        assert json.loads((d / "manifest.json").read_text("utf-8"))["params"]

    # both mixtures side by side: requested vs achieved shares, and four tasks per base
    results = json.loads((out / "results.json").read_text("utf-8"))
    mixtures = {m["model"]: m for m in results["mixtures"]}
    assert list(mixtures) == ["news-heavy", "web-heavy"]
    wanted = {"news-heavy": {"news": 0.8, "web": 0.2}, "web-heavy": {"news": 0.2, "web": 0.8}}
    for model, shares in wanted.items():
        mix = mixtures[model]
        mix_dir = out / json.loads((out / "plan.json").read_text("utf-8"))[f"corpus-mix/{model}"]["dir"]
        on_disk = json.loads((mix_dir / "corpus" / "manifest.json").read_text("utf-8"))["mix"]["groups"]
        assert mix["groups"] == on_disk  # the report's figures are the mix manifest's
        for group, share in shares.items():
            assert mix["groups"][group]["requested"] == share
            assert abs(mix["groups"][group]["achieved"] - share) < 0.05, (model, group, mix["groups"])
        assert [s["step"] for s in mix["steps"]] == ["clean", "dedup", "mix"]
        assert [s["stage"] for s in mix["steps"][:2]] == SHARED[1:]
        for variant in ("base", "clean"):
            assert {n.split("/")[0] for n in mix["scores"][variant]} == set(TASKS), mix["scores"]
    assert mixtures["news-heavy"]["groups"]["news"]["tokens"] > mixtures["web-heavy"]["groups"]["news"]["tokens"]

    rows = list(csv.DictReader((out / "results.csv").open(encoding="utf-8")))
    assert [(r["model"], r["variant"]) for r in rows] == [
        ("news-heavy", "base"), ("news-heavy", "clean"), ("web-heavy", "base"), ("web-heavy", "clean")]
    report = (out / "report.html").read_text("utf-8")
    table = report[report.index('id="mixtures-table"'):]
    table = table[: table.index("</table>")]
    assert 'data-model="news-heavy"' in table and 'data-model="web-heavy"' in table
    assert "80.0% →" in table and "20.0% →" in table and "(shared)" in table
    for task in TASKS:
        assert f'data-metric="{task}/' in table

    # status lists every stage (the corpus steps too) as done; a rerun reuses all of them
    status = _cli("experiment", "status", str(EXAMPLE), "--out", str(out), *SETS)
    n = len(manifest["stages"])
    assert n == 16 and f"{n}/{n} stages done" in status
    _cli("experiment", "run", str(EXAMPLE), "--out", str(out), *SETS)
    again = json.loads((out / "manifest.json").read_text("utf-8"))
    assert again["ran"] == [] and len(again["skipped"]) == n

    # a run killed inside the shared clean step (one shard written, no completion marker):
    # the rerun finishes that step from its finished shard, and nothing below it reruns
    step = _stage_dirs(out, "corpus-clean")[0]
    kept = step / "corpus" / "kept"
    before = pq.read_table(kept).to_pylist()
    first_shard = (kept / "part-00000.parquet").stat().st_mtime_ns
    (step / MARKER).unlink()
    (step / "corpus" / "done" / "part-00001.json").unlink()
    (kept / "part-00001.parquet").unlink()
    _cli("experiment", "run", str(EXAMPLE), "--out", str(out), *SETS)
    resumed = json.loads((out / "manifest.json").read_text("utf-8"))
    assert resumed["ran"] == resumed["resumed"] == [SHARED[1]]
    assert (kept / "part-00000.parquet").stat().st_mtime_ns == first_shard  # not redone
    assert pq.read_table(kept).to_pylist() == before


# --- planning, without running ----------------------------------------------------------------


def _plan(**sets: Any):
    config = load_experiment(EXAMPLE, [*SMALL.items(), *sets.items()])
    return build_plan(config)


def test_identical_steps_are_one_stage_and_keys_follow_the_settings() -> None:
    plan = _plan()
    ids = [s.id for s in plan.stages if s.kind.startswith("corpus-")]
    assert ids == [*SHARED, "corpus-mix/news-heavy", "corpus-mix/web-heavy"]
    assert plan.by_id["base/news-heavy"].deps == ["corpus-mix/news-heavy"]
    assert plan.by_id["pretrain/web-heavy"].deps == ["base/web-heavy", "corpus-mix/web-heavy"]
    keys = {s.id: s.key for s in plan.stages}

    # another ratio for one base: only its mix and what is built on it change
    edited = _plan(**{"base_models.1.build.mixture.ratios": {"news": 0.5, "web": 0.5}})
    changed = {s.id for s in edited.stages if keys.get(s.id) != s.key}
    assert changed == {"corpus-mix/web-heavy", "base/web-heavy", "pretrain/web-heavy",
                       "sft/web-heavy/clean", "eval/web-heavy/base", "eval/web-heavy/clean"}

    # different cleaning for one base: the steps from there on are no longer shared
    split = _plan(**{"base_models.0.build.mixture.clean.swallow.min_letters": 300})
    ids = [s.id for s in split.stages if s.kind.startswith("corpus-")]
    assert ids == ["corpus-generate/news-heavy+web-heavy", "corpus-clean/news-heavy", "corpus-dedup/news-heavy",
                   "corpus-mix/news-heavy", "corpus-clean/web-heavy", "corpus-dedup/web-heavy",
                   "corpus-mix/web-heavy"]
    assert split.by_id["corpus-clean/web-heavy"].key == keys["corpus-clean/news-heavy+web-heavy"]


def test_mixture_settings_are_checked_at_load_time(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not both"):
        load_experiment(EXAMPLE, [("base_models.0.build.corpus", ["oshie:corpus/ja_sample.txt"])])
    with pytest.raises(ConfigError, match="min_leters"):
        load_experiment(EXAMPLE, [("base_models.0.build.mixture.clean.swallow.min_leters", 3)])
    with pytest.raises(ConfigError, match="'inputs', 'generate'"):
        load_experiment(EXAMPLE, [("base_models.0.build.mixture.generate", None)])
    # inputs are paths relative to the experiment file, hashed by content into the first step
    corpus = tmp_path / "corpus" / "blog"
    corpus.mkdir(parents=True)
    (corpus / "a.jsonl").write_text('{"text": "こんにちは"}\n', "utf-8")
    (tmp_path / "exp.yaml").write_text(EXAMPLE.read_text("utf-8"), "utf-8")
    config = load_experiment(tmp_path / "exp.yaml", [("base_models.0.build.mixture.generate", None),
                                                     ("base_models.0.build.mixture.inputs", ["corpus"]),
                                                     ("base_models.0.build.mixture.ratios", {"blog": 1})])
    plan = build_plan(config)
    first = plan.by_id["corpus-clean/news-heavy"]
    assert first.deps == [] and first.files == {"input[0]": str(tmp_path / "corpus")}


def test_a_mixture_of_named_files_alone_is_one_mix_stage_the_base_reads(tmp_path: Path) -> None:
    from oshie.experiment.cache import StageOutput
    from oshie.experiment.corpus_stages import mixed_corpus
    from oshie.experiment.stages import ADAPTERS

    for source, n in (("news", 30), ("web", 30)):
        (tmp_path / "corpus" / source).mkdir(parents=True)
        rows = [json.dumps({"id": f"{source}-{i}", "text": f"{source}の文書{i}。" * 20}, ensure_ascii=False)
                for i in range(n)]
        (tmp_path / "corpus" / source / "a.jsonl").write_text("\n".join(rows) + "\n", "utf-8")
    (tmp_path / "exp.yaml").write_text(EXAMPLE.read_text("utf-8"), "utf-8")
    mixture = {"inputs": ["corpus"], "ratios": {"news": 0.25, "web": 0.75}}
    config = load_experiment(tmp_path / "exp.yaml", [(f"base_models.{i}.build.mixture", mixture) for i in (0, 1)])
    plan = build_plan(config)
    assert [s.id for s in plan.stages if s.kind.startswith("corpus-")] == ["corpus-mix/news-heavy+web-heavy"]
    stage = plan.by_id["corpus-mix/news-heavy+web-heavy"]
    assert plan.by_id["base/web-heavy"].deps == [stage.id] and plan.by_id["base/web-heavy"].files == {}

    d = tmp_path / "stage"
    outputs = ADAPTERS[stage.kind](stage, d, {})
    assert outputs["totals"]["in"] == 60
    groups = json.loads((d / outputs["manifest"]).read_text("utf-8"))["mix"]["groups"]
    assert groups["news"]["requested"] == 0.25 and abs(groups["news"]["achieved"] - 0.25) < 0.05
    corpus = mixed_corpus({stage.id: StageOutput(d, outputs)})
    texts = [json.loads(line)["text"] for f in sorted(Path(corpus[0]).glob("*.jsonl"))
             for line in f.read_text("utf-8").splitlines()]
    assert len(texts) == outputs["totals"]["kept"] and all(t.endswith("。") for t in texts)
