"""Storage: SQLAlchemy 2 async on SQLite (embedded default) or PostgreSQL, encrypted at rest.

``open_storage`` is the one entry point: it opens the engine, checks the database answers,
applies the migrations, loads (or on first run creates) the master key and hands back every
store, disposing of the engine on exit even when start-up fails::

    key = settings.master_key.get_secret_value() if settings.master_key else None
    async with open_storage(
        settings.effective_database_url, data_dir=settings.data_dir, master_key=key
    ) as storage:
        account = await storage.accounts.resolve(user, create=True)

``minime keys rotate`` is ``await storage.rotate_master_key(hand_over=print_it)``: with a key file
the new key is written there (fsynced) before any data key changes; with ``MINIME_MASTER_KEY`` the
new key goes to ``hand_over`` first (and is returned, ``KeyRotation.new_key``) for the operator to
put first in the variable. A rotation killed at any instant leaves the data readable, and the next
one finishes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.models import utc_now
from core.ports import Clock
from storage.crypto import KeyHandOver, KeyRing, KeyRotation, load_master_keys, rotate_keys
from storage.engine import check_connection, open_engine, session_factory
from storage.errors import (
    DecryptionError,
    MasterKeyError,
    NotFound,
    StorageError,
    StorageUnavailable,
    WrongMasterKey,
)
from storage.migrations import migrate
from storage.roles import check_role_name
from storage.scope import UnscopedQuery, install_scope_guard
from storage.stores import (
    AlreadyExists,
    SqlAccountStore,
    SqlAccountVault,
    SqlActivityStore,
    SqlConnectionStore,
    SqlDeliveryLog,
    SqlDraftStore,
    SqlFeedbackStore,
    SqlIdentityStore,
    SqlMessageStore,
    SqlPersonaStore,
    SqlPostStore,
    SqlPriorityLabelStore,
    SqlShareStore,
    SqlStateStore,
    SqlTeamStore,
    SqlVectorStore,
    StoreContext,
)

__all__ = [
    "AlreadyExists",
    "DecryptionError",
    "MasterKeyError",
    "NotFound",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "UnscopedQuery",
    "WrongMasterKey",
    "open_storage",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Storage:
    """The opened database: the engine, the key ring and every store, ready to wire.

    Attributes:
        engine: the async engine (disposed by ``open_storage`` on exit).
        sessions: ``async_sessionmaker(expire_on_commit=False)`` on ``engine``.
        keys: the master keys and this process's cache of data keys.
        accounts, personas, messages, vectors, drafts, feedback, labels, deliveries, state,
            vault, identity, teams, shares, activity: the ``Sql*`` implementations of the ports in ``core/ports.py``.
    """

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyRing
    accounts: SqlAccountStore
    personas: SqlPersonaStore
    messages: SqlMessageStore
    vectors: SqlVectorStore
    drafts: SqlDraftStore
    feedback: SqlFeedbackStore
    labels: SqlPriorityLabelStore
    deliveries: SqlDeliveryLog
    state: SqlStateStore
    vault: SqlAccountVault
    posts: SqlPostStore
    connections: SqlConnectionStore
    identity: SqlIdentityStore
    teams: SqlTeamStore
    shares: SqlShareStore
    activity: SqlActivityStore

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    async def rotate_master_key(
        self, new_key: str | None = None, *, hand_over: KeyHandOver | None = None
    ) -> KeyRotation:
        """``minime keys rotate``: re-wrap every data key under a new master key.

        See :func:`storage.crypto.rotate_keys` (key file handling, the environment case, and
        ``hand_over``, which receives an environment key before the database changes).
        """
        return await rotate_keys(self.engine, self.keys, new_key=new_key, hand_over=hand_over)


@asynccontextmanager
async def open_storage(
    url: str,
    *,
    data_dir: Path,
    master_key: str | None,
    clock: Clock = utc_now,
    owner_url: str | None = None,
) -> AsyncIterator[Storage]:
    """Open, migrate and unlock the database at ``url``.

    Args:
        url: ``sqlite+aiosqlite:///PATH`` or ``postgresql+asyncpg://USER@HOST:PORT/DB``.
        owner_url: PostgreSQL only: the tables' owner. The migrations run through it, and the
            role of ``url`` is created if missing and granted DML only (``storage/roles.py``),
            so row-level security applies to everything minime does through ``url``.
        data_dir: where ``master.key`` lives (it must exist; the CLI creates it).
        master_key: Fernet key(s) from ``MINIME_MASTER_KEY``, newest first; ``None`` uses
            (or on first run creates) ``<data_dir>/master.key``.
        clock: the time source of the stores.

    Raises:
        StorageUnavailable: the database cannot be opened or does not answer.
        MasterKeyError: no usable master key (``WrongMasterKey`` if it does not fit the data).
    """
    engine = open_engine(url)
    try:
        if owner_url is None:
            await check_connection(engine)
            await migrate(engine)
        else:
            await _migrate_as_owner(owner_url, app=engine.url)
            await check_connection(engine)
        # From here on a query on owned data without an account scope fails (storage/scope.py).
        install_scope_guard(engine)
        master = await load_master_keys(engine, data_dir=data_dir, master_key=master_key)
        sessions = session_factory(engine)
        keys = KeyRing(master)
        ctx = StoreContext(sessions, keys, clock)
        yield Storage(
            engine=engine,
            sessions=sessions,
            keys=keys,
            accounts=SqlAccountStore(ctx),
            personas=SqlPersonaStore(ctx),
            messages=SqlMessageStore(ctx),
            vectors=SqlVectorStore(ctx),
            drafts=SqlDraftStore(ctx),
            feedback=SqlFeedbackStore(ctx),
            labels=SqlPriorityLabelStore(ctx),
            deliveries=SqlDeliveryLog(ctx),
            state=SqlStateStore(ctx),
            vault=SqlAccountVault(ctx),
            posts=SqlPostStore(ctx),
            connections=SqlConnectionStore(ctx),
            identity=SqlIdentityStore(ctx),
            teams=SqlTeamStore(ctx),
            shares=SqlShareStore(ctx),
            activity=SqlActivityStore(ctx),
        )
    finally:
        await engine.dispose()


async def _migrate_as_owner(owner_url: str, *, app: URL) -> None:
    owner = open_engine(owner_url)
    try:
        if owner.dialect.name != "postgresql" or app.get_backend_name() != "postgresql":
            raise StorageError("MINIME_DATABASE_OWNER_URL is for PostgreSQL only.")
        await check_connection(owner)
        await migrate(owner, app_role=check_role_name(app.username), app_password=app.password)
    finally:
        await owner.dispose()
