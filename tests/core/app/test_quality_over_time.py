"""Quality over time and model versions (issue 18), through the clone on real SQLite stores:
the history survives a restart and is in the export; a rollback restores the previous models'
behaviour; scheduled runs are off the event loop, one at a time, and armed by imports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.app.quality_history import AFTER_IMPORT, BIG_IMPORT, WEEKLY
from core.engines.embedding import HashingEmbedder
from core.models import (
    CommandInvocation,
    ImportSummary,
    IncomingMessage,
    Message,
    Reply,
    UserRef,
)
from core.service import Clone, LearningPriority

OWNER = UserRef(platform="local", user_id="owner")
T0 = datetime(2026, 9, 2, 9, 0, tzinfo=UTC)


@asynccontextmanager
async def runtime(tmp_path: Path, name: str = "data") -> AsyncIterator[Runtime]:
    data = tmp_path / name
    data.mkdir(exist_ok=True)
    async with open_runtime(load_settings({}, data_dir=data), embedder=HashingEmbedder()) as rt:
        yield rt


async def say(clone: Clone, text: str) -> Reply:
    replies = await clone.handle_command(CommandInvocation(user=OWNER, name="", text=text))
    assert len(replies) == 1
    return replies[0]


def notes_file(path: Path, count: int) -> Path:
    """Messages the owner wrote alone (a notes channel): more owner text, no new exemplar."""
    rows = [
        {
            "id": f"note-{n}",
            "conversation": "#notes",
            "thread": None,
            "sender": "sam",
            "text": f"Dear team, please find attached the revised schedule number {n}. "
            "Kind regards, Samuel.",
            "sent_at": (T0 + timedelta(minutes=n)).isoformat(),
            "reply_to": None,
        }
        for n in range(count)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


async def test_quality_history_survives_a_restart_and_is_in_the_export(tmp_path: Path) -> None:
    async with runtime(tmp_path) as rt:
        await rt.clone.import_sample(OWNER)
        first = await say(rt.clone, "quality")
        assert "Kept as run 1 of persona 'default' (model v1)" in first.text
        assert first.image is not None
    async with runtime(tmp_path) as rt:
        clone = rt.clone
        history = await say(clone, "quality history")
        assert history.text.startswith("Quality of persona 'default', 1 run(s):")
        assert "(on demand, model v1, 475 messages): reply relevance (MRR)" in history.text
        second = await say(clone, "quality")
        assert "Kept as run 2" in second.text
        assert "Since " in second.text and "(model v1, 475 → 475 messages)" in second.text
        assert "⚠" not in second.text  # the same data measured twice: no drop beyond noise
        account = await clone.account(OWNER)
        exported = await clone.export_data(account)
        state = exported["state"]
        assert isinstance(state, list)
        kept = next(e for e in state if e["kind"] == "quality-history")
        runs = kept["value"]["runs"]
        assert len(runs) == 2 and runs[0]["measures"]["relevance_mrr"]["value"] > 0
        assert "quality [persona] | history" in (await say(clone, "help")).text
        assert "No persona called 'work'" in (await say(clone, "quality history work")).text
        # persona stats shows each persona's latest quality and the trend picture too.
        await drafts_and_scores(clone)
        probe = IncomingMessage(
            owner=OWNER,
            message=Message(
                id="stats-probe", conversation="dm:nina", thread=None, sender="nina",
                text="can you review my PR today?", sent_at=T0,
            ),
            sender_name="nina",
            is_direct=True,
        )  # fmt: skip
        await clone.handle_incoming(probe, explicit=True)
        stats = await say(clone, "persona stats")
        assert "Quality of 'default' (2 run(s)" in stats.text and "model v1" in stats.text
        assert stats.image is not None


async def drafts_and_scores(clone: Clone) -> tuple[object, ...]:
    message = Message(
        id="probe",
        conversation="dm:nina",
        thread=None,
        sender="nina",
        text="Can you review my PR for the usage dashboard today?",
        sent_at=T0,
    )
    incoming = IncomingMessage(owner=OWNER, message=message, sender_name="nina", is_direct=True)
    account = await clone.account(OWNER)
    persona = await clone.active_persona(account)
    options = await clone.draft_options(account, persona, message)
    await clone.triage(incoming)
    # The prioritiser's learned state (its weights, centroids and taps). Its context features
    # (who writes how often) are recomputed from the current history, which a rollback of
    # models does not undo: the weights are compared, not the triage score.
    priority = (await clone.models.get(account, persona)).priority
    assert isinstance(priority, LearningPriority)
    return tuple((o.text, o.style_score, o.fit) for o in options), priority.dump()


async def test_a_rollback_restores_the_previous_models_behaviour(tmp_path: Path) -> None:
    async with runtime(tmp_path) as rt:
        clone = rt.clone
        assert "no earlier model version" in (await say(clone, "models rollback")).text
        await clone.import_sample(OWNER)
        await clone.settle()
        account = await clone.account(OWNER)
        persona = await clone.active_persona(account)
        clone.models.forget(account.id)
        before = await drafts_and_scores(clone)
        assert "uses model v1" in (await say(clone, "models")).text

        # More of the owner's writing: the verifier and the prioritiser retrain (a new version).
        await clone.import_file(OWNER, notes_file(tmp_path / "notes.jsonl", 140), me="sam")
        await clone.settle()
        clone.models.forget(account.id)
        retrained = await drafts_and_scores(clone)
        assert retrained != before
        listing = (await say(clone, "models")).text
        assert "uses model v2" in listing and "retrained" in listing
        stored = await rt.storage.state.get(account.id, persona.id, "verifier@previous")
        assert stored

        said = await say(clone, "models rollback")
        assert "Rolled back persona 'default' to model v1" in said.text
        assert "style verifier" in said.text and "prioritiser" in said.text
        assert await drafts_and_scores(clone) == before
        await clone.settle()  # nothing retrains behind the owner's back after a rollback
        clone.models.forget(account.id)
        assert await drafts_and_scores(clone) == before
        assert "no earlier model version" in (await say(clone, "models rollback")).text
        assert "No persona called 'x'" in (await say(clone, "models rollback x")).text
        assert "Usage: models" in (await say(clone, "models undo")).text


def exchange_file(path: Path, start: datetime, count: int) -> Path:
    """Messages written after a retrain: others ask, the owner answers."""
    rows = []
    for n in range(count):
        at = start + timedelta(minutes=10 * n)
        rows.append({"id": f"ask-{n}", "conversation": "dm:lee", "thread": None, "sender": "lee",
                     "text": f"Could you look at ticket {n} when you have a moment?",
                     "sent_at": at.isoformat(), "reply_to": None})  # fmt: skip
        rows.append({"id": f"ans-{n}", "conversation": "dm:lee", "thread": None, "sender": "sam",
                     "text": "yep, on it after this meeting" if n % 2 else "sure, can do by 3pm",
                     "sent_at": (at + timedelta(minutes=2)).isoformat(), "reply_to": f"ask-{n}"})  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


async def test_quality_compares_a_retrained_verifier_with_its_previous_version(
    tmp_path: Path,
) -> None:
    async with runtime(tmp_path) as rt:
        clone = rt.clone
        await clone.import_sample(OWNER)
        await clone.settle()
        retrained_at = T0 + timedelta(days=1)
        clone.ctx.clock = lambda: retrained_at
        await clone.import_file(OWNER, notes_file(tmp_path / "notes.jsonl", 140), me="sam")
        await clone.settle()
        waiting = await say(clone, "quality")
        assert "Style verifier v2 (retrained 2026-09-03) vs v1: not yet comparable" in waiting.text
        later = T0 + timedelta(days=2)
        await clone.import_file(OWNER, exchange_file(tmp_path / "x.jsonl", later, 12), me="sam")
        compared = (await say(clone, "quality")).text
        line = next(x for x in compared.splitlines() if x.startswith("Style verifier v2 vs v1"))
        assert "on the same 24 messages written since v2 was trained (12 yours, 12 others'" in line
        assert line.count("95% CI") == 3


class RecordingQualityJobs:
    """The scheduler's ports (digest, follow-ups, quality), keeping when each job is due."""

    def __init__(self) -> None:
        self.due: dict[str, datetime] = {}

    async def set_digest(self, account_id: str, at: object, timezone: str) -> None: ...

    async def clear_digest(self, account_id: str) -> None: ...

    async def set_followup(self, account_id: str, item_id: str, at: object) -> None: ...

    async def clear_followup(self, account_id: str, item_id: str) -> None: ...

    async def set_quality(self, account_id: str, persona_id: str, at: datetime) -> None:
        self.due[f"{account_id}:{persona_id}"] = at

    async def clear_quality(self, account_id: str, persona_id: str) -> None:
        self.due.pop(f"{account_id}:{persona_id}", None)


async def test_imports_arm_the_schedule_and_erase_clears_it(tmp_path: Path) -> None:
    async with runtime(tmp_path) as rt:
        clone = rt.clone
        clone.ctx.clock = lambda: T0
        jobs = RecordingQualityJobs()
        clone.use_jobs(jobs)
        await clone.import_sample(OWNER)  # 475 messages: not a big import, a weekly run
        account = await clone.account(OWNER)
        persona = await clone.active_persona(account)
        key = f"{account.id}:{persona.id}"
        assert jobs.due[key] == T0 + WEEKLY
        big = ImportSummary(
            format="jsonl", messages=BIG_IMPORT, new=BIG_IMPORT, owner_messages=0,
            owner_replies=0, conversations=1, first=None, last=None,
        )  # fmt: skip
        await clone.app.quality_history.after_import(OWNER, account, persona, big)
        assert jobs.due[key] == T0 + AFTER_IMPORT
        await clone.cancel_jobs(account.id)  # what erasing the account does first
        assert key not in jobs.due


async def test_scheduled_runs_are_off_the_loop_one_at_a_time_and_alert_on_a_drop(
    tmp_path: Path,
) -> None:
    async with runtime(tmp_path) as rt:
        clone = rt.clone
        clone.use_jobs(RecordingQualityJobs())
        await clone.import_sample(OWNER)
        await say(clone, "persona new work")
        await clone.import_sample(OWNER)
        account = await clone.account(OWNER)
        personas = await rt.storage.personas.list(account.id)
        assert len(personas) == 2
        history = clone.app.quality_history
        quality = clone.app.quality
        measure = quality.report
        inside = 0
        most = 0
        started = asyncio.Event()

        async def counted(*args: Any, **kwargs: Any) -> dict[str, Any]:
            nonlocal inside, most
            inside += 1
            most = max(most, inside)
            started.set()
            try:
                return await measure(*args, **kwargs)
            finally:
                inside -= 1

        quality.report = counted  # type: ignore[method-assign]
        runs = [asyncio.create_task(history.run_scheduled(account.id, p.id)) for p in personas]
        # While they measure, the clone keeps answering at once (the measuring is in a thread).
        await started.wait()
        answered = await say(clone, "help")
        assert "minime" in answered.text and not all(r.done() for r in runs)
        results = await asyncio.gather(*runs)
        assert most == 1
        assert results == [None, None]  # nothing dropped: nothing to tell
        for persona in personas:
            kept = await history.history(account.id, persona.id)
            assert [r.trigger for r in kept.runs] == ["weekly"]

        # A measure that drops beyond noise is told to the owner.
        def worse(report: dict[str, Any]) -> dict[str, Any]:
            drafting = report["drafting"]
            ours = drafting.get("fitted") or drafting["retrieval"]
            ours.update(mrr=0.01, mrr_ci=[0.0, 0.02])
            return report

        async def dropping(*args: Any, **kwargs: Any) -> dict[str, Any]:
            return worse(await measure(*args, **kwargs))

        quality.report = dropping  # type: ignore[method-assign]
        told = await history.run_scheduled(account.id, personas[0].id)
        assert told is not None and told[0] == OWNER
        assert "⚠ reply relevance (MRR) dropped from" in told[1].text
        assert "`models rollback`" in told[1].text and told[1].image is not None
