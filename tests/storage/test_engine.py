"""Opening databases: pragmas, clear one-sentence errors, migrations matching ``tables.py``."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import StorageError, StorageUnavailable, open_storage
from storage.engine import check_connection, open_engine
from storage.migrations import current_revision, head_revision, migrate
from storage.tables import metadata
from tests.storage.support import Backend


def assert_one_sentence(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message
    assert message.endswith(".") and message.count(". ") == 0, message


async def test_unreachable_postgres_is_one_clear_sentence(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://minime:s3cret-pw@127.0.0.1:1/minime"
    with pytest.raises(StorageUnavailable) as caught:
        async with open_storage(url, data_dir=tmp_path, master_key=None):
            pass
    message = str(caught.value)
    assert_one_sentence(message)
    assert "127.0.0.1:1" in message and "s3cret" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_missing_sqlite_directory_is_one_clear_sentence(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(StorageUnavailable) as caught:
        async with open_storage(
            f"sqlite+aiosqlite:///{missing}/minime.db", data_dir=tmp_path, master_key=None
        ):
            pass
    assert_one_sentence(str(caught.value))
    assert str(missing) in str(caught.value)
    assert not missing.exists()  # the engine never creates the data directory


async def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    bogus = tmp_path / "minime.db"
    bogus.write_bytes(b"this is not sqlite, just text " * 200)
    with pytest.raises(StorageUnavailable) as caught:
        async with open_storage(f"sqlite:///{bogus}", data_dir=tmp_path, master_key=None):
            pass
    assert_one_sentence(str(caught.value))
    assert str(bogus) in str(caught.value) and "not a database" in str(caught.value)


def test_unsupported_or_malformed_urls() -> None:
    with pytest.raises(StorageError, match="'mysql' is not supported"):
        open_engine("mysql://u@h/db")
    with pytest.raises(StorageError, match="malformed"):
        open_engine("::not a url::")


async def test_sqlite_pragmas_and_private_file(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'p.db'}")  # upgraded to aiosqlite
    try:
        assert engine.dialect.driver == "aiosqlite"
        async with engine.connect() as connection:
            values = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in (
                    "journal_mode",
                    "secure_delete",
                    "synchronous",
                    "foreign_keys",
                    "busy_timeout",
                )
            }
    finally:
        await engine.dispose()
    assert values == {
        "journal_mode": "wal",
        "secure_delete": 1,
        "synchronous": 1,
        "foreign_keys": 1,
        "busy_timeout": 30_000,
    }
    assert stat.S_IMODE((tmp_path / "p.db").stat().st_mode) == 0o600


async def test_engine_is_disposed_when_start_up_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disposed: list[AsyncEngine] = []
    real_dispose = AsyncEngine.dispose

    async def dispose(self: AsyncEngine, close: bool = True) -> None:
        disposed.append(self)
        await real_dispose(self, close)

    monkeypatch.setattr(AsyncEngine, "dispose", dispose)
    with pytest.raises(StorageError):
        async with open_storage(
            f"sqlite:///{tmp_path / 'x.db'}", data_dir=tmp_path, master_key="not-a-fernet-key"
        ):
            pass
    assert len(disposed) == 1


async def test_migrated_schema_matches_tables_py(backend: Backend, tmp_path: Path) -> None:
    engine = open_engine(await backend.fresh_url(tmp_path))
    try:
        assert await current_revision(engine) is None
        await migrate(engine)
        await migrate(engine)  # idempotent
        assert await current_revision(engine) == head_revision() is not None
        async with engine.connect() as connection:
            diffs = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
        assert diffs == []
    finally:
        await engine.dispose()


async def test_concurrent_starts_migrate_once(backend: Backend, tmp_path: Path) -> None:
    url = await backend.fresh_url(tmp_path)
    engines = [open_engine(url) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate(engine) for engine in engines))
        assert await current_revision(engines[0]) == head_revision()
    finally:
        for engine in engines:
            await engine.dispose()


async def test_check_connection_on_a_live_database(backend: Backend, tmp_path: Path) -> None:
    engine = open_engine(await backend.fresh_url(tmp_path))
    try:
        await check_connection(engine)
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()
