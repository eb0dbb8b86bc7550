"""LLMConfig from YAML: unknown keys and literal keys are errors; build_llm wires the cache."""

from __future__ import annotations

import pytest
from tests.llm.helpers import echo
from tests.support.openai_server import OpenAITestServer

from oshie.config import parse_overrides
from oshie.errors import ConfigError
from oshie.llm import CachedLLM, OpenAICompatLLM, build_llm, load_llm_config


def test_yaml_with_overrides_builds_a_cached_client(tmp_path):
    cfg_path = tmp_path / "llm.yaml"
    cfg_path.write_text(
        "backend: openai\nbase_url: http://127.0.0.1:1/v1\nmodel: qwen\n"
        f"cache: {tmp_path / 'c.sqlite'}\nconcurrency: 2\n",
        encoding="utf-8",
    )
    cfg = load_llm_config(cfg_path, parse_overrides(["timeout=5", "max_retries=0"]))
    assert (cfg.timeout, cfg.max_retries, cfg.concurrency) == (5, 0, 2)
    llm = build_llm(cfg)
    assert isinstance(llm, CachedLLM) and isinstance(llm.inner, OpenAICompatLLM)
    assert llm.inner.timeout == 5 and llm.identity() == {
        "backend": "openai", "model": "qwen", "endpoint": "http://127.0.0.1:1/v1"
    }
    assert isinstance(build_llm(cfg, no_cache=True), OpenAICompatLLM)


def test_nested_llm_section_is_accepted(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("llm:\n  model: m\n  base_url: http://h/v1\n", encoding="utf-8")
    assert load_llm_config(p).model == "m"


def test_unknown_key_is_named_with_the_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("model: m\ntemprature: 0.3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_llm_config(p)
    text = str(err.value)
    assert "bad.yaml" in text and "temprature" in text and "unknown key" in text


@pytest.mark.parametrize("field", ["api_key", "openai_api_key"])
def test_a_literal_key_in_the_config_is_refused(field):
    with pytest.raises(ConfigError, match="api_key_env"):
        load_llm_config(None, {"model": "m", field: "sk-should-not-be-here"})


def test_missing_model_and_bad_values_are_config_errors():
    with pytest.raises(ConfigError, match="model"):
        load_llm_config(None, {})
    with pytest.raises(ConfigError, match="concurrency"):
        load_llm_config(None, parse_overrides(["model=m", "concurrency=0"]))
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["oops"])


def test_built_client_talks_to_a_server(tmp_path):
    with OpenAITestServer(echo) as srv:
        llm = build_llm(
            load_llm_config(None, {"model": "m", "base_url": srv.base_url, "api_key_env": None})
        )
        assert llm.chat([{"role": "user", "content": "設定"}]).text.startswith("chat:設定")
