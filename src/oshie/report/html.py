"""Self-contained HTML reports (Jinja2) with matplotlib figures inlined as PNG data URIs.

Shared by `data check`, `eval` and `experiment`; this module never imports a stage.
"""

from __future__ import annotations

import base64
import contextlib
import io
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

__all__ = ["environment", "figure_data_uri", "japanese_font", "new_figure", "render"]


_env: Environment | None = None


def environment() -> Environment:
    """The one Jinja2 environment over the shipped templates, autoescaping HTML."""
    global _env
    if _env is None:
        _env = Environment(
            loader=PackageLoader("oshie", "resources/templates"),
            autoescape=select_autoescape(["html", "j2"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _env


def figure_data_uri(fig: Any) -> str:
    """Render a matplotlib figure to a PNG data URI and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# fonts with kana and kanji, most preferred first; DejaVu Sans (matplotlib's default) has none
_CJK_FONTS = (
    "Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "Hiragino Sans",
    "Hiragino Kaku Gothic ProN", "Yu Gothic", "Meiryo", "TakaoGothic", "VL Gothic",
    "Noto Serif CJK JP", "Source Han Sans JP",
)
_FONT_FILE_HINTS = ("notosanscjk", "notosansjp", "ipaex", "ipag", "takao", "vl-gothic", "sourcehansans")
_font_state: dict[str, str | None] = {}


def japanese_font() -> str | None:
    """The name of an installed font that can draw Japanese, or None (labels then show boxes;
    install e.g. Debian's `fonts-noto-cjk`). Fonts installed after matplotlib built its font
    cache are found by scanning the system font folders once."""
    if "name" in _font_state:
        return _font_state["name"]
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    name = next((n for n in _CJK_FONTS if n in known), None)
    if name is None:
        # add every weight of every matching file: adding only the first one found (often
        # the Bold) made matplotlib warn "Failed to find font weight normal" on every plot
        for path in font_manager.findSystemFonts():
            if any(h in path.lower().replace("_", "").replace(" ", "") for h in _FONT_FILE_HINTS):
                with contextlib.suppress(OSError, RuntimeError, ValueError):
                    font_manager.fontManager.addfont(path)
        known = {f.name for f in font_manager.fontManager.ttflist}
        name = next((n for n in _CJK_FONTS if n in known), None)
    _font_state["name"] = name
    return name


def new_figure(width: float = 6.4, height: float = 3.6):
    """A matplotlib figure on the non-interactive backend, with a font that has kana if present."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    font = japanese_font()
    if font:
        # a list: glyphs missing from the CJK font (rare) fall back to DejaVu Sans
        matplotlib.rcParams["font.family"] = [font, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return plt.subplots(figsize=(width, height))


def render(template: str, out_path: str | Path, **context: Any) -> Path:
    """Render `resources/templates/<template>` to `out_path` and return the path."""
    html = environment().get_template(template).render(**context)
    p = Path(out_path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(html, encoding="utf-8")
    return p
