"""Accounts, their platform identities and one-time link codes.

An account holds the data key (``account_keys``) that seals everything it owns; a platform
identity (``slack:U123``) finds its account, and a link code moves an identity onto another
account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Final, cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Account, AccountId, UserRef
from storage import tables
from storage.crypto import DataCipher, row_id
from storage.errors import NotFound
from storage.scope import Scope, set_scope, unscoped
from storage.stores.context import AnyRow, Lost, StoreContext, new_id, rowcount
from storage.stores.parts import ExportScope, VaultPart, iso
from storage.stores.personas import owner_names_row

DEFAULT_PERSONA: Final = "default"
LINK_CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed
LINK_CODE_LENGTH: Final = 10


def _settings_row(account_id: AccountId) -> str:
    return row_id("account", account_id, "settings")


def _account(cipher: DataCipher, row: AnyRow) -> Account:
    settings = cipher.decrypt_json(_settings_row(row.id), row.settings)
    return Account(
        id=row.id,
        created_at=row.created_at,
        active_persona=row.active_persona,
        paused=row.paused,
        settings=cast(dict[str, object], settings),
    )


def _identity(user: UserRef, account_id: AccountId | None = None) -> Scope:
    return Scope(account=account_id, platform=user.platform, user_id=user.user_id)


def _hash_code(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


class SqlAccountStore:
    """Accounts, their platform identities and link codes.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def resolve(self, user: UserRef, *, create: bool) -> Account | None:
        """The account of ``user``; with ``create``, a new one with a data key and a persona.

        Race-safe: two concurrent first messages of the same user produce one account (the
        identity's primary key decides; the loser's transaction is rolled back).
        """
        found = await self._lookup(user)
        if found is not None or not create:
            return found
        try:
            async with self._ctx.write(_identity(user)) as session:
                # SQLite serialises writers, so this re-check sees a concurrent winner.
                existing = await self._lookup_in(session, user)
                if existing is not None:
                    return existing
                account, cipher = await self._create(session, user)
        except Lost:
            return await self._lookup(user)
        self._ctx.keys.remember(cipher)
        return account

    async def _create(self, session: AsyncSession, user: UserRef) -> tuple[Account, DataCipher]:
        now = self._ctx.clock()
        account_id, persona_id = new_id(), new_id()
        cipher, wrapped = self._ctx.keys.new_data_key(account_id)
        await set_scope(session, _identity(user, account_id))
        await session.execute(
            tables.accounts.insert().values(
                id=account_id,
                created_at=now,
                active_persona=persona_id,
                paused=False,
                settings=cipher.encrypt_json(_settings_row(account_id), {}),
            )
        )
        await session.execute(
            tables.account_keys.insert().values(account_id=account_id, wrapped_key=wrapped)
        )
        await session.execute(
            tables.personas.insert().values(
                id=persona_id,
                account_id=account_id,
                name=DEFAULT_PERSONA,
                owner_names=cipher.encrypt_json(owner_names_row(persona_id), []),
                created_at=now,
            )
        )
        linked = await session.execute(
            self._ctx.insert(tables.identities)
            .values(
                platform=user.platform, user_id=user.user_id, account_id=account_id, linked_at=now
            )
            .on_conflict_do_nothing(index_elements=["platform", "user_id"])
        )
        if rowcount(linked) != 1:
            raise Lost
        account = Account(id=account_id, created_at=now, active_persona=persona_id, paused=False)
        return account, cipher

    async def _lookup(self, user: UserRef) -> Account | None:
        async with self._ctx.read(_identity(user)) as session:
            return await self._lookup_in(session, user)

    async def _lookup_in(self, session: AsyncSession, user: UserRef) -> Account | None:
        """The identity's account, in a transaction scoped to that identity (and then to the
        account it names: on PostgreSQL the account's rows are invisible until then)."""
        i = tables.identities
        account_id = (
            await session.execute(
                select(i.c.account_id)
                .where(i.c.platform == user.platform, i.c.user_id == user.user_id)
                .execution_options(**unscoped("identity lookup: finds the account"))
            )
        ).scalar_one_or_none()
        if account_id is None:
            return None
        await set_scope(session, _identity(user, account_id))
        return await load_account(self._ctx, session, account_id)

    async def get(self, account_id: AccountId) -> Account | None:
        async with self._ctx.read(account_id) as session:
            return await load_account(self._ctx, session, account_id)

    async def update(self, account: Account) -> Account:
        """Store ``paused``, ``active_persona`` and ``settings`` (``created_at`` never changes).

        Raises:
            NotFound: the account does not exist, or the active persona is not one of its own.
        """
        async with self._ctx.write(account.id) as session:
            if account.active_persona is not None:
                await self._ctx.check_persona(session, account.id, account.active_persona)
            cipher = await self._ctx.cipher(session, account.id)
            result = await session.execute(
                update(tables.accounts)
                .where(tables.accounts.c.id == account.id)
                .values(
                    active_persona=account.active_persona,
                    paused=account.paused,
                    settings=cipher.encrypt_json(_settings_row(account.id), account.settings),
                )
            )
            if rowcount(result) != 1:
                raise NotFound(f"Account {account.id} does not exist.")
            stored = await load_account(self._ctx, session, account.id)
        assert stored is not None
        return stored

    async def issue_link_code(self, account_id: AccountId, *, ttl_s: int) -> str:
        """A one-time code (``ABCDE-FGHJK``, ~50 bits) valid for ``ttl_s`` seconds; only its
        hash is stored."""
        raw = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))
        async with self._ctx.write(account_id) as session:
            if await load_account(self._ctx, session, account_id) is None:
                raise NotFound(f"Account {account_id} does not exist.")
            await session.execute(
                tables.link_codes.insert().values(
                    code_hash=_hash_code(raw),
                    account_id=account_id,
                    expires_at=self._ctx.clock() + timedelta(seconds=ttl_s),
                    used_at=None,
                )
            )
        return f"{raw[:5]}-{raw[5:]}"

    async def redeem_link_code(self, code: str, user: UserRef) -> Account | None:
        """Link ``user`` to the code's account (moving it from any account it was linked to).

        The code is consumed atomically (``UPDATE … WHERE used_at IS NULL``), so it works once.
        """
        now = self._ctx.clock()
        lc = tables.link_codes
        code_hash = _hash_code(code)
        scope = _identity(user)
        async with self._ctx.write(replace(scope, link_code=code_hash)) as session:
            account_id = (
                await session.execute(
                    update(lc)
                    .where(
                        lc.c.code_hash == code_hash,
                        lc.c.used_at.is_(None),
                        lc.c.expires_at > now,
                    )
                    .values(used_at=now)
                    .returning(lc.c.account_id)
                    .execution_options(**unscoped("link code redemption: the code is the key"))
                )
            ).scalar_one_or_none()
            if account_id is None:
                return None
            # The identity row may still be the previous account's: visible as the one named.
            await set_scope(session, _identity(user, account_id))
            upsert = self._ctx.insert(tables.identities).values(
                platform=user.platform, user_id=user.user_id, account_id=account_id, linked_at=now
            )
            await session.execute(
                upsert.on_conflict_do_update(
                    index_elements=["platform", "user_id"],
                    set_={"account_id": account_id, "linked_at": now},
                )
            )
            return await load_account(self._ctx, session, account_id)


async def load_account(
    ctx: StoreContext, session: AsyncSession, account_id: AccountId
) -> Account | None:
    """The account, decrypted, inside ``session`` (``None`` if it does not exist)."""
    row = (
        await session.execute(select(tables.accounts).where(tables.accounts.c.id == account_id))
    ).first()
    if row is None:
        return None
    return _account(await ctx.cipher(session, account_id), row)


# --- the account's part of the vault -----------------------------------------------------------


async def _export_account(scope: ExportScope) -> dict[str, object]:
    account = scope.account
    return {
        "id": account.id,
        "created_at": iso(account.created_at),
        "active_persona": scope.names.get(account.active_persona or ""),
        "paused": account.paused,
        "settings": account.settings,
    }


async def _export_identities(scope: ExportScope) -> list[dict[str, object]]:
    i = tables.identities
    return [
        {"platform": r.platform, "user_id": r.user_id, "linked_at": iso(r.linked_at)}
        for r in await scope.rows(i, i.c.platform, i.c.user_id)
    ]


VAULT: Final = VaultPart(
    tables=(tables.accounts, tables.account_keys, tables.identities, tables.link_codes),
    sections=(("account", _export_account), ("identities", _export_identities)),
)
