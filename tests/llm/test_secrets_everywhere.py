"""Secrets planted three ways (the default key variable, the variable named by api_key_env,
URL user:password) never reach any file the llm / synth / eval judge commands write, their
logs at debug level, or their output, even when calls fail and are retried."""

from __future__ import annotations

import base64
import json
import logging

from tests.eval.test_judge import grade_responder, write_tasks
from tests.llm.helpers import echo
from tests.support.openai_server import Fault, OpenAITestServer
from typer.testing import CliRunner

from oshie.cli.app import app

ENV_KEY = "sk-PLANTED-in-OPENAI_API_KEY-4242"
NAMED_KEY = "sk-PLANTED-in-named-variable-1717"
URL_USER, URL_TOKEN = "planteduser", "PLANTED-url-token-9090"
SECRETS = [ENV_KEY, NAMED_KEY, URL_TOKEN, URL_USER,
           base64.b64encode(f"{URL_USER}:{URL_TOKEN}".encode()).decode()]


def with_credentials(url: str) -> str:
    return url.replace("http://", f"http://{URL_USER}:{URL_TOKEN}@")


class FirstAttemptFails:
    """Every request fails once (500), so retries and their messages happen everywhere."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, index: int, kind: str, body: dict) -> Fault | None:
        text = json.dumps(body, sort_keys=True, ensure_ascii=False)
        if text in self.seen:
            return None
        self.seen.add(text)
        return Fault(status=500)


def run(args: list[str], expect: int = 0) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == expect, (result.output, result.exception)
    return result.output + (str(result.exception) if result.exception else "")


def test_no_secret_in_any_written_file_log_or_output(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)  # oshie, httpx and httpcore at debug level
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    monkeypatch.setenv("OSHIE_PLANTED_KEY", NAMED_KEY)
    inputs, outs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    requests = inputs / "requests.jsonl"
    requests.write_text('{"id": "a", "messages": [{"role": "user", "content": "一"}]}\n'
                        '{"id": "b", "prompt": "二"}\n', "utf-8")
    seeds = inputs / "instructions.txt"
    seeds.write_text("日本の首都はどこですか。\n", "utf-8")
    answers = inputs / "answers.jsonl"
    answers.write_text(json.dumps({"id": "1", "answer": "東京"}, ensure_ascii=False) + "\n", "utf-8")
    tasks = write_tasks(inputs / "tasks.csv")
    retry = ["--set", "backoff_base=0.01"]
    printed = []
    with OpenAITestServer(echo, faults=FirstAttemptFails()) as srv:
        url = with_credentials(srv.base_url)
        printed.append(run(["llm", "generate", str(requests), "--out", str(outs / "gen"),
                            "--base-url", url, "-m", "m", "--api-key-env", "OSHIE_PLANTED_KEY",
                            "--cache", str(outs / "gen.sqlite"), *retry]))
        printed.append(run(["llm", "chat", "やあ", "--base-url", url, "-m", "m", *retry]))
        printed.append(run(["llm", "chat", "やあ", "--base-url", url, "-m", "m",
                            "--max-retries", "0", "--no-cache", "--max-tokens", "3"], expect=1))
        printed.append(run(["synth", "respond", str(seeds), "--out", str(outs / "synth.jsonl"),
                            "--base-url", url, "--model", "m", "--allow-restricted-license",
                            *retry]))
        printed.append(run(["synth", "respond", str(seeds), "--out", str(outs / "synth2.jsonl"),
                            "--set", f"base_url={url}", "--model", "m", "--set",
                            "api_key_env=OSHIE_PLANTED_KEY", *retry]))
        calls = list(srv.calls)
    with OpenAITestServer(grade_responder, faults=FirstAttemptFails()) as judge:
        printed.append(run(["eval", "judge", "--data", str(tasks), "--answers", str(answers),
                            "--limit", "1", "--judge-base-url", with_credentials(judge.base_url),
                            "--judge-model", "judge", "--judge-api-key-env", "OSHIE_PLANTED_KEY",
                            "--out", str(outs / "judge"), *retry]))
    # the credentials were really used: basic auth from the URL reached the server
    assert any(c.headers.get("authorization", "").startswith("Basic ") for c in calls)
    assert any("retry" in r.getMessage() for r in caplog.records)  # failures were logged
    assert any(srv.base_url.removesuffix("/v1") in r.getMessage() for r in caplog.records)

    written = [p for p in outs.rglob("*") if p.is_file()]
    assert len(written) >= 10  # caches, manifests, outputs, reports
    texts = {str(p): p.read_bytes().decode("utf-8", "replace") for p in written}
    texts["logs"] = caplog.text
    texts["output"] = "\n".join(printed)
    hits = [(where, s) for where, text in texts.items() for s in SECRETS if s in text]
    assert hits == []
    manifest = json.loads((outs / "synth.manifest.json").read_text("utf-8"))
    assert manifest["config"]["llm"]["base_url"] == srv.base_url.replace("http://", "http://***@")
