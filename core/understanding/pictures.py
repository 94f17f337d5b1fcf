"""Pictures for the understanding: the values panel under the style card, and the quality trend.

matplotlib loads lazily (the object-oriented API on an Agg canvas, as the style card does).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from core.profiling.glyphs import drawable
from core.understanding.values import Statement

_INK = "#1a202c"
_MUTED = "#718096"
_BAR = "#2b6cb0"
_WARN = "#c05621"


def values_panel(items: Sequence[Statement], *, limit: int = 8) -> bytes:
    """Each statement as a bar (its support out of its total) with its first quote (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = list(items[:limit])
    fig = Figure(figsize=(10, 0.62 * len(shown) + 0.9), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.03, 0.04, 0.94, 0.96 - 0.5 / (0.62 * len(shown) + 0.9)))
    ax.axis("off")
    fig.text(0.03, 0.985, "How you decide, from your own replies", fontsize=13,
             fontweight="bold", color=_INK, va="top")  # fmt: skip
    rows = len(shown)
    for row, statement in enumerate(shown):
        y = 1 - (row + 0.5) / rows
        share = statement.support / statement.total if statement.total else 0.0
        colour = _WARN if statement.correction is not None else _BAR
        ax.barh(y + 0.18 / rows, 0.18 * share, height=0.28 / rows, left=0.0, color=colour)
        ax.barh(
            y + 0.18 / rows, 0.18, height=0.28 / rows, left=0.0, fill=False, edgecolor="#cbd5e0"
        )
        ax.text(0.19, y + 0.18 / rows, f"{statement.support}/{statement.total}", fontsize=8,
                color=_MUTED, va="center")  # fmt: skip
        ax.text(0.24, y + 0.18 / rows, drawable(f"{row + 1}. {_clip(statement.shown(), 92)}"),
                fontsize=9, color=_INK, va="center")  # fmt: skip
        if statement.quotes:
            ax.text(0.26, y - 0.12 / rows, drawable(_clip(statement.quotes[0].show(60), 120)),
                    fontsize=7.5, color=_MUTED, va="center", style="italic")  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    out = io.BytesIO()
    fig.savefig(out, format="png", facecolor="white")
    return out.getvalue()


def stacked(top: bytes | None, bottom: bytes | None) -> bytes | None:
    """Two PNGs one above the other (either may be missing)."""
    if top is None or bottom is None:
        return top or bottom
    from PIL import Image

    upper = Image.open(io.BytesIO(top)).convert("RGB")
    lower = Image.open(io.BytesIO(bottom)).convert("RGB")
    canvas = Image.new("RGB", (max(upper.width, lower.width), upper.height + lower.height), "white")
    canvas.paste(upper, (0, 0))
    canvas.paste(lower, (0, upper.height))
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def trend(runs: Sequence[tuple[datetime, dict[str, float | None]]], *, title: str) -> bytes | None:
    """Each measure over the runs (a line per measure, 0–1), or ``None`` with fewer than one run."""
    if not runs:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.2), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    names = sorted({name for _, measures in runs for name in measures})
    for name in names:
        points = [(at, value) for at, m in runs if (value := m.get(name)) is not None]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)  # type: ignore[arg-type]
    ax.set_ylim(0, 1)
    ax.set_title(drawable(title), fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower left")
    fig.autofmt_xdate()
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", facecolor="white")
    return out.getvalue()


def _clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"
