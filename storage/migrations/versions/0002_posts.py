"""Posts with a life (drafts, steps, publishing lease) and the owner's publishing connections.

Both tables are account-scoped: on PostgreSQL they get the same forced row-level security policy
as the others (``0005_row_level_security``): a transaction sees only the rows of the account its
scope names. It follows ``0003``, the head when it was merged.

Revision ID: 0002
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage.tables.UTCDateTime: timestamptz on PostgreSQL, naive-UTC DATETIME text on SQLite.
UTC_DATETIME = sa.DateTime(timezone=True)
POLICY = "minime_scope"
ACCOUNT = "account_id = NULLIF(current_setting('minime.account_id', true), '')"
SCOPED = ("posts", "connections")


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("persona_id", sa.String(length=32), nullable=False),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_platform", sa.String(length=32), nullable=False),
        sa.Column("owner_user_id", sa.String(length=255), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("scheduled_for", UTC_DATETIME, nullable=True),
        sa.Column("lease_until", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_posts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["persona_id"],
            ["personas.id"],
            name=op.f("fk_posts_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    op.create_index(
        op.f("ix_posts_account_id_created_at"), "posts", ["account_id", "created_at"], unique=False
    )
    op.create_table(
        "connections",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("identifier", sa.LargeBinary(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("connected_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_connections_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "network", name=op.f("pk_connections")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in SCOPED:
            op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
            op.execute(
                f'CREATE POLICY {POLICY} ON "{table}" USING ({ACCOUNT}) WITH CHECK ({ACCOUNT})'
            )


def downgrade() -> None:
    op.drop_table("connections")
    op.drop_index(op.f("ix_posts_account_id_created_at"), table_name="posts")
    op.drop_table("posts")
