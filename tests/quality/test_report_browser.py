"""report.html in headless Chromium: the DOM has every section and chart, and the charts paint."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from tests.support.browser import dump_dom, screenshot

from oshie.data.check import check_records
from oshie.data.check.report import SEVERITY_COLOURS, write_check_run


@pytest.fixture(scope="module")
def report(planted, eval_files, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    sources = ["a.jsonl" if i % 2 else "b.jsonl" for i in range(len(planted))]
    result = check_records(planted, sources=sources, eval_sets=eval_files)
    return write_check_run(result, out, drop="error")["report"]


def test_dom_has_sections_numbers_and_charts(report):
    dom = dump_dom(report)
    for section in ("summary", "checks", "examples", "lengths", "categories", "duplicates", "contamination"):
        assert f'id="{section}"' in dom, section
    charts = re.findall(r'<img id="(chart-[a-z]+)"[^>]*src="data:image/png;base64,([A-Za-z0-9+/=]{2000,})"', dom)
    assert {c for c, _ in charts} == {"chart-findings", "chart-lengths", "chart-categories", "chart-clusters"}
    assert re.search(r'id="n-records">\d+<', dom) and "<mark>" in dom
    assert "across files" in dom  # duplicate clusters spanning the two sources


def test_screenshot_shows_the_charts(report, tmp_path):
    import matplotlib.image as mpimg

    png = screenshot(report, tmp_path / "report.png", width=1200, height=2200)
    pixels = (mpimg.imread(png)[:, :, :3] * 255).round().astype(int)
    assert pixels.shape[:2] == (2200, 1200)
    colours = {tuple(int(h[i : i + 2], 16) for i in (1, 3, 5)) for h in SEVERITY_COLOURS.values()}
    # the bars of the findings chart are painted in the severity colours
    for rgb in colours:
        hits = np.all(np.abs(pixels - np.array(rgb)) <= 3, axis=2).sum()
        assert hits > 500, (rgb, hits)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 200  # text, charts, not a blank page
