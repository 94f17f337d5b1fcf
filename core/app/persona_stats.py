"""``persona stats [name]``: per-persona analytics, comparable across personas, with a picture.

Counts come from what happened to the drafts (offered, sent, edited, dismissed, regenerated),
the meters from the options shown (the "sounds like you" score and the reply-fit score of the
first option, by week), the reply time from each approval. Viewers of a team persona see its
stats too.
"""

from __future__ import annotations

import asyncio
import io
import statistics
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core.app.context import AppContext
from core.app.teams import Teams
from core.models import (
    Account,
    AccountId,
    CommandInvocation,
    DraftStatus,
    FeedbackKind,
    Persona,
    Reply,
)
from core.teams import DraftActivity, Role
from core.understanding.pictures import stacked

METER_DRAFTS = 300
"""The most recent drafts per persona whose options are read for the meters."""


@dataclass(slots=True)
class PersonaStats:
    """One persona's figures."""

    name: str
    offered: int = 0
    sent: int = 0
    edited: int = 0
    dismissed: int = 0
    waiting: int = 0
    reply_minutes: list[float] = field(default_factory=list)
    style_by_week: dict[str, list[int]] = field(default_factory=dict)
    fit_by_week: dict[str, list[int]] = field(default_factory=dict)
    approvers: set[str] = field(default_factory=set)

    @property
    def median_reply_min(self) -> float | None:
        return statistics.median(self.reply_minutes) if self.reply_minutes else None

    def line(self) -> str:
        rate = f"{round(100 * (self.sent + self.edited) / self.offered)}%" if self.offered else "–"
        reply = self.median_reply_min
        style = [s for week in self.style_by_week.values() for s in week]
        fit = [s for week in self.fit_by_week.values() for s in week]
        parts = [
            f"{self.name}: {self.offered} offered · {self.sent} sent · {self.edited} edited · "
            f"{self.dismissed} dismissed · {self.waiting} waiting · {rate} used",
            "   sounds like you "
            + (f"{round(statistics.mean(style))}/100" if style else "–")
            + " · fit "
            + (f"{round(statistics.mean(fit))}/100" if fit else "–")
            + " · median reply time "
            + ("–" if reply is None else f"{reply:.0f} min"),
        ]
        if self.approvers:
            parts.append("   approved by: " + ", ".join(sorted(self.approvers)))
        return "\n".join(parts)


def _week(at: datetime) -> str:
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


QualityTrend = Callable[[AccountId, Persona], Awaitable[tuple[list[str], bytes | None]]]
"""A persona's latest quality and its trend picture (nothing before its first run)."""


class PersonaStatsView:
    """Builds the figures of one or every persona and draws them."""

    def __init__(self, ctx: AppContext, teams: Teams) -> None:
        self._ctx = ctx
        self._teams = teams
        self.quality: QualityTrend | None = None
        """Each persona's quality over time (``core/app/quality_history.py``)."""

    async def command(
        self, account: Account, command: CommandInvocation, args: Sequence[str]
    ) -> Reply:
        """``persona stats [name]``: one persona, or all of yours side by side."""
        if args:
            target = await self._teams.target(account, command.user, " ".join(args), Role.VIEWER)
            if isinstance(target, str):
                return Reply(text=target)
            owner_id, personas = target.account_id, [target.persona]
        else:
            owner_id, personas = account.id, await self._ctx.stores.personas.list(account.id)
        stats = await self.figures(owner_id, personas)
        if not any(s.offered for s in stats):
            return Reply(text="No drafts yet, so no stats: forward or paste a message to get some.")
        text = "\n".join(["Per-persona drafts (all time):", *(s.line() for s in stats)])
        png: bytes | None = await asyncio.to_thread(draw, stats)
        if self.quality is not None:  # quality over time (issue 18)
            for persona in personas:
                lines, trend = await self.quality(owner_id, persona)
                text = "\n".join([text, *lines])
                png = await asyncio.to_thread(stacked, png, trend)
        return Reply(text=text, image=png, image_name="persona-stats.png")

    async def figures(self, account_id: str, personas: Sequence[Persona]) -> list[PersonaStats]:
        """The figures of ``personas`` (all of one account)."""
        stores = self._ctx.stores
        activity = await stores.activity.activity(account_id)
        by_persona: dict[str, list[DraftActivity]] = defaultdict(list)
        for item in activity:
            by_persona[item.persona_id].append(item)
        out = []
        for persona in personas:
            stats = PersonaStats(name=persona.name)
            items = by_persona.get(persona.id, [])
            for item in items:
                stats.offered += 1
                if item.status in (DraftStatus.SENT, DraftStatus.APPROVED) and not item.edited:
                    stats.sent += 1
                elif item.status == DraftStatus.EDITED or (item.approved_at and item.edited):
                    stats.edited += 1
                elif item.status == DraftStatus.PENDING:
                    stats.waiting += 1
                if item.approved_at is not None:
                    minutes = (item.approved_at - item.created_at).total_seconds() / 60
                    stats.reply_minutes.append(max(0.0, minutes))
                if item.approved_by is not None:
                    stats.approvers.add(str(item.approved_by))
            feedback = await stores.feedback.list(account_id, persona.id)
            stats.dismissed = sum(f.kind is FeedbackKind.DISMISSED for f in feedback)
            for item in items[-METER_DRAFTS:]:
                draft = await stores.drafts.get(account_id, item.draft_id)
                if draft is None or not draft.options:
                    continue
                week = _week(item.created_at)
                stats.style_by_week.setdefault(week, []).append(draft.options[0].style_score)
                if draft.options[0].fit is not None:
                    stats.fit_by_week.setdefault(week, []).append(draft.options[0].fit)
            out.append(stats)
        return out


def draw(stats: Sequence[PersonaStats]) -> bytes:
    """A PNG: outcomes per persona side by side, and the weekly "sounds like you" meter."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 6), dpi=100)
    counts, meters = figure.subplots(2, 1)
    kinds = ("offered", "sent", "edited", "dismissed")
    width = 0.8 / max(1, len(stats))
    for i, persona in enumerate(stats):
        values = [getattr(persona, k) for k in kinds]
        counts.bar([x + i * width for x in range(len(kinds))], values, width, label=persona.name)
    counts.set_xticks([x + width * (len(stats) - 1) / 2 for x in range(len(kinds))], kinds)
    counts.set_ylabel("drafts")
    counts.yaxis.set_major_locator(MaxNLocator(integer=True))
    counts.set_title("Drafts per persona")
    counts.legend()
    for persona in stats:
        weeks = sorted(persona.style_by_week)
        if weeks:
            line = meters.plot(
                weeks,
                [statistics.mean(persona.style_by_week[w]) for w in weeks],
                marker="o",
                label=f"{persona.name}: sounds like you",
            )
            fit_weeks = sorted(persona.fit_by_week)
            if fit_weeks:
                meters.plot(
                    fit_weeks,
                    [statistics.mean(persona.fit_by_week[w]) for w in fit_weeks],
                    linestyle="--",
                    color=line[0].get_color(),
                    label=f"{persona.name}: fit",
                )
    meters.set_ylim(0, 100)
    meters.set_ylabel("mean of the first option (0–100)")
    meters.set_title("Style and fit meters by week")
    if any(p.style_by_week for p in stats):
        meters.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
