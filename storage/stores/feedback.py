"""The owner's feedback on drafts (text encrypted) and the prioritiser's labels (no text)."""

from __future__ import annotations

import builtins
from datetime import datetime
from functools import partial
from typing import Final

from sqlalchemy import select

from core.models import AccountId, Feedback, FeedbackKind, PersonaId, PriorityLabel
from storage import tables
from storage.crypto import DataCipher, row_id
from storage.stores.context import AnyRow, StoreContext, new_id
from storage.stores.parts import ExportScope, VaultPart, iso


def _feedback_row(feedback_id: str) -> str:
    return row_id("feedback", feedback_id, "text")


def _feedback(cipher: DataCipher, row: AnyRow) -> Feedback:
    return Feedback(
        account_id=row.account_id,
        persona_id=row.persona_id,
        kind=FeedbackKind(row.kind),
        draft_id=row.draft_id,
        message_id=row.message_id,
        text=None if row.text is None else cipher.decrypt_text(_feedback_row(row.id), row.text),
        at=row.at,
    )


class SqlFeedbackStore:
    """The owner's decisions (text encrypted).

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def add(self, feedback: Feedback) -> None:
        feedback_id = new_id()
        async with self._ctx.write(feedback.account_id) as session:
            await self._ctx.check_persona(session, feedback.account_id, feedback.persona_id)
            cipher = await self._ctx.cipher(session, feedback.account_id)
            await session.execute(
                tables.feedback.insert().values(
                    id=feedback_id,
                    account_id=feedback.account_id,
                    persona_id=feedback.persona_id,
                    kind=feedback.kind.value,
                    draft_id=feedback.draft_id,
                    message_id=feedback.message_id,
                    text=None
                    if feedback.text is None
                    else cipher.encrypt_text(_feedback_row(feedback_id), feedback.text),
                    at=feedback.at,
                )
            )

    async def list(self, account_id: AccountId, persona_id: PersonaId) -> builtins.list[Feedback]:
        """The persona's feedback, oldest first."""
        f = tables.feedback
        async with self._ctx.read(account_id) as session:
            rows = (
                await session.execute(
                    select(f)
                    .where(f.c.account_id == account_id, f.c.persona_id == persona_id)
                    .order_by(f.c.at, f.c.id)
                )
            ).all()
            if not rows:
                return []
            cipher = await self._ctx.cipher(session, account_id)
        return [
            item
            for row in rows
            if (
                item := self._ctx.readable(
                    account_id, "feedback", row.id, partial(_feedback, cipher, row)
                )
            )
            is not None
        ]


class SqlPriorityLabelStore:
    """Labels for the prioritiser: message ids, a value and its kind; no text, nothing encrypted.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def add(self, label: PriorityLabel) -> None:
        async with self._ctx.write(label.account_id) as session:
            await self._ctx.check_persona(session, label.account_id, label.persona_id)
            await session.execute(
                tables.priority_labels.insert().values(
                    id=new_id(),
                    account_id=label.account_id,
                    persona_id=label.persona_id,
                    message_id=label.message_id,
                    label=float(label.label),
                    kind=label.kind,
                    at=label.at,
                )
            )

    async def list(
        self, account_id: AccountId, persona_id: PersonaId, *, since: datetime | None = None
    ) -> builtins.list[PriorityLabel]:
        """The persona's labels, oldest first."""
        t = tables.priority_labels
        query = select(t).where(t.c.account_id == account_id, t.c.persona_id == persona_id)
        if since is not None:
            query = query.where(t.c.at >= since)
        async with self._ctx.read(account_id) as session:
            rows = (await session.execute(query.order_by(t.c.at, t.c.id))).all()
        return [
            PriorityLabel(
                account_id=row.account_id,
                persona_id=row.persona_id,
                message_id=row.message_id,
                label=float(row.label),
                kind=row.kind,
                at=row.at,
            )
            for row in rows
        ]


# --- the feedback's part of the vault ----------------------------------------------------------


async def _export_feedback(scope: ExportScope) -> list[dict[str, object]]:
    f = tables.feedback
    return [
        {
            "persona": scope.names[item.persona_id],
            "kind": item.kind.value,
            "draft_id": item.draft_id,
            "message_id": item.message_id,
            "text": item.text,
            "at": iso(item.at),
        }
        for r in await scope.rows(f, f.c.at, f.c.id)
        if (item := scope.readable("feedback", r.id, partial(_feedback, scope.cipher, r)))
        is not None
    ]


async def _export_labels(scope: ExportScope) -> list[dict[str, object]]:
    t = tables.priority_labels
    return [
        {
            "persona": scope.names[r.persona_id],
            "message_id": r.message_id,
            "label": r.label,
            "kind": r.kind,
            "at": iso(r.at),
        }
        for r in await scope.rows(t, t.c.at, t.c.id)
    ]


VAULT: Final = VaultPart(
    tables=(tables.feedback, tables.priority_labels),
    sections=(("feedback", _export_feedback), ("priority_labels", _export_labels)),
)
