"""Accepted deliveries: a delivery's payload is stored before the platform hears "200".

``deliveries`` gains the accepted-event record (``storage/stores/deliveries.py``):

- ``state``: ``accepted`` (stored and acknowledged, work not finished) or ``done`` (every row
  before this revision, and every row once its work ends);
- ``platform``: which adapter can resume it (``slack``, ``telegram``);
- ``payload``: the delivery as received, encrypted; dropped (``NULL``) when done;
- ``lease_until``: until when the worker doing it holds it (renewed while it works); an
  accepted row whose lease expired belongs to a dead worker and is resumed by a live one;
- ``attempts``: how many times it was taken (a delivery that keeps killing workers is given up).

On PostgreSQL the row-level security policy also lets two purposes see the table's rows:
``accept-deliveries`` (a batch of deliveries stored in one insert before their account is known)
and ``resume-deliveries`` (the sweep looks for expired leases; rows are then taken by key).

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
POLICY: Final = "minime_scope"


def _setting(name: str) -> str:
    return f"NULLIF(current_setting('minime.{name}', true), '')"


def _policy(purposes: tuple[str, ...]) -> str:
    allowed = ", ".join(f"'{purpose}'" for purpose in purposes)
    using = (
        f"account_id = {_setting('account_id')} OR key = {_setting('delivery')} "
        f"OR {_setting('purpose')} IN ({allowed})"
    )
    check = f"account_id IS NULL OR account_id = {_setting('account_id')}"
    return f'CREATE POLICY {POLICY} ON "deliveries" USING ({using}) WITH CHECK ({check})'


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("state", sa.String(length=16), nullable=False, server_default="done")
        )
        batch.add_column(sa.Column("platform", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("lease_until", UTC_DATETIME, nullable=True))
        batch.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_index(
        op.f("ix_deliveries_lease_until"), "deliveries", ["lease_until"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "deliveries"')
        op.execute(_policy(("expire-deliveries", "accept-deliveries", "resume-deliveries")))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "deliveries"')
        op.execute(_policy(("expire-deliveries",)))
    op.drop_index(op.f("ix_deliveries_lease_until"), table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        for column in ("attempts", "lease_until", "payload", "platform", "state"):
            batch.drop_column(column)
