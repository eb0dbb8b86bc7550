"""API keys never reach logs, caches, manifests, errors or any written file."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tests.llm.helpers import batch, echo
from tests.support.openai_server import Fault, OpenAITestServer

from oshie.errors import LLMError
from oshie.llm import CachedLLM, OpenAICompatLLM, build_llm, load_llm_config
from oshie.runs import Manifest

KEY = "sk-oshie-PLANTED-0123456789abcdef"
REPO = Path(__file__).resolve().parents[2]


def assert_no_key_under(root: Path) -> int:
    """Every file under root, read as bytes, is free of the key; returns how many were read."""
    files = [p for p in root.rglob("*") if p.is_file()]
    for p in files:
        assert KEY.encode() not in p.read_bytes(), f"key found in {p}"
    return len(files)


class PoisonFaults:
    """One request always fails with 503; every other request fails on its first
    attempt with some transient fault, then succeeds."""

    kinds = (Fault(status=429, retry_after=0.01), Fault(malformed=True), Fault(status=500))

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, index: int, kind: str, body: dict) -> Fault | None:
        text = body.get("prompt") or body["messages"][-1]["content"]
        if text.startswith("質問5"):
            return Fault(status=503)
        if text in self.seen:
            return None
        self.seen.add(text)
        return self.kinds[len(self.seen) % len(self.kinds)]


def test_key_stays_out_of_cache_logs_errors_and_manifest(tmp_path, monkeypatch, caplog, capsys):
    caplog.set_level(logging.DEBUG)  # httpx/httpcore debug logs included
    monkeypatch.setenv("OSHIE_LEAK_TEST_KEY", KEY)
    with OpenAITestServer(echo, faults=PoisonFaults(), api_key=KEY) as srv:
        cfg = load_llm_config(
            None,
            {
                "model": "m",
                "base_url": srv.base_url,
                "api_key_env": "OSHIE_LEAK_TEST_KEY",
                "timeout": 2,
                "max_retries": 2,
                "backoff_base": 0.01,
                "cache": str(tmp_path / "cache.sqlite"),
            },
        )
        llm = build_llm(cfg)
        with pytest.raises(LLMError) as err:
            llm.generate(batch(8))
        assert srv.answered(), "the key must have worked for the other requests"
        assert all(c.headers["authorization"] == f"Bearer {KEY}" for c in srv.calls)
    assert isinstance(llm, CachedLLM) and llm.stats().entries >= 1
    manifest = Manifest(tmp_path / "run", "llm.test", cfg)
    manifest.write(llm=llm.identity(), error=str(err.value), stats=llm.stats().as_dict())
    llm.close()

    assert "503" in str(err.value) and srv.base_url in str(err.value)
    assert any("retry" in r.getMessage() for r in caplog.records)  # failures were logged
    captured = capsys.readouterr()
    for text in (
        str(err.value),
        repr(err.value),
        repr(llm),
        caplog.text,
        captured.out,
        captured.err,
        json.dumps(cfg.model_dump()),
    ):
        assert KEY not in text
    assert assert_no_key_under(tmp_path) >= 2  # cache (+ WAL) and manifest


class _EchoAuthHandler(BaseHTTPRequestHandler):
    """A badly behaved server that quotes the Authorization header in its error."""

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        msg = json.dumps({"error": {"message": f"rejected {self.headers['Authorization']}"}})
        payload = msg.encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def test_a_server_echoing_the_key_does_not_leak_it(monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OSHIE_LEAK_TEST_KEY", KEY)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _EchoAuthHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        llm = OpenAICompatLLM(url, model="m", api_key_env="OSHIE_LEAK_TEST_KEY", max_retries=0)
        with pytest.raises(LLMError) as err:
            llm.chat([{"role": "user", "content": "x"}])
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert "HTTP 400" in str(err.value) and "rejected Bearer ***" in str(err.value)
    assert KEY not in str(err.value) and KEY not in caplog.text


def test_cli_run_with_failures_leaks_no_key(tmp_path):
    requests = tmp_path / "requests.jsonl"
    requests.write_text(
        "".join(
            json.dumps(
                {"id": f"q{i}", "messages": [{"role": "user", "content": f"質問{i}は？"}]},
                ensure_ascii=False,
            )
            + "\n"
            for i in range(8)
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "OSHIE_LEAK_TEST_KEY": KEY, "PYTHONPATH": str(REPO)}
    with OpenAITestServer(echo, faults=PoisonFaults(), api_key=KEY) as srv:
        args = [
            sys.executable,
            "-m",
            "oshie.cli.app",
            "llm",
            "generate",
            str(requests),
            "--out",
            str(tmp_path / "run"),
            "--base-url",
            srv.base_url,
            "-m",
            "m",
            "--api-key-env",
            "OSHIE_LEAK_TEST_KEY",
            "--cache",
            str(tmp_path / "c.sqlite"),
            "--set",
            "max_retries=1",
            "--set",
            "backoff_base=0.01",
            "--max-tokens",
            "8",
        ]
        failed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        # the same run without the poisoned request succeeds and writes its manifest
        requests.write_text(
            "\n".join(requests.read_text(encoding="utf-8").splitlines()[:5]), encoding="utf-8"
        )
        ok = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1 and "HTTP 503" in " ".join(failed.stderr.split())
    assert "Traceback" not in failed.stderr
    assert ok.returncode == 0, ok.stderr
    assert "cache hits" in ok.stderr
    for text in (failed.stdout, failed.stderr, ok.stdout, ok.stderr):
        assert KEY not in text
    assert (tmp_path / "run" / "manifest.json").is_file()
    assert assert_no_key_under(tmp_path) >= 4
