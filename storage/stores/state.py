"""Opaque per-persona state by kind (profile, verifier, prioritiser), encrypted."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from typing import Final

from sqlalchemy import select

from core.models import AccountId, PersonaId
from storage import tables
from storage.crypto import row_id
from storage.stores.context import StoreContext
from storage.stores.parts import ExportScope, VaultPart, b64, iso

OFF_LOOP_BYTES: Final = 1 << 20
"""Values this large (a saved search graph: ~100 MB at 100k pairs) are encrypted and decrypted
in a worker thread, not on the event loop that acknowledges platforms' deliveries."""


def _state_row(persona_id: PersonaId, kind: str) -> str:
    return row_id("state", persona_id, kind, "value")


class SqlStateStore:
    """Opaque per-persona state by kind, encrypted.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def get(self, account_id: AccountId, persona_id: PersonaId, kind: str) -> bytes | None:
        s = tables.state
        async with self._ctx.read(account_id) as session:
            value = (
                await session.execute(
                    select(s.c.value).where(
                        s.c.account_id == account_id, s.c.persona_id == persona_id, s.c.kind == kind
                    )
                )
            ).scalar_one_or_none()
            if value is None:
                return None
            cipher = await self._ctx.cipher(session, account_id)
        checked = partial(
            self._ctx.checked,
            account_id,
            "state",
            f"{persona_id}/{kind}",
            lambda: cipher.decrypt(_state_row(persona_id, kind), value),
        )
        return await asyncio.to_thread(checked) if len(value) >= OFF_LOOP_BYTES else checked()

    async def put(
        self, account_id: AccountId, persona_id: PersonaId, kind: str, value: bytes
    ) -> None:
        async with self._ctx.write(account_id) as session:
            await self._ctx.check_persona(session, account_id, persona_id)
            cipher = await self._ctx.cipher(session, account_id)
            seal = partial(cipher.encrypt, _state_row(persona_id, kind), value)
            sealed = await asyncio.to_thread(seal) if len(value) >= OFF_LOOP_BYTES else seal()
            now = self._ctx.clock()
            statement = self._ctx.insert(tables.state).values(
                account_id=account_id,
                persona_id=persona_id,
                kind=kind,
                value=sealed,
                updated_at=now,
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["persona_id", "kind"],
                    set_={"value": statement.excluded.value, "updated_at": now},
                )
            )


# --- the state's part of the vault -------------------------------------------------------------


READABLE_KINDS: Final = frozenset({"quality-history", "model-versions", "corrections", "filters"})
"""State the owner reads as such in an export (JSON documents they made or that describe them),
given decoded under ``value`` beside the bytes."""


DERIVED_PREFIXES: Final = ("graph-",)
"""State that is an index built from other exported data (the saved search graphs, about 1 KB
per exchange): erased with the account, left out of an export."""


def _readable(kind: str, value: bytes) -> dict[str, object]:
    if kind not in READABLE_KINDS:
        return {}
    try:
        return {"value": json.loads(value)}
    except ValueError:
        return {}


async def _export_state(scope: ExportScope) -> list[dict[str, object]]:
    s = tables.state
    return [
        {
            "persona": scope.names[r.persona_id],
            "kind": r.kind,
            "value_base64": b64(value),
            **_readable(r.kind, value),
            "updated_at": iso(r.updated_at),
        }
        for r in await scope.rows(s, s.c.persona_id, s.c.kind)
        if not r.kind.startswith(DERIVED_PREFIXES)
        and (
            value := scope.readable(
                "state",
                f"{r.persona_id}/{r.kind}",
                partial(scope.cipher.decrypt, _state_row(r.persona_id, r.kind), r.value),
            )
        )
        is not None
    ]


VAULT: Final = VaultPart(tables=(tables.state,), sections=(("state", _export_state),))
