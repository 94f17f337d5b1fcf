"""Rows in every table of issue 17 (identity, bindings, team, invitations, shares, questions)
for one account's persona, with ``canary`` only in encrypted columns."""

from __future__ import annotations

import uuid

from core.models import UserRef, utc_now
from core.teams import Consult, ConsultStatus, Role, Share
from storage import Storage


async def populate_teams(storage: Storage, account_id: str, persona_id: str, canary: str) -> None:
    owner = UserRef(platform="slack", user_id=f"U{uuid.uuid4().hex[:8].upper()}")
    member = UserRef(platform="slack", user_id=f"U{uuid.uuid4().hex[:8].upper()}")
    await storage.identity.set_attributes(account_id, persona_id, {"tone": f"calm {canary}"})
    await storage.identity.bind(account_id, "slack", f"C{uuid.uuid4().hex[:8]}", persona_id)
    await storage.teams.set_role(account_id, persona_id, member, Role.REVIEWER, owner=owner)
    await storage.teams.issue_invite(account_id, persona_id, Role.VIEWER, owner=owner, ttl_s=600)
    share = Share(
        id=uuid.uuid4().hex,
        account_id=account_id,
        persona_id=persona_id,
        platform="slack",
        asker=member.user_id,
        topics=(f"topic {canary}",),
        quota=3,
        created_at=utc_now(),
    )
    await storage.shares.put(share)
    await storage.shares.record(
        Consult(
            id=uuid.uuid4().hex,
            account_id=account_id,
            persona_id=persona_id,
            share_id=share.id,
            asker=member,
            question=f"what about {canary}?",
            answer=f"this {canary}",
            status=ConsultStatus.ANSWERED,
            asked_at=utc_now(),
        )
    )
