"""One chat-generation interface (sync and async, batched) with HTTP and local backends,
a SQLite call cache and an OpenAI-compatible server for local models.

Heavy backends import lazily: `from oshie.llm import OpenAICompatLLM` does not load torch.
"""

from __future__ import annotations

from typing import Any

from oshie.llm.base import LLM, Generation, GenerationParams, LLMRequest, Usage

__all__ = [
    "LLM",
    "CachedLLM",
    "Generation",
    "GenerationParams",
    "LLMConfig",
    "LLMRequest",
    "LocalLLM",
    "OpenAICompatLLM",
    "Usage",
    "build_llm",
    "load_llm_config",
]

_LAZY = {
    "OpenAICompatLLM": "oshie.llm.openai_compat",
    "CachedLLM": "oshie.llm.cache",
    "LLMConfig": "oshie.llm.config",
    "build_llm": "oshie.llm.config",
    "load_llm_config": "oshie.llm.config",
    "LocalLLM": "oshie.llm.local",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'oshie.llm' has no attribute {name!r}")
