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

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oshie import config as shared
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


def load_check_config(path: str | Path | None = None, overrides: list[str] | None = None) -> CheckConfig:
    """Read a YAML check config (or start from defaults) and apply `key=value` overrides,
    e.g. `checks.duplicate.threshold=0.8` or `only=[pii,ng_word]` (values are parsed as YAML)."""
    data = shared.load_yaml(path, what="check config") if path is not None else {}
    pairs = shared.parse_overrides(overrides, example="checks.duplicate.threshold=0.8")
    data = shared.apply_overrides(data, pairs)
    config = shared.validate(CheckConfig, data, path=path, overridden=[k for k, _ in pairs])
    config.validate_codes()
    return config
