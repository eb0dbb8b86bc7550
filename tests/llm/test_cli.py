"""`oshie llm chat / generate / cache-stats` against the local test server."""

from __future__ import annotations

import json

from tests.llm.helpers import echo
from tests.support.openai_server import OpenAITestServer
from typer.testing import CliRunner

from oshie.cli.app import app
from oshie.errors import DataError

runner = CliRunner()


def test_chat_raw_and_cached(tmp_path):
    db = tmp_path / "c.sqlite"
    with OpenAITestServer(echo) as srv:
        base = ["llm", "chat", "--base-url", srv.base_url, "-m", "m", "--api-key-env", "NONE_SET"]
        first = runner.invoke(app, [*base, "富士山は？", "--cache", str(db), "-s", "簡潔に"])
        again = runner.invoke(app, [*base, "富士山は？", "--cache", str(db), "-s", "簡潔に"])
        raw = runner.invoke(
            app, [*base, "むかし", "--raw", "--seed", "3", "--temperature", "0.5", "--stop", "。", "--json"]
        )
        uncached = runner.invoke(
            app, [*base, "富士山は？", "--cache", str(db), "-s", "簡潔に", "--no-cache"]
        )
    assert first.exit_code == 0, first.output
    assert "chat:富士山は？|t=0.0|s=None" in first.stdout
    assert "(cached)" in again.output and "(cached)" not in first.output
    assert json.loads(raw.stdout)["text"] == "completion:むかし|t=0.5|s=3|stop=['。']"
    assert srv.calls[0].body["messages"][0] == {"role": "system", "content": "簡潔に"}
    assert len(srv.calls) == 3 and uncached.exit_code == 0  # first, raw, --no-cache

    stats = runner.invoke(app, ["llm", "cache-stats", str(db), "--json"])
    data = json.loads(stats.stdout)
    assert data["entries"] == 1 and data["by_model"] == {"openai:m": 1}
    table = runner.invoke(app, ["llm", "cache-stats", str(db)])
    assert "entries" in table.stdout and "openai:m: 1" in table.stdout


def test_generate_run_directory_and_resume(tmp_path):
    reqs = tmp_path / "requests.jsonl"
    rows = [
        {"id": "a", "messages": [{"role": "user", "content": "一"}]},
        {"id": "b", "prompt": "二", "n": 2, "params": {"temperature": 0.9, "seed": 7}},
        {"id": "c", "system": "敬語で", "messages": [{"role": "user", "content": "三"}]},
    ]
    reqs.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    with OpenAITestServer(echo) as srv:
        args = [
            "llm",
            "generate",
            str(reqs),
            "--out",
            str(tmp_path / "run"),
            "--base-url",
            srv.base_url,
            "-m",
            "m",
            "--cache",
            str(tmp_path / "c.sqlite"),
        ]
        first = runner.invoke(app, args)
        second = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert len(srv.calls) == 4  # a, b#0, b#1, c; the rerun asked nothing
    assert "cache hits 4, misses 0" in " ".join(second.output.split())
    out = [
        json.loads(x)
        for x in (tmp_path / "run" / "generations.jsonl").read_text("utf-8").splitlines()
    ]
    assert [(o["id"], o["sample_index"]) for o in out] == [("a", 0), ("b", 0), ("b", 1), ("c", 0)]
    assert [o["text"].split("|")[1:3] for o in out[1:3]] == [["t=0.9", "s=7"], ["t=0.9", "s=8"]]
    assert all(o["cached"] for o in out)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text("utf-8"))
    assert manifest["samples"] == 4 and manifest["cache"] == {"hits": 4, "misses": 0}


def test_generate_names_the_bad_line(tmp_path):
    reqs = tmp_path / "r.jsonl"
    reqs.write_text('{"id": "ok", "prompt": "x"}\n{"id": "bad", "params": {}}\n', "utf-8")
    result = runner.invoke(
        app,
        [
            "llm",
            "generate",
            str(reqs),
            "--out",
            str(tmp_path / "o"),
            "--base-url",
            "http://127.0.0.1:9/v1",
            "-m",
            "m",
        ],
    )
    err = result.exception
    assert isinstance(err, DataError) and err.line == 2 and "r.jsonl" in str(err)
    assert "'messages'" in str(err)


def test_generate_with_a_nan_temperature_is_a_clear_error(tmp_path):
    import subprocess
    import sys

    reqs = tmp_path / "requests.jsonl"
    reqs.write_text('{"id": "a", "prompt": "x", "params": {"temperature": NaN}}\n', "utf-8")
    base = [sys.executable, "-m", "oshie.cli.app", "llm", "generate", "--out", str(tmp_path / "r"),
            "--base-url", "http://127.0.0.1:9/v1", "-m", "m", "--max-retries", "0"]
    in_file = subprocess.run([*base, str(reqs)], capture_output=True, text=True, timeout=60)
    reqs.write_text('{"id": "a", "prompt": "x"}\n', "utf-8")
    flag = subprocess.run([*base, str(reqs), "--temperature", "nan"], capture_output=True,
                          text=True, timeout=60)
    said = " ".join(in_file.stderr.split())
    assert in_file.returncode == 1 and "line 1" in said and "params.temperature" in said
    assert flag.returncode == 2 and "--temperature" in flag.stderr and "finite" in flag.stderr
    assert "Traceback" not in in_file.stderr + flag.stderr
