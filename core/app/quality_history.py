"""Quality over time: every ``quality`` run kept per persona (StateStore kind
``quality-history``: encrypted, in the export, erased with the account), a trend picture, alerts
when a measure drops beyond noise, and the scheduled runs — weekly, and soon after a big import.

Scheduled runs go through :class:`QualityJobs` (the scheduler implements it): they measure off
the event loop (:meth:`core.app.quality.Quality.report` runs in a worker thread) and one at a time
per process (a lock), so a run never holds up an acknowledgement.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from core.app.context import AppContext
from core.app.model_versions import PREVIOUS, VERSIONS_STATE, load_log
from core.app.models import VERIFIER_STATE
from core.app.quality import Quality
from core.drafting.state import unpack_state
from core.models import (
    Account,
    AccountId,
    ImportSummary,
    Persona,
    PersonaId,
    Reply,
    UserRef,
)
from core.ports import QualityJobs
from core.understanding import pictures, trend, versions
from core.verifier import StyleVerifier

log = logging.getLogger(__name__)
WEEKLY = timedelta(days=7)
BIG_IMPORT = 500
"""An import of at least this many new messages is measured soon after (not a week later)."""
AFTER_IMPORT = timedelta(minutes=5)
"""How soon after a big import it is measured (several uploads in a row make one run)."""


def _user(text: str | None) -> UserRef | None:
    if not text or ":" not in text:
        return None
    platform, _, user_id = text.partition(":")
    return UserRef(platform=platform, user_id=user_id)


class QualityHistory:
    """The persona's quality runs, their trend, alerts, and the schedule of the next run."""

    def __init__(self, ctx: AppContext, quality: Quality) -> None:
        self._ctx = ctx
        self._quality = quality
        self._running = asyncio.Lock()
        """One scheduled measurement at a time in this process."""

    async def history(self, account_id: AccountId, persona_id: PersonaId) -> trend.History:
        raw = await self._ctx.derived_state(account_id, persona_id, trend.HISTORY_STATE)
        return trend.History.from_bytes(raw)

    async def _save(self, account_id: AccountId, persona_id: PersonaId, h: trend.History) -> None:
        await self._ctx.stores.state.put(account_id, persona_id, trend.HISTORY_STATE, h.to_bytes())

    async def _version(self, account_id: AccountId, persona_id: PersonaId) -> int:
        data = load_log(await self._ctx.derived_state(account_id, persona_id, VERSIONS_STATE))
        return int(str(data.get("current", 1)))

    async def record(
        self,
        account: Account,
        persona: Persona,
        report: dict[str, Any],
        *,
        trigger: str,
        notify: UserRef | None = None,
    ) -> tuple[trend.Run, trend.Run | None, trend.History]:
        """Keep one run of ``report``; the run, the one before it, and the history."""
        h = await self.history(account.id, persona.id)
        data = report.get("data") or {}
        run = trend.Run(
            at=self._ctx.clock(),
            trigger=trigger,
            model_version=await self._version(account.id, persona.id),
            messages=int(data.get("messages", 0)) if isinstance(data, dict) else 0,
            measures=trend.measures(report),
        )
        previous = h.runs[-1] if h.runs else None
        h.runs.append(run)
        if notify is not None:
            h.notify = f"{notify.platform}:{notify.user_id}"
        await self._save(account.id, persona.id, h)
        return run, previous, h

    async def version_lines(self, account: Account, persona: Persona) -> list[str]:
        """The retrained style verifier against its previous version, on the messages written
        since it was trained (neither version saw them); nothing when there is no previous one."""
        data = load_log(await self._ctx.derived_state(account.id, persona.id, VERSIONS_STATE))
        log = data["log"]
        assert isinstance(log, list)
        entry = next(
            (
                e
                for e in reversed(log)
                if e.get("event") == "retrained" and VERIFIER_STATE in e.get("kinds", [])
            ),
            None,
        )
        if entry is None or not data.get("previous"):
            return []
        new = unpack_state(await self._ctx.derived_state(account.id, persona.id, VERIFIER_STATE))
        old = unpack_state(
            await self._ctx.derived_state(account.id, persona.id, VERIFIER_STATE + PREVIOUS)
        )
        if new is None or old is None:
            return []
        since = datetime.fromisoformat(entry["at"])
        owner_texts: list[str] = []
        other_texts: list[str] = []
        async for stored in self._ctx.stores.messages.iter(account.id, persona.id):
            if stored.message.sent_at > since and stored.message.text.strip():
                (owner_texts if stored.from_owner else other_texts).append(stored.message.text)
        embedder = self._ctx.embedder

        def compare() -> versions.Comparison | None:
            return versions.compare(
                StyleVerifier.from_bytes(new[1], embedder=embedder),
                StyleVerifier.from_bytes(old[1], embedder=embedder),
                owner_texts,
                other_texts,
            )

        version, before = int(entry["version"]), int(str(data["previous"]))
        try:
            found = await asyncio.to_thread(compare)
        except ValueError:
            return []
        if found is None:
            return [
                f"Style verifier v{version} (retrained {since:%Y-%m-%d}) vs v{before}: not yet "
                f"comparable on messages neither has seen — {len(owner_texts)} of yours and "
                f"{len(other_texts)} of others' written since; {versions.MIN_EACH} of each needed."
            ]
        return [found.line(version, before)]

    async def annotate(
        self,
        account: Account,
        persona: Persona,
        report: dict[str, Any],
        reply: Reply,
        user: UserRef,
    ) -> Reply:
        """An on-demand ``quality`` reply with the run kept, the change since the last run, any
        drop beyond noise, and the trend under the report's picture."""
        run, previous, h = await self.record(
            account, persona, report, trigger="on demand", notify=user
        )
        shown = self._with_trend(reply, persona, run, previous, h)
        compared = await self.version_lines(account, persona)
        if not compared:
            return shown
        return replace(shown, text="\n".join([shown.text, *compared]))

    def _with_trend(
        self,
        reply: Reply,
        persona: Persona,
        run: trend.Run,
        previous: trend.Run | None,
        h: trend.History,
    ) -> Reply:
        lines = [reply.text, *trend.comparison(previous, run)]
        lines += [f"⚠ {alert}" for alert in trend.alerts(previous, run)]
        lines.append(
            f"Kept as run {len(h.runs)} of persona '{persona.name}' (model v{run.model_version}); "
            "`quality history` shows the trend."
        )
        chart = self._trend_png(persona, h) if len(h.runs) >= 2 else None
        image = pictures.stacked(reply.image, chart)
        return Reply(
            text="\n".join(lines),
            image=image,
            image_name=reply.image_name or ("quality-trend.png" if image else None),
        )

    def _trend_png(self, persona: Persona, h: trend.History) -> bytes | None:
        points = [
            (r.at, {trend.LABELS.get(k, k): m.value for k, m in r.measures.items()}) for r in h.runs
        ]
        return pictures.trend(points, title=f"Quality of persona '{persona.name}' over time")  # type: ignore[arg-type]

    async def trend(
        self, account_id: AccountId, persona: Persona
    ) -> tuple[list[str], bytes | None]:
        """For ``persona stats``: the persona's latest quality run in one line and its trend
        picture (with two runs or more); nothing before the first run."""
        h = await self.history(account_id, persona.id)
        if not h.runs:
            return [], None
        last = h.runs[-1]
        shown = ", ".join(
            f"{trend.LABELS.get(k, k)} {m.value:.2f}" for k, m in last.measures.items()
        )
        line = (
            f"Quality of '{persona.name}' ({len(h.runs)} run(s), latest {last.at:%Y-%m-%d}, "
            f"model v{last.model_version}): {shown or 'too little data to measure'}"
        )
        alerts = trend.alerts(h.runs[-2] if len(h.runs) >= 2 else None, last)
        png = await asyncio.to_thread(self._trend_png, persona, h) if len(h.runs) >= 2 else None
        return [line, *(f"⚠ {a}" for a in alerts)], png

    async def history_command(self, account: Account, args: tuple[str, ...]) -> Reply:
        """``quality history [persona]``."""
        name = " ".join(args).strip()
        persona = await self._quality.persona_named(account, name)
        if persona is None:
            return Reply(text=f"No persona called '{name}'. `persona list` shows yours.")
        return await self.command(account, persona)

    async def command(self, account: Account, persona: Persona) -> Reply:
        """``quality history``: every kept run, and the trend picture."""
        h = await self.history(account.id, persona.id)
        if not h.runs:
            return Reply(
                text=f"No quality runs kept for persona '{persona.name}' yet: `quality` measures "
                "now; it also runs weekly and after big imports."
            )
        lines = [f"Quality of persona '{persona.name}', {len(h.runs)} run(s):"]
        for run in h.runs[-10:]:
            shown = (
                ", ".join(
                    f"{trend.LABELS.get(k, k)} {m.value:.2f}" for k, m in run.measures.items()
                )
                or "too little data to measure"
            )
            lines.append(
                f"• {run.at:%Y-%m-%d %H:%M} ({run.trigger}, model v{run.model_version}, "
                f"{run.messages:,} messages): {shown}"
            )
        previous = h.runs[-2] if len(h.runs) >= 2 else None
        lines += [f"⚠ {a}" for a in trend.alerts(previous, h.runs[-1])]
        if h.next_due:
            lines.append(f"Next scheduled run: {h.next_due[:16].replace('T', ' ')} UTC.")
        png = await asyncio.to_thread(self._trend_png, persona, h)
        return Reply(
            text="\n".join(lines), image=png, image_name="quality-trend.png" if png else None
        )

    # ----------------------------------------------------------------- the schedule

    def _jobs(self) -> QualityJobs | None:
        jobs = self._ctx.jobs
        return jobs if isinstance(jobs, QualityJobs) else None

    async def schedule(
        self, account_id: AccountId, persona_id: PersonaId, at: datetime, *, trigger: str = "weekly"
    ) -> bool:
        """Arm the persona's next run at ``at`` (``False``: no scheduler in this process)."""
        jobs = self._jobs()
        if jobs is None:
            return False
        await jobs.set_quality(account_id, persona_id, at)
        h = await self.history(account_id, persona_id)
        h.next_due = at.isoformat()
        h.next_trigger = trigger
        await self._save(account_id, persona_id, h)
        return True

    async def after_import(
        self, user: UserRef, account: Account, persona: Persona, summary: ImportSummary
    ) -> None:
        """A big import is measured soon; any import makes sure a weekly run is armed."""
        h = await self.history(account.id, persona.id)
        h.notify = h.notify or f"{user.platform}:{user.user_id}"
        await self._save(account.id, persona.id, h)
        now = self._ctx.clock()
        if summary.new >= BIG_IMPORT:
            await self.schedule(
                account.id, persona.id, now + AFTER_IMPORT, trigger="after an import"
            )
        elif h.next_due is None:
            await self.schedule(account.id, persona.id, now + WEEKLY)

    async def run_scheduled(
        self, account_id: AccountId, persona_id: PersonaId
    ) -> tuple[UserRef, Reply] | None:
        """A scheduled run: measure (off the event loop, one at a time here), keep it, arm the
        next one a week later; a message for the owner only when a measure dropped beyond
        noise. ``None`` when the account or persona is gone, paused, or nothing to say."""
        account = await self._ctx.stores.accounts.get(account_id)
        persona = await self._ctx.stores.personas.get(account_id, persona_id)
        if account is None or persona is None:
            return None
        trigger = (await self.history(account_id, persona_id)).next_trigger or "weekly"
        await self.schedule(account_id, persona_id, self._ctx.clock() + WEEKLY)
        if account.paused or not await self._ctx.stores.messages.count(account_id, persona_id):
            return None
        async with self._running:
            report = await self._quality.report(account, persona)
        run, previous, h = await self.record(account, persona, report, trigger=trigger)
        found = trend.alerts(previous, run)
        to = _user(h.notify)
        if not found or to is None:
            return None
        text = "\n".join(
            [
                f"Quality of persona '{persona.name}' dropped since {previous.at:%Y-%m-%d}:"
                if previous
                else "Quality dropped:",
                *(f"⚠ {a}" for a in found),
                "`quality` shows the details; `models rollback` restores the previous models.",
            ]
        )
        return to, Reply(
            text=text, image=self._trend_png(persona, h), image_name="quality-trend.png"
        )
