"""The database schema (SQLAlchemy 2 declarative), identical on SQLite and PostgreSQL.

Rows never leave ``storage/``: the stores turn them into core models. Columns typed ``Encrypted``
hold AES-GCM ciphertexts made by :mod:`storage.crypto` (bound to the row's account and id); the
plaintext columns are ids, names, times and flags that queries need.

Every table of owned data carries ``account_id`` so that every query can filter on it and erasure
can delete the account's rows table by table. ``alembic`` migrations under
``storage/migrations/versions`` must match this module exactly (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 32
"""Ids minted by minime are ``uuid4().hex``."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every back end.

    PostgreSQL stores ``timestamptz``. SQLite has no time zones, so values are stored as naive UTC
    text (which also sorts correctly) and come back with ``tzinfo=UTC``. Naive datetimes are
    refused on the way in: guessing their zone is how timestamps drift.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given where UTC is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Encrypted = LargeBinary
"""An AES-GCM envelope (``storage.crypto``): bytes on SQLite, ``bytea`` on PostgreSQL."""

# SQLite only auto-increments an ``INTEGER PRIMARY KEY`` (the rowid); PostgreSQL gets a bigint.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so constraint names agree across back ends."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _account_fk() -> Mapped[str]:
    return mapped_column(
        String(ID_LENGTH), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )


def _persona_fk() -> Mapped[str]:
    return mapped_column(
        String(ID_LENGTH), ForeignKey("personas.id", ondelete="CASCADE"), nullable=False
    )


class AccountRow(Base):
    """One owner. ``settings`` is encrypted JSON."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    active_persona: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    paused: Mapped[bool] = mapped_column(Boolean, nullable=False)
    settings: Mapped[bytes] = mapped_column(Encrypted, nullable=False)


class IdentityRow(Base):
    """A platform identity (``UserRef``) linked to exactly one account."""

    __tablename__ = "identities"
    __table_args__ = (Index(None, "account_id"),)

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class LinkCodeRow(Base):
    """A one-time code that links another identity to an account; only its SHA-256 is stored."""

    __tablename__ = "link_codes"
    __table_args__ = (Index(None, "account_id"),)

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AccountKeyRow(Base):
    """The account's data key, wrapped (a Fernet token) by the master key."""

    __tablename__ = "account_keys"

    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class PersonaRow(Base):
    """A voice of an account. ``owner_names`` is encrypted JSON (a list of sender names)."""

    __tablename__ = "personas"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    owner_names: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class MessageRow(Base):
    """A message held for a persona; conversation, sender and text are encrypted."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("persona_id", "msg_id"),
        # With pk, keyset pagination (iter) is one index range scan on both back ends.
        Index(None, "persona_id", "sent_at", "pk"),
        Index(None, "persona_id", "reply_to"),
        Index(None, "account_id"),
    )

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = _account_fk()
    persona_id: Mapped[str] = _persona_fk()
    msg_id: Mapped[str] = mapped_column(String, nullable=False)
    conversation: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    thread: Mapped[str | None] = mapped_column(String, nullable=True)
    sender: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    text: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reply_to: Mapped[str | None] = mapped_column(String, nullable=True)
    from_owner: Mapped[bool] = mapped_column(Boolean, nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)


class VectorRow(Base):
    """An embedding (float32 bytes, encrypted) of one stored message."""

    __tablename__ = "vectors"
    __table_args__ = (Index(None, "account_id"),)

    account_id: Mapped[str] = _account_fk()
    persona_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("personas.id", ondelete="CASCADE"), primary_key=True
    )
    msg_id: Mapped[str] = mapped_column(String, primary_key=True)
    vector: Mapped[bytes] = mapped_column(Encrypted, nullable=False)


class DraftRow(Base):
    """Candidate replies to one incoming message (both encrypted JSON) and their status."""

    __tablename__ = "drafts"
    __table_args__ = (Index(None, "account_id", "status"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    persona_id: Mapped[str] = _persona_fk()
    owner_platform: Mapped[str] = mapped_column(String(32), nullable=False)
    owner_user_id: Mapped[str] = mapped_column(String(255), nullable=False)
    incoming: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    options: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ApprovalRow(Base):
    """The owner's click that allows one send; the primary key makes it one per draft, ever."""

    __tablename__ = "approvals"
    __table_args__ = (Index(None, "account_id"),)

    draft_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = _account_fk()
    by_platform: Mapped[str] = mapped_column(String(32), nullable=False)
    by_user_id: Mapped[str] = mapped_column(String(255), nullable=False)
    text: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    option: Mapped[int] = mapped_column(Integer, nullable=False)
    edited: Mapped[bool] = mapped_column(Boolean, nullable=False)
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class FeedbackRow(Base):
    """One decision of the owner (sent, edited, dismissed, …), kept to learn from."""

    __tablename__ = "feedback"
    __table_args__ = (Index(None, "persona_id", "at"), Index(None, "account_id"))

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    persona_id: Mapped[str] = _persona_fk()
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    draft_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String, nullable=True)
    text: Mapped[bytes | None] = mapped_column(Encrypted, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class PriorityLabelRow(Base):
    """A label for the prioritiser: 1.0 important … 0.0 not, from a reply or a one-tap button."""

    __tablename__ = "priority_labels"
    __table_args__ = (Index(None, "persona_id", "at"), Index(None, "account_id"))

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    persona_id: Mapped[str] = _persona_fk()
    message_id: Mapped[str] = mapped_column(String, nullable=False)
    label: Mapped[float] = mapped_column(Float, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class DeliveryRow(Base):
    """A platform delivery: accepted (its encrypted payload kept until its work is done) or done
    (de-duplication across retries and processes).

    ``account_id`` has no foreign key: a delivery may be logged before its account exists.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        Index(None, "account_id"),
        Index(None, "seen_at"),
        Index(None, "lease_until"),
    )

    key: Mapped[str] = mapped_column(String, primary_key=True)
    account_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="done")
    platform: Mapped[str | None] = mapped_column(String(16), nullable=True)
    payload: Mapped[bytes | None] = mapped_column(Encrypted, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class StateRow(Base):
    """Small derived state of a persona by kind (profile, verifier, prioritiser), encrypted."""

    __tablename__ = "state"
    __table_args__ = (Index(None, "account_id"),)

    account_id: Mapped[str] = _account_fk()
    persona_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("personas.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class PersonaAttributesRow(Base):
    """What the owner says about a persona (tone, audience, …): encrypted JSON."""

    __tablename__ = "persona_attributes"
    __table_args__ = (Index(None, "account_id"),)

    persona_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("personas.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = _account_fk()
    attributes: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class PersonaBindingRow(Base):
    """A persona bound to a place (a Slack channel, a Telegram chat, a Discord server)."""

    __tablename__ = "persona_bindings"

    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    place: Mapped[str] = mapped_column(String(255), primary_key=True)
    persona_id: Mapped[str] = _persona_fk()
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class PersonaMemberRow(Base):
    """A role someone holds on a persona of this account (viewer, reviewer, editor)."""

    __tablename__ = "persona_members"
    __table_args__ = (Index(None, "member_platform", "member_user_id"), Index(None, "account_id"))

    persona_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("personas.id", ondelete="CASCADE"), primary_key=True
    )
    member_platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    owner_user_id: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class PersonaInviteRow(Base):
    """A one-time code giving a role on a persona; only its SHA-256 is stored."""

    __tablename__ = "persona_invites"
    __table_args__ = (Index(None, "account_id"),)

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    persona_id: Mapped[str] = _persona_fk()
    owner_user_id: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PersonaShareRow(Base):
    """Permission for others to ask a persona's clone; topics are encrypted JSON."""

    __tablename__ = "persona_shares"
    __table_args__ = (
        UniqueConstraint("persona_id", "platform", "asker"),
        Index(None, "account_id"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    persona_id: Mapped[str] = _persona_fk()
    platform: Mapped[str] = mapped_column(String(32), nullable=False)
    asker: Mapped[str] = mapped_column(String(255), nullable=False)
    topics: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    auto: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ConsultRow(Base):
    """A question someone asked the clone under a share; question and answer are encrypted."""

    __tablename__ = "consults"
    __table_args__ = (Index(None, "account_id", "asked_at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    persona_id: Mapped[str] = _persona_fk()
    share_id: Mapped[str] = mapped_column(String(ID_LENGTH), nullable=False)
    asker_platform: Mapped[str] = mapped_column(String(32), nullable=False)
    asker_user_id: Mapped[str] = mapped_column(String(255), nullable=False)
    question: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    answer: Mapped[bytes | None] = mapped_column(Encrypted, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    draft_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class PostRow(Base):
    """A post in the owner's voice for one network: its topic, parts, steps and engagement are
    encrypted JSON; status, times and the publishing lease are plain (queries and the
    compare-and-set need them)."""

    __tablename__ = "posts"
    __table_args__ = (Index(None, "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    account_id: Mapped[str] = _account_fk()
    persona_id: Mapped[str] = _persona_fk()
    network: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    owner_platform: Mapped[str] = mapped_column(String(32), nullable=False)
    owner_user_id: Mapped[str] = mapped_column(String(255), nullable=False)
    body: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConnectionRow(Base):
    """The owner's credentials for one publishing network, encrypted (never exported)."""

    __tablename__ = "connections"

    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    network: Mapped[str] = mapped_column(String(16), primary_key=True)
    identifier: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    secret: Mapped[bytes] = mapped_column(Encrypted, nullable=False)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


metadata = Base.metadata

# Core ``Table`` handles for the stores, which use Core statements (faster bulk paths, no identity map).
accounts: Table = metadata.tables["accounts"]
identities: Table = metadata.tables["identities"]
link_codes: Table = metadata.tables["link_codes"]
account_keys: Table = metadata.tables["account_keys"]
personas: Table = metadata.tables["personas"]
messages: Table = metadata.tables["messages"]
vectors: Table = metadata.tables["vectors"]
drafts: Table = metadata.tables["drafts"]
approvals: Table = metadata.tables["approvals"]
feedback: Table = metadata.tables["feedback"]
priority_labels: Table = metadata.tables["priority_labels"]
deliveries: Table = metadata.tables["deliveries"]
state: Table = metadata.tables["state"]
persona_attributes: Table = metadata.tables["persona_attributes"]
persona_bindings: Table = metadata.tables["persona_bindings"]
persona_members: Table = metadata.tables["persona_members"]
persona_invites: Table = metadata.tables["persona_invites"]
persona_shares: Table = metadata.tables["persona_shares"]
consults: Table = metadata.tables["consults"]
posts: Table = metadata.tables["posts"]
connections: Table = metadata.tables["connections"]
