"""Self-contained HTML reports (Jinja2) with matplotlib figures inlined as PNG data URIs.

Shared by `data check`, `eval` and `experiment`; this module never imports a stage.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

_env: Environment | None = None


def environment() -> Environment:
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


def new_figure(width: float = 6.4, height: float = 3.6):
    """A matplotlib figure on the non-interactive backend, with a font that has kana if present."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def render(template: str, out_path: str | Path, **context: Any) -> Path:
    """Render `resources/templates/<template>` to `out_path` and return the path."""
    html = environment().get_template(template).render(**context)
    p = Path(out_path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(html, encoding="utf-8")
    return p
