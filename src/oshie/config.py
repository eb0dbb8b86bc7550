"""YAML configs for every stage: load, override with `key=value`, validate with clear errors.

    config = load_config(SFTConfig, "sft.yaml", ["lora.r=8", "datasets.0.weight=2"])

- `load_yaml(path)`: a UTF-8 (BOM or not) YAML mapping; an empty file is `{}`.
- `parse_overrides(["a.b=1"])` -> `[("a.b", 1)]`: values are parsed as YAML, so `1e-3`,
  `true`, `null`, `[a, b]` and `{k: v}` arrive typed; a value that is not valid YAML stays text.
- `apply_overrides(data, overrides)`: dotted keys walk nested mappings and list indices
  (`datasets.0.weight`); missing mappings on the way are created.
- `validate(Model, data, path=...)`: a pydantic error becomes a `ConfigError` naming the file,
  the YAML line, the dotted key and, for an unknown key, the keys allowed there.

Only `oshie.errors`, pydantic and yaml are imported: every stage can use this module.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from oshie.errors import ConfigError

__all__ = [
    "Overrides", "allowed_keys", "apply_overrides", "as_pairs", "line_of", "load_config",
    "load_yaml", "parse_override", "parse_overrides", "validate", "where",
]


M = TypeVar("M", bound=BaseModel)
Overrides = Mapping[str, Any] | Iterable[str] | Iterable[tuple[str, Any]] | None


# Aliases (*name) let a 1 KB file describe billions of values ("billion laughs"); a config
# never needs more than a few thousand, so a document expanding past this is refused.
MAX_YAML_VALUES = 100_000


class YamlBombError(yaml.YAMLError):
    def __init__(self, values: int) -> None:
        super().__init__(f"aliases (*name) expand the document past {MAX_YAML_VALUES:,} values")
        self.problem = str(self)
        self.values = values


def _expanded_size(node: yaml.Node, memo: dict[int, int], limit: int) -> int:
    """Values the node stands for once every alias is expanded (shared nodes counted each
    time they are used); stops counting past `limit`."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = 1  # a recursive alias counts once instead of forever
    total = 1
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    else:
        children = []
    for child in children:
        total += _expanded_size(child, memo, limit)
        if total > limit:
            break
    memo[id(node)] = total
    return total


def safe_yaml(text: str) -> Any:
    """`yaml.safe_load` that refuses alias bombs (a YamlBombError) before building anything."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, {}, MAX_YAML_VALUES)
        if size > MAX_YAML_VALUES:
            raise YamlBombError(size)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_yaml(path: str | Path, *, what: str = "config file", hint: str | None = None) -> dict[str, Any]:
    """Read a YAML mapping. `what` names the file in errors ("experiment file", "check config")."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} not found", path=p, hint=hint)
    try:
        text = p.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} is not UTF-8 text", path=p, hint="save it as UTF-8") from exc
    try:
        data = safe_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"invalid YAML: {problem}", path=p, line=mark.line + 1 if mark else None
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"the {what} must be a mapping of keys to values, not a {type(data).__name__}",
            path=p, hint="write one 'key: value' per line at the top level",
        )
    return data


def parse_override(text: str, *, example: str = "learning_rate=1e-4") -> tuple[str, Any]:
    """'lora.r=8' -> ('lora.r', 8); an empty value is the empty string."""
    key, sep, raw = text.partition("=")
    if not sep:
        raise ConfigError(f"override '{text}' is not key=value", hint=f"e.g. --set {example}")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"override '{text}' has no usable key", hint=f"e.g. --set {example}")
    if not raw.strip():
        return key, ""
    try:
        return key, safe_yaml(raw)
    except YamlBombError:
        raise ConfigError(f"override '{text}' uses YAML aliases that expand too far") from None
    except yaml.YAMLError:
        return key, raw  # '[x' or 'a: b: c' are meant as text more often than as broken YAML


def parse_overrides(items: Iterable[str] | None, *, example: str = "learning_rate=1e-4") -> list[tuple[str, Any]]:
    """`--set` values to (dotted key, typed value) pairs, in order (a later pair wins)."""
    return [parse_override(text, example=example) for text in items or []]


def as_pairs(overrides: Overrides) -> list[tuple[str, Any]]:
    """Overrides as pairs, whether given as a mapping, `key=value` strings or pairs."""
    if not overrides:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    return [parse_override(o) if isinstance(o, str) else (o[0], o[1]) for o in overrides]


def apply_overrides(data: dict[str, Any], overrides: Overrides) -> dict[str, Any]:
    """A copy of `data` with each dotted key set (the input is left untouched)."""
    data = copy.deepcopy(data)
    for key, value in as_pairs(overrides):
        _set_dotted(data, key, value)
    return data


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(
                    f"override '{key}': '{part}' is not an index of a {len(node)}-item list",
                    field=key, hint=f"use 0 to {len(node) - 1}" if node else None,
                )
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if node.get(part) is None:  # absent or `key:` left empty in the YAML
                    node[part] = {}
                node = node[part]
        else:
            raise ConfigError(
                f"override '{key}': '{'.'.join(parts[:i])}' is not a mapping", field=key,
                hint=f"set the whole value instead: --set {'.'.join(parts[:i])}=...",
            )


def line_of(path: str | Path | None, loc: Iterable[Any]) -> int | None:
    """The YAML line of a key path such as ('datasets', 0, 'path'), best effort."""
    if path is None:
        return None
    try:
        node = yaml.compose(Path(path).read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if kv[0].value == str(part)), None)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _data_loc(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The pydantic error location as a path in the data: union member tags such as
    'list[str]' or 'function-after[...]' are not keys of the YAML, so they are dropped."""
    out: list[Any] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif i < len(loc) - 1:
            continue
        out.append(part)
    return tuple(out)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def allowed_keys(model_cls: type[BaseModel], loc: Iterable[Any]) -> list[str] | None:
    """The keys allowed at a location (None where the value is a free-form mapping)."""
    model: type[BaseModel] = model_cls
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        if info is None:
            continue  # a key of a dict[str, Model] field, or a list index
        inner = _models_in(info.annotation)
        if not inner:
            return None
        model = inner[0]
    return sorted(model.model_fields)


def _from_override(loc: tuple[Any, ...], overridden: Iterable[str]) -> str | None:
    """The most specific override that set the value at `loc`, if any."""
    path = [str(p) for p in loc]
    hits = [key for key in overridden if path and path[: len(key.split("."))] == key.split(".")]
    return max(hits, key=lambda k: k.count("."), default=None)


def where(
    path: str | Path | None, loc: Iterable[Any], overridden: Iterable[str] = ()
) -> tuple[str | Path | None, int | None]:
    """(file, line) to name in an error about the value at `loc`; (None, None) when an
    override set it."""
    loc = tuple(loc)
    if path is None or _from_override(loc, overridden) is not None:
        return None, None
    return path, line_of(path, loc)


def validate(
    model_cls: type[M],
    data: Mapping[str, Any],
    *,
    path: str | Path | None = None,
    overridden: Iterable[str] = (),
    at: tuple[Any, ...] = (),
) -> M:
    """`model_cls.model_validate(data)` with errors naming file, line, key and the fix.

    `overridden` lists the dotted keys set by overrides: an error in one of them does not
    point at the file (the file is not where the bad value came from). `at` is where `data`
    sits in the file when it is a section of it, e.g. ("checks", "pii")."""
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        err = errors[0]
        loc = _data_loc(data, tuple(err["loc"]))
        full = (*at, *loc)
        field = ".".join(str(p) for p in full) or None
        hint = None
        if err["type"] == "extra_forbidden":
            message = f"unknown key '{loc[-1]}'"
            keys = allowed_keys(model_cls, loc[:-1])
            if keys:
                hint = f"valid keys: {', '.join(keys)}"
        else:
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                hint = f"add '{loc[-1]}' to the config or pass --set {field}=..."
        more = len(errors) - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        source = _from_override(full, overridden)
        if source is not None:
            message += f" (set by the override '{source}')"
            path = None
        raise ConfigError(message, path=path, line=line_of(path, full), field=field, hint=hint) from None


def load_config(model_cls: type[M], source: str | Path | Mapping[str, Any] | None, overrides: Overrides = None) -> M:
    """Load YAML (or take a dict; None = empty), apply overrides, validate."""
    path: Path | None = None
    if source is None:
        data: dict[str, Any] = {}
    elif isinstance(source, Mapping):
        data = dict(source)
    else:
        path = Path(source)
        data = load_yaml(path)
    pairs = as_pairs(overrides)
    data = apply_overrides(data, pairs)
    return validate(model_cls, data, path=path, overridden=[k for k, _ in pairs])
