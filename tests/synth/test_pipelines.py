"""Every synthesis command end to end over real HTTP against the scripted test server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.openai_server import Fault, OpenAITestServer
from tests.synth.conftest import SEEDS, read_jsonl
from tests.synth.scripted import respond as scripted
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.errors import OshieError
from oshie.llm.config import LLMConfig
from oshie.synth.api import run_stage
from oshie.synth.output import rejected_path
from oshie.synth.respond import RespondConfig, respond
from oshie.synth.self_instruct import SelfInstructConfig, self_instruct


def usage_error(result) -> str:
    """The OshieError a command raised (the CLI prints it and exits with its exit_code)."""
    assert isinstance(result.exception, OshieError), result.output
    assert result.exception.exit_code == 2
    return str(result.exception)


def synth(srv: OpenAITestServer, *args: str, model: str = "test-model") -> str:
    result = CliRunner().invoke(app, ["synth", *args, "--base-url", srv.base_url,
                                      "--model", model])
    assert result.exit_code == 0, result.output
    return result.output


def test_self_instruct_filters_and_novelty(tmp_path: Path, seeds_file: Path) -> None:
    out = tmp_path / "si.jsonl"
    with OpenAITestServer(scripted) as srv:
        text = synth(srv, "self-instruct", str(seeds_file), "--out", str(out), "--target", "5")
    rows = read_jsonl(out)
    assert len(rows) == 5 and "kept" in text
    instructions = [r["messages"][0]["content"] for r in rows]
    assert not set(instructions) & set(SEEDS)
    meta = rows[0]["metadata"]
    assert meta["stage"] == "self-instruct" and meta["generator_model"] == "test-model"
    assert meta["prompt_template"] == "synth_self_instruct_v1"
    assert meta["license_restricted"] is False and set(meta["seed_ids"]) <= {f"s{i}" for i in range(8)}
    reasons = {r["reason"] for r in read_jsonl(rejected_path(out))}
    # the scripted model always adds an image task, an English task and a duplicate
    assert {"blocklist", "not_japanese", "not_novel"} <= reasons
    manifest = json.loads(out.with_name("si.manifest.json").read_text("utf-8"))
    assert manifest["summary"]["kept"] == 5 and manifest["config"]["stage"]["target"] == 5


def test_rerun_makes_no_new_calls_and_same_output(tmp_path: Path, seeds_file: Path) -> None:
    out = tmp_path / "r.jsonl"
    with OpenAITestServer(scripted) as srv:
        synth(srv, "respond", str(seeds_file), "--out", str(out), "--n", "2")
        first, calls = out.read_bytes(), len(srv.calls)
        assert calls == 2 * len(SEEDS)
        # the n samples differ (sample index -> seed) and each is its own cache entry
        seeds_sent = {c.body["seed"] for c in srv.calls}
        assert seeds_sent == {0, 1}
        text = synth(srv, "respond", str(seeds_file), "--out", str(out), "--n", "2")
        assert len(srv.calls) == calls
        assert out.read_bytes() == first
    assert "cache hits" in text
    rows = read_jsonl(out)
    assert [r["id"] for r in rows[:2]] == ["s0-r0", "s0-r1"]
    assert rows[1]["metadata"]["generation_params"]["sample_index"] == 1
    assert rows[0]["messages"][-1]["role"] == "assistant"


def _faults(index: int, kind: str, body: dict) -> Fault | None:
    # 30% of calls fail, each fault kind in turn: 429+Retry-After, 500, hang, broken JSON
    if index % 10 not in (1, 4, 7):
        return None
    nth = (index // 10) * 3 + (1, 4, 7).index(index % 10)
    return [Fault(hang_s=1.5), Fault(status=429, retry_after=0.05), Fault(status=500),
            Fault(malformed=True)][nth % 4]


@pytest.mark.parametrize("stage", ["self-instruct", "respond"])
def test_faults_do_not_change_the_output(tmp_path: Path, seeds_file: Path, stage: str) -> None:
    outputs = []
    for name, faults in (("clean", None), ("faulty", _faults)):
        out = tmp_path / name / "out.jsonl"
        opts = LLMConfig(base_url="", model="test-model", timeout=0.5, backoff_base=0.01,
                          concurrency=4)
        with OpenAITestServer(scripted, faults=faults) as srv:
            opts.base_url = srv.base_url
            if stage == "respond":
                run_stage("respond", respond, RespondConfig(n=2), out=out, llm=opts,
                          inputs=seeds_file)
            else:
                run_stage("self-instruct", self_instruct, SelfInstructConfig(target=20, requests_per_round=4), out=out,
                          llm=opts, inputs=seeds_file)
            if faults is not None:
                kinds = {("hang" if c.fault.hang_s else "malformed" if c.fault.malformed
                          else c.fault.status) for c in srv.calls if c.fault}
                assert kinds == {429, 500, "hang", "malformed"}
                n_faults = sum(c.fault is not None for c in srv.calls)
                print(f"\n{stage}: {len(srv.calls)} calls, {n_faults} faulted {sorted(map(str, kinds))}")
                assert n_faults >= 0.25 * len(srv.calls)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0]


def test_evol_eliminates_failed_evolutions(tmp_path: Path, seeds_file: Path) -> None:
    out = tmp_path / "evol.jsonl"
    with OpenAITestServer(scripted) as srv:
        synth(srv, "evol", str(seeds_file), "--out", str(out), "--rounds", "2")
    rows = read_jsonl(out)
    rejected = read_jsonl(rejected_path(out))
    assert rows and rejected
    for r in rows:
        assert "プロンプト" not in r["messages"][0]["content"]
        assert r["metadata"]["evol_operation"] in {"constraints", "deepen", "concretize",
                                                   "reasoning", "breadth"}
        assert r["metadata"]["prompt_template"].startswith("synth_evol_")
    assert {r["reason"] for r in rejected} == {"template_leak"}
    second = [r for r in rows if r["metadata"]["evol_round"] == 2]
    assert second and all(r["metadata"]["parent_id"].startswith(r["metadata"]["root_id"] + "-evol1")
                          for r in second)


def test_screen_keep_expression(tmp_path: Path, seeds_file: Path) -> None:
    out = tmp_path / "screen.jsonl"
    with OpenAITestServer(scripted) as srv:
        synth(srv, "screen", str(seeds_file), "--out", str(out), "--keep",
              "quality>=3 and safety=='safe'")
    kept, dropped = read_jsonl(out), read_jsonl(rejected_path(out))
    assert len(kept) + len(dropped) == len(SEEDS) and kept and dropped
    for r in kept:
        tags = r["metadata"]["screen"]
        assert tags["quality"] >= 3 and tags["safety"] == "safe"
    for r in dropped:
        tags = r["record"]["metadata"]["screen"]
        assert tags["quality"] < 3 or tags["safety"] != "safe"


def test_screen_refuses_code_in_keep_expression(tmp_path: Path, seeds_file: Path) -> None:
    with OpenAITestServer(scripted) as srv:
        result = CliRunner().invoke(app, [
            "synth", "screen", str(seeds_file), "--out", str(tmp_path / "s.jsonl"),
            "--base-url", srv.base_url, "--model", "m",
            "--keep", "__import__('os').system('touch pwned') or quality>1"])
        assert "not allowed" in usage_error(result)
        assert srv.calls == []  # refused before any LLM call
    assert not (tmp_path / "pwned").exists()
    assert not (tmp_path / "s.jsonl").exists()  # no empty outputs left behind
    assert not (tmp_path / "s.rejected.jsonl").exists()


def test_preference_pairs_keep_scores(tmp_path: Path, seeds_file: Path) -> None:
    out = tmp_path / "pref.jsonl"
    with OpenAITestServer(scripted) as srv:
        synth(srv, "preference", str(seeds_file), "--out", str(out), "--n", "3")
    rows = read_jsonl(out)
    assert rows
    for r in rows:
        assert r["chosen_score"] - r["rejected_score"] >= 1
        scores = r["metadata"]["scores"]
        assert r["chosen_score"] == max(scores.values())
        assert r["rejected_score"] == min(scores.values())
        assert r["chosen"][0]["content"] != r["rejected"][0]["content"]


def test_extend_adds_dependent_turns_until_sentinel(tmp_path: Path, seeds_file: Path) -> None:
    out = tmp_path / "ext.jsonl"
    with OpenAITestServer(scripted) as srv:
        synth(srv, "extend", str(seeds_file), "--out", str(out), "--turns", "3")
        user_sim = [c for c in srv.calls if "# これまでの会話" in c.body["messages"][-1]["content"]]
    rows = read_jsonl(out)
    assert len(rows) == len(SEEDS)
    for r in rows:
        roles = [m["role"] for m in r["messages"]]
        # the scripted user asks one follow-up, then says [終了]
        assert roles == ["user", "assistant", "user", "assistant"]
        assert r["metadata"]["turns_added"] == 1
    # the simulated user saw the previous answer
    assert all("はい、お答えします。" in c.body["messages"][-1]["content"] for c in user_sim)
    assert len(user_sim) == 2 * len(SEEDS)


def test_magpie_over_http_with_pre_query(tmp_path: Path) -> None:
    out = tmp_path / "magpie.jsonl"
    with OpenAITestServer(scripted) as srv:
        synth(srv, "magpie", "--out", str(out), "--n", "6", "--pre-query",
              "<|im_start|>user\\n")
        completions = [c for c in srv.calls if c.kind == "completion"]
    assert {c.body["prompt"] for c in completions} == {"<|im_start|>user\n"}
    assert all(c.body["stop"] == ["<|im_end|>"] for c in completions)
    rows = read_jsonl(out)
    assert rows
    for r in rows:
        q = r["messages"][0]["content"]
        assert q.endswith("について教えてください。") and "<|" not in q
        assert r["messages"][1]["role"] == "assistant"
    queries = [r["messages"][0]["content"] for r in rows]
    assert len(queries) == len(set(queries))  # repeats were dropped as duplicates


def test_license_guard_stops_and_override_marks(tmp_path: Path, seeds_file: Path) -> None:
    out = tmp_path / "r.jsonl"
    with OpenAITestServer(scripted) as srv:
        result = CliRunner().invoke(app, ["synth", "respond", str(seeds_file), "--out", str(out),
                                          "--base-url", srv.base_url, "--model", "gpt-4o-mini"])
        message = usage_error(result)
        assert "gpt-4o-mini" in message and "--allow-restricted-license" in message
        assert srv.calls == [] and not out.exists()
        synth(srv, "respond", str(seeds_file), "--out", str(out), "--allow-restricted-license",
              model="gpt-4o-mini")
    rows = read_jsonl(out)
    assert rows and all(r["metadata"]["license_restricted"] is True for r in rows)
    manifest = json.loads(out.with_name("r.manifest.json").read_text("utf-8"))
    assert manifest["summary"]["license_restricted"] is True


def test_custom_license_list(tmp_path: Path, seeds_file: Path) -> None:
    rules = tmp_path / "rules.txt"
    rules.write_text("# ours\nacme-*  | ACME terms forbid training on outputs\n", encoding="utf-8")
    with OpenAITestServer(scripted) as srv:
        result = CliRunner().invoke(app, ["synth", "respond", str(seeds_file), "--out",
                                          str(tmp_path / "o.jsonl"), "--base-url", srv.base_url,
                                          "--model", "ACME-large", "--license-list", str(rules)])
    assert "ACME terms" in usage_error(result)


def test_api_key_never_written(tmp_path: Path, seeds_file: Path, monkeypatch) -> None:
    key = "sk-oshie-PLANTED-7f3a9c"
    monkeypatch.setenv("OSHIE_SYNTH_TEST_KEY", key)
    out = tmp_path / "run" / "keyed.jsonl"
    with OpenAITestServer(scripted, api_key=key) as srv:
        result = CliRunner().invoke(app, [
            "synth", "respond", str(seeds_file), "--out", str(out), "--base-url", srv.base_url,
            "--model", "test-model", "--api-key-env", "OSHIE_SYNTH_TEST_KEY"])
        assert result.exit_code == 0, result.output
        assert srv.answered()  # the key was sent, so the server answered
    assert key not in result.output
    files = list((tmp_path / "run").iterdir())
    assert {p.name for p in files} >= {"keyed.jsonl", "keyed.manifest.json",
                                       "keyed.rejected.jsonl", "keyed.cache.sqlite"}
    for p in files:
        assert key.encode() not in p.read_bytes(), p.name


def test_stage_settings_from_yaml_with_overrides(tmp_path: Path, seeds_file: Path) -> None:
    cfg = tmp_path / "respond.yaml"
    cfg.write_text("n: 3\ntemprature: 0.2\n", encoding="utf-8")
    out = tmp_path / "r.jsonl"
    args = ["respond", str(seeds_file), "--out", str(out), "--config", str(cfg)]
    with OpenAITestServer(scripted) as srv:
        bad = CliRunner().invoke(app, ["synth", *args, "--base-url", srv.base_url, "--model", "m"])
        message = usage_error(bad)
        assert "respond.yaml" in message and "temprature" in message and "unknown" in message
        cfg.write_text("n: 3\ntemperature: 0.2\n", encoding="utf-8")
        synth(srv, *args, "--set", "n=2")
    manifest = json.loads(out.with_name("r.manifest.json").read_text("utf-8"))
    assert manifest["config"]["stage"]["n"] == 2  # --set beats the file
    assert manifest["config"]["stage"]["temperature"] == 0.2
    assert len(read_jsonl(out)) == 2 * len(SEEDS)
