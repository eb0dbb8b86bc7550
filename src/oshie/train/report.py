"""report.html for a training run: summary, loss curves (and DPO reward curves), config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from oshie import __version__
from oshie.report.html import figure_data_uri, new_figure, render

__all__ = ["CHARTS", "write_train_report"]


# (title, [(log key, label)]) per chart; a chart is drawn when its keys were logged
CHARTS = [
    ("loss", [("loss", "train loss"), ("eval_loss", "eval loss")]),
    ("DPO rewards", [("rewards/margins", "chosen - rejected margin"),
                     ("rewards/accuracies", "reward accuracy")]),
]


def _chart(history: list[dict[str, Any]], series: list[tuple[str, str]], title: str) -> str | None:
    fig, ax = new_figure(6.4, 3.2)
    drawn = False
    for key, label in series:
        points = [(e["step"], e[key]) for e in history if key in e and "step" in e]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o" if len(points) < 30 else None, markersize=3, label=label)
            drawn = True
    if not drawn:
        import matplotlib.pyplot as plt

        plt.close(fig)
        return None
    ax.set_xlabel("step")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return figure_data_uri(fig)


def write_train_report(result: Any, config: Any, out_dir: str | Path) -> Path:
    """report.html of a run: summary, loss (and DPO reward) curves and the config."""
    history = result.log_history
    charts = [(title, uri) for title, series in CHARTS if (uri := _chart(history, series, title))]
    summary = [
        ("steps", result.global_step),
        ("loss first → last", f"{result.initial_loss:.4f} → {result.final_loss:.4f}"
         if result.initial_loss is not None and result.final_loss is not None else "-"),
        ("tokens processed", result.tokens_seen),
        ("tokens/s", result.tokens_per_second),
        ("wall time (s)", result.wall_time_s),
        ("processes", result.world_size),
        ("resumed from", result.resumed_from or "-"),
    ]
    return render(
        "train_report.html.j2",
        Path(out_dir) / "report.html",
        title=f"oshie train {result.kind}",
        version=__version__,
        config=config,
        output_dir=str(out_dir),
        result=result,
        summary=summary,
        data=list(result.data.items()),
        charts=charts,
        config_yaml=yaml.safe_dump(config.model_dump(mode="json"), allow_unicode=True, sort_keys=False),
    )
