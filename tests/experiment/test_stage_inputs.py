"""Every file a stage reads is part of its key: template and judge-prompt files are resolved
relative to the YAML file (not the working directory) and content-hashed; stages with the same
content share one directory."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from oshie.experiment.config import load_experiment
from oshie.experiment.plan import build_plan

from .helpers import tiny_experiment

TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n"
    "{% if m.role == 'assistant' %}{% generation %}{{ m.content }}<|im_end|>{% endgeneration %}"
    "{% else %}{{ m.content }}<|im_end|>{% endif %}\n{% endfor %}"
)


def _project(root: Path, model_dir: Path, template: str = TEMPLATE, prompt: str = "A") -> Path:
    """A project directory with the YAML, a template and a judge prompt beside it."""
    root.mkdir(parents=True, exist_ok=True)
    cfg = tiny_experiment(root, model_dir)
    cfg["recipe"]["sft"]["template"] = "chat.jinja"
    cfg["eval"]["judge"] = {
        "llm": {"backend": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "judge"},
        "prompt": "prompts/grade.txt",
    }
    (root / "chat.jinja").write_text(template, "utf-8")
    (root / "prompts").mkdir(exist_ok=True)
    (root / "prompts" / "grade.txt").write_text(
        f"{prompt}\n{{{{input}}}}\n{{{{reference}}}}\n{{{{eval_aspect}}}}\n{{{{answer}}}}\n", "utf-8"
    )
    path = root / "exp.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), "utf-8")
    return path


def _keys(path: Path) -> dict[str, str]:
    return {s.id: s.key for s in build_plan(load_experiment(path)).stages}


def test_template_and_prompt_files_resolve_next_to_the_yaml(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _project(tmp_path / "project", tiny_model_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # a working directory with neither file in it
    plan = build_plan(load_experiment(path))
    sft = plan.by_id["sft/m/A"]
    judge = plan.by_id["judge/m/A"]
    assert sft.files["template"] == str(path.parent / "chat.jinja")
    assert judge.files["prompt"] == str(path.parent / "prompts" / "grade.txt")


def test_editing_a_template_or_prompt_file_changes_only_the_stages_that_read_it(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    path = _project(tmp_path / "p", tiny_model_dir)
    before = _keys(path)
    (path.parent / "chat.jinja").write_text(TEMPLATE + "\n", "utf-8")
    after_template = _keys(path)
    changed = {k for k in before if before[k] != after_template[k]}
    # the SFT stages read the template; everything downstream of them follows
    assert {"sft/m/A", "sft/m/B", "eval/m/A", "eval/m/B", "judge/m/A"} <= changed
    assert "eval/m/base" not in changed and "data/A" not in changed

    (path.parent / "prompts" / "grade.txt").write_text("B\n{{input}}{{answer}}\n", "utf-8")
    after_prompt = _keys(path)
    changed = {k for k in after_template if after_template[k] != after_prompt[k]}
    assert {"judge/m/base", "judge/m/A", "judge/m/B", "pairwise/m"} <= changed
    assert not any(k.startswith(("sft/", "eval/")) for k in changed)


def test_same_files_elsewhere_give_the_same_keys(tmp_path: Path, tiny_model_dir: Path) -> None:
    # keys follow content, not location: a moved project keeps its cache
    one = _keys(_project(tmp_path / "one", tiny_model_dir))
    two = _keys(_project(tmp_path / "two", tiny_model_dir))
    assert one["sft/m/A"] == two["sft/m/A"] and one["judge/m/A"] == two["judge/m/A"]


def test_identical_stages_share_one_directory(tmp_path: Path, tiny_model_dir: Path) -> None:
    cfg = tiny_experiment(tmp_path, tiny_model_dir, audit=True)
    same = cfg["variants"][0]["datasets"]
    cfg["variants"].append({"name": "A-audited", "datasets": same, "filter": {"passed_audit": True}})
    plan = build_plan(load_experiment(cfg))
    a, b = plan.by_id["audit/A"], plan.by_id["audit/A-audited"]
    assert a.dirname == b.dirname  # one audit of one file, whatever the variants are called
    assert plan.by_id["data/A"].dirname != plan.by_id["data/A-audited"].dirname
