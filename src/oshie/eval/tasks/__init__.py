"""Task registry: one module per task; each registers itself by name."""

from __future__ import annotations

from oshie.errors import UsageError
from oshie.eval.tasks import (  # noqa: F401
    instruction_following,
    jcommonsenseqa,
    jnli,
    jsquad,
    marc_ja,
    summarization,
)
from oshie.eval.tasks.base import REGISTRY, Task, TaskSpec


def get_task_class(name: str) -> type[Task]:
    if name not in REGISTRY:
        raise UsageError(f"unknown task '{name}'", hint=f"choose one of: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


__all__ = ["REGISTRY", "Task", "TaskSpec", "get_task_class"]
