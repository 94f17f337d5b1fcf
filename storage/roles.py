"""Two roles on PostgreSQL: the owner of minime's tables runs the migrations, the app runs as
another role that row-level security applies to.

With ``MINIME_DATABASE_OWNER_URL`` set, :func:`storage.open_storage` migrates through that URL and
then (same transaction, same advisory lock as the migrations, so concurrent starts queue) makes
sure the role of ``MINIME_DATABASE_URL`` exists and may do no more than it needs:

- created if missing: ``LOGIN`` with the password of ``MINIME_DATABASE_URL`` (none if it has
  none), ``NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE``; an existing role is left as it is;
- ``USAGE`` on the schema, ``SELECT, INSERT, UPDATE, DELETE`` on minime's tables, the sequences,
  and ``SELECT`` on ``alembic_version``; never ownership, so ``FORCE``d row-level security applies;
- refused when it is a superuser or has ``BYPASSRLS`` (it would see every account) or is the owner
  itself.

Every step is idempotent: each start re-grants, so tables added by later migrations are covered.
"""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage import tables
from storage.errors import StorageError

_ROLE_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

APP_PRIVILEGES: Final = "SELECT, INSERT, UPDATE, DELETE"


def _literal(value: str) -> str:
    if "\x00" in value:
        raise StorageError("The database password cannot contain a NUL character.")
    return "'" + value.replace("'", "''") + "'"


def check_role_name(role: str | None) -> str:
    """``role`` if it is a plain PostgreSQL identifier (what minime creates and grants to).

    Raises:
        StorageError: no role, or a name needing quotes (pick a plain one).
    """
    if not role or not _ROLE_NAME.fullmatch(role):
        raise StorageError(
            "The database URL must name the app's role (postgresql+asyncpg://minime_app@host/db) "
            "with letters, digits and _ only, when MINIME_DATABASE_OWNER_URL is set."
        )
    return role


def grant_app_role(connection: Connection, role: str, password: str | None = None) -> None:
    """Create ``role`` if missing (with ``password``) and grant it DML on minime's tables (run as
    their owner).

    Raises:
        StorageError: the role is the owner, a superuser or has ``BYPASSRLS``.
    """
    role = check_role_name(role)
    owner = connection.execute(text("SELECT current_user")).scalar_one()
    if owner == role:
        raise StorageError(
            f"MINIME_DATABASE_URL and MINIME_DATABASE_OWNER_URL both connect as {role!r}: the app "
            "must run as a role that does not own the tables (row-level security)."
        )
    exists = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if exists is None:
        # DDL takes no bound parameters: the password goes in as a quoted literal (never logged).
        secret = "" if password is None else " PASSWORD " + _literal(password)
        connection.exec_driver_sql(
            f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE{secret}'
        )
    bypass = connection.execute(
        text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = :role"),
        {"role": role},
    ).scalar_one()
    if bypass:
        raise StorageError(
            f"The app's role {role!r} is a superuser or has BYPASSRLS, so it would see every "
            f'account: ALTER ROLE "{role}" NOSUPERUSER NOBYPASSRLS.'
        )
    quote = connection.dialect.identifier_preparer.quote_identifier
    schema = quote(connection.execute(text("SELECT current_schema()")).scalar_one())
    names = ", ".join(quote(table.name) for table in tables.metadata.sorted_tables)
    for grant in (
        f"GRANT USAGE ON SCHEMA {schema}",
        f"GRANT {APP_PRIVILEGES} ON {names}",
        "GRANT SELECT ON alembic_version",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema}",
    ):
        connection.execute(text(f'{grant} TO "{role}"'))
