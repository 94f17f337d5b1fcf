"""Opening the database: URL handling, SQLite pragmas, write transactions and connectivity checks.

Two back ends, one code path: SQLite through aiosqlite (the embedded default, one file in the data
directory) and PostgreSQL through asyncpg (scale-out). Everything dialect-specific about *opening*
the database lives here; the stores only ask for a read or a write transaction.

SQLite notes. Every pooled connection gets ``journal_mode=WAL``, ``secure_delete=ON`` (deleted
content is overwritten, which erasure relies on), ``synchronous=NORMAL``, ``foreign_keys=ON`` and a
``busy_timeout``. The driver's implicit transaction handling is switched off and we emit ``BEGIN``
ourselves: read transactions use a plain (deferred) ``BEGIN``, write transactions use
``BEGIN IMMEDIATE``, so a writer takes the write lock up front and concurrent writers queue on the
busy timeout instead of failing with ``SQLITE_BUSY`` when they upgrade a read snapshot.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

import sqlalchemy.exc
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.errors import StorageError, StorageUnavailable

SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
"""How long a SQLite writer waits for the write lock (a long import holds it) before failing."""

PG_CONNECT_TIMEOUT_S: Final = 10.0

WRITE_OPTION: Final = "minime_write"
"""Execution option that marks a transaction as a writer (``BEGIN IMMEDIATE`` on SQLite)."""

_SQLITE_PRAGMAS: Final = (
    # The busy handler first: switching a new file to WAL takes a lock that concurrent starts
    # must wait for rather than fail on.
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA secure_delete=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)

_DRIVERS: Final = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def parse_url(url: str) -> URL:
    """Parse a database URL, upgrading ``sqlite://``/``postgresql://`` to their async drivers.

    Raises:
        StorageError: the URL is malformed or names a back end minime does not support.
    """
    try:
        parsed = make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise StorageError(
            "The database URL is malformed; use sqlite+aiosqlite:///PATH or "
            "postgresql+asyncpg://USER@HOST:PORT/DB."
        ) from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise StorageError(
            f"The database URL scheme {parsed.drivername!r} is not supported; use "
            "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST:PORT/DB."
        )
    return parsed.set(drivername=driver)


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL, or ``None`` for an in-memory database or PostgreSQL."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def describe(url: URL) -> str:
    """Where the database is, for messages: a file path or ``host:port/db`` (never a password)."""
    path = sqlite_path(url)
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {path}" if path else "the in-memory SQLite database"
    return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432} (database {url.database!r})"


def open_engine(url: str) -> AsyncEngine:
    """Create the async engine for ``url`` (no connection is made yet).

    SQLite URLs (``sqlite+aiosqlite:///path/minime.db``) get the pragmas and transaction handling
    described in the module docstring. The directory of the file must exist: creating the data
    directory is the caller's decision. PostgreSQL URLs (``postgresql+asyncpg://…``) may carry a
    ``search_path`` query parameter, sent as a server setting, to keep minime's tables in their
    own schema.

    Raises:
        StorageError: the URL is malformed or unsupported.
        StorageUnavailable: the SQLite file's directory does not exist.
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _open_sqlite(parsed)
    return _open_postgres(parsed)


def _open_sqlite(url: URL) -> AsyncEngine:
    path = sqlite_path(url)
    if path is not None and not path.parent.is_dir():
        raise StorageUnavailable(
            f"Cannot open {describe(url)}: its directory {path.parent} does not exist."
        )
    if path is not None:
        _create_private(path)
    engine = create_async_engine(url)
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def _create_private(path: Path) -> None:
    # Ids, names and times are stored in clear: the file (and the -wal/-shm files SQLite derives
    # from it) should be readable by the owner only.
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise StorageUnavailable(f"Cannot open {path}: {_reason(exc)}.") from None


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Stop the driver from issuing its own BEGIN (and COMMIT before DDL): _sqlite_on_begin does it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        _use_wal(cursor)
    finally:
        cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL once; concurrent first starts may find it locked for a moment.

    SQLite answers a journal-mode change with "database is locked" at once (no busy handler)
    while another connection is switching the same new file, so wait and look again.
    """
    for attempt in range(60):
        try:
            cursor.execute("PRAGMA journal_mode")
            if str(cursor.fetchone()[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as error:
            if "locked" not in str(error) or attempt == 59:
                raise
            time.sleep(0.01 * (attempt + 1))


def _sqlite_on_begin(connection: Connection) -> None:
    writer = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def _open_postgres(url: URL) -> AsyncEngine:
    server_settings = {"application_name": "minime"}
    search_path = url.query.get("search_path")
    if search_path is not None:
        server_settings["search_path"] = (
            search_path if isinstance(search_path, str) else ",".join(search_path)
        )
        url = url.difference_update_query(["search_path"])
    return create_async_engine(
        url,
        pool_pre_ping=True,
        connect_args={"timeout": PG_CONNECT_TIMEOUT_S, "server_settings": server_settings},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay usable after commit (rows become core models right away)."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def read_session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session inside one read transaction, committed on success and rolled back on error."""
    async with sessions() as session, session.begin():
        yield session


@asynccontextmanager
async def write_session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session inside one write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
    async with sessions() as session, session.begin():
        await session.connection(execution_options={WRITE_OPTION: True})
        yield session


async def check_connection(engine: AsyncEngine) -> None:
    """Make one round trip to the database.

    Raises:
        StorageUnavailable: with one sentence naming the file or host and port, and why.
    """
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
    except (TimeoutError, OSError, sqlalchemy.exc.SQLAlchemyError) as exc:
        raise StorageUnavailable(unavailable_message(engine.url, exc)) from None


def unavailable_message(url: URL, exc: BaseException) -> str:
    """One sentence saying which database failed and why, without the password or a traceback."""
    verb = "open" if url.get_backend_name() == "sqlite" else "connect to"
    return f"Cannot {verb} {describe(url)}: {_reason(exc)}."


def _reason(exc: BaseException) -> str:
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(exc, TimeoutError):
        return "no answer within the connection timeout"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc).strip().splitlines()
    reason = text[0] if text else type(exc).__name__
    if reason.startswith("[Errno") and "]" in reason:
        reason = reason.split("]", 1)[1].strip()
    if "connect call failed" in reason.lower():
        return "connection refused (is the server running?)"
    return reason.rstrip(".")
