"""Account scope, enforced: a query on owned data that does not name one account fails.

Every store method takes the ``AccountId`` and filters on it (``core/ports.py``). This guard makes
forgetting that a loud error instead of a silent cross-account read: :func:`install_scope_guard`
hooks ``before_cursor_execute`` and refuses (with :class:`UnscopedQuery`) any ``SELECT``,
``UPDATE`` or ``DELETE`` in which an *owned* table (one with an ``account_id`` column, and
``accounts`` itself) appears without ``<table or alias>.account_id`` (``accounts.id``) compared
with a bound value, ``=`` or ``IN``. Each occurrence counts: both sides of a self-join, and the
tables of a subquery.

The few statements that legitimately cross accounts say so, explicitly, with an execution option
(:func:`unscoped`): finding the account of a platform identity, redeeming a link code (the code is
the capability), pruning old delivery records, and checking or rotating the master key. Migrations
run before the guard is installed. Ad-hoc administration (``storage.engine.connect()``) is held to
the same rule and can opt out the same way.

The check is a textual one on the SQL the dialect compiled (both back ends render qualified column
names), cached per statement string, so it costs a dictionary lookup per execution. It catches a
forgotten filter; it is not a sandbox against SQL written to evade it.

On PostgreSQL the database enforces the same rule (row-level security, forced on every owned
table by migration ``0005``): each transaction names what it may see with :func:`set_scope`
(``set_config(..., true)``, i.e. ``SET LOCAL``: it ends with the transaction, so a pooled
connection never carries one account's scope into the next transaction). A :class:`Scope` names
one account, and, for the deliberate crossings above, exactly the row that is looked up: a
platform identity, a link code's hash, a delivery key, or a maintenance purpose on the wrapped
data keys. With no scope, a role subject to the policies sees no owned row at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, ExecutionContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from storage import tables
from storage.errors import StorageError

UNSCOPED: Final = "minime_unscoped"
"""Execution option naming why a statement may cross accounts."""

OWNED: Final = frozenset(
    table.name
    for table in tables.metadata.sorted_tables
    if "account_id" in table.c or table is tables.accounts
)
"""Tables whose rows belong to one account."""

_CHECKED_VERBS: Final = ("SELECT", "UPDATE", "DELETE", "WITH")
_KEYWORDS: Final = frozenset(
    [
        "WHERE",
        "SET",
        "JOIN",
        "LEFT",
        "RIGHT",
        "INNER",
        "OUTER",
        "FULL",
        "CROSS",
        "ON",
        "USING",
        "ORDER",
        "GROUP",
        "LIMIT",
        "OFFSET",
        "VALUES",
        "RETURNING",
        "UNION",
        "FOR",
        "HAVING",
        "WINDOW",
    ]
)
_REFERENCE: Final = re.compile(
    r"\b(?:FROM|JOIN|UPDATE)\s+\"?(?P<table>\w+)\"?"
    r"(?:\s+(?:AS\s+)?(?!(?:" + "|".join(sorted(_KEYWORDS)) + r")\b)\"?(?P<alias>\w+)\"?)?",
    re.IGNORECASE,
)
_BOUND: Final = r"\s*(?:=\s*(?:\?|\$\d+|%\(\w+\)s|:\w+)|IN\s*\()"
_CACHE_LIMIT: Final = 4_096


class UnscopedQuery(StorageError):
    """A statement on owned data without an account predicate (a bug in the caller)."""


def unscoped(reason: str) -> dict[str, Any]:
    """Execution options that let one statement cross accounts: ``.execution_options(**unscoped(
    "identity lookup"))``. Give the reason; reviewers read it."""
    return {UNSCOPED: reason}


def unscoped_references(statement: str) -> tuple[str, ...]:
    """The owned tables (as ``table`` or ``table AS alias``) that ``statement`` reads or changes
    without naming one account; empty when it is scoped (or is not a read/update/delete)."""
    head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
    if head not in _CHECKED_VERBS:
        return ()
    missing = []
    for match in _REFERENCE.finditer(statement):
        table = match.group("table").lower()
        if table not in OWNED:
            continue
        alias = match.group("alias")
        qualifier = alias or table
        column = "id" if table == tables.accounts.name else "account_id"
        pattern = rf"\b\"?{re.escape(qualifier)}\"?\.\"?{column}\"?{_BOUND}"
        if not re.search(pattern, statement, re.IGNORECASE):
            missing.append(table if qualifier == table else f"{table} AS {qualifier}")
    return tuple(missing)


class _Guard:
    """The ``before_cursor_execute`` listener, with its per-statement cache."""

    def __init__(self) -> None:
        self._verdicts: dict[str, tuple[str, ...]] = {}

    def __call__(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        verdict = self._verdicts.get(statement)
        if verdict is None:
            if len(self._verdicts) >= _CACHE_LIMIT:
                self._verdicts.clear()
            verdict = self._verdicts[statement] = unscoped_references(statement)
        if not verdict:
            return
        options = context.execution_options if context is not None else {}
        if options.get(UNSCOPED) or conn.get_execution_options().get(UNSCOPED):
            return
        raise UnscopedQuery(
            f"Refused a query on {', '.join(verdict)} without an account scope: filter on "
            "account_id (or mark a deliberate cross-account statement with storage.scope.unscoped)."
        )


Purpose = Literal["master-key", "expire-deliveries", "accept-deliveries", "resume-deliveries"]
"""Maintenance that crosses accounts on rows without content: checking and re-wrapping the
data keys under the master key, expiring delivery records, storing a batch of accepted
deliveries in one insert (their bodies sealed; no account known yet), and finding accepted
deliveries whose worker died (by key and lease; each is then read under its own key)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """What one transaction may see on PostgreSQL (row-level security); nothing else is visible.

    Attributes:
        account: the account whose rows it reads and writes.
        platform, user_id: one platform identity, looked up to find its account.
        link_code: the hash of one link code being redeemed (the code is the capability).
        delivery: one delivery key (de-duplication before the account is known).
        purpose: a named maintenance task (see :data:`Purpose`).
    """

    account: str | None = None
    platform: str | None = None
    user_id: str | None = None
    link_code: str | None = None
    delivery: str | None = None
    purpose: Purpose | None = None


SETTINGS: Final = {
    "account": "minime.account_id",
    "platform": "minime.platform",
    "user_id": "minime.user_id",
    "link_code": "minime.link_code",
    "delivery": "minime.delivery",
    "purpose": "minime.purpose",
}
"""The session settings the policies read (``current_setting(name, true)``), by field."""

_SET_SCOPE: Final = text(
    "SELECT "
    + ", ".join(f"set_config('{name}', :{field}, true)" for field, name in SETTINGS.items())
)


async def set_scope(target: AsyncSession | AsyncConnection, scope: Scope) -> None:
    """Name the transaction's scope (PostgreSQL; nothing to do on SQLite, which has no roles).

    Every setting is written, unset ones as empty strings, so nothing of an earlier scope in the
    same transaction survives. Local to the transaction: it ends at commit or rollback.
    """
    dialect = target.get_bind().dialect if isinstance(target, AsyncSession) else target.dialect
    if dialect.name != "postgresql":
        return
    values = {field: getattr(scope, field) or "" for field in SETTINGS}
    await target.execute(_SET_SCOPE, values)


def install_scope_guard(engine: AsyncEngine) -> None:
    """Refuse unscoped statements on ``engine`` from now on (``open_storage`` calls this after
    the migrations)."""
    if not event.contains(engine.sync_engine, "before_cursor_execute", _GUARD):
        event.listen(engine.sync_engine, "before_cursor_execute", _GUARD)


_GUARD: Final = _Guard()
