"""`LLMConfig`: which LLM to call and how, loaded from YAML or embedded in a stage config.

```yaml
backend: openai            # openai (any OpenAI-compatible server) | local (transformers)
base_url: http://127.0.0.1:8000/v1
model: my-model            # served model name; for backend local, the model directory
api_key_env: OPENAI_API_KEY  # the NAME of the variable holding the key, never the key
concurrency: 8
timeout: 60
max_retries: 6
cache: runs/llm_cache.sqlite  # omit (or --no-cache) to call the model every time
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from oshie import config as shared
from oshie.llm.base import LLM

_KEY_FIELDS = ("api_key", "key", "openai_api_key", "token")
# the fields that go to the HTTP backend under the same names
_HTTP_FIELDS = {"model", "api_key_env", "concurrency", "timeout", "max_retries", "backoff_base",
                "backoff_max", "extra_body"}


class LLMConfig(BaseModel):
    """Every field documents itself; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["openai", "local"] = Field(
        "openai",
        description="'openai' for any OpenAI-compatible HTTP server, "
        "'local' to run a transformers model directory in-process.",
    )
    base_url: str | None = Field(
        None,
        description="Server URL ending in the API version, e.g. "
        "http://127.0.0.1:8000/v1 (backend openai; default: the OpenAI API).",
    )
    model: str = Field(
        ..., description="Model name sent to the server; for backend 'local', the model dir."
    )
    api_key_env: str | None = Field(
        "OPENAI_API_KEY",
        description="Name of the environment variable holding the API "
        "key. The key itself never goes in a config file.",
    )
    concurrency: int = Field(8, ge=1, description="Requests in flight at once.")
    timeout: float = Field(60.0, gt=0, description="Seconds before one HTTP attempt gives up.")
    max_retries: int = Field(
        6,
        ge=0,
        description="Retries after the first attempt on "
        "429/5xx/timeouts/connection errors/malformed JSON.",
    )
    backoff_base: float = Field(
        1.0, ge=0, description="First backoff in seconds (doubles each retry, with full jitter)."
    )
    backoff_max: float = Field(30.0, ge=0, description="Longest computed backoff in seconds.")
    extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra JSON fields sent with every request "
        "(vendor options such as top_k or repetition_penalty).",
    )
    batch_size: int = Field(8, ge=1, description="Backend 'local': prompts per forward batch.")
    device: str = Field(
        "auto", description="Backend 'local': torch device: auto (cuda when present), cpu, cuda:1."
    )
    cache: str | None = Field(
        None, description="SQLite file caching finished calls; reruns never repeat them."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_literal_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in _KEY_FIELDS:
                if name in data:
                    raise ValueError(
                        f"'{name}' is not allowed: put the key in an environment variable "
                        "and name that variable in 'api_key_env'"
                    )
        return data


def build_llm(config: LLMConfig, *, no_cache: bool = False) -> LLM:
    """The LLM a config describes, wrapped in the SQLite cache when `cache` is set."""
    llm: LLM
    if config.backend == "openai":
        from oshie.llm.openai_compat import DEFAULT_BASE_URL, OpenAICompatLLM

        llm = OpenAICompatLLM(
            base_url=config.base_url or DEFAULT_BASE_URL,
            **config.model_dump(include=_HTTP_FIELDS),
        )
    else:
        from oshie.llm.local import LocalLLM

        llm = LocalLLM(config.model, batch_size=config.batch_size, device=config.device)
    if config.cache and not no_cache:
        from oshie.llm.cache import CachedLLM

        llm = CachedLLM(llm, config.cache)
    return llm


def llm_section(data: dict[str, Any]) -> dict[str, Any]:
    """The LLM settings of a YAML mapping: the whole file, or its `llm:` section (a stage
    config keeps its LLM settings there)."""
    if isinstance(data.get("llm"), dict) and "model" not in data:
        return dict(data["llm"])
    return data


def load_llm_config(
    path: str | Path | None = None, overrides: shared.Overrides = None, *, section: str | None = None
) -> LLMConfig:
    """Read an LLMConfig from YAML (or just from overrides), naming the file and key on error.

    Override keys may be dotted (`extra_body.top_k=20`). `section="llm"` reads only that
    section of a file that holds other settings too. The CLI resolves flags on top of
    this with `oshie.cli.common.resolve_llm`."""
    data = shared.load_yaml(path) if path is not None else {}
    if section is not None:  # a stage config: only its `llm:` section
        settings, at = data.get(section) or {}, (section,)
    else:
        settings = llm_section(data)
        at = ("llm",) if settings is not data else ()
    pairs = shared.as_pairs(overrides)
    return shared.validate(LLMConfig, shared.apply_overrides(settings, pairs), path=path,
                           overridden=[k for k, _ in pairs], at=at)
