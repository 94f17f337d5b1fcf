"""Helpers of the store suite: back ends, throwaway PostgreSQL schemas, message builders."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from core.models import Account, Message, StoredMessage, UserRef
from storage import Storage, open_storage

PG_URL = os.environ.get("MINIME_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class PgSchemas:
    """Creates throwaway schemas on the test server and drops them all at the end, and the app
    role of this run (``app_url``), which minime creates when it first migrates as the owner."""

    url: str
    created: list[str] = field(default_factory=list)
    app_role: str = field(default_factory=lambda: f"minime_test_app_{secrets.token_hex(4)}")

    def _dsn(self) -> str:
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def _execute(self, sql: str) -> None:
        try:
            connection = await asyncpg.connect(self._dsn(), timeout=10)
        except (OSError, asyncpg.PostgresError) as exc:
            pytest.fail(
                f"PostgreSQL at {make_url(self.url).host}:{make_url(self.url).port} "
                f"(MINIME_TEST_PG_URL) is unreachable: {exc}",
                pytrace=False,
            )
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def fresh_url(self) -> str:
        schema = f"minime_test_{secrets.token_hex(6)}"
        await self._execute(f'CREATE SCHEMA "{schema}"')
        self.created.append(schema)
        url = make_url(self.url).update_query_dict({"search_path": schema})
        return url.render_as_string(hide_password=False)

    def app_url(self, owner_url: str) -> str:
        """``owner_url`` (a fresh schema's) as the app role: not the owner, so row-level
        security applies to it."""
        url = make_url(owner_url).set(username=self.app_role)
        return url.render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        for schema in self.created:
            await self._execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.created.clear()
        await self._execute(
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{self.app_role}') "
            f'THEN DROP OWNED BY "{self.app_role}"; DROP ROLE "{self.app_role}"; END IF; END $$'
        )


@dataclass
class Backend:
    """One database back end under test; ``fresh_url`` gives an empty database of that kind.

    ``postgres-app`` is PostgreSQL as deployed with two roles: the stores connect as the app role
    (row-level security applies), migrations run as the owner (``owner_url``).
    """

    name: str
    root: Path
    pg: PgSchemas | None

    @property
    def as_app_role(self) -> bool:
        return self.name == "postgres-app"

    async def fresh_url(self, directory: Path | None = None) -> str:
        if self.pg is not None:
            return await self.pg.fresh_url()
        path = (directory or self.root) / f"{uuid.uuid4().hex}.db"
        return f"sqlite+aiosqlite:///{path}"

    @asynccontextmanager
    async def fresh_storage(
        self, data_dir: Path | None = None, master_key: str | None = None, url: str | None = None
    ) -> AsyncIterator[Storage]:
        """A new empty database (and key directory unless given), opened."""
        if data_dir is None:
            data_dir = self.root / uuid.uuid4().hex
            data_dir.mkdir()
        url = url or await self.fresh_url(data_dir)
        owner_url = None
        if self.as_app_role and self.pg is not None:
            owner_url, url = url, self.pg.app_url(url)
        async with open_storage(
            url, data_dir=data_dir, master_key=master_key, owner_url=owner_url
        ) as storage:
            yield storage


def new_user(platform: str = "test") -> UserRef:
    return UserRef(platform=platform, user_id=uuid.uuid4().hex)


async def new_account(storage: Storage) -> Account:
    account = await storage.accounts.resolve(new_user(), create=True)
    assert account is not None and account.active_persona is not None
    return account


def message(
    msg_id: str,
    *,
    text: str | None = None,
    sender: str = "alice",
    at: float = 0,
    reply_to: str | None = None,
    conversation: str = "general",
    thread: str | None = None,
) -> Message:
    return Message(
        id=msg_id,
        conversation=conversation,
        thread=thread,
        sender=sender,
        text=text if text is not None else f"text of {msg_id}",
        sent_at=T0 + timedelta(seconds=at),
        reply_to=reply_to,
    )


def stored(
    persona_id: str, item: Message, *, from_owner: bool = False, source: str = "import"
) -> StoredMessage:
    return StoredMessage(
        message=item,
        persona_id=persona_id,
        from_owner=from_owner,
        source=source,  # type: ignore[arg-type]
    )


async def stream(items: Iterable[StoredMessage]) -> AsyncIterator[StoredMessage]:
    for item in items:
        yield item
