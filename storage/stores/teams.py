"""Personas with an identity, shared with a team, and a clone others may ask (issue 17).

- :class:`SqlIdentityStore`: a persona's attributes (encrypted JSON) and its bindings to places;
- :class:`SqlTeamStore`: roles other people hold on a persona, and one-time invitation codes;
- :class:`SqlShareStore`: who may ask a persona's clone, and the questions asked (encrypted).

Every row belongs to the persona owner's account and is erased with it. Two statements cross
accounts on purpose, marked with :func:`storage.scope.unscoped`: finding the roles a person holds
on others' personas (the membership row is the key), and redeeming an invitation code.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Final, cast

from sqlalchemy import delete, select, update

from core.models import AccountId, PersonaId, UserRef
from core.teams import Binding, Consult, ConsultStatus, DraftActivity, Member, Role, Share
from storage import tables
from storage.crypto import DataCipher, row_id
from storage.scope import Scope, unscoped
from storage.stores.accounts import LINK_CODE_ALPHABET
from storage.stores.context import AnyRow, StoreContext
from storage.stores.parts import ExportScope, VaultPart, iso

INVITE_LENGTH: Final = 10


def _attributes_row(persona_id: PersonaId) -> str:
    return row_id("persona", persona_id, "attributes")


def _topics_row(share_id: str) -> str:
    return row_id("share", share_id, "topics")


def _consult_row(consult_id: str, column: str) -> str:
    return row_id("consult", consult_id, column)


def _hash_code(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(b"invite:" + normalised.encode()).hexdigest()


class SqlIdentityStore:
    """Persona attributes and bindings (``core.ports.IdentityStore``)."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def attributes(self, account_id: AccountId, persona_id: PersonaId) -> dict[str, str]:
        t = tables.persona_attributes
        async with self._ctx.read(account_id) as session:
            row = (
                await session.execute(
                    select(t).where(t.c.account_id == account_id, t.c.persona_id == persona_id)
                )
            ).first()
            if row is None:
                return {}
            cipher = await self._ctx.cipher(session, account_id)
        value = self._ctx.readable(
            account_id,
            "persona_attributes",
            persona_id,
            lambda: cipher.decrypt_json(_attributes_row(persona_id), row.attributes),
        )
        return dict(cast(dict[str, str], value or {}))

    async def set_attributes(
        self, account_id: AccountId, persona_id: PersonaId, attributes: Mapping[str, str]
    ) -> None:
        t = tables.persona_attributes
        kept = {k: v for k, v in attributes.items() if v}
        now = self._ctx.clock()
        async with self._ctx.write(account_id) as session:
            await self._ctx.check_persona(session, account_id, persona_id)
            cipher = await self._ctx.cipher(session, account_id)
            sealed = cipher.encrypt_json(_attributes_row(persona_id), kept)
            statement = self._ctx.insert(t).values(
                persona_id=persona_id, account_id=account_id, attributes=sealed, updated_at=now
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["persona_id"], set_={"attributes": sealed, "updated_at": now}
                )
            )

    async def bind(
        self, account_id: AccountId, platform: str, place: str, persona_id: PersonaId | None
    ) -> None:
        t = tables.persona_bindings
        now = self._ctx.clock()
        async with self._ctx.write(account_id) as session:
            if persona_id is None:
                await session.execute(
                    delete(t).where(
                        t.c.account_id == account_id, t.c.platform == platform, t.c.place == place
                    )
                )
                return
            await self._ctx.check_persona(session, account_id, persona_id)
            statement = self._ctx.insert(t).values(
                account_id=account_id,
                platform=platform,
                place=place,
                persona_id=persona_id,
                bound_at=now,
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["account_id", "platform", "place"],
                    set_={"persona_id": persona_id, "bound_at": now},
                )
            )

    async def bindings(self, account_id: AccountId) -> builtins.list[Binding]:
        t = tables.persona_bindings
        async with self._ctx.read(account_id) as session:
            rows = (
                await session.execute(
                    select(t).where(t.c.account_id == account_id).order_by(t.c.bound_at, t.c.place)
                )
            ).all()
        return [_binding(r) for r in rows]


def _binding(row: AnyRow) -> Binding:
    return Binding(
        account_id=row.account_id,
        platform=row.platform,
        place=row.place,
        persona_id=row.persona_id,
        bound_at=row.bound_at,
    )


def _member(row: AnyRow, persona_name: str) -> Member:
    return Member(
        account_id=row.account_id,
        persona_id=row.persona_id,
        persona_name=persona_name,
        owner=UserRef(platform=row.member_platform, user_id=row.owner_user_id),
        user=UserRef(platform=row.member_platform, user_id=row.member_user_id),
        role=Role(row.role),
        added_at=row.added_at,
    )


class SqlTeamStore:
    """Roles on personas and invitation codes (``core.ports.TeamStore``)."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def set_role(
        self,
        account_id: AccountId,
        persona_id: PersonaId,
        user: UserRef,
        role: Role | None,
        *,
        owner: UserRef,
    ) -> None:
        m = tables.persona_members
        now = self._ctx.clock()
        async with self._ctx.write(account_id) as session:
            await session.execute(
                delete(m).where(
                    m.c.account_id == account_id,
                    m.c.persona_id == persona_id,
                    m.c.member_platform == user.platform,
                    m.c.member_user_id == user.user_id,
                )
            )
            if role is None:
                return
            await self._ctx.check_persona(session, account_id, persona_id)
            await session.execute(
                m.insert().values(
                    persona_id=persona_id,
                    member_platform=user.platform,
                    member_user_id=user.user_id,
                    account_id=account_id,
                    owner_user_id=owner.user_id,
                    role=role.value,
                    added_at=now,
                )
            )

    async def members(self, account_id: AccountId) -> builtins.list[Member]:
        m, p = tables.persona_members, tables.personas
        async with self._ctx.read(account_id) as session:
            rows = (
                await session.execute(
                    select(m, p.c.name)
                    .join(p, p.c.id == m.c.persona_id)
                    .where(m.c.account_id == account_id, p.c.account_id == account_id)
                    .order_by(m.c.added_at)
                )
            ).all()
        return [_member(r, r.name) for r in rows]

    async def memberships(self, user: UserRef) -> builtins.list[Member]:
        # The member's rows across accounts (scoped to the member's identity: the role row is
        # the key), then each owner's persona names within that owner's own scope.
        m = tables.persona_members
        member = Scope(platform=user.platform, user_id=user.user_id)
        async with self._ctx.read(member) as session:
            rows = (
                await session.execute(
                    select(m)
                    .where(m.c.member_platform == user.platform, m.c.member_user_id == user.user_id)
                    .order_by(m.c.added_at)
                    .execution_options(**unscoped("team membership: the role row is the key"))
                )
            ).all()
        names: dict[str, str] = {}
        p = tables.personas
        for account_id in sorted({r.account_id for r in rows}):
            async with self._ctx.read(account_id) as session:
                found = await session.execute(
                    select(p.c.id, p.c.name).where(p.c.account_id == account_id)
                )
                names.update({persona_id: name for persona_id, name in found})
        return [_member(r, names[r.persona_id]) for r in rows if r.persona_id in names]

    async def issue_invite(
        self,
        account_id: AccountId,
        persona_id: PersonaId,
        role: Role,
        *,
        owner: UserRef,
        ttl_s: int,
    ) -> str:
        raw = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(INVITE_LENGTH))
        async with self._ctx.write(account_id) as session:
            await self._ctx.check_persona(session, account_id, persona_id)
            await session.execute(
                tables.persona_invites.insert().values(
                    code_hash=_hash_code(raw),
                    account_id=account_id,
                    persona_id=persona_id,
                    owner_user_id=owner.user_id,
                    role=role.value,
                    expires_at=self._ctx.clock() + timedelta(seconds=ttl_s),
                    used_at=None,
                )
            )
        return f"{raw[:5]}-{raw[5:]}"

    async def redeem_invite(self, code: str, user: UserRef) -> Member | None:
        now = self._ctx.clock()
        i = tables.persona_invites
        code_hash = _hash_code(code)
        async with self._ctx.write(Scope(link_code=code_hash)) as session:
            found = (
                await session.execute(
                    update(i)
                    .where(
                        i.c.code_hash == code_hash,
                        i.c.used_at.is_(None),
                        i.c.expires_at > now,
                    )
                    .values(used_at=now)
                    .returning(i.c.account_id, i.c.persona_id, i.c.role, i.c.owner_user_id)
                    .execution_options(**unscoped("invitation code: the code is the key"))
                )
            ).first()
        if found is None:
            return None
        owner = UserRef(platform=user.platform, user_id=found.owner_user_id)
        await self.set_role(found.account_id, found.persona_id, user, Role(found.role), owner=owner)
        for member in await self.members(found.account_id):
            if member.user == user and member.persona_id == found.persona_id:
                return member
        return None


def _share(cipher: DataCipher, row: AnyRow) -> Share:
    topics = cipher.decrypt_json(_topics_row(row.id), row.topics)
    return Share(
        id=row.id,
        account_id=row.account_id,
        persona_id=row.persona_id,
        platform=row.platform,
        asker=row.asker,
        topics=tuple(cast(list[str], topics)),
        quota=row.quota,
        auto=row.auto,
        created_at=row.created_at,
    )


def _consult(cipher: DataCipher, row: AnyRow) -> Consult:
    answer = (
        None
        if row.answer is None
        else cipher.decrypt_text(_consult_row(row.id, "answer"), row.answer)
    )
    return Consult(
        id=row.id,
        account_id=row.account_id,
        persona_id=row.persona_id,
        share_id=row.share_id,
        asker=UserRef(platform=row.asker_platform, user_id=row.asker_user_id),
        question=cipher.decrypt_text(_consult_row(row.id, "question"), row.question),
        answer=answer,
        status=ConsultStatus(row.status),
        draft_id=row.draft_id,
        asked_at=row.asked_at,
    )


class SqlShareStore:
    """Shares of a persona's clone and the questions asked (``core.ports.ShareStore``)."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def put(self, share: Share) -> None:
        s = tables.persona_shares
        async with self._ctx.write(share.account_id) as session:
            await self._ctx.check_persona(session, share.account_id, share.persona_id)
            cipher = await self._ctx.cipher(session, share.account_id)
            await session.execute(
                delete(s).where(
                    s.c.account_id == share.account_id,
                    s.c.persona_id == share.persona_id,
                    s.c.platform == share.platform,
                    s.c.asker == share.asker,
                )
            )
            await session.execute(
                s.insert().values(
                    id=share.id,
                    account_id=share.account_id,
                    persona_id=share.persona_id,
                    platform=share.platform,
                    asker=share.asker,
                    topics=cipher.encrypt_json(_topics_row(share.id), list(share.topics)),
                    quota=share.quota,
                    auto=share.auto,
                    created_at=share.created_at,
                )
            )

    async def shares(self, account_id: AccountId) -> builtins.list[Share]:
        s = tables.persona_shares
        async with self._ctx.read(account_id) as session:
            rows = (
                await session.execute(
                    select(s).where(s.c.account_id == account_id).order_by(s.c.created_at, s.c.id)
                )
            ).all()
            if not rows:
                return []
            cipher = await self._ctx.cipher(session, account_id)
        found = [
            self._ctx.readable(account_id, "share", r.id, partial(_share, cipher, r)) for r in rows
        ]
        return [share for share in found if share is not None]

    async def revoke(self, account_id: AccountId, share_ids: Sequence[str]) -> int:
        if not share_ids:
            return 0
        s = tables.persona_shares
        async with self._ctx.write(account_id) as session:
            result = await session.execute(
                delete(s).where(s.c.account_id == account_id, s.c.id.in_(list(share_ids)))
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def record(self, consult: Consult) -> None:
        c = tables.consults
        async with self._ctx.write(consult.account_id) as session:
            cipher = await self._ctx.cipher(session, consult.account_id)
            answer = (
                None
                if consult.answer is None
                else cipher.encrypt(_consult_row(consult.id, "answer"), consult.answer.encode())
            )
            values = {
                "account_id": consult.account_id,
                "persona_id": consult.persona_id,
                "share_id": consult.share_id,
                "asker_platform": consult.asker.platform,
                "asker_user_id": consult.asker.user_id,
                "question": cipher.encrypt(
                    _consult_row(consult.id, "question"), consult.question.encode()
                ),
                "answer": answer,
                "status": consult.status.value,
                "draft_id": consult.draft_id,
                "asked_at": consult.asked_at,
            }
            statement = self._ctx.insert(c).values(id=consult.id, **values)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["id"],
                    set_={
                        "answer": answer,
                        "status": consult.status.value,
                        "draft_id": consult.draft_id,
                    },
                )
            )

    async def consults(
        self, account_id: AccountId, *, since: datetime | None = None
    ) -> builtins.list[Consult]:
        c = tables.consults
        query = select(c).where(c.c.account_id == account_id)
        if since is not None:
            query = query.where(c.c.asked_at >= since)
        async with self._ctx.read(account_id) as session:
            rows = (await session.execute(query.order_by(c.c.asked_at, c.c.id))).all()
            if not rows:
                return []
            cipher = await self._ctx.cipher(session, account_id)
        found = [
            self._ctx.readable(account_id, "consult", r.id, partial(_consult, cipher, r))
            for r in rows
        ]
        return [consult for consult in found if consult is not None]


# --- the teams' part of the vault ---------------------------------------------------------------


async def _export_identity(scope: ExportScope) -> list[dict[str, object]]:
    t = tables.persona_attributes
    out: list[dict[str, object]] = []
    for r in await scope.rows(t, t.c.persona_id):
        value = scope.readable(
            "persona_attributes",
            r.persona_id,
            partial(scope.cipher.decrypt_json, _attributes_row(r.persona_id), r.attributes),
        )
        if value is not None:
            out.append({"persona": scope.names.get(r.persona_id), "attributes": value})
    return out


async def _export_bindings(scope: ExportScope) -> list[dict[str, object]]:
    t = tables.persona_bindings
    return [
        {
            "persona": scope.names.get(r.persona_id),
            "platform": r.platform,
            "place": r.place,
            "bound_at": iso(r.bound_at),
        }
        for r in await scope.rows(t, t.c.bound_at, t.c.place)
    ]


async def _export_team(scope: ExportScope) -> list[dict[str, object]]:
    m = tables.persona_members
    return [
        {
            "persona": scope.names.get(r.persona_id),
            "member": f"{r.member_platform}:{r.member_user_id}",
            "role": r.role,
            "added_at": iso(r.added_at),
        }
        for r in await scope.rows(m, m.c.added_at)
    ]


async def _export_shares(scope: ExportScope) -> list[dict[str, object]]:
    s = tables.persona_shares
    out: list[dict[str, object]] = []
    for r in await scope.rows(s, s.c.created_at, s.c.id):
        share = scope.readable("share", r.id, partial(_share, scope.cipher, r))
        if share is not None:
            out.append(
                {
                    "persona": scope.names.get(share.persona_id),
                    "platform": share.platform,
                    "asker": share.asker,
                    "topics": list(share.topics),
                    "quota_per_day": share.quota,
                    "auto_answer": share.auto,
                    "created_at": iso(share.created_at),
                }
            )
    return out


async def _export_consults(scope: ExportScope) -> list[dict[str, object]]:
    c = tables.consults
    out: list[dict[str, object]] = []
    for r in await scope.rows(c, c.c.asked_at, c.c.id):
        consult = scope.readable("consult", r.id, partial(_consult, scope.cipher, r))
        if consult is not None:
            out.append(
                {
                    "persona": scope.names.get(consult.persona_id),
                    "asker": str(consult.asker),
                    "question": consult.question,
                    "answer": consult.answer,
                    "status": consult.status.value,
                    "asked_at": iso(consult.asked_at),
                }
            )
    return out


VAULT: Final = VaultPart(
    tables=(
        tables.persona_attributes,
        tables.persona_bindings,
        tables.persona_members,
        tables.persona_invites,
        tables.persona_shares,
        tables.consults,
    ),
    sections=(
        ("persona_identity", _export_identity),
        ("persona_bindings", _export_bindings),
        ("persona_team", _export_team),
        ("persona_shares", _export_shares),
        ("consults", _export_consults),
    ),
)


class SqlActivityStore:
    """What happened to each draft of an account (``core.ports.ActivityStore``): no text."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def activity(self, account_id: AccountId) -> builtins.list[DraftActivity]:
        d, ap = tables.drafts, tables.approvals
        async with self._ctx.read(account_id) as session:
            rows = (
                await session.execute(
                    select(
                        d.c.id,
                        d.c.persona_id,
                        d.c.status,
                        d.c.created_at,
                        ap.c.approved_at,
                        ap.c.by_platform,
                        ap.c.by_user_id,
                        ap.c.edited,
                    )
                    .outerjoin(ap, (ap.c.draft_id == d.c.id) & (ap.c.account_id == account_id))
                    .where(d.c.account_id == account_id)
                    .order_by(d.c.created_at, d.c.id)
                )
            ).all()
        return [
            DraftActivity(
                draft_id=r.id,
                persona_id=r.persona_id,
                status=r.status,
                created_at=r.created_at,
                approved_at=r.approved_at,
                approved_by=None
                if r.by_platform is None
                else UserRef(platform=r.by_platform, user_id=r.by_user_id),
                edited=bool(r.edited),
            )
            for r in rows
        ]
