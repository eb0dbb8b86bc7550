"""The README checks itself: its marked shell examples run and print what it shows, and its
layout section matches the source tree.

An example opts in with the line `<!-- readme-test -->` directly above its fenced block.
In such a block, a line starting with `$ ` is a command (a trailing `\\` continues it on the
next line); the lines after it are the output it must print, compared line by line in
order, each against some later line of the real output (stdout and stderr together), with
runs of spaces collapsed and `...` matching anything. Blank lines and anything after two
spaces and `# ` on an output line (a note for the reader) are not compared. A command must
exit 0 unless its shown output has an `error:` line. Each block runs in its own temporary
directory holding `src/` and `examples/` of this checkout and the files in
`tests/readme_files/`, with `oshie` on PATH; no network is available to it. Mark only
examples that need no remote LLM and finish in seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FILES = Path(__file__).resolve().parent / "readme_files"
MARK = "<!-- readme-test -->"
_NOTE = re.compile(r"\s{2,}#\s.*$")


@dataclass
class Command:
    line: int
    text: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    line: int
    commands: list[Command]


def marked_blocks(text: str) -> list[Block]:
    """Every fenced block the README marks for testing, parsed into commands and output."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        assert i + 1 < len(lines) and lines[i + 1].startswith("```"), (
            f"README.md line {i + 1}: {MARK} must sit directly above a fenced block")
        commands: list[Command] = []
        j = i + 2
        while not lines[j].startswith("```"):
            row = lines[j]
            if row.startswith("$ "):
                cmd = Command(j + 1, row[2:])
                while cmd.text.endswith("\\"):
                    j += 1
                    cmd.text = cmd.text[:-1] + " " + lines[j].strip()
                commands.append(cmd)
            elif row.strip() and commands:
                commands[-1].expected.append(_NOTE.sub("", row))
            j += 1
        assert commands, f"README.md line {i + 1}: a marked block needs at least one `$ ` command"
        blocks.append(Block(i + 1, commands))
    return blocks


def _squash(text: str) -> str:
    return " ".join(text.split())


def _pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part) for part in _squash(expected).split("...")))


def missing_lines(expected: list[str], output: str) -> list[str]:
    """Expected lines not found, in order, among the output's lines."""
    actual = [_squash(line) for line in output.splitlines()]
    missing, pos = [], 0
    for want in expected:
        pattern = _pattern(want)
        hit = next((k for k in range(pos, len(actual)) if pattern.search(actual[k])), None)
        if hit is None:
            missing.append(want)
        else:
            pos = hit + 1
    return missing


def _workdir(tmp: Path) -> dict[str, str]:
    """A directory that looks like a checkout to the examples; returns their environment."""
    (tmp / "src").symlink_to(ROOT / "src")
    (tmp / "examples").symlink_to(ROOT / "examples")
    if FILES.is_dir():
        for f in FILES.iterdir():
            shutil.copy2(f, tmp / f.name)
    bin_dir = tmp / ".bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "oshie"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m oshie.cli.app "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSHIE_")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", COLUMNS="200",
               PYTHONPATH=str(ROOT / "src"), NO_COLOR="1", TERM="dumb")
    return env


BLOCKS = marked_blocks(README.read_text(encoding="utf-8"))


def test_readme_marks_examples() -> None:
    assert len(BLOCKS) >= 4, "the README should test its data, audit, tuning and config examples"


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[f"line{b.line}" for b in BLOCKS])
def test_readme_example(block: Block, tmp_path: Path) -> None:
    env = _workdir(tmp_path)
    for cmd in block.commands:
        proc = subprocess.run(["bash", "-c", cmd.text], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        output = proc.stdout
        where = f"README.md line {cmd.line}: $ {cmd.text}"
        assert "Traceback" not in output, f"{where}\n{output}"
        if not any(_squash(e).startswith("error:") for e in cmd.expected):
            assert proc.returncode == 0, f"{where}\nexit {proc.returncode}\n{output}"
        missing = missing_lines(cmd.expected, output)
        assert not missing, f"{where}\nnot printed: {missing}\n--- output ---\n{output}"


def _layout_entries(text: str) -> dict[str, str]:
    """`name` (file or `dir/`) -> the rest of its line(s), from the layout's src/oshie/ tree."""
    section = text.split("\n## Layout", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    entries: dict[str, str] = {}
    inside, last = False, None
    for line in block.splitlines():
        if line.startswith("src/oshie/"):
            inside = True
            continue
        if inside and line and not line.startswith(" "):
            break
        if not inside or not line.strip():
            continue
        m = re.match(r"  (\S+)\s*(.*)", line)
        if m and not line.startswith("   "):
            last = m.group(1)
            entries[last] = m.group(2)
        elif last:
            entries[last] += " " + line.strip()
    return entries


def _listed_modules(description: str) -> list[str]:
    """A package line lists its modules: `name, name (a note), sub/`, before any colon-free prose."""
    names = []
    for item in re.sub(r"\([^)]*\)", "", description).split(","):
        item = item.strip()
        assert re.fullmatch(r"[a-z_][a-z0-9_]*/?", item), (
            f"layout: '{item}' is not a module name; write `name (a note)` in package lines")
        names.append(item)
    return names


def test_layout_matches_the_tree() -> None:
    entries = _layout_entries(README.read_text(encoding="utf-8"))
    pkg = ROOT / "src" / "oshie"
    on_disk = {p.name for p in pkg.glob("*.py") if p.name != "__init__.py"}
    on_disk |= {p.name + "/" for p in pkg.iterdir() if (p / "__init__.py").is_file()}
    unlisted = sorted(on_disk - set(entries))
    assert not unlisted, f"README layout does not list: {unlisted}"
    for name, description in entries.items():
        path = pkg / name.rstrip("/")
        assert path.exists(), f"README layout lists {name}, which does not exist"
        if not name.endswith("/") or name == "resources/":
            continue
        listed = _listed_modules(description)
        for mod in listed:
            target = path / (mod if mod.endswith("/") else mod + ".py")
            assert target.exists(), f"README layout lists {name}{mod}, which does not exist"
        subpackages = {p.name + "/" for p in path.iterdir() if (p / "__init__.py").is_file()}
        assert subpackages <= set(listed), f"README layout: {name} does not list {subpackages - set(listed)}"
