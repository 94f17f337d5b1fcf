"""Reply drafts and their approvals; approving a draft is an atomic compare-and-set.

A draft's incoming message and options are encrypted as JSON; an approval records what the
owner approved (the text the sender is allowed to send), encrypted.
"""

from __future__ import annotations

import builtins
from functools import partial
from typing import Any, Final, cast

from sqlalchemy import select, update

from core.models import (
    AccountId,
    Approval,
    Draft,
    DraftId,
    DraftOption,
    DraftStatus,
    UserRef,
)
from storage import tables
from storage.crypto import DataCipher, row_id
from storage.stores.context import AnyRow, Lost, StoreContext, rowcount
from storage.stores.messages import message_from_json, message_json
from storage.stores.parts import ExportScope, VaultPart, iso


def _draft_row(draft_id: DraftId, column: str) -> str:
    return row_id("draft", draft_id, column)


def _approval_row(draft_id: DraftId) -> str:
    return row_id("approval", draft_id, "text")


def _option_json(option: DraftOption) -> dict[str, object]:
    return {
        "text": option.text,
        "engine": option.engine,
        "style_score": option.style_score,
        "reasons": builtins.list(option.reasons),
        "source_id": option.source_id,
    }


def _option_from_json(value: object) -> DraftOption:
    data = cast(dict[str, Any], value)
    return DraftOption(
        text=data["text"],
        engine=data["engine"],
        style_score=data["style_score"],
        reasons=tuple(data["reasons"]),
        source_id=data["source_id"],
    )


def _draft(cipher: DataCipher, row: AnyRow) -> Draft:
    options = cast(
        builtins.list[object], cipher.decrypt_json(_draft_row(row.id, "options"), row.options)
    )
    return Draft(
        id=row.id,
        account_id=row.account_id,
        persona_id=row.persona_id,
        incoming=message_from_json(
            cipher.decrypt_json(_draft_row(row.id, "incoming"), row.incoming)
        ),
        options=tuple(_option_from_json(o) for o in options),
        status=DraftStatus(row.status),
        created_at=row.created_at,
        owner=UserRef(platform=row.owner_platform, user_id=row.owner_user_id),
    )


class SqlDraftStore:
    """Drafts and their approvals; approval is an atomic compare-and-set.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def create(self, draft: Draft) -> None:
        """Store a new draft (its incoming message and options encrypted)."""
        async with self._ctx.write(draft.account_id) as session:
            await self._ctx.check_persona(session, draft.account_id, draft.persona_id)
            cipher = await self._ctx.cipher(session, draft.account_id)
            await session.execute(
                tables.drafts.insert().values(
                    id=draft.id,
                    account_id=draft.account_id,
                    persona_id=draft.persona_id,
                    owner_platform=draft.owner.platform,
                    owner_user_id=draft.owner.user_id,
                    incoming=cipher.encrypt_json(
                        _draft_row(draft.id, "incoming"), message_json(draft.incoming)
                    ),
                    options=cipher.encrypt_json(
                        _draft_row(draft.id, "options"), [_option_json(o) for o in draft.options]
                    ),
                    status=draft.status.value,
                    created_at=draft.created_at,
                    updated_at=draft.created_at,
                )
            )

    async def get(self, account_id: AccountId, draft_id: DraftId) -> Draft | None:
        d = tables.drafts
        async with self._ctx.read(account_id) as session:
            row = (
                await session.execute(
                    select(d).where(d.c.id == draft_id, d.c.account_id == account_id)
                )
            ).first()
            if row is None:
                return None
            cipher = await self._ctx.cipher(session, account_id)
        return self._ctx.readable(account_id, "draft", row.id, lambda: _draft(cipher, row))

    async def approve(self, approval: Approval) -> bool:
        """Move the draft pending → approved and record ``approval``, in one transaction.

        ``UPDATE … WHERE status = 'pending'`` is the compare-and-set: of any number of concurrent
        callers exactly one sees a changed row. The approval's primary key (the draft id) also
        refuses a second approval of a draft that was somehow made pending again.
        """
        d, ap = tables.drafts, tables.approvals
        try:
            async with self._ctx.write(approval.account_id) as session:
                moved = await session.execute(
                    update(d)
                    .where(
                        d.c.id == approval.draft_id,
                        d.c.account_id == approval.account_id,
                        d.c.status == DraftStatus.PENDING.value,
                    )
                    .values(status=DraftStatus.APPROVED.value, updated_at=self._ctx.clock())
                )
                if rowcount(moved) != 1:
                    return False
                cipher = await self._ctx.cipher(session, approval.account_id)
                recorded = await session.execute(
                    self._ctx.insert(ap)
                    .values(
                        draft_id=approval.draft_id,
                        account_id=approval.account_id,
                        by_platform=approval.by.platform,
                        by_user_id=approval.by.user_id,
                        text=cipher.encrypt_text(_approval_row(approval.draft_id), approval.text),
                        option=approval.option,
                        edited=approval.edited,
                        approved_at=approval.approved_at,
                    )
                    .on_conflict_do_nothing(index_elements=["draft_id"])
                )
                if rowcount(recorded) != 1:
                    raise Lost
        except Lost:
            return False
        return True

    async def approval(self, account_id: AccountId, draft_id: DraftId) -> Approval | None:
        """The approval recorded for a draft, if any (what the sender is allowed to send)."""
        ap = tables.approvals
        async with self._ctx.read(account_id) as session:
            row = (
                await session.execute(
                    select(ap).where(ap.c.draft_id == draft_id, ap.c.account_id == account_id)
                )
            ).first()
            if row is None:
                return None
            cipher = await self._ctx.cipher(session, account_id)
        # A tampered approval reads as none: nothing is sent on its strength.
        return self._ctx.readable(account_id, "approval", draft_id, lambda: _approval(cipher, row))

    async def set_status(
        self, account_id: AccountId, draft_id: DraftId, status: DraftStatus, *, expect: DraftStatus
    ) -> bool:
        """Compare-and-set the status; ``False`` if it was not ``expect``."""
        d = tables.drafts
        async with self._ctx.write(account_id) as session:
            result = await session.execute(
                update(d)
                .where(d.c.id == draft_id, d.c.account_id == account_id, d.c.status == expect.value)
                .values(status=status.value, updated_at=self._ctx.clock())
            )
            return rowcount(result) == 1

    async def pending(self, account_id: AccountId) -> builtins.list[Draft]:
        """The account's pending drafts, oldest first."""
        d = tables.drafts
        async with self._ctx.read(account_id) as session:
            rows = (
                await session.execute(
                    select(d)
                    .where(d.c.account_id == account_id, d.c.status == DraftStatus.PENDING.value)
                    .order_by(d.c.created_at, d.c.id)
                )
            ).all()
            if not rows:
                return []
            cipher = await self._ctx.cipher(session, account_id)
        return [
            draft
            for row in rows
            if (
                draft := self._ctx.readable(
                    account_id, "draft", row.id, partial(_draft, cipher, row)
                )
            )
            is not None
        ]


def _approval(cipher: DataCipher, row: AnyRow) -> Approval:
    return Approval(
        draft_id=row.draft_id,
        account_id=row.account_id,
        by=UserRef(platform=row.by_platform, user_id=row.by_user_id),
        text=cipher.decrypt_text(_approval_row(row.draft_id), row.text),
        option=row.option,
        edited=row.edited,
        approved_at=row.approved_at,
    )


# --- the drafts' part of the vault -------------------------------------------------------------


async def _export_drafts(scope: ExportScope) -> list[dict[str, object]]:
    d = tables.drafts
    return [
        {
            "id": draft.id,
            "persona": scope.names[draft.persona_id],
            "owner": str(draft.owner),
            "incoming": message_json(draft.incoming),
            "options": [_option_json(o) for o in draft.options],
            "status": draft.status.value,
            "created_at": iso(draft.created_at),
        }
        for r in await scope.rows(d, d.c.created_at, d.c.id)
        if (draft := scope.readable("draft", r.id, partial(_draft, scope.cipher, r))) is not None
    ]


async def _export_approvals(scope: ExportScope) -> list[dict[str, object]]:
    ap = tables.approvals
    return [
        {
            "draft_id": a.draft_id,
            "by": str(a.by),
            "text": a.text,
            "option": a.option,
            "edited": a.edited,
            "approved_at": iso(a.approved_at),
        }
        for r in await scope.rows(ap, ap.c.approved_at)
        if (a := scope.readable("approval", r.draft_id, partial(_approval, scope.cipher, r)))
        is not None
    ]


VAULT: Final = VaultPart(
    tables=(tables.drafts, tables.approvals),
    sections=(("drafts", _export_drafts), ("approvals", _export_approvals)),
)
