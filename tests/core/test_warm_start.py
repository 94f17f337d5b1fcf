"""Warm start and batch triage of the Clone facade, on real SQLite storage with the hashing embedder."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.bootstrap import open_runtime, warm_in_background
from bot.settings import Settings, load_settings
from core.engines.embedding import HashingEmbedder
from core.models import IncomingMessage, Message, UserRef, utc_now

OWNER = UserRef(platform="local", user_id="owner")
STRANGER = UserRef(platform="local", user_id="stranger")


class RecordingEmbedder:
    """The hashing embedder, recording each call and the thread it ran on."""

    def __init__(self, *, fail: bool = False) -> None:
        self.inner = HashingEmbedder()
        self.dim = self.inner.dim
        self.calls: list[tuple[list[str], bool]] = []
        self.fail = fail

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append((list(texts), threading.current_thread() is threading.main_thread()))
        if self.fail:
            raise RuntimeError("model file missing")
        return self.inner.encode(texts)


def incoming(text: str, n: int, sender: str = "priya") -> IncomingMessage:
    message = Message(
        id=f"live-{n}",
        conversation=f"dm:{sender}",
        thread=None,
        sender=sender,
        text=text,
        sent_at=utc_now(),
    )
    return IncomingMessage(owner=OWNER, message=message, sender_name=sender, is_direct=True)


@pytest.fixture
async def trained(tmp_path: Path) -> Settings:
    """A data dir trained on the sample persona, closed again (the next runtime is a restart)."""
    settings = load_settings({}, data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        await rt.clone.import_sample(OWNER)
        await rt.clone.settle()
    return settings


async def test_warm_loads_the_encoder_off_the_loop_then_known_personas_only(
    trained: Settings,
) -> None:
    embedder = RecordingEmbedder()
    async with open_runtime(trained, embedder=embedder) as rt:
        account = await rt.storage.accounts.resolve(OWNER, create=False)
        assert account is not None
        persona = await rt.clone.active_persona(account)
        assert rt.clone.models.cached(account.id, persona.id) is None  # a restart: nothing loaded

        loaded = await rt.clone.warm([OWNER, STRANGER])

        assert [p.id for p in loaded] == [persona.id]
        assert embedder.calls[0] == (["warm up"], False)  # first, in a worker thread
        model = rt.clone.models.cached(account.id, persona.id)
        assert model is not None and len(model.index) > 0
        assert await rt.storage.accounts.resolve(STRANGER, create=False) is None  # none created
        # The first draft uses the warm models: nothing is rebuilt for it.
        reply = await rt.clone.handle_incoming(incoming("can you review my PR today?", 1))
        assert reply is not None and reply.draft is not None
        assert rt.clone.models.cached(account.id, persona.id) is model


async def test_warming_in_the_background_never_fails_the_process(
    trained: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with (
        open_runtime(trained, embedder=RecordingEmbedder(fail=True)) as rt,
        warm_in_background(rt, [OWNER]) as task,
    ):
        with pytest.raises(RuntimeError):
            await task
    assert "warm start failed: RuntimeError" in caplog.text


async def test_warming_stops_with_the_runtime(trained: Settings) -> None:
    async with open_runtime(trained, embedder=HashingEmbedder()) as rt:
        async with warm_in_background(rt, [OWNER]) as task:
            pass
        assert task.done()


async def test_triage_batch_scores_as_triage_does_and_resolves_nothing_per_message(
    trained: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [
        "can you review my PR today?",
        "FYI the office is closed on friday",
        "are you free for lunch tomorrow?",
        "urgent: prod is down, can you look?",
    ]
    batch = [incoming(text, n) for n, text in enumerate(texts)]
    async with open_runtime(trained, embedder=HashingEmbedder()) as rt:
        one_by_one = [await rt.clone.triage(m) for m in batch]
        account = await rt.clone.account(OWNER)
        persona = await rt.clone.active_persona(account)
        calls: list[UserRef] = []
        resolve = rt.storage.accounts.resolve

        async def counting(user: UserRef, *, create: bool) -> object:
            calls.append(user)
            return await resolve(user, create=create)

        monkeypatch.setattr(rt.storage.accounts, "resolve", counting)
        batched = await rt.clone.triage_batch(account, persona, batch)
    assert calls == []
    assert batched == one_by_one
    assert batched[0].needs_reply and not batched[1].needs_reply
