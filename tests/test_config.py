"""The shared config loader: YAML errors, overrides and validation errors name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from oshie.config import apply_overrides, load_config, load_yaml, parse_overrides, validate
from oshie.errors import ConfigError, UsageError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    path: str
    weight: float = Field(1.0, gt=0)


class Adapter(_Strict):
    r: int = 16
    alpha: int = 32


class Settings(_Strict):
    name: str
    lr: float = 1e-3
    adapter: Adapter | None = None
    sources: list[Source] = Field(default_factory=list)
    tags: list[str] | str = "all"
    extra: dict[str, int] = Field(default_factory=dict)


YAML = """\
name: run-a
adapter:
  r: 8
sources:
  - path: a.jsonl
  - path: b.jsonl
    weight: 2
"""


def _write(tmp_path: Path, text: str, name: str = "cfg.yaml", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding)
    return p


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    p = _write(tmp_path, "name: a\nadapter:\n  r: [1, 2\nlr: 3\n")
    with pytest.raises(ConfigError) as err:
        load_yaml(p)
    assert err.value.path == str(p) and err.value.line == 4
    assert err.value.render().startswith(f"{p}, line 4: invalid YAML")


def test_empty_file_bom_and_non_mapping(tmp_path: Path) -> None:
    assert load_yaml(_write(tmp_path, "")) == {}
    assert load_yaml(_write(tmp_path, "# only a comment\n")) == {}
    assert load_yaml(_write(tmp_path, "名前: テスト\n", encoding="utf-8-sig")) == {"名前": "テスト"}
    with pytest.raises(ConfigError, match="must be a mapping of keys to values, not a list"):
        load_yaml(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(ConfigError, match="experiment file not found"):
        load_yaml(tmp_path / "missing.yaml", what="experiment file")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_yaml(_write(tmp_path, "name: 日本語\n", encoding="cp932"))


def test_unknown_nested_key_names_line_field_and_allowed_keys(tmp_path: Path) -> None:
    p = _write(tmp_path, YAML.replace("    weight: 2", "    wieght: 2"))
    with pytest.raises(ConfigError) as err:
        load_config(Settings, p)
    e = err.value
    assert (e.path, e.line, e.field) == (str(p), 7, "sources.1.wieght")
    assert e.message == "unknown key 'wieght'" and e.hint == "valid keys: path, weight"
    p = _write(tmp_path, YAML.replace("  r: 8", "  rank: 8"))
    with pytest.raises(ConfigError) as err:
        load_config(Settings, p)
    assert (err.value.line, err.value.field, err.value.hint) == (3, "adapter.rank", "valid keys: alpha, r")
    p = _write(tmp_path, YAML + "nmae: x\n")
    with pytest.raises(ConfigError) as err:
        load_config(Settings, p)
    assert err.value.line == 8 and "adapter, extra, lr, name, sources, tags" in err.value.hint


def test_bad_value_and_missing_key_name_the_field(tmp_path: Path) -> None:
    p = _write(tmp_path, YAML.replace("weight: 2", "weight: -1"))
    with pytest.raises(ConfigError) as err:
        load_config(Settings, p)
    assert (err.value.line, err.value.field) == (7, "sources.1.weight")
    assert "greater than 0" in err.value.message
    with pytest.raises(ConfigError) as err:
        validate(Settings, {"name": "x", "tags": [3], "extra": {"a": "x"}})
    assert err.value.field == "tags.0" and err.value.path is None  # no union tag in the key
    assert "and 2 more problems" in err.value.message
    with pytest.raises(ConfigError) as err:
        validate(Settings, {})
    assert err.value.field == "name" and "--set name=" in err.value.hint


def test_dotted_overrides_reach_list_items_and_nested_mappings(tmp_path: Path) -> None:
    p = _write(tmp_path, YAML)
    cfg = load_config(Settings, p, ["sources.0.weight=0.5", "adapter.alpha=4", "tags=[q, v]", "lr=1e-4"])
    assert cfg.sources[0].weight == 0.5 and cfg.sources[1].weight == 2
    assert cfg.adapter is not None and (cfg.adapter.r, cfg.adapter.alpha) == (8, 4)
    assert cfg.tags == ["q", "v"] and cfg.lr == 1e-4
    # a missing or empty (`adapter:`) mapping on the way is created
    cfg = load_config(Settings, {"name": "x", "adapter": None}, {"adapter.r": 2, "extra.k": 1})
    assert cfg.adapter is not None and cfg.adapter.r == 2 and cfg.extra == {"k": 1}
    data = {"name": "x", "sources": [{"path": "a"}]}
    assert apply_overrides(data, [("sources.0.path", "b")])["sources"][0]["path"] == "b"
    assert data["sources"][0]["path"] == "a"  # the input is not modified
    with pytest.raises(ConfigError, match="'3' is not an index of a 2-item list"):
        load_config(Settings, p, ["sources.3.weight=2"])
    with pytest.raises(ConfigError, match="'name' is not a mapping"):
        load_config(Settings, p, ["name.first=x"])


def test_override_values_are_yaml_and_bad_forms_say_the_form() -> None:
    assert parse_overrides(["a=1", "b=true", "c=null", "d=[x, y]", "e={k: 1}", "f=", "g=[x", "h = 2"]) == [
        ("a", 1), ("b", True), ("c", None), ("d", ["x", "y"]), ("e", {"k": 1}), ("f", ""),
        ("g", "[x"), ("h", 2),
    ]
    assert parse_overrides(["url=http://127.0.0.1:8000/v1"]) == [("url", "http://127.0.0.1:8000/v1")]
    for bad in ("no-equals-sign", "=3", "a..b=1"):
        with pytest.raises(UsageError) as err:
            parse_overrides([bad])
        assert "key=value" in err.value.render() or "no usable key" in err.value.message
    with pytest.raises(ConfigError, match="is not key=value") as err:
        parse_overrides(["lr"], example="lr=0.1")
    assert err.value.hint == "e.g. --set lr=0.1"


def test_an_error_in_an_overridden_value_does_not_blame_the_file(tmp_path: Path) -> None:
    p = _write(tmp_path, YAML)
    with pytest.raises(ConfigError) as err:
        load_config(Settings, p, ["sources.0.weight=0"])
    assert err.value.path is None and err.value.line is None
    assert "override 'sources.0.weight'" in err.value.message
    with pytest.raises(ConfigError) as err:
        load_config(Settings, p, ["adapter.rnak=2"])
    assert err.value.message.startswith("unknown key 'rnak'") and err.value.hint == "valid keys: alpha, r"
    # the most specific override is named, whatever the order
    with pytest.raises(ConfigError) as err:
        load_config(Settings, p, ["adapter=null", "adapter.r=x", "sources.0.weight=1"])
    assert err.value.field == "adapter.r" and "override 'adapter.r'" in err.value.message


def test_a_section_validated_later_still_names_its_file_line_and_full_key(tmp_path: Path) -> None:
    p = _write(tmp_path, YAML.replace("  r: 8", "  r: eight"))
    section = load_yaml(p)["adapter"]
    with pytest.raises(ConfigError) as err:
        validate(Adapter, section, path=p, at=("adapter",))
    assert (err.value.path, err.value.line, err.value.field) == (str(p), 3, "adapter.r")
    with pytest.raises(ConfigError) as err:
        validate(Adapter, section, path=p, at=("adapter",), overridden=["adapter.r"])
    assert (err.value.path, err.value.line) == (None, None)


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path) -> None:
    import time

    import pytest

    from oshie.config import load_yaml, parse_override
    from oshie.errors import ConfigError

    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n", "utf-8")
    assert bomb.stat().st_size < 1200
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases"):
        load_yaml(bomb)
    assert time.perf_counter() - start < 5  # generous: it is refused before anything is built
    with pytest.raises(ConfigError, match="aliases"):
        parse_override("x=" + "{a: &a [1,1,1,1,1,1,1,1,1,1], " + ", ".join(
            f"{n}: &{n} [{','.join([f'*{p}'] * 10)}]" for p, n in zip("abcde", "bcdef", strict=True)) + "}")
    small = tmp_path / "ok.yaml"
    small.write_text("base: &b {lr: 1}\nrun: *b\n", "utf-8")
    assert load_yaml(small) == {"base": {"lr": 1}, "run": {"lr": 1}}
