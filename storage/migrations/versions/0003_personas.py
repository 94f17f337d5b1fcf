"""Personas with an identity, shared with a team, and a clone others may ask (issue 17):
persona attributes, bindings to places, team roles and one-time invitations, shares of the
clone and the questions asked under them.

Written from ``storage/tables.py``; a test checks that the migrated schema and
``storage.tables.metadata`` do not differ on SQLite and PostgreSQL. On PostgreSQL each new table
gets forced row-level security like the others (migration ``0005``): its account's rows only;
besides, a member's role rows are visible to a transaction scoped to that member's identity (the
role is the key to a team persona), and an invitation to one scoped to its code's hash.

Revision ID: 0003
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage.tables.UTCDateTime: timestamptz on PostgreSQL, naive-UTC DATETIME text on SQLite.
UTC_DATETIME = sa.DateTime(timezone=True)
ID = sa.String(length=32)


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"],
        ["accounts.id"],
        name=op.f(f"fk_{table}_account_id_accounts"),
        ondelete="CASCADE",
    )


def _persona_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["persona_id"],
        ["personas.id"],
        name=op.f(f"fk_{table}_persona_id_personas"),
        ondelete="CASCADE",
    )


POLICY: Final = "minime_scope"


def _setting(name: str) -> str:
    return f"NULLIF(current_setting('minime.{name}', true), '')"


ACCOUNT: Final = f"account_id = {_setting('account_id')}"
MEMBER: Final = (
    f"(member_platform = {_setting('platform')} AND member_user_id = {_setting('user_id')})"
)
POLICIES: Final = {
    "persona_attributes": (ACCOUNT, ACCOUNT),
    "persona_bindings": (ACCOUNT, ACCOUNT),
    "persona_members": (f"{ACCOUNT} OR {MEMBER}", ACCOUNT),
    "persona_invites": (f"{ACCOUNT} OR code_hash = {_setting('link_code')}",) * 2,
    "persona_shares": (ACCOUNT, ACCOUNT),
    "consults": (ACCOUNT, ACCOUNT),
}


def _secure() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (using, check) in POLICIES.items():
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
        op.execute(f'CREATE POLICY {POLICY} ON "{table}" USING ({using}) WITH CHECK ({check})')


def upgrade() -> None:
    op.create_table(
        "persona_attributes",
        sa.Column("persona_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("attributes", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _account_fk("persona_attributes"),
        _persona_fk("persona_attributes"),
        sa.PrimaryKeyConstraint("persona_id", name=op.f("pk_persona_attributes")),
    )
    op.create_index(
        op.f("ix_persona_attributes_account_id"), "persona_attributes", ["account_id"], unique=False
    )
    op.create_table(
        "persona_bindings",
        sa.Column("account_id", ID, nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("place", sa.String(length=255), nullable=False),
        sa.Column("persona_id", ID, nullable=False),
        sa.Column("bound_at", UTC_DATETIME, nullable=False),
        _account_fk("persona_bindings"),
        _persona_fk("persona_bindings"),
        sa.PrimaryKeyConstraint(
            "account_id", "platform", "place", name=op.f("pk_persona_bindings")
        ),
    )
    op.create_table(
        "persona_members",
        sa.Column("persona_id", ID, nullable=False),
        sa.Column("member_platform", sa.String(length=32), nullable=False),
        sa.Column("member_user_id", sa.String(length=255), nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("owner_user_id", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_at", UTC_DATETIME, nullable=False),
        _account_fk("persona_members"),
        _persona_fk("persona_members"),
        sa.PrimaryKeyConstraint(
            "persona_id", "member_platform", "member_user_id", name=op.f("pk_persona_members")
        ),
    )
    op.create_index(
        op.f("ix_persona_members_account_id"), "persona_members", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_persona_members_member_platform_member_user_id"),
        "persona_members",
        ["member_platform", "member_user_id"],
        unique=False,
    )
    op.create_table(
        "persona_invites",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("persona_id", ID, nullable=False),
        sa.Column("owner_user_id", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("used_at", UTC_DATETIME, nullable=True),
        _account_fk("persona_invites"),
        _persona_fk("persona_invites"),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_persona_invites")),
    )
    op.create_index(
        op.f("ix_persona_invites_account_id"), "persona_invites", ["account_id"], unique=False
    )
    op.create_table(
        "persona_shares",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("persona_id", ID, nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("asker", sa.String(length=255), nullable=False),
        sa.Column("topics", sa.LargeBinary(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=True),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _account_fk("persona_shares"),
        _persona_fk("persona_shares"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persona_shares")),
        sa.UniqueConstraint(
            "persona_id",
            "platform",
            "asker",
            name=op.f("uq_persona_shares_persona_id_platform_asker"),
        ),
    )
    op.create_index(
        op.f("ix_persona_shares_account_id"), "persona_shares", ["account_id"], unique=False
    )
    op.create_table(
        "consults",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("persona_id", ID, nullable=False),
        sa.Column("share_id", ID, nullable=False),
        sa.Column("asker_platform", sa.String(length=32), nullable=False),
        sa.Column("asker_user_id", sa.String(length=255), nullable=False),
        sa.Column("question", sa.LargeBinary(), nullable=False),
        sa.Column("answer", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("draft_id", ID, nullable=True),
        sa.Column("asked_at", UTC_DATETIME, nullable=False),
        _account_fk("consults"),
        _persona_fk("consults"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consults")),
    )
    op.create_index(
        op.f("ix_consults_account_id_asked_at"),
        "consults",
        ["account_id", "asked_at"],
        unique=False,
    )
    _secure()


def downgrade() -> None:
    op.drop_index(op.f("ix_consults_account_id_asked_at"), table_name="consults")
    op.drop_table("consults")
    op.drop_index(op.f("ix_persona_shares_account_id"), table_name="persona_shares")
    op.drop_table("persona_shares")
    op.drop_index(op.f("ix_persona_invites_account_id"), table_name="persona_invites")
    op.drop_table("persona_invites")
    op.drop_index(
        op.f("ix_persona_members_member_platform_member_user_id"), table_name="persona_members"
    )
    op.drop_index(op.f("ix_persona_members_account_id"), table_name="persona_members")
    op.drop_table("persona_members")
    op.drop_table("persona_bindings")
    op.drop_index(op.f("ix_persona_attributes_account_id"), table_name="persona_attributes")
    op.drop_table("persona_attributes")
