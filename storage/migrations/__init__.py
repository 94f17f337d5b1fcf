"""Alembic migrations, applied programmatically on start (no ``alembic.ini`` needed).

The script location is this package's directory, so migrations work from a source checkout and
from an installed wheel alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import WRITE_OPTION
from storage.roles import grant_app_role

SCRIPT_LOCATION: Final = Path(__file__).resolve().parent

_PG_MIGRATION_LOCK: Final = 0x6D696E696D65  # "minime": one migrator at a time across workers


def alembic_config() -> Config:
    """An Alembic ``Config`` built in code, pointing at this package."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return config


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def migrate(
    engine: AsyncEngine, *, app_role: str | None = None, app_password: str | None = None
) -> None:
    """Apply ``upgrade head`` in one transaction.

    On PostgreSQL an advisory lock makes concurrent starts wait for each other (the second one
    then finds nothing to do); on SQLite the write transaction's ``BEGIN IMMEDIATE`` does the same.
    With ``app_role`` (PostgreSQL, ``engine`` connected as the tables' owner) the same transaction
    then creates that role if needed and grants it DML only (:func:`storage.roles.grant_app_role`).
    """
    async with engine.connect() as connection:
        connection = await connection.execution_options(**{WRITE_OPTION: True})
        async with connection.begin():
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            await connection.run_sync(_upgrade)
            if app_role is not None:
                await connection.run_sync(grant_app_role, app_role, app_password)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (``None`` before the first migration)."""
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
