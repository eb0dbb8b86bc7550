"""The same steps on a real local Ray cluster (2 CPUs): clean -> dedup -> mix give the same
outputs as the local engine, and a worker killed mid-run is retried without losing or
duplicating a document."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.corpus.conftest import write_jsonl

from oshie.corpus import clean as clean_module
from oshie.corpus.clean import run_clean
from oshie.corpus.dedup import CorpusDedupConfig, run_dedup
from oshie.corpus.mix import MixConfig, run_mix
from oshie.corpus.presets import CleanConfig
from oshie.corpus.run import EngineOptions
from oshie.corpus.synthetic import documents

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def ray_cluster():
    src = str(Path(__file__).resolve().parents[2] / "src")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}})
    yield
    ray.shutdown()


def _corpus(root: Path) -> Path:
    for k, source in enumerate(("web", "news", "blog")):
        rows = [{"id": f"{source}-{i}", "text": t} for i, (t, _) in enumerate(documents(40, seed=10 + k))]
        rows += [{"id": f"{source}-copy-{i}", "text": rows[i]["text"]} for i in range(5)]  # exact copies
        write_jsonl(root / source / "0.jsonl", rows)
    (root / "web" / "1.jsonl").write_text('{"text": "壊れた行\n', encoding="utf-8")  # one quarantined line
    return root


def _rows(folder: Path) -> list[dict]:
    return [r for f in sorted(folder.glob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def _pipeline(corpus: Path, out: Path, engine: str) -> dict[str, list[dict]]:
    opts = EngineOptions(engine=engine, workers=2)
    cfg = CleanConfig(disable=["dup_ngrams"])  # keep enough documents for the later steps
    run_clean([corpus], out / "clean", cfg, opts=opts)
    run_dedup([out / "clean" / "kept"], out / "dedup", CorpusDedupConfig(partitions=3), opts=opts)
    run_mix([out / "dedup" / "kept"], out / "mix", MixConfig(targets={"web": 0.5, "news": 0.3, "blog": 0.2}), opts=opts)
    return {f"{step}/{part}": _rows(out / step / part) for step in ("clean", "dedup", "mix") for part in ("kept", "rejected")}


def test_ray_engine_gives_the_local_outputs(ray_cluster, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "in")
    local = _pipeline(corpus, tmp_path / "local", "local")
    on_ray = _pipeline(corpus, tmp_path / "ray", "ray")
    assert local == on_ray
    assert local["clean/kept"] and local["dedup/rejected"] and local["mix/kept"]
    for step in ("clean", "dedup", "mix"):
        a = json.loads((tmp_path / "local" / step / "manifest.json").read_text())
        b = json.loads((tmp_path / "ray" / step / "manifest.json").read_text())
        assert a["totals"] == b["totals"] and a["by_source"] == b["by_source"]
        assert b["engine"] == "ray"
    clusters = [(tmp_path / e / "dedup" / "clusters.jsonl").read_text() for e in ("local", "ray")]
    assert clusters[0] == clusters[1] and clusters[0].count("\n") >= 3


def test_a_killed_worker_is_retried_and_nothing_is_lost(ray_cluster, tmp_path: Path, monkeypatch) -> None:
    corpus = _corpus(tmp_path / "in")
    reference = run_clean([corpus], tmp_path / "local", CleanConfig(), opts=EngineOptions(workers=1))
    marker = tmp_path / "killed-once"
    real = clean_module.clean_shard

    def dies_once(task: dict) -> dict:
        if task["index"] == 2 and not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies in the middle of the run
        return real(task)

    monkeypatch.setattr(clean_module, "clean_shard", dies_once)
    result = run_clean([corpus], tmp_path / "ray", CleanConfig(), opts=EngineOptions(engine="ray"))
    assert marker.exists()  # the kill happened
    assert result.totals == reference.totals
    kept, ref_kept = _rows(tmp_path / "ray" / "kept"), _rows(tmp_path / "local" / "kept")
    assert kept == ref_kept and len({r["id"] for r in kept}) == len(kept)
    assert _rows(tmp_path / "ray" / "rejected") == _rows(tmp_path / "local" / "rejected")
    assert not list((tmp_path / "ray").rglob("*.tmp"))  # no half-written shard left behind
