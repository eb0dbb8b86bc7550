"""Formats are registered by name; detection order follows from the registry; file-type
readers know nothing about formats."""

from __future__ import annotations

import ast
from pathlib import Path

import oshie.data.files as files_pkg
from oshie.data.formats import FORMATS, Format, detect_format, detection_order, get_format
from oshie.data.formats.registry import register


def test_the_most_specific_format_is_tried_first() -> None:
    order = [f.name for f in detection_order()]
    assert order.index("preference") < order.index("prompt_completion")
    assert order.index("alpaca") < order.index("ichikara")  # alpaca rows sometimes carry `text`
    assert detect_format([{"prompt": "q", "chosen": "a", "rejected": "b"}]).name == "preference"
    assert detect_format([{"instruction": "q", "output": "a", "text": "t"}]).name == "alpaca"


def test_a_newly_registered_format_takes_its_place_without_a_list_to_edit() -> None:
    base = get_format("preference")
    fmt = Format("graded", "preference", ("prompt", "chosen", "rejected", "grade"), base.known | {"grade"},
                 base.read_row, base.write_row, "test only")
    register(fmt)
    try:
        assert detect_format([{"prompt": "q", "chosen": "a", "rejected": "b", "grade": 1}]) is fmt
        assert detect_format([{"prompt": "q", "chosen": "a", "rejected": "b"}]).name == "preference"
    finally:
        del FORMATS["graded"]


def test_file_type_modules_do_not_import_formats() -> None:
    for path in Path(files_pkg.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        assert not [m for m in imported if m.startswith("oshie.data.formats")], path.name
