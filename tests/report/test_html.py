"""Plots: a Japanese font is found even when matplotlib's font cache predates it, and no
plot logs findfont warnings."""

from __future__ import annotations

import logging

import pytest

from oshie.report import html


def test_font_found_after_the_cache_without_findfont_warnings(monkeypatch, caplog) -> None:
    from matplotlib import font_manager

    if not any("cjk" in p.lower() or "ipa" in p.lower() for p in font_manager.findSystemFonts()):
        pytest.skip("no Japanese font installed (Debian: fonts-noto-cjk)")
    # a font cache built before the CJK fonts were installed knows none of them
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [
        f for f in font_manager.fontManager.ttflist if "CJK" not in f.name and "IPA" not in f.name])
    monkeypatch.setattr(html, "_font_state", {})
    with caplog.at_level(logging.WARNING, logger="matplotlib"):
        for _ in range(2):
            fig, ax = html.new_figure()
            ax.plot([1, 2], [3, 4], label="損失")
            ax.set_title("学習の損失")
            ax.legend()
            assert html.figure_data_uri(fig).startswith("data:image/png;base64,")
    assert html.japanese_font() in html._CJK_FONTS
    assert [r.getMessage() for r in caplog.records] == []
