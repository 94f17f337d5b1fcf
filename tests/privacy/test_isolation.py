"""Isolation: every store call on owned data is scoped to one account, by construction and by force.

- Signatures: every public method of every ``Sql*`` store takes the ``AccountId`` (or a model that
  carries it); the few that cross accounts are listed here with their reason.
- Behaviour: one account's ids, asked for under another account, give nothing (both back ends).
- Force: a statement on owned data without an account predicate fails (``storage/scope.py``).
- PostgreSQL: with ``storage/rls.sql`` applied, a non-owner role sees no rows without
  ``minime.account_id``, and only that account's rows with it.
"""

from __future__ import annotations

import dataclasses
import inspect
import secrets
import typing
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
import numpy as np
import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import make_url

import storage.stores
from core.models import (
    Account,
    Approval,
    Draft,
    DraftOption,
    DraftStatus,
    Feedback,
    FeedbackKind,
    UserRef,
)
from storage import NotFound, Storage, UnscopedQuery, open_storage, tables
from storage.scope import OWNED, unscoped, unscoped_references
from tests.storage.support import PG_URL, T0, Backend, message, new_account, stored, stream

ROOT = Path(__file__).resolve().parents[2]

CROSS_ACCOUNT = {
    ("SqlAccountStore", "resolve"): "a platform identity is how a request finds its account",
    ("SqlAccountStore", "redeem_link_code"): "the one-time code names the account",
    ("SqlDeliveryLog", "first_seen"): "a delivery key, logged before its account may exist",
    ("SqlDeliveryLog", "prune"): "expiry of de-duplication records",
    ("SqlTeamStore", "memberships"): "the role row names the member; the owner granted it",
    ("SqlTeamStore", "redeem_invite"): "the one-time invitation code names the account",
}
"""Public store methods that do not take an account, and why; every other one must."""


def carries_account(method: object, parameter: str) -> bool:
    """Whether the parameter is a core model with an ``account_id`` (``Draft``, ``Feedback``...),
    which then scopes the call."""
    annotation = typing.get_type_hints(method).get(parameter)
    if annotation is Account:  # its id is the account
        return True
    return dataclasses.is_dataclass(annotation) and any(
        f.name == "account_id" for f in dataclasses.fields(annotation)
    )


def store_classes() -> list[type]:
    return [
        cls
        for name, cls in vars(storage.stores).items()
        if name.startswith("Sql")
        and inspect.isclass(cls)
        and cls.__module__.startswith("storage.stores.")
    ]


def test_every_store_method_takes_an_account_scope() -> None:
    classes = store_classes()
    assert {c.__name__ for c in classes} >= {
        "SqlAccountStore",
        "SqlPersonaStore",
        "SqlMessageStore",
        "SqlVectorStore",
        "SqlDraftStore",
        "SqlFeedbackStore",
        "SqlDeliveryLog",
        "SqlStateStore",
        "SqlAccountVault",
    }
    unscoped_methods, checked = [], 0
    for cls in classes:
        for name, method in inspect.getmembers(cls, inspect.isfunction):
            if name.startswith("_"):
                continue
            checked += 1
            params = list(inspect.signature(method).parameters.values())[1:]
            first = params[0] if params else None
            scoped = first is not None and (
                first.name == "account_id" or carries_account(method, first.name)
            )
            if not scoped and (cls.__name__, name) not in CROSS_ACCOUNT:
                unscoped_methods.append(f"{cls.__name__}.{name}{inspect.signature(method)}")
    assert unscoped_methods == [], "store methods without an account scope"
    assert checked >= 25
    for cls_name, method_name in CROSS_ACCOUNT:  # the allow-list names real methods
        cls = getattr(storage.stores, cls_name)
        assert callable(getattr(cls, method_name, None)), (cls_name, method_name)


async def seeded(opened: Storage, secret: str) -> tuple[Account, str]:
    """An account with a message pair, a vector, a draft (approved), feedback and state."""
    account = await new_account(opened)
    persona = account.active_persona
    assert persona is not None
    await opened.messages.add_stream(
        account.id,
        stream(
            [
                stored(persona, message("q", text=f"q {secret}")),
                stored(
                    persona,
                    message("a", sender="me", text=f"a {secret}", at=5, reply_to="q"),
                    from_owner=True,
                ),
            ]
        ),
    )
    await opened.vectors.put(account.id, persona, ["q"], np.ones((1, 4), dtype=np.float32))
    draft = Draft(
        id=uuid.uuid4().hex,
        account_id=account.id,
        persona_id=persona,
        incoming=message("in", text=f"in {secret}"),
        options=(DraftOption(text=f"opt {secret}", engine="retrieval", style_score=50),),
        status=DraftStatus.PENDING,
        created_at=T0,
        owner=_user_of(account),
    )
    await opened.drafts.create(draft)
    await opened.feedback.add(
        Feedback(
            account_id=account.id,
            persona_id=persona,
            kind=FeedbackKind.SENT,
            draft_id=draft.id,
            message_id="in",
            text=f"fb {secret}",
            at=T0,
        )
    )
    await opened.state.put(account.id, persona, "profile", secret.encode())
    return account, draft.id


def _user_of(account: Account) -> UserRef:
    return UserRef(platform="test", user_id=f"owner-of-{account.id}")


async def test_another_accounts_ids_give_nothing(backend: Backend) -> None:
    secret = f"CANARY{secrets.token_hex(8)}"
    async with backend.fresh_storage() as opened:
        alice, alice_draft = await seeded(opened, secret)
        bob, _ = await seeded(opened, "bob")
        a_persona = alice.active_persona
        assert a_persona is not None and bob.active_persona is not None

        # Reads under Bob's account with Alice's ids.
        assert await opened.personas.get(bob.id, a_persona) is None
        assert a_persona not in {p.id for p in await opened.personas.list(bob.id)}
        assert [m async for m in opened.messages.iter(bob.id, a_persona)] == []
        assert await opened.messages.get(bob.id, a_persona, ["q", "a"]) == []
        assert await opened.messages.reply_pairs(bob.id, a_persona) == []
        assert await opened.messages.count(bob.id, a_persona) == 0
        ids, vectors = await opened.vectors.load(bob.id, a_persona)
        assert ids == [] and vectors.size == 0
        assert await opened.drafts.get(bob.id, alice_draft) is None
        assert await opened.drafts.approval(bob.id, alice_draft) is None
        assert alice_draft not in {d.id for d in await opened.drafts.pending(bob.id)}
        assert await opened.feedback.list(bob.id, a_persona) == []
        assert await opened.state.get(bob.id, a_persona, "profile") is None
        assert secret not in repr(await opened.vault.export(bob.id))

        # Writes under Bob's account into Alice's persona or draft change nothing.
        with pytest.raises(NotFound):
            await opened.messages.add_stream(bob.id, stream([stored(a_persona, message("x"))]))
        with pytest.raises(NotFound):
            await opened.vectors.put(bob.id, a_persona, ["x"], np.ones((1, 4), dtype=np.float32))
        with pytest.raises(NotFound):
            await opened.state.put(bob.id, a_persona, "profile", b"overwritten")
        with pytest.raises(NotFound):
            await opened.feedback.add(
                Feedback(
                    account_id=bob.id,
                    persona_id=a_persona,
                    kind=FeedbackKind.DISMISSED,
                    draft_id=None,
                    message_id=None,
                    text=None,
                    at=T0,
                )
            )
        with pytest.raises(NotFound):
            await opened.accounts.update(
                Account(id=bob.id, created_at=bob.created_at, active_persona=a_persona)
            )
        assert not await opened.personas.delete(bob.id, a_persona)
        assert not await opened.drafts.set_status(
            bob.id, alice_draft, DraftStatus.REJECTED, expect=DraftStatus.PENDING
        )
        assert not await opened.drafts.approve(
            Approval(
                draft_id=alice_draft,
                account_id=bob.id,
                by=_user_of(bob),
                text="hijack",
                option=0,
                edited=False,
                approved_at=T0 + timedelta(seconds=1),
            )
        )

        # Alice's data is intact.
        assert await opened.messages.count(alice.id, a_persona) == 2
        assert await opened.state.get(alice.id, a_persona, "profile") == secret.encode()
        draft = await opened.drafts.get(alice.id, alice_draft)
        assert draft is not None and draft.status is DraftStatus.PENDING


def test_the_guard_reads_the_sql_both_dialects_write() -> None:
    assert "messages" in OWNED and "accounts" in OWNED and "deliveries" in OWNED
    assert unscoped_references("SELECT 1") == ()
    assert unscoped_references("INSERT INTO messages (account_id) VALUES (?)") == ()
    ok = [
        "SELECT messages.text FROM messages WHERE messages.account_id = ? AND messages.pk > ?",
        "SELECT accounts.id FROM accounts WHERE accounts.id = $1::VARCHAR",
        "UPDATE drafts SET status=? WHERE drafts.id = ? AND drafts.account_id = ?",
        "DELETE FROM approvals WHERE approvals.account_id = ? AND approvals.draft_id IN "
        "(SELECT drafts.id FROM drafts WHERE drafts.persona_id = ? AND drafts.account_id = ?)",
        "SELECT reply.msg_id FROM messages AS reply JOIN messages AS incoming ON "
        "incoming.msg_id = reply.reply_to WHERE reply.account_id = ? AND incoming.account_id = ?",
        "SELECT count(*) AS count_1 \nFROM state \nWHERE state.account_id IN (?, ?)",
    ]
    for sql in ok:
        assert unscoped_references(sql) == (), sql
    bad = {
        "SELECT messages.text FROM messages": ("messages",),
        "SELECT messages.text FROM messages WHERE messages.persona_id = ?": ("messages",),
        "DELETE FROM drafts": ("drafts",),
        "UPDATE state SET value=? WHERE state.kind = ?": ("state",),
        "SELECT reply.msg_id FROM messages AS reply JOIN messages AS incoming ON "
        "incoming.msg_id = reply.reply_to WHERE reply.account_id = ?": ("messages AS incoming",),
        "SELECT accounts.id FROM accounts JOIN identities ON identities.account_id = accounts.id "
        "WHERE identities.user_id = ?": ("accounts", "identities"),
        "DELETE FROM approvals WHERE approvals.account_id = ? AND approvals.draft_id IN "
        "(SELECT drafts.id FROM drafts WHERE drafts.persona_id = ?)": ("drafts",),
    }
    for sql, missing in bad.items():
        assert unscoped_references(sql) == missing, sql


async def test_a_query_without_an_account_scope_fails(backend: Backend) -> None:
    async with backend.fresh_storage() as opened:
        alice, _ = await seeded(opened, "alice")
        m, d = tables.messages, tables.drafts
        refused = [
            select(m.c.text),
            select(m.c.text).where(m.c.persona_id == alice.active_persona),
            update(d).values(status="rejected"),
            delete(tables.state),
            select(tables.accounts),
        ]
        for statement in refused:
            async with opened.engine.connect() as connection:
                with pytest.raises(UnscopedQuery, match="without an account scope"):
                    await connection.execute(statement)
        async with opened.engine.connect() as connection:
            scoped = select(m.c.msg_id).where(m.c.account_id == alice.id)
            assert len((await connection.execute(scoped)).all()) == 2
            deliberate = select(m.c.msg_id).execution_options(**unscoped("test: a reviewed reason"))
            assert len((await connection.execute(deliberate)).all()) >= 2
            # Not owned data, not checked.
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1


@pytest.mark.postgres
async def test_row_level_security_hides_other_accounts_from_the_app_role(
    pg_schemas: object, tmp_path: Path
) -> None:
    from tests.storage.support import PgSchemas

    assert isinstance(pg_schemas, PgSchemas)
    url = await pg_schemas.fresh_url()
    schema = make_url(url).query["search_path"]
    async with open_storage(url, data_dir=tmp_path, master_key=None) as opened:
        alice, _ = await seeded(opened, "alice")
        bob, _ = await seeded(opened, "bob")
    role = f"minime_app_{secrets.token_hex(4)}"
    dsn = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(f'SET search_path TO "{schema}"')
        await connection.execute((ROOT / "storage" / "rls.sql").read_text())
        await connection.execute((ROOT / "storage" / "rls.sql").read_text())  # re-runnable
        await connection.execute(f"CREATE ROLE {role} NOLOGIN")
        await connection.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        await connection.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {role}'
        )
        content = ("personas", "messages", "vectors", "drafts", "feedback", "state", "accounts")
        async with connection.transaction():
            await connection.execute(f"SET LOCAL ROLE {role}")
            for table in (*content, "account_keys"):
                assert await connection.fetchval(f"SELECT count(*) FROM {table}") == 0, table
            await connection.execute("SELECT set_config('minime.account_id', $1, true)", alice.id)
            assert await connection.fetchval("SELECT count(*) FROM messages") == 2
            owners = await connection.fetch("SELECT DISTINCT account_id FROM messages")
            assert [r["account_id"] for r in owners] == [alice.id]
            assert await connection.fetchval("SELECT count(*) FROM accounts") == 1
            changed = await connection.execute(
                "UPDATE messages SET from_owner = NOT from_owner WHERE account_id = $1", bob.id
            )
            assert changed == "UPDATE 0"
            assert await connection.execute("DELETE FROM state WHERE account_id = $1", bob.id) == (
                "DELETE 0"
            )
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                await connection.execute(
                    "INSERT INTO personas (id, account_id, name, owner_names, created_at) "
                    "VALUES ($1, $2, 'sneaky', '\\x00'::bytea, now())",
                    uuid.uuid4().hex,
                    bob.id,
                )
        # The owner role (migrations, key rotation, erasure) is not subject to the policies.
        assert await connection.fetchval("SELECT count(*) FROM messages") == 4
    finally:
        await connection.execute(f"DROP OWNED BY {role}")
        await connection.execute(f"DROP ROLE IF EXISTS {role}")
        await connection.close()
