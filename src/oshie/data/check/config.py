"""The check configuration: which checks run, with which options, from YAML.

    checks:                      # per-check options; every check takes enabled and severity
      answer_too_short: {min_chars_explained: 40}
      ng_word: {categories: [profanity, discrimination], category_severity: {sexual: warning}}
      duplicate: {threshold: 0.8}
      contamination: {eval_sets: [evalsets/jsquad/valid-v1.1.json], threshold: 0.5}
      over_cautious: {enabled: false}
    only: [pii, ng_word]         # optional: run just these checks

Unknown check codes and unknown option keys are errors that name the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oshie.data.check.base import Check, CheckParams, iter_checks
from oshie.errors import ConfigError


class CheckConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checks: dict[str, dict[str, Any]] = Field(default_factory=dict)
    only: list[str] | None = None

    def params_for(self, cls: type[Check]) -> CheckParams:
        try:
            return cls.Params.model_validate(self.checks.get(cls.code) or {})
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(x) for x in err["loc"])
            raise ConfigError(
                f"{err['msg']}", field=f"checks.{cls.code}.{key}",
                hint=f"options of {cls.code}: {', '.join(cls.Params.model_fields)}",
            ) from exc

    def validate_codes(self) -> None:
        known = [c.code for c in iter_checks()]
        for name, where in [(k, "checks") for k in self.checks] + [(k, "only") for k in self.only or []]:
            if name not in known:
                raise ConfigError(f"unknown check {name!r}", field=f"{where}.{name}",
                                  hint=f"known checks: {', '.join(known)}")


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = data
    for k in keys[:-1]:
        node = node.setdefault(k, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {dotted!r}: {k!r} is not a section", field=dotted)
    node[keys[-1]] = value


def load_check_config(path: str | Path | None = None, overrides: list[str] | None = None) -> CheckConfig:
    """Read a YAML check config (or start from defaults) and apply `key=value` overrides,
    e.g. `checks.duplicate.threshold=0.8` or `only=[pii,ng_word]` (values are parsed as YAML)."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError("check config not found", path=p)
        try:
            data = yaml.safe_load(p.read_text("utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"not valid YAML: {exc}", path=p) from exc
        if not isinstance(data, dict):
            raise ConfigError("a check config must be a mapping (checks:, only:)", path=p)
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"--set needs key=value, got {item!r}", hint="e.g. --set checks.duplicate.threshold=0.8")
        key, raw = item.split("=", 1)
        _set_path(data, key.strip(), yaml.safe_load(raw))
    try:
        config = CheckConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(err["msg"], path=path, field=".".join(str(x) for x in err["loc"]),
                          hint="top-level keys: checks, only") from exc
    config.validate_codes()
    return config
