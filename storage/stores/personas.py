"""The personas of an account: each one a separate clone with its own messages and models."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Final, cast

import sqlalchemy.exc
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AccountId, Persona, PersonaId
from storage import tables
from storage.crypto import DataCipher, row_id
from storage.errors import NotFound
from storage.stores.context import AlreadyExists, AnyRow, StoreContext, new_id, rowcount
from storage.stores.parts import ExportScope, VaultPart, iso


def owner_names_row(persona_id: PersonaId) -> str:
    """The row id the persona's encrypted owner names are bound to."""
    return row_id("persona", persona_id, "owner_names")


def _persona(cipher: DataCipher, row: AnyRow) -> Persona:
    names = cipher.decrypt_json(owner_names_row(row.id), row.owner_names)
    return Persona(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        created_at=row.created_at,
        owner_names=tuple(cast(list[str], names)),
    )


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 100:
        raise ValueError("a persona name has 1 to 100 characters")
    return cleaned


class SqlPersonaStore:
    """The personas of an account.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def get(self, account_id: AccountId, persona_id: PersonaId) -> Persona | None:
        p = tables.personas
        async with self._ctx.read(account_id) as session:
            row = (
                await session.execute(
                    select(p).where(p.c.id == persona_id, p.c.account_id == account_id)
                )
            ).first()
            if row is None:
                return None
            return _persona(await self._ctx.cipher(session, account_id), row)

    async def create(self, account_id: AccountId, name: str) -> Persona:
        """A new, empty persona.

        Raises:
            AlreadyExists: the account has a persona of that name.
            NotFound: the account does not exist.
        """
        persona = Persona(
            id=new_id(),
            account_id=account_id,
            name=_clean_name(name),
            created_at=self._ctx.clock(),
        )
        try:
            async with self._ctx.write(account_id) as session:
                cipher = await self._ctx.cipher(session, account_id)
                await session.execute(
                    tables.personas.insert().values(
                        id=persona.id,
                        account_id=account_id,
                        name=persona.name,
                        owner_names=cipher.encrypt_json(owner_names_row(persona.id), []),
                        created_at=persona.created_at,
                    )
                )
        except sqlalchemy.exc.IntegrityError:
            raise AlreadyExists(f"A persona named {persona.name!r} exists already.") from None
        return persona

    async def update(self, account_id: AccountId, persona: Persona) -> Persona:
        """Store the name and owner names of ``persona``.

        Raises:
            NotFound: the persona is not one of the account's.
            AlreadyExists: another persona of the account has that name.
        """
        p = tables.personas
        name = _clean_name(persona.name)
        try:
            async with self._ctx.write(account_id) as session:
                cipher = await self._ctx.cipher(session, account_id)
                row = (
                    await session.execute(
                        update(p)
                        .where(p.c.id == persona.id, p.c.account_id == account_id)
                        .values(
                            name=name,
                            owner_names=cipher.encrypt_json(
                                owner_names_row(persona.id), list(persona.owner_names)
                            ),
                        )
                        .returning(*p.c)
                    )
                ).first()
                if row is None:
                    raise NotFound(f"Persona {persona.id} does not belong to account {account_id}.")
                return _persona(cipher, row)
        except sqlalchemy.exc.IntegrityError:
            raise AlreadyExists(f"A persona named {name!r} exists already.") from None

    async def delete(self, account_id: AccountId, persona_id: PersonaId) -> bool:
        """Delete the persona with everything it holds (messages, vectors, drafts, state).

        If it was the active persona, the oldest remaining one becomes active (or none).
        """
        p, a = tables.personas, tables.accounts
        async with self._ctx.write(account_id) as session:
            # Children first rather than relying on ON DELETE CASCADE alone: it keeps the
            # account filter explicit on every table.
            d, ap = tables.drafts, tables.approvals
            await session.execute(
                delete(ap).where(
                    ap.c.account_id == account_id,
                    ap.c.draft_id.in_(
                        select(d.c.id).where(
                            d.c.persona_id == persona_id, d.c.account_id == account_id
                        )
                    ),
                )
            )
            for table in _PERSONA_TABLES:
                await session.execute(
                    delete(table).where(
                        table.c.persona_id == persona_id, table.c.account_id == account_id
                    )
                )
            deleted = await session.execute(
                delete(p).where(p.c.id == persona_id, p.c.account_id == account_id)
            )
            if rowcount(deleted) != 1:
                return False
            successor = (
                await session.execute(
                    select(p.c.id)
                    .where(p.c.account_id == account_id)
                    .order_by(p.c.created_at, p.c.id)
                    .limit(1)
                )
            ).scalar_one_or_none()
            await session.execute(
                update(a)
                .where(a.c.id == account_id, a.c.active_persona == persona_id)
                .values(active_persona=successor)
            )
        return True

    async def list(self, account_id: AccountId) -> builtins.list[Persona]:
        """The account's personas, oldest first."""
        async with self._ctx.read(account_id) as session:
            return await load_personas(self._ctx, session, account_id)


async def load_personas(
    ctx: StoreContext, session: AsyncSession, account_id: AccountId
) -> builtins.list[Persona]:
    """The account's personas, oldest first, decrypted inside ``session``."""
    p = tables.personas
    rows = (
        await session.execute(
            select(p).where(p.c.account_id == account_id).order_by(p.c.created_at, p.c.id)
        )
    ).all()
    if not rows:
        return []
    cipher = await ctx.cipher(session, account_id)
    return [_persona(cipher, row) for row in rows]


_PERSONA_TABLES: Final = (
    tables.consults,
    tables.persona_shares,
    tables.persona_invites,
    tables.persona_members,
    tables.persona_bindings,
    tables.persona_attributes,
    tables.vectors,
    tables.feedback,
    tables.priority_labels,
    tables.state,
    tables.messages,
    tables.drafts,
)


# --- the personas' part of the vault -----------------------------------------------------------


async def _export_personas(scope: ExportScope) -> Sequence[dict[str, object]]:
    return [
        {
            "id": p.id,
            "name": p.name,
            "owner_names": builtins.list(p.owner_names),
            "created_at": iso(p.created_at),
        }
        for p in scope.personas
    ]


VAULT: Final = VaultPart(tables=(tables.personas,), sections=(("personas", _export_personas),))
