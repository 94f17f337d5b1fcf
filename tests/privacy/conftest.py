"""Helpers of the privacy suite: a clone on real storage with the fast hashing embedder."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import IncomingMessage, Message, UserRef, utc_now


def canary() -> str:
    """A message-text canary: the session-wide log scan (tests/conftest.py) flags any log line
    holding one."""
    return f"CANARY{secrets.token_hex(8)}"


def incoming(owner: UserRef, text: str, *, sender: str = "priya", n: int = 1) -> IncomingMessage:
    message = Message(
        id=f"live-{sender}-{n}-{secrets.token_hex(3)}",
        conversation=f"dm:{sender}",
        thread=None,
        sender=sender,
        text=text,
        sent_at=utc_now(),
    )
    return IncomingMessage(owner=owner, message=message, sender_name=sender, is_direct=True)


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A fresh SQLite data dir, the sample persona not yet loaded."""
    data = tmp_path / "data"
    data.mkdir()
    settings = load_settings({}, data_dir=data)
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        yield rt
