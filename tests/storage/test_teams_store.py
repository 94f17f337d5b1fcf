"""The stores of issue 17 (identity, bindings, team roles, invitations, shares, questions,
draft activity) on SQLite and PostgreSQL: round trips, scoping, replacement and cascades."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from core.models import UserRef, utc_now
from core.teams import Consult, ConsultStatus, Role, Share
from storage import NotFound, Storage
from tests.storage.support import new_account, new_user


def share(account_id: str, persona_id: str, asker: str, **changes: object) -> Share:
    values: dict[str, object] = {
        "id": uuid.uuid4().hex,
        "account_id": account_id,
        "persona_id": persona_id,
        "platform": "slack",
        "asker": asker,
        "topics": ("deploys",),
        "quota": 2,
        "created_at": utc_now(),
    } | changes
    return Share(**values)  # type: ignore[arg-type]


async def test_attributes_and_bindings_round_trip_within_the_account(storage: Storage) -> None:
    mine, other = await new_account(storage), await new_account(storage)
    assert mine.active_persona is not None and other.active_persona is not None
    persona = mine.active_persona
    assert await storage.identity.attributes(mine.id, persona) == {}
    await storage.identity.set_attributes(mine.id, persona, {"tone": "dry", "avoid": ""})
    assert await storage.identity.attributes(mine.id, persona) == {"tone": "dry"}
    assert await storage.identity.attributes(other.id, persona) == {}, "another account sees none"
    with pytest.raises(NotFound):
        await storage.identity.set_attributes(other.id, persona, {"tone": "x"})

    await storage.identity.bind(mine.id, "slack", "C1", persona)
    work = await storage.personas.create(mine.id, "work")
    await storage.identity.bind(mine.id, "slack", "C1", work.id)  # rebinding replaces
    await storage.identity.bind(mine.id, "discord", "G1", persona)
    bound = await storage.identity.bindings(mine.id)
    assert {(b.platform, b.place, b.persona_id) for b in bound} == {
        ("slack", "C1", work.id),
        ("discord", "G1", persona),
    }
    assert await storage.identity.bindings(other.id) == []
    await storage.identity.bind(mine.id, "discord", "G1", None)
    assert [b.place for b in await storage.identity.bindings(mine.id)] == ["C1"]
    assert await storage.personas.delete(mine.id, work.id)
    assert await storage.identity.bindings(mine.id) == [], "a deleted persona's binding goes"


async def test_roles_memberships_and_one_time_invitations(storage: Storage) -> None:
    owner = await new_account(storage)
    assert owner.active_persona is not None
    persona = owner.active_persona
    me, member, joiner = new_user("slack"), new_user("slack"), new_user("slack")
    await storage.teams.set_role(owner.id, persona, member, Role.REVIEWER, owner=me)
    await storage.teams.set_role(owner.id, persona, member, Role.VIEWER, owner=me)
    (held,) = await storage.teams.memberships(member)
    assert held.role is Role.VIEWER and held.account_id == owner.id and held.owner == me
    assert [m.user for m in await storage.teams.members(owner.id)] == [member]

    code = await storage.teams.issue_invite(owner.id, persona, Role.EDITOR, owner=me, ttl_s=60)
    joined = await storage.teams.redeem_invite(code.lower(), joiner)
    assert joined is not None and joined.role is Role.EDITOR and joined.persona_name == "default"
    assert await storage.teams.redeem_invite(code, new_user("slack")) is None, "works once"
    expired = await storage.teams.issue_invite(owner.id, persona, Role.VIEWER, owner=me, ttl_s=-1)
    assert await storage.teams.redeem_invite(expired, new_user("slack")) is None

    await storage.teams.set_role(owner.id, persona, member, None, owner=me)
    assert await storage.teams.memberships(member) == [], "removal takes effect at once"
    assert {m.user for m in await storage.teams.members(owner.id)} == {joiner}


async def test_shares_replace_per_asker_revoke_and_questions_are_metered(
    storage: Storage,
) -> None:
    owner = await new_account(storage)
    assert owner.active_persona is not None
    persona = owner.active_persona
    first = share(owner.id, persona, "U1")
    await storage.shares.put(first)
    await storage.shares.put(share(owner.id, persona, "U1", quota=5, auto=True))
    await storage.shares.put(share(owner.id, persona, "*", topics=()))
    shares = await storage.shares.shares(owner.id)
    assert sorted((s.asker, s.quota, s.auto) for s in shares) == [
        ("*", 2, False),
        ("U1", 5, True),
    ]
    asker = UserRef(platform="slack", user_id="U1")
    consult = Consult(
        id=uuid.uuid4().hex,
        account_id=owner.id,
        persona_id=persona,
        share_id=shares[0].id,
        asker=asker,
        question="when is the deploy?",
        status=ConsultStatus.PENDING,
        asked_at=utc_now() - timedelta(hours=30),
    )
    await storage.shares.record(consult)
    await storage.shares.record(replace(consult, status=ConsultStatus.ANSWERED, answer="at noon"))
    (stored,) = await storage.shares.consults(owner.id)
    assert stored.status is ConsultStatus.ANSWERED and stored.answer == "at noon"
    assert await storage.shares.consults(owner.id, since=utc_now() - timedelta(hours=1)) == []
    assert await storage.shares.revoke(owner.id, [s.id for s in shares]) == 2
    assert await storage.shares.shares(owner.id) == []


async def test_activity_names_the_approver_and_stays_in_the_account(storage: Storage) -> None:
    from core.models import Approval, Draft, DraftOption, DraftStatus
    from tests.storage.support import message

    owner, other = await new_account(storage), await new_account(storage)
    assert owner.active_persona is not None
    draft = Draft(
        id=uuid.uuid4().hex,
        account_id=owner.id,
        persona_id=owner.active_persona,
        incoming=message("in", text="ok?"),
        options=(DraftOption(text="yes", engine="retrieval", style_score=80),),
        status=DraftStatus.PENDING,
        created_at=utc_now(),
        owner=new_user("slack"),
    )
    await storage.drafts.create(draft)
    reviewer = new_user("slack")
    assert await storage.drafts.approve(
        Approval(
            draft_id=draft.id,
            account_id=owner.id,
            by=reviewer,
            text="yes",
            option=0,
            edited=False,
            approved_at=utc_now(),
        )
    )
    (item,) = await storage.activity.activity(owner.id)
    assert item.approved_by == reviewer and item.status == DraftStatus.APPROVED
    assert await storage.activity.activity(other.id) == []
