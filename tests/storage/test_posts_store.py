"""The post and connection stores on SQLite and PostgreSQL: round trips, the status
compare-and-set, the publishing lease, isolation between accounts, credentials."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from core.models import Account
from core.publishing import (
    Actor,
    Credentials,
    Engagement,
    Post,
    PostEvent,
    PostPart,
    PostStatus,
    Published,
    new_post_id,
)
from storage import Storage
from tests.storage.support import T0, new_user


async def owner(storage: Storage) -> tuple[Account, str]:
    user = new_user("slack")
    account = await storage.accounts.resolve(user, create=True)
    assert account is not None and account.active_persona is not None
    return account, account.active_persona


def a_post(account: Account, persona: str, **changes: object) -> Post:
    user = new_user("slack")
    post = Post(
        id=new_post_id(),
        account_id=account.id,
        persona_id=persona,
        network="bluesky",
        topic="the launch",
        parts=(PostPart(text="one 1/2", style_score=70), PostPart(text="two 2/2", style_score=60)),
        status=PostStatus.DRAFT,
        created_at=T0,
        owner=user,
        engine="llm",
        events=(PostEvent(status=PostStatus.DRAFT, actor=Actor.owner(user), at=T0),),
        variant="question",
        group="g" * 32,
        disclosure="line",
    )
    return replace(post, **changes)  # type: ignore[arg-type]


async def test_a_post_round_trips_with_its_parts_steps_and_engagement(storage: Storage) -> None:
    account, persona = await owner(storage)
    post = a_post(account, persona)
    await storage.posts.create(post)
    assert await storage.posts.get(account.id, post.id) == post
    out = replace(
        post.parts[0], published=Published(id="at://did/app.bsky.feed.post/3k", url="u", cid="c")
    )
    later = replace(
        post,
        status=PostStatus.PUBLISHED,
        parts=(out, post.parts[1]),
        events=(
            *post.events,
            PostEvent(status=PostStatus.PUBLISHED, actor=Actor.scheduler(), at=T0, note="u"),
        ),
        scheduled_for=T0 + timedelta(hours=1),
        engagement=Engagement(likes=3, reposts=1, replies=2, fetched_at=T0),
    )
    assert await storage.posts.save(later, expect=PostStatus.DRAFT)
    assert await storage.posts.get(account.id, post.id) == later
    assert not await storage.posts.save(post, expect=PostStatus.DRAFT)  # moved on: refused
    newer = a_post(account, persona, created_at=T0 + timedelta(days=1))
    await storage.posts.create(newer)
    assert [p.id async for p in storage.posts.list(account.id)] == [newer.id, post.id]


async def test_one_status_change_wins_under_concurrency(storage: Storage) -> None:
    account, persona = await owner(storage)
    post = a_post(account, persona)
    await storage.posts.create(post)
    moves = [replace(post, status=PostStatus.APPROVED, topic=f"t{n}") for n in range(8)]
    won = await asyncio.gather(*(storage.posts.save(m, expect=PostStatus.DRAFT) for m in moves))
    assert sum(won) == 1


async def test_the_publishing_lease_is_one_holder_until_it_lapses(storage: Storage) -> None:
    account, persona = await owner(storage)
    post = a_post(account, persona)
    await storage.posts.create(post)
    until = T0 + timedelta(minutes=10)
    assert not await storage.posts.claim(account.id, post.id, now=T0, until=until)  # a draft
    approved = replace(post, status=PostStatus.APPROVED)
    assert await storage.posts.save(approved, expect=PostStatus.DRAFT)
    claims = await asyncio.gather(
        *(storage.posts.claim(account.id, post.id, now=T0, until=until) for _ in range(6))
    )
    assert sum(claims) == 1
    # Recording a part keeps the lease; a worker that died leaves it to lapse.
    assert await storage.posts.save(approved, expect=PostStatus.APPROVED)
    assert not await storage.posts.claim(account.id, post.id, now=T0, until=until)
    later = until + timedelta(seconds=1)
    assert await storage.posts.claim(account.id, post.id, now=later, until=later + timedelta(1))
    assert await storage.posts.save(approved, expect=PostStatus.APPROVED, release=True)
    assert await storage.posts.claim(account.id, post.id, now=T0, until=until)


async def test_posts_are_isolated_between_accounts(storage: Storage) -> None:
    mine, persona = await owner(storage)
    other, _ = await owner(storage)
    post = a_post(mine, persona)
    await storage.posts.create(post)
    assert await storage.posts.get(other.id, post.id) is None
    assert [p async for p in storage.posts.list(other.id)] == []
    assert not await storage.posts.save(replace(post, account_id=other.id), expect=PostStatus.DRAFT)
    approved = replace(post, status=PostStatus.APPROVED)
    assert await storage.posts.save(approved, expect=PostStatus.DRAFT)
    until = T0 + timedelta(minutes=1)
    assert not await storage.posts.claim(other.id, post.id, now=T0, until=until)


async def test_connections_are_kept_replaced_listed_and_deleted(storage: Storage) -> None:
    account, _ = await owner(storage)
    other, _ = await owner(storage)
    first = Credentials(network="x", identifier="@me (1)", secret="tok-1", connected_at=T0)
    await storage.connections.put(account.id, first)
    assert await storage.connections.get(account.id, "x") == first
    second = replace(first, secret="tok-2", connected_at=T0 + timedelta(days=1))
    await storage.connections.put(account.id, second)
    assert await storage.connections.get(account.id, "x") == second
    bsky = Credentials(network="bluesky", identifier="me.bsky", secret="pw", connected_at=T0)
    await storage.connections.put(account.id, bsky)
    assert await storage.connections.networks(account.id) == ["bluesky", "x"]
    assert await storage.connections.get(other.id, "x") is None
    assert await storage.connections.networks(other.id) == []
    assert "tok-2" not in repr(second)
    assert await storage.connections.delete(account.id, "x")
    assert not await storage.connections.delete(account.id, "x")
    assert await storage.connections.networks(account.id) == ["bluesky"]
