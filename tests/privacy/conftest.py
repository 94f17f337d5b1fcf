"""Helpers of the privacy suite: a clone on real storage with the fast hashing embedder."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import IncomingMessage, Message, UserRef, utc_now
from tests.storage.support import PG_URL, Backend, PgSchemas


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


@pytest_asyncio.fixture(scope="session")
async def pg_schemas() -> AsyncIterator[PgSchemas]:
    """Throwaway schemas on the local PostgreSQL (``MINIME_TEST_PG_URL``), dropped at the end."""
    schemas = PgSchemas(PG_URL)
    yield schemas
    await schemas.drop_all()


@pytest_asyncio.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("postgres-app", marks=pytest.mark.postgres),
    ]
)
async def backend(request: pytest.FixtureRequest, tmp_path: Path, pg_schemas: PgSchemas) -> Backend:
    """SQLite, PostgreSQL (a fresh schema) as the owner, and as the app role that row-level
    security applies to: the isolation tests run on all three."""
    pg = pg_schemas if request.param.startswith("postgres") else None
    return Backend(request.param, tmp_path, pg)
