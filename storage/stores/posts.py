"""Posts (a stored draft with a life) and the owner's publishing connections.

A post's topic, parts, steps and engagement are one encrypted JSON body bound to the post's id;
its status, times and publishing lease stay plain for the compare-and-set and the scheduler.
Connections hold the owner's network credentials encrypted like message text: they are erased
with the account and never exported (the export lists which networks were connected, no more).
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial
from typing import Any, Final, cast

from sqlalchemy import delete, or_, select, update

from core.models import AccountId, UserRef
from core.publishing import (
    Actor,
    Credentials,
    Engagement,
    Post,
    PostEvent,
    PostId,
    PostPart,
    PostStatus,
    Published,
)
from storage import tables
from storage.crypto import DataCipher, row_id
from storage.stores.context import AnyRow, StoreContext, rowcount
from storage.stores.parts import ExportScope, VaultPart, iso


def _body_row(post_id: PostId) -> str:
    return row_id("post", post_id, "body")


def _connection_row(account_id: AccountId, network: str, column: str) -> str:
    return row_id("connection", account_id, network, column)


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def post_json(post: Post) -> dict[str, object]:
    """The post as JSON (the encrypted body, and the export)."""
    return {
        "topic": post.topic,
        "engine": post.engine,
        "variant": post.variant,
        "group": post.group,
        "disclosure": post.disclosure,
        "parts": [
            {
                "text": part.text,
                "style_score": part.style_score,
                "published": None
                if part.published is None
                else {
                    "id": part.published.id,
                    "url": part.published.url,
                    "cid": part.published.cid,
                },
            }
            for part in post.parts
        ],
        "events": [
            {
                "status": event.status.value,
                "actor_kind": event.actor.kind,
                "actor_id": event.actor.id,
                "at": iso(event.at),
                "note": event.note,
            }
            for event in post.events
        ],
        "engagement": None
        if post.engagement is None
        else {
            "likes": post.engagement.likes,
            "reposts": post.engagement.reposts,
            "replies": post.engagement.replies,
            "fetched_at": iso(post.engagement.fetched_at),
        },
    }


def _post(cipher: DataCipher, row: AnyRow) -> Post:
    body = cast(dict[str, Any], cipher.decrypt_json(_body_row(row.id), row.body))
    engagement = body.get("engagement")
    return Post(
        id=row.id,
        account_id=row.account_id,
        persona_id=row.persona_id,
        network=row.network,
        topic=body["topic"],
        parts=tuple(
            PostPart(
                text=p["text"],
                style_score=p["style_score"],
                published=None if p.get("published") is None else Published(**p["published"]),
            )
            for p in body["parts"]
        ),
        status=PostStatus(row.status),
        created_at=row.created_at,
        owner=UserRef(platform=row.owner_platform, user_id=row.owner_user_id),
        engine=body["engine"],
        events=tuple(
            PostEvent(
                status=PostStatus(e["status"]),
                actor=Actor(kind=e["actor_kind"], id=e["actor_id"]),
                at=cast(datetime, _when(e["at"])),
                note=e.get("note", ""),
            )
            for e in body["events"]
        ),
        scheduled_for=row.scheduled_for,
        variant=body.get("variant"),
        group=body.get("group"),
        disclosure=body.get("disclosure"),
        engagement=None
        if engagement is None
        else Engagement(
            likes=engagement["likes"],
            reposts=engagement["reposts"],
            replies=engagement["replies"],
            fetched_at=_when(engagement.get("fetched_at")),
        ),
    )


class SqlPostStore:
    """Posts; a status change is a compare-and-set, publishing holds a lease.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def create(self, post: Post) -> None:
        async with self._ctx.write(post.account_id) as session:
            await self._ctx.check_persona(session, post.account_id, post.persona_id)
            cipher = await self._ctx.cipher(session, post.account_id)
            await session.execute(
                tables.posts.insert().values(
                    id=post.id,
                    account_id=post.account_id,
                    persona_id=post.persona_id,
                    network=post.network,
                    status=post.status.value,
                    owner_platform=post.owner.platform,
                    owner_user_id=post.owner.user_id,
                    body=cipher.encrypt_json(_body_row(post.id), post_json(post)),
                    created_at=post.created_at,
                    updated_at=post.created_at,
                    scheduled_for=post.scheduled_for,
                    lease_until=None,
                )
            )

    async def get(self, account_id: AccountId, post_id: PostId) -> Post | None:
        p = tables.posts
        async with self._ctx.read(account_id) as session:
            row = (
                await session.execute(
                    select(p).where(p.c.id == post_id, p.c.account_id == account_id)
                )
            ).first()
            if row is None:
                return None
            cipher = await self._ctx.cipher(session, account_id)
        return self._ctx.readable(account_id, "post", row.id, lambda: _post(cipher, row))

    async def list(self, account_id: AccountId) -> AsyncIterator[Post]:
        """The account's posts, newest first (unreadable ones are quarantined and skipped)."""
        p = tables.posts
        async with self._ctx.read(account_id) as session:
            rows = (
                await session.execute(
                    select(p)
                    .where(p.c.account_id == account_id)
                    .order_by(p.c.created_at.desc(), p.c.id)
                )
            ).all()
            if not rows:
                return
            cipher = await self._ctx.cipher(session, account_id)
        for row in rows:
            post = self._ctx.readable(account_id, "post", row.id, partial(_post, cipher, row))
            if post is not None:
                yield post

    async def save(self, post: Post, *, expect: PostStatus, release: bool = False) -> bool:
        """Write the post if its stored status is still ``expect`` (and drop the publishing
        lease when ``release``); ``False`` when another step moved it first."""
        p = tables.posts
        async with self._ctx.write(post.account_id) as session:
            cipher = await self._ctx.cipher(session, post.account_id)
            values: dict[str, object] = {
                "status": post.status.value,
                "body": cipher.encrypt_json(_body_row(post.id), post_json(post)),
                "scheduled_for": post.scheduled_for,
                "updated_at": self._ctx.clock(),
            }
            if release:
                values["lease_until"] = None
            result = await session.execute(
                update(p)
                .where(
                    p.c.id == post.id,
                    p.c.account_id == post.account_id,
                    p.c.status == expect.value,
                )
                .values(**values)
            )
            return rowcount(result) == 1

    async def claim(
        self, account_id: AccountId, post_id: PostId, *, now: datetime, until: datetime
    ) -> bool:
        p = tables.posts
        async with self._ctx.write(account_id) as session:
            result = await session.execute(
                update(p)
                .where(
                    p.c.id == post_id,
                    p.c.account_id == account_id,
                    p.c.status.in_((PostStatus.APPROVED.value, PostStatus.SCHEDULED.value)),
                    or_(p.c.lease_until.is_(None), p.c.lease_until < now),
                )
                .values(lease_until=until)
            )
            return rowcount(result) == 1


class SqlConnectionStore:
    """The owner's network credentials, encrypted with the account's data key.

    Args:
        ctx: the shared store context.
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    async def put(self, account_id: AccountId, credentials: Credentials) -> None:
        c = tables.connections
        network = credentials.network
        async with self._ctx.write(account_id) as session:
            cipher = await self._ctx.cipher(session, account_id)
            statement = self._ctx.insert(c).values(
                account_id=account_id,
                network=network,
                identifier=cipher.encrypt_text(
                    _connection_row(account_id, network, "identifier"), credentials.identifier
                ),
                secret=cipher.encrypt_text(
                    _connection_row(account_id, network, "secret"), credentials.secret
                ),
                connected_at=credentials.connected_at,
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["account_id", "network"],
                    set_={
                        "identifier": statement.excluded.identifier,
                        "secret": statement.excluded.secret,
                        "connected_at": statement.excluded.connected_at,
                    },
                )
            )

    async def get(self, account_id: AccountId, network: str) -> Credentials | None:
        c = tables.connections
        async with self._ctx.read(account_id) as session:
            row = (
                await session.execute(
                    select(c).where(c.c.account_id == account_id, c.c.network == network)
                )
            ).first()
            if row is None:
                return None
            cipher = await self._ctx.cipher(session, account_id)

        def decode() -> Credentials:
            return Credentials(
                network=network,
                identifier=cipher.decrypt_text(
                    _connection_row(account_id, network, "identifier"), row.identifier
                ),
                secret=cipher.decrypt_text(
                    _connection_row(account_id, network, "secret"), row.secret
                ),
                connected_at=row.connected_at,
            )

        return self._ctx.readable(account_id, "connection", network, decode)

    async def delete(self, account_id: AccountId, network: str) -> bool:
        c = tables.connections
        async with self._ctx.write(account_id) as session:
            result = await session.execute(
                delete(c).where(c.c.account_id == account_id, c.c.network == network)
            )
            return rowcount(result) == 1

    async def networks(self, account_id: AccountId) -> builtins.list[str]:
        c = tables.connections
        async with self._ctx.read(account_id) as session:
            rows = await session.execute(
                select(c.c.network).where(c.c.account_id == account_id).order_by(c.c.network)
            )
            return [r.network for r in rows]


# --- the posts' part of the vault --------------------------------------------------------------


async def _export_posts(scope: ExportScope) -> builtins.list[dict[str, object]]:
    p = tables.posts
    return [
        {
            "id": post.id,
            "persona": scope.names.get(post.persona_id, post.persona_id),
            "network": post.network,
            "status": post.status.value,
            "created_at": iso(post.created_at),
            "scheduled_for": iso(post.scheduled_for),
            **post_json(post),
        }
        for r in await scope.rows(p, p.c.created_at, p.c.id)
        if (post := scope.readable("post", r.id, partial(_post, scope.cipher, r))) is not None
    ]


async def _export_connections(scope: ExportScope) -> builtins.list[dict[str, object]]:
    """Which networks were connected and when: never the credentials themselves."""
    c = tables.connections
    return [
        {"network": r.network, "connected_at": iso(r.connected_at)}
        for r in await scope.rows(c, c.c.network)
    ]


VAULT: Final = VaultPart(
    tables=(tables.posts, tables.connections),
    sections=(("posts", _export_posts), ("connections", _export_connections)),
)
