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

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from oshie import config as shared
from oshie.data.check.base import Check, CheckParams, iter_checks
from oshie.errors import ConfigError


class CheckConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checks: dict[str, dict[str, Any]] = Field(default_factory=dict)
    only: list[str] | None = None
    # Where the settings came from, so errors found later name the file and line.
    _source: str | None = PrivateAttr(default=None)
    _overridden: list[str] = PrivateAttr(default_factory=list)

    def params_for(self, cls: type[Check]) -> CheckParams:
        return shared.validate(
            cls.Params, self.checks.get(cls.code) or {},
            path=self._source, overridden=self._overridden, at=("checks", cls.code),
        )

    def validate_codes(self) -> None:
        known = [c.code for c in iter_checks()]
        for name, where in [(k, "checks") for k in self.checks] + [(k, "only") for k in self.only or []]:
            if name not in known:
                loc = ("checks", name) if where == "checks" else ("only",)
                path, line = shared.where(self._source, loc, self._overridden)
                raise ConfigError(f"unknown check {name!r}", path=path, line=line, field=f"{where}.{name}",
                                  hint=f"known checks: {', '.join(known)}")


def load_check_config(path: str | Path | None = None, overrides: list[str] | None = None) -> CheckConfig:
    """Read a YAML check config (or start from defaults) and apply `key=value` overrides,
    e.g. `checks.duplicate.threshold=0.8` or `only=[pii,ng_word]` (values are parsed as YAML)."""
    data = shared.load_yaml(path, what="check config") if path is not None else {}
    pairs = shared.parse_overrides(overrides, example="checks.duplicate.threshold=0.8")
    data = shared.apply_overrides(data, pairs)
    config = shared.validate(CheckConfig, data, path=path, overridden=[k for k, _ in pairs])
    config._source = str(path) if path is not None else None
    config._overridden = [k for k, _ in pairs]
    config.validate_codes()
    return config
