"""Isolation: every store call on owned data is scoped to one account, by construction and by force.

- Signatures: every public method of every ``Sql*`` store takes the ``AccountId`` (or a model that
  carries it); the few that cross accounts are listed here with their reason.
- Behaviour: one account's ids, asked for under another account, give nothing (both back ends).
- Force: a statement on owned data without an account predicate fails (``storage/scope.py``).
- PostgreSQL: row-level security is forced on every owned table (migration 0005); minime's app
  role, which owns nothing, sees no row its transaction's scope does not name.
"""

from __future__ import annotations

import dataclasses
import inspect
import secrets
import typing
import uuid
from datetime import timedelta
from pathlib import Path
from typing import cast

import asyncpg
import numpy as np
import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

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
from storage import NotFound, Storage, StorageError, UnscopedQuery, open_storage, tables
from storage.scope import OWNED, Scope, set_scope, unscoped, unscoped_references
from storage.stores.context import StoreContext, rowcount
from tests.storage.support import (
    PG_URL,
    T0,
    Backend,
    PgSchemas,
    message,
    new_account,
    new_user,
    stored,
    stream,
)

ROOT = Path(__file__).resolve().parents[2]

CROSS_ACCOUNT = {
    ("SqlAccountStore", "resolve"): "a platform identity is how a request finds its account",
    ("SqlAccountStore", "redeem_link_code"): "the one-time code names the account",
    ("SqlDeliveryLog", "first_seen"): "a delivery key, logged before its account may exist",
    ("SqlDeliveryLog", "prune"): "expiry of de-duplication records",
    ("SqlDeliveryLog", "accept"): "a delivery stored before its account may be known",
    ("SqlDeliveryLog", "accept_many"): "deliveries stored before their accounts are known",
    ("SqlDeliveryLog", "renew"): "one delivery by its key (its account, if known, scopes it)",
    ("SqlDeliveryLog", "finish"): "one delivery by its key (its account, if known, scopes it)",
    ("SqlDeliveryLog", "pending"): "one delivery by its key (its account, if known, scopes it)",
    ("SqlDeliveryLog", "claim_expired"): "dead workers' deliveries, found by lease, each "
    "then taken under its own key and account",
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
            if backend.as_app_role:  # and the database's own check: nothing until a scope is set
                assert (
                    await connection.execute(select(m.c.msg_id).where(m.c.account_id == alice.id))
                ).all() == []
                await set_scope(connection, Scope(account=alice.id))
            scoped = select(m.c.msg_id).where(m.c.account_id == alice.id)
            assert len((await connection.execute(scoped)).all()) == 2
            deliberate = select(m.c.msg_id).execution_options(**unscoped("test: a reviewed reason"))
            assert len((await connection.execute(deliberate)).all()) >= 2
            # Not owned data, not checked.
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1


@pytest.mark.postgres
async def test_row_level_security_binds_minime_itself(
    pg_schemas: PgSchemas, tmp_path: Path
) -> None:
    """Two roles, as deployed: migrations as the owner, the stores as the app role, which owns
    nothing and bypasses nothing; a transaction sees only what its scope names."""
    owner_url = await pg_schemas.fresh_url()
    app_url = pg_schemas.app_url(owner_url)
    async with open_storage(
        app_url, data_dir=tmp_path, master_key=None, owner_url=owner_url
    ) as opened:
        alice, _ = await seeded(opened, "alice")
        bob, _ = await seeded(opened, "bob")
        async with opened.engine.connect() as connection:
            me = await connection.execute(
                text(
                    "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user"
                )
            )
            assert me.one() == (pg_schemas.app_role, False, False)
            relations = await connection.execute(
                text(
                    "SELECT relname, relrowsecurity, relforcerowsecurity, "
                    "pg_get_userbyid(relowner) FROM pg_class "
                    "WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
                )
            )
            found = {name: (rls, force, owner) for name, rls, force, owner in relations}
        assert all(owner != pg_schemas.app_role for _, _, owner in found.values())
        assert {name for name, (rls, force, _) in found.items() if rls and force} == set(OWNED)

        # Through the stores' own transactions: no scope, or another account's, sees nothing.
        ctx = StoreContext(opened.sessions, opened.keys)
        look = unscoped("test: what the database itself lets through")
        for table in sorted(OWNED):
            every_row = select(func.count()).select_from(tables.metadata.tables[table])
            async with ctx.read(Scope()) as session:
                assert (await session.execute(every_row.execution_options(**look))).scalar() == 0
        m = tables.messages
        alices = select(m.c.msg_id).where(m.c.account_id == alice.id)
        async with ctx.read(bob.id) as session:
            assert (await session.execute(alices)).all() == []
            assert (await session.execute(select(m.c.account_id).execution_options(**look))).all()
            assert {
                r.account_id
                for r in await session.execute(select(m.c.account_id).execution_options(**look))
            } == {bob.id}
        async with ctx.read(alice.id) as session:
            assert len((await session.execute(alices)).all()) == 2
        # SET LOCAL: the next transaction on the same pooled connection carries no scope.
        async with opened.engine.connect() as connection:
            await set_scope(connection, Scope(account=alice.id))
            assert len((await connection.execute(alices)).all()) == 2
            await connection.commit()
            assert (await connection.execute(alices)).all() == []
            await connection.rollback()
        # Writing into another account's rows: refused by the database, not only by the stores.
        with pytest.raises(DBAPIError, match="row-level security"):
            async with ctx.write(alice.id) as session:
                await session.execute(
                    tables.state.insert().values(
                        account_id=bob.id, persona_id=bob.active_persona, kind="x", value=b"x"
                    )
                )
        async with ctx.write(alice.id) as session:
            changed = await session.execute(
                update(m).where(m.c.account_id == bob.id).values(from_owner=False)
            )
            assert rowcount(changed) == 0
        # Identities and link codes: visible to their account, or as the one row named.
        i = tables.identities
        identities = select(i.c.account_id).execution_options(**look)
        async with ctx.read(Scope()) as session:
            assert (await session.execute(identities)).all() == []
        [bob_identity] = cast(
            list[dict[str, str]], (await opened.vault.export(bob.id))["identities"]
        )
        bob_user = UserRef(platform=bob_identity["platform"], user_id=bob_identity["user_id"])
        async with ctx.read(Scope(platform=bob_user.platform, user_id=bob_user.user_id)) as session:
            assert (await session.scalars(identities)).all() == [bob.id]

        # Everything minime does works as the app role.
        carol = await opened.accounts.resolve(new_user(), create=True)
        assert carol is not None
        assert await opened.accounts.resolve(bob_user, create=False) == bob
        code = await opened.accounts.issue_link_code(alice.id, ttl_s=60)
        moved = await opened.accounts.redeem_link_code(code, bob_user)
        assert moved is not None and moved.id == alice.id
        assert (await opened.accounts.resolve(bob_user, create=False)) == moved
        assert await opened.accounts.redeem_link_code(code, new_user()) is None  # once
        assert await opened.deliveries.first_seen("slack:E1", account_id=alice.id)
        assert not await opened.deliveries.first_seen("slack:E1")
        assert await opened.deliveries.first_seen("slack:E2")
        assert await opened.deliveries.prune(T0 + timedelta(days=36_500)) == 2
        assert "opt alice" in repr(await opened.vault.export(alice.id))
        await opened.vault.erase(bob.id)
        assert await opened.accounts.get(bob.id) is None
        rotation = await opened.rotate_master_key()
        assert rotation.rewrapped == 2  # alice and carol: every data key, across accounts
        opened.keys.forget(alice.id)
        assert await opened.accounts.get(alice.id) == moved
    # Starting again is idempotent: the role exists, the grants are given again.
    async with open_storage(
        app_url, data_dir=tmp_path, master_key=None, owner_url=owner_url
    ) as opened:
        assert await opened.messages.count(alice.id, alice.active_persona or "") == 2


@pytest.mark.postgres
async def test_the_app_role_is_created_with_its_password_and_never_bypasses(
    pg_schemas: PgSchemas, tmp_path: Path
) -> None:
    owner_url = await pg_schemas.fresh_url()
    with pytest.raises(StorageError, match="does not own the tables"):
        async with open_storage(owner_url, data_dir=tmp_path, master_key=None, owner_url=owner_url):
            pass
    created, bypassing = (f"minime_test_{kind}_{secrets.token_hex(4)}" for kind in ("pw", "by"))
    dsn = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        app_url = make_url(owner_url).set(username=created, password="it's: a $secret")
        async with open_storage(
            app_url.render_as_string(hide_password=False),
            data_dir=tmp_path,
            master_key=None,
            owner_url=owner_url,
        ) as opened:
            await new_account(opened)
        stored_password = await connection.fetchval(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1", created
        )
        assert stored_password and stored_password.startswith(("SCRAM-SHA-256$", "md5"))
        await connection.execute(f"CREATE ROLE {bypassing} LOGIN BYPASSRLS")
        bypassing_url = make_url(owner_url).set(username=bypassing)
        with pytest.raises(StorageError, match="BYPASSRLS"):
            async with open_storage(
                bypassing_url.render_as_string(hide_password=False),
                data_dir=tmp_path,
                master_key=None,
                owner_url=owner_url,
            ):
                pass
    finally:
        for role in (created, bypassing):
            await connection.execute(
                f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
                f"DROP OWNED BY {role}; DROP ROLE {role}; END IF; END $$"
            )
        await connection.close()
