"""Fixtures for the store suite: every test runs on SQLite and on PostgreSQL.

The PostgreSQL server is named by ``MINIME_TEST_PG_URL`` (default: the local server, database
``test``). Each test run works in schemas of its own (``minime_test_<random>``, selected with the
URL's ``search_path``) and drops them at the end, so concurrent runs never collide. When the
server does not answer, the PostgreSQL tests fail; they never skip.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from storage import Storage
from tests.storage.support import PG_URL, Backend, PgSchemas


@pytest_asyncio.fixture(scope="session")
async def pg_schemas() -> AsyncIterator[PgSchemas]:
    schemas = PgSchemas(PG_URL)
    yield schemas
    await schemas.drop_all()


@pytest_asyncio.fixture(
    scope="session",
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("postgres-app", marks=pytest.mark.postgres),
    ],
)
async def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_schemas: PgSchemas
) -> Backend:
    root = tmp_path_factory.mktemp(f"storage-{request.param}")
    pg = pg_schemas if request.param.startswith("postgres") else None
    return Backend(request.param, root, pg)


@pytest_asyncio.fixture(scope="session")
async def storage(backend: Backend) -> AsyncIterator[Storage]:
    """One migrated database per back end for the whole run; tests use their own accounts."""
    async with backend.fresh_storage() as opened:
        yield opened
