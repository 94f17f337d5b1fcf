"""Row-level security on PostgreSQL: every account-scoped table shows only the rows its
transaction's scope names (``storage/scope.py``), for every role but superusers and roles with
``BYPASSRLS`` — the tables' owner included (``FORCE ROW LEVEL SECURITY``).

A transaction names its scope with ``set_config('minime.<name>', value, true)`` (``SET LOCAL``):

- ``minime.account_id``: the account whose rows it reads and writes (every table);
- ``minime.platform`` + ``minime.user_id``: one platform identity, to find its account (and, when
  linking, to move it from its previous account);
- ``minime.link_code``: one link code's hash, to redeem it (the code is the capability);
- ``minime.delivery``: one delivery key, to de-duplicate before the account is known;
- ``minime.purpose``: ``master-key`` (the wrapped data keys, to check and rotate the master key) or
  ``expire-deliveries``.

Nothing named, nothing visible. Foreign-key cascades are not subject to policies, so erasing an
account still removes what hangs off it. SQLite has no roles: nothing to do there.

Revision ID: 0005
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from alembic import op

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY: Final = "minime_scope"


def _setting(name: str) -> str:
    return f"NULLIF(current_setting('minime.{name}', true), '')"


ACCOUNT: Final = f"account_id = {_setting('account_id')}"
IDENTITY: Final = f"(platform = {_setting('platform')} AND user_id = {_setting('user_id')})"

# table → (USING, WITH CHECK): what a scope may see, and what it may write.
POLICIES: Final = {
    "accounts": (f"id = {_setting('account_id')}",) * 2,
    "account_keys": (f"{ACCOUNT} OR {_setting('purpose')} = 'master-key'",) * 2,
    "identities": (f"{ACCOUNT} OR {IDENTITY}", ACCOUNT),
    "link_codes": (f"{ACCOUNT} OR code_hash = {_setting('link_code')}",) * 2,
    "deliveries": (
        f"{ACCOUNT} OR key = {_setting('delivery')} "
        f"OR {_setting('purpose')} = 'expire-deliveries'",
        f"account_id IS NULL OR {ACCOUNT}",
    ),
    **{
        table: (ACCOUNT, ACCOUNT)
        for table in (
            "personas",
            "messages",
            "vectors",
            "drafts",
            "approvals",
            "feedback",
            "priority_labels",
            "state",
        )
    },
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (using, check) in POLICIES.items():
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
        op.execute(
            f'CREATE POLICY {POLICY} ON "{table}" USING ({using}) WITH CHECK ({check})'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in POLICIES:
        op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
