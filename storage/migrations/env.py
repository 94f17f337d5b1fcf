"""Alembic environment for minime.

At run time :func:`storage.migrations.migrate` hands over an open connection (inside its
transaction) through ``config.attributes["connection"]``. When Alembic is run by hand (for
``alembic revision --autogenerate`` during development) the URL comes from the ``sqlalchemy.url``
option or ``MINIME_DATABASE_URL`` and an async engine is opened here.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.engine import open_engine
from storage.tables import metadata

config = context.config


def _configure_and_run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = open_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("MINIME_DATABASE_URL")
    if not url:
        raise SystemExit("set sqlalchemy.url or MINIME_DATABASE_URL to run Alembic by hand")
    return url


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    _configure_and_run(given)
else:
    asyncio.run(_run_with_own_engine(_url()))
