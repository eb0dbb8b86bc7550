"""With a judge configured, the table gains the judged score and the report the pairwise
win-rate matrix; the judge is a real HTTP server on 127.0.0.1 with scripted verdicts."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from tests.support.openai_server import OpenAITestServer, last_user_text

from oshie.experiment.config import load_experiment, resource_path
from oshie.experiment.runner import run_experiment

from .helpers import stage_path, tiny_experiment


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0].strip()


def judge(kind: str, body: dict) -> str:
    """Grades and verdicts from a rule the test can predict: more distinct characters wins."""
    prompt = last_user_text(body)
    if "<<<回答Aここから>>>" in prompt:
        a = _between(prompt, "<<<回答Aここから>>>", "<<<回答Aここまで>>>")
        b = _between(prompt, "<<<回答Bここから>>>", "<<<回答Bここまで>>>")
        if len(set(a)) == len(set(b)):
            return "理由: 同程度。\n判定: 引き分け"
        return "理由: 語彙が豊か。\n判定: " + ("A" if len(set(a)) > len(set(b)) else "B")
    return f"評価: {1 + min(4, len(prompt) % 5)}"


def test_judge_adds_a_score_column_and_a_winrate_matrix(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch
) -> None:
    monkeypatch.setenv("OSHIE_TEST_JUDGE_KEY", "sk-test-secret-value")
    with OpenAITestServer(judge, api_key="sk-test-secret-value") as srv:
        cfg = tiny_experiment(tmp_path, tiny_model_dir)
        cfg["eval"]["judge"] = {
            "llm": {
                "backend": "openai",
                "base_url": srv.base_url,
                "model": "judge",
                "api_key_env": "OSHIE_TEST_JUDGE_KEY",
                "max_retries": 1,
                "cache": str(tmp_path / "judge_cache.sqlite"),
            },
            "tasks": str(resource_path("evalsets/elyza_tasks/test.csv")),
            "limit": 3,
            "max_new_tokens": 12,
        }
        out = tmp_path / "run"
        config = load_experiment(cfg)
        run = run_experiment(config, out)
        calls = len(srv.calls)
        assert {"judge/m/base", "judge/m/A", "judge/m/B", "pairwise/m"} <= set(run.ran)
        # 3 rows x 3 tasks graded, 3 pairs x 3 tasks x 2 orders compared
        assert calls == 9 + 18

        rows = list(csv.DictReader(open(out / "results.csv", encoding="utf-8")))
        assert all(r["judge/score"] for r in rows)
        pw = run.results["pairwise"][0]
        assert pw["systems"] == ["base", "A", "B"]
        m = pw["matrix"]
        # the matrix is what the scripted rule predicts from the answers each model gave
        answers = {}
        for name in pw["systems"]:
            d = stage_path(out, config, f"judge/m/{name}")
            answers[name] = [
                json.loads(x)["answer"]
                for x in (d / "answers.jsonl").read_text("utf-8").splitlines()
            ]
        for i, x in enumerate(pw["systems"]):
            for j, y in enumerate(pw["systems"]):
                if i == j:
                    continue
                wins = [
                    len(set(a)) > len(set(b)) for a, b in zip(answers[x], answers[y], strict=True)
                ]
                assert m[i][j] == sum(wins) / len(wins), (x, y)
        html = (out / "report.html").read_text("utf-8")
        assert re.search(r'<table class="winrate">', html)
        assert "sk-test-secret-value" not in html
        for f in out.rglob("*"):
            if f.is_file() and f.suffix in (".json", ".jsonl", ".yaml", ".csv", ".html"):
                assert "sk-test-secret-value" not in f.read_text("utf-8", errors="ignore"), f

        # a rerun reuses every judged stage: no new judge call
        again = run_experiment(load_experiment(cfg), out)
        assert again.ran == [] and len(srv.calls) == calls
