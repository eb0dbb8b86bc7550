"""Small shared pieces of the llm tests: a deterministic responder and request batches."""

from __future__ import annotations

from typing import Any

from tests.support.openai_server import last_user_text

from oshie.llm import GenerationParams, LLMRequest


def echo(kind: str, body: dict[str, Any]) -> str:
    """A deterministic answer that depends on everything the cache key covers."""
    return (
        f"{kind}:{last_user_text(body)}|t={body.get('temperature')}|s={body.get('seed')}"
        f"|stop={body.get('stop')}"
    )


def batch(n: int, prefix: str = "質問") -> list[LLMRequest]:
    """n distinct requests, mixing chat and completion, greedy and seeded sampling."""
    reqs = []
    for i in range(n):
        params = GenerationParams(
            max_tokens=16, temperature=0.7 if i % 3 == 0 else 0.0, seed=i if i % 3 == 0 else None
        )
        if i % 4 == 3:
            reqs.append(LLMRequest(prompt=f"{prefix}{i}です。", params=params))
        else:
            reqs.append(
                LLMRequest(
                    messages=[{"role": "user", "content": f"{prefix}{i}は？"}], params=params
                )
            )
    return reqs
