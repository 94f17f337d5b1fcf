"""The profile card picture: the owner's fingerprint next to typical writers, as a PNG."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from core.profiling.glyphs import drawable
from core.profiling.profile import StyleProfile, format_duration

if TYPE_CHECKING:  # matplotlib loads lazily, on the first card drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@dataclass(frozen=True, slots=True)
class _Axis:
    label: str
    key: str
    scale: Callable[[float], float]
    show: Callable[[float], str]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _words(x: float) -> str:
    return f"{x:.0f} words"


_AXES: tuple[_Axis, ...] = (
    _Axis(
        "Message length (median)",
        "len_words_median",
        lambda x: math.log1p(x) / math.log1p(40),
        _words,
    ),
    _Axis("Words per sentence", "words_per_sentence", lambda x: x / 25, lambda x: f"{x:.1f}"),
    _Axis("Starts in lowercase", "lowercase_start_rate", lambda x: x, _pct),
    _Axis("Ends without punctuation", "end_none_rate", lambda x: x, _pct),
    _Axis("Asks questions", "question_rate", lambda x: x, _pct),
    _Axis("Exclamation marks", "exclamation_rate", lambda x: x, _pct),
    _Axis("Emoji & emoticons", "face_rate", lambda x: x, _pct),
    _Axis("Slang & abbreviations", "slang_rate", lambda x: x, _pct),
    _Axis("Formality", "formality", lambda x: x / 100, lambda x: f"{x:.0f}/100"),
    _Axis("Lexical diversity (MATTR)", "lexical_diversity", lambda x: x, lambda x: f"{x:.2f}"),
)

_OWNER = "#2b6cb0"
_TYPICAL = "#a0aec0"
_INK = "#1a202c"
_MUTED = "#718096"


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))


def render_card(
    profile: StyleProfile, typical: StyleProfile | None = None, *, title: str = "How you write"
) -> bytes:
    """Draw the profile card.

    Args:
        profile: The owner's profile.
        typical: A profile of typical writers (e.g. built from the shipped background corpus) to
            compare with; without it only the owner's bars are drawn.
        title: Heading of the card.

    Returns:
        PNG bytes (about 1000x620 pixels).
    """
    # The object-oriented API with an Agg canvas: no pyplot, no global backend switch.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tf = typical.features if typical is not None and typical.messages else None
    fig = Figure(figsize=(10, 6.2), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(
        1, 2, width_ratios=[2.05, 1], left=0.25, right=0.97, top=0.84, bottom=0.09, wspace=0.08
    )
    ax = fig.add_subplot(grid[0, 0])
    side = fig.add_subplot(grid[0, 1])
    side.axis("off")
    _draw_fingerprint(ax, profile.features, tf)
    _draw_heading(fig, profile, title, compared=bool(tf))
    _draw_side(side, _side_lines(profile))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _draw_bars(
    ax: Axes,
    rows: list[int],
    axes: list[_Axis],
    features: Mapping[str, float],
    *,
    offset: float,
    height: float,
    typical: bool,
) -> None:
    """One set of bars (the owner's, or typical writers'), each with its value beside it."""
    values = [_clip(a.scale(features.get(a.key, 0.0))) for a in axes]
    ax.barh(
        [r + offset for r in rows],
        values,
        height=height,
        color=_TYPICAL if typical else _OWNER,
        label="Typical writers" if typical else "You",
        zorder=3,
    )
    for r, a, v in zip(rows, axes, values, strict=True):
        ax.text(
            v + 0.012,
            r + offset,
            a.show(features.get(a.key, 0.0)),
            va="center",
            ha="left",
            fontsize=7.5 if typical else 8.5,
            color=_MUTED if typical else _OWNER,
            fontweight="normal" if typical else "bold",
            zorder=4,
        )


def _draw_fingerprint(ax: Axes, f: Mapping[str, float], tf: Mapping[str, float] | None) -> None:
    """The bars of every measured axis: the owner's, and typical writers' below when known."""
    axes = [a for a in _AXES if a.key in f]
    rows = list(range(len(axes)))[::-1]
    height = 0.36 if tf else 0.6
    _draw_bars(ax, rows, axes, f, offset=height / 2 if tf else 0, height=height, typical=False)
    if tf:
        _draw_bars(ax, rows, axes, tf, offset=-height / 2, height=height, typical=True)
    ax.set_yticks(rows)
    ax.set_yticklabels([a.label for a in axes], fontsize=10, color=_INK)
    ax.set_xlim(0, 1.18)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xticklabels(["low", "", "", "", "high"], fontsize=8, color=_MUTED)
    ax.grid(axis="x", color="#e2e8f0", zorder=0)
    ax.tick_params(axis="y", length=0)
    for spine in ("top", "right", "left"):
        ax.spines[spine].set_visible(False)
    ax.spines["bottom"].set_color("#cbd5e0")
    ax.legend(loc="lower right", fontsize=8.5, frameon=False, bbox_to_anchor=(1.0, -0.13), ncol=2)


def _draw_heading(fig: Figure, profile: StyleProfile, title: str, *, compared: bool) -> None:
    """The title, and how many messages over which months the card measures."""
    fig.text(0.03, 0.94, drawable(title), fontsize=17, fontweight="bold", color=_INK)
    st = profile.stats
    span = ""
    if st.first_at is not None and st.last_at is not None:
        first = datetime.fromtimestamp(st.first_at, UTC).strftime("%b %Y")
        last = datetime.fromtimestamp(st.last_at, UTC).strftime("%b %Y")
        span = f"  ·  {first}" + (f" – {last}" if last != first else "")
    grey = "  ·  grey: typical writers" if compared else ""
    fig.text(0.03, 0.895, f"{profile.messages:,} messages{span}{grey}", fontsize=9.5, color=_MUTED)


def _side_lines(profile: StyleProfile) -> list[tuple[str, str]]:
    """(heading, text) of the side panel: topics, habits, timing, decisions, differences."""
    f, st = profile.features, profile.stats
    lines: list[tuple[str, str]] = []
    topics = [t for t, _ in profile.topics(6)]
    if topics:
        lines.append(("Writes about", ", ".join(topics)))
    habits = []
    for counter in (st.greetings, st.sign_offs, st.slang, st.emoticons + st.emoji):
        habits += [f"'{w}'" for w, _ in counter.most_common(2)]
    if habits:
        lines.append(("Signature words", " ".join(habits[:8])))
    if "latency_median_s" in f:
        lines.append(("Typical reply time", format_duration(f["latency_median_s"])))
    fast = profile.fast_contacts(3)
    if fast:
        lines.append(("Answers fastest", ", ".join(name for name, _, _ in fast)))
    decisions = sum(st.intents.get(k, 0) for k in ("accept", "decline", "defer"))
    if decisions >= 5 and "accept_share_of_decisions" in f:
        lines.append(
            (
                "When asked",
                f"yes {_pct(f['accept_share_of_decisions'])} · no "
                f"{_pct(f['decline_share_of_decisions'])} · later "
                f"{_pct(f['defer_share_of_decisions'])}",
            )
        )
    if profile.differences:
        top = profile.differences[0]
        lines.append(("Varies by person" if top.kind == "contact" else "Varies by chat", top.text))
    return lines


def _draw_side(side: Axes, lines: list[tuple[str, str]]) -> None:
    y = 0.98
    for head, body in lines:
        side.text(
            0.04,
            y,
            head.upper(),
            fontsize=7.5,
            color=_MUTED,
            fontweight="bold",
            transform=side.transAxes,
            va="top",
        )
        # The owner's own words (emoji included): named where the font has no glyph.
        wrapped = _wrap(drawable(body), 34)
        side.text(
            0.04,
            y - 0.045,
            wrapped,
            fontsize=9.5,
            color=_INK,
            transform=side.transAxes,
            va="top",
            linespacing=1.35,
        )
        y -= 0.065 + 0.058 * (wrapped.count("\n") + 1)


def _wrap(text: str, width: int) -> str:
    out: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        out.append(line)
    return "\n".join(out[:4])
