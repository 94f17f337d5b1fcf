"""The shared store suite: every ``Sql*`` store against its port, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from core.models import (
    Account,
    Approval,
    Draft,
    DraftOption,
    DraftStatus,
    Feedback,
    FeedbackKind,
    Message,
    Persona,
    StoredMessage,
    UserRef,
)
from storage import AlreadyExists, NotFound, Storage
from tests.storage.support import T0, Backend, message, new_account, new_user, stored, stream

# --- accounts ----------------------------------------------------------------------------------


async def test_resolve_creates_account_with_default_persona_once(storage: Storage) -> None:
    user = new_user()
    assert await storage.accounts.resolve(user, create=False) is None

    account = await storage.accounts.resolve(user, create=True)
    assert account is not None
    assert account.created_at.tzinfo is not None and account.created_at.utcoffset() == timedelta(0)
    assert not account.paused and account.settings == {}
    personas = await storage.personas.list(account.id)
    assert [p.name for p in personas] == ["default"]
    assert account.active_persona == personas[0].id

    again = await storage.accounts.resolve(user, create=True)
    assert again == account
    assert await storage.accounts.get(account.id) == account
    assert await storage.accounts.get("nope") is None


async def test_concurrent_resolves_of_a_new_user_make_one_account(storage: Storage) -> None:
    user = new_user()
    accounts = await asyncio.gather(
        *(storage.accounts.resolve(user, create=True) for _ in range(8))
    )
    assert len({a.id for a in accounts if a is not None}) == 1
    account = accounts[0]
    assert account is not None
    assert len(await storage.personas.list(account.id)) == 1


async def test_update_account(storage: Storage) -> None:
    account = await new_account(storage)
    other = await new_account(storage)
    work = await storage.personas.create(account.id, "work")
    changed = await storage.accounts.update(
        Account(
            id=account.id,
            created_at=account.created_at,
            active_persona=work.id,
            paused=True,
            settings={"digest": "09:00", "vip": ["bob"]},
        )
    )
    assert changed.paused and changed.active_persona == work.id
    assert changed.settings == {"digest": "09:00", "vip": ["bob"]}
    assert await storage.accounts.get(account.id) == changed

    foreign = other.active_persona
    with pytest.raises(NotFound):
        await storage.accounts.update(
            Account(id=account.id, created_at=account.created_at, active_persona=foreign)
        )


async def test_link_codes_are_one_time_and_expire(storage: Storage) -> None:
    account = await new_account(storage)
    code = await storage.accounts.issue_link_code(account.id, ttl_s=600)
    assert len(code) == 11 and code[5] == "-"

    telegram = new_user("telegram")
    linked = await storage.accounts.redeem_link_code(code.lower().replace("-", " "), telegram)
    assert linked is not None and linked.id == account.id
    assert await storage.accounts.resolve(telegram, create=False) == linked
    assert await storage.accounts.redeem_link_code(code, new_user()) is None  # used

    expired = await storage.accounts.issue_link_code(account.id, ttl_s=-1)
    assert await storage.accounts.redeem_link_code(expired, new_user()) is None
    assert await storage.accounts.redeem_link_code("AAAAA-BBBBB", new_user()) is None
    with pytest.raises(NotFound):
        await storage.accounts.issue_link_code("missing", ttl_s=60)


async def test_concurrent_redeems_of_one_code_link_once(storage: Storage) -> None:
    account = await new_account(storage)
    code = await storage.accounts.issue_link_code(account.id, ttl_s=600)
    results = await asyncio.gather(
        *(storage.accounts.redeem_link_code(code, new_user()) for _ in range(6))
    )
    assert sum(r is not None for r in results) == 1


# --- personas ----------------------------------------------------------------------------------


async def test_personas(storage: Storage) -> None:
    account = await new_account(storage)
    other = await new_account(storage)
    work = await storage.personas.create(account.id, "  work  ")
    assert work.name == "work" and work.owner_names == ()
    with pytest.raises(AlreadyExists):
        await storage.personas.create(account.id, "work")
    await storage.personas.create(other.id, "work")  # names are per account

    renamed = await storage.personas.update(
        account.id,
        Persona(
            id=work.id,
            account_id=account.id,
            name="job",
            created_at=work.created_at,
            owner_names=("Ann", "ann.b"),
        ),
    )
    assert renamed.name == "job" and renamed.owner_names == ("Ann", "ann.b")
    assert await storage.personas.get(account.id, work.id) == renamed
    assert [p.name for p in await storage.personas.list(account.id)] == ["default", "job"]

    # Another account can neither see nor change nor delete it.
    assert await storage.personas.get(other.id, work.id) is None
    with pytest.raises(NotFound):
        await storage.personas.update(other.id, renamed)
    assert not await storage.personas.delete(other.id, work.id)
    with pytest.raises(NotFound):
        await storage.personas.create("missing", "x")


async def test_deleting_the_active_persona_removes_its_data_and_moves_active(
    storage: Storage,
) -> None:
    account = await new_account(storage)
    assert account.active_persona is not None
    work = await storage.personas.create(account.id, "work")
    await storage.messages.add_stream(account.id, stream([stored(work.id, message("a"))]))
    await storage.state.put(account.id, work.id, "profile", b"{}")
    await storage.accounts.update(
        Account(id=account.id, created_at=account.created_at, active_persona=work.id)
    )

    assert await storage.personas.delete(account.id, work.id)
    assert await storage.personas.get(account.id, work.id) is None
    assert await storage.messages.count(account.id, work.id) == 0
    assert await storage.state.get(account.id, work.id, "profile") is None
    after = await storage.accounts.get(account.id)
    assert after is not None and after.active_persona == account.active_persona
    assert not await storage.personas.delete(account.id, work.id)


# --- messages ----------------------------------------------------------------------------------


def conversation(persona: str) -> list[StoredMessage]:
    """bob asks, the owner answers; carol's message is never answered; the owner also speaks
    first once and once answers their own message (neither is a reply pair)."""
    return [
        stored(persona, message("q1", sender="bob", text="can you review my PR?", at=0)),
        stored(
            persona,
            message("r1", sender="me", text="sure, after lunch", at=90, reply_to="q1"),
            from_owner=True,
        ),
        stored(persona, message("c1", sender="carol", text="lunch?", at=100, thread="t1")),
        stored(persona, message("o1", sender="me", text="standup in 5", at=200), from_owner=True),
        stored(
            persona,
            message("o2", sender="me", text="or 10", at=210, reply_to="o1"),
            from_owner=True,
        ),
        stored(persona, message("q2", sender="bob", text="merged?", at=300)),
        stored(
            persona,
            message("r2", sender="me", text="yes 🎉", at=300.5, reply_to="q2"),
            from_owner=True,
        ),
        stored(
            persona,
            message("r3", sender="me", text="answer to nothing stored", at=400, reply_to="zz"),
            from_owner=True,
        ),
    ]


async def test_add_stream_iter_get_count(storage: Storage) -> None:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    items = conversation(persona)

    assert await storage.messages.add_stream(account.id, stream(reversed(items))) == len(items)
    assert await storage.messages.add_stream(account.id, stream(items)) == 0  # same ids: nothing
    assert await storage.messages.count(account.id, persona) == len(items)

    got = [m async for m in storage.messages.iter(account.id, persona)]
    assert got == items  # in sent_at order, every field round-trips
    assert got[2].message.thread == "t1"
    assert all(m.message.sent_at.tzinfo == UTC for m in got)

    owner = [
        m.message.id async for m in storage.messages.iter(account.id, persona, owner_only=True)
    ]
    assert owner == ["r1", "o1", "o2", "r2", "r3"]
    early = [
        m.message.id
        async for m in storage.messages.iter(
            account.id, persona, before=T0 + timedelta(seconds=150)
        )
    ]
    assert early == ["q1", "r1", "c1"]

    picked = await storage.messages.get(account.id, persona, ["r2", "missing", "q1", "r2"])
    assert [m.message.id for m in picked] == ["r2", "q1"]
    assert picked[0].message.text == "yes 🎉"


async def test_add_stream_counts_only_new_and_dedupes_within_a_stream(storage: Storage) -> None:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    first = [stored(persona, message(f"m{i}", at=i)) for i in range(10)]
    assert await storage.messages.add_stream(account.id, stream(first)) == 10
    mixed = [stored(persona, message(f"m{i}", at=i)) for i in range(5, 15)]
    assert await storage.messages.add_stream(account.id, stream(mixed + mixed)) == 5
    assert await storage.messages.count(account.id, persona) == 15


async def test_add_stream_rolls_back_when_the_iterator_raises(storage: Storage) -> None:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    await storage.messages.add_stream(account.id, stream([stored(persona, message("keep"))]))

    async def failing() -> AsyncIterator[StoredMessage]:
        for i in range(2_500):  # more than two batches are written before the failure
            yield stored(persona, message(f"x{i}", at=i))
        raise ValueError("bad line 2501")

    with pytest.raises(ValueError, match="bad line 2501"):
        await storage.messages.add_stream(account.id, failing())
    assert await storage.messages.count(account.id, persona) == 1
    # The store is still usable afterwards.
    assert (
        await storage.messages.add_stream(account.id, stream([stored(persona, message("y"))])) == 1
    )


async def test_add_stream_refuses_another_accounts_persona(storage: Storage) -> None:
    account = await new_account(storage)
    victim = await new_account(storage)
    assert victim.active_persona is not None
    own = account.active_persona
    assert own is not None
    items = [stored(own, message("a")), stored(victim.active_persona, message("b"))]
    with pytest.raises(NotFound):
        await storage.messages.add_stream(account.id, stream(items))
    assert await storage.messages.count(account.id, own) == 0
    assert await storage.messages.count(victim.id, victim.active_persona) == 0


async def test_reply_pairs(storage: Storage) -> None:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    await storage.messages.add_stream(account.id, stream(conversation(persona)))

    pairs = await storage.messages.reply_pairs(account.id, persona)
    assert [(p.incoming_id, p.reply_id) for p in pairs] == [("q1", "r1"), ("q2", "r2")]
    first, second = pairs
    assert first.incoming_text == "can you review my PR?" and first.incoming_sender == "bob"
    assert first.reply_text == "sure, after lunch" and first.latency_s == 90.0
    assert first.replied_at == T0 + timedelta(seconds=90)
    assert second.latency_s == pytest.approx(0.5)
    assert first.persona_id == persona


async def test_sent_at_is_normalised_to_utc(storage: Storage) -> None:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    paris = datetime(2024, 6, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    item = Message(id="tz", conversation="c", thread=None, sender="s", text="t", sent_at=paris)
    await storage.messages.add_stream(account.id, stream([stored(persona, item)]))
    [back] = await storage.messages.get(account.id, persona, ["tz"])
    assert back.message.sent_at == paris
    assert back.message.sent_at.tzinfo == UTC
    assert back.message.sent_at.hour == 12

    naive = Message(
        id="naive",
        conversation="c",
        thread=None,
        sender="s",
        text="t",
        sent_at=datetime(2024, 1, 1),
    )
    with pytest.raises(Exception, match="naive datetime"):
        await storage.messages.add_stream(account.id, stream([stored(persona, naive)]))


async def test_messages_are_isolated_between_accounts(storage: Storage) -> None:
    alice = await new_account(storage)
    mallory = await new_account(storage)
    persona = alice.active_persona
    assert persona is not None
    await storage.messages.add_stream(alice.id, stream(conversation(persona)))

    assert await storage.messages.get(mallory.id, persona, ["q1", "r1"]) == []
    assert [m async for m in storage.messages.iter(mallory.id, persona)] == []
    assert await storage.messages.reply_pairs(mallory.id, persona) == []
    assert await storage.messages.count(mallory.id, persona) == 0


async def test_iter_pages_through_many_messages(storage: Storage) -> None:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    # Several messages share a timestamp across page boundaries (keyset on sent_at, pk).
    items = [stored(persona, message(f"m{i:05d}", at=i // 7)) for i in range(2_345)]
    assert await storage.messages.add_stream(account.id, stream(items)) == len(items)
    seen = [m.message.id async for m in storage.messages.iter(account.id, persona)]
    assert seen == [i.message.id for i in items]


# --- vectors -----------------------------------------------------------------------------------


async def test_vectors(storage: Storage) -> None:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    ids, empty = await storage.vectors.load(account.id, persona)
    assert ids == [] and empty.shape[0] == 0

    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((5, 8)).astype(np.float32)
    await storage.vectors.put(account.id, persona, ["e", "a", "d", "b", "c"], vectors)
    ids, loaded = await storage.vectors.load(account.id, persona)
    assert ids == ["a", "b", "c", "d", "e"]
    assert loaded.dtype == np.float32 and loaded.shape == (5, 8)
    np.testing.assert_array_equal(loaded, vectors[[1, 3, 4, 2, 0]])

    await storage.vectors.put(account.id, persona, ["a"], np.ones((1, 8), dtype=np.float32))
    ids, loaded = await storage.vectors.load(account.id, persona)
    assert len(ids) == 5 and loaded[0].tolist() == [1.0] * 8

    with pytest.raises(ValueError):
        await storage.vectors.put(account.id, persona, ["x", "y"], vectors[:1])
    other = await new_account(storage)
    with pytest.raises(NotFound):
        await storage.vectors.put(other.id, persona, ["a"], vectors[:1])
    assert (await storage.vectors.load(other.id, persona))[0] == []


# --- drafts ------------------------------------------------------------------------------------


def draft_for(account_id: str, persona_id: str, owner: UserRef, *, at: int = 0) -> Draft:
    return Draft(
        id=uuid.uuid4().hex,
        account_id=account_id,
        persona_id=persona_id,
        incoming=message("in-1", sender="bob", text="can you review my PR today?", at=at),
        options=(
            DraftOption(
                text="sure, after lunch",
                engine="retrieval",
                style_score=87,
                reasons=("you said this before",),
                source_id="r1",
            ),
            DraftOption(text="yes", engine="retrieval", style_score=60),
        ),
        status=DraftStatus.PENDING,
        created_at=T0 + timedelta(seconds=at),
        owner=owner,
    )


async def test_drafts_create_get_pending_set_status(storage: Storage) -> None:
    user = new_user("slack")
    account = await storage.accounts.resolve(user, create=True)
    assert account is not None and account.active_persona is not None
    first = draft_for(account.id, account.active_persona, user, at=1)
    second = draft_for(account.id, account.active_persona, user, at=2)
    await storage.drafts.create(second)
    await storage.drafts.create(first)

    assert await storage.drafts.get(account.id, first.id) == first
    assert [d.id for d in await storage.drafts.pending(account.id)] == [first.id, second.id]

    assert not await storage.drafts.set_status(
        account.id, first.id, DraftStatus.REJECTED, expect=DraftStatus.APPROVED
    )
    assert await storage.drafts.set_status(
        account.id, first.id, DraftStatus.REJECTED, expect=DraftStatus.PENDING
    )
    got = await storage.drafts.get(account.id, first.id)
    assert got is not None and got.status is DraftStatus.REJECTED
    assert [d.id for d in await storage.drafts.pending(account.id)] == [second.id]


async def test_approve_is_a_compare_and_set_under_concurrency(storage: Storage) -> None:
    user = new_user("slack")
    account = await storage.accounts.resolve(user, create=True)
    assert account is not None and account.active_persona is not None
    draft = draft_for(account.id, account.active_persona, user)
    await storage.drafts.create(draft)

    def approval(i: int) -> Approval:
        return Approval(
            draft_id=draft.id,
            account_id=account.id,
            by=user,
            text=f"sure, after lunch #{i}",
            option=0,
            edited=i > 0,
            approved_at=T0 + timedelta(minutes=i),
        )

    results = await asyncio.gather(*(storage.drafts.approve(approval(i)) for i in range(10)))
    assert sorted(results) == [False] * 9 + [True]

    winner = results.index(True)
    recorded = await storage.drafts.approval(account.id, draft.id)
    assert recorded == approval(winner)
    got = await storage.drafts.get(account.id, draft.id)
    assert got is not None and got.status is DraftStatus.APPROVED
    assert not await storage.drafts.approve(approval(99))

    # Made pending again by a buggy caller, it still cannot be approved a second time.
    assert await storage.drafts.set_status(
        account.id, draft.id, DraftStatus.PENDING, expect=DraftStatus.APPROVED
    )
    assert not await storage.drafts.approve(approval(100))
    got = await storage.drafts.get(account.id, draft.id)
    assert got is not None and got.status is DraftStatus.PENDING
    assert await storage.drafts.approval(account.id, draft.id) == approval(winner)


async def test_drafts_are_isolated_between_accounts(storage: Storage) -> None:
    user = new_user("slack")
    account = await storage.accounts.resolve(user, create=True)
    mallory = await new_account(storage)
    assert account is not None and account.active_persona is not None
    draft = draft_for(account.id, account.active_persona, user)
    await storage.drafts.create(draft)

    assert await storage.drafts.get(mallory.id, draft.id) is None
    assert await storage.drafts.pending(mallory.id) == []
    stolen = Approval(
        draft_id=draft.id,
        account_id=mallory.id,
        by=user,
        text="send this instead",
        option=0,
        edited=True,
        approved_at=T0,
    )
    assert not await storage.drafts.approve(stolen)
    assert not await storage.drafts.set_status(
        mallory.id, draft.id, DraftStatus.REJECTED, expect=DraftStatus.PENDING
    )
    got = await storage.drafts.get(account.id, draft.id)
    assert got is not None and got.status is DraftStatus.PENDING
    assert mallory.active_persona is not None
    with pytest.raises(NotFound):  # a draft cannot be filed under someone else's persona
        await storage.drafts.create(draft_for(mallory.id, account.active_persona, user))


# --- feedback, deliveries, state ---------------------------------------------------------------


async def test_feedback(storage: Storage) -> None:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    later = Feedback(
        account_id=account.id,
        persona_id=persona,
        kind=FeedbackKind.EDITED,
        draft_id="d1",
        message_id="m1",
        text="sure, after my 2pm",
        at=T0 + timedelta(hours=1),
    )
    earlier = Feedback(
        account_id=account.id,
        persona_id=persona,
        kind=FeedbackKind.NOT_IMPORTANT,
        draft_id=None,
        message_id="m0",
        text=None,
        at=T0,
    )
    await storage.feedback.add(later)
    await storage.feedback.add(earlier)
    assert await storage.feedback.list(account.id, persona) == [earlier, later]

    other = await new_account(storage)
    assert await storage.feedback.list(other.id, persona) == []
    with pytest.raises(NotFound):
        await storage.feedback.add(
            Feedback(
                account_id=other.id,
                persona_id=persona,
                kind=FeedbackKind.SENT,
                draft_id=None,
                message_id=None,
                text="x",
                at=T0,
            )
        )


async def test_first_seen_is_true_exactly_once(storage: Storage) -> None:
    key = f"slack:event:{uuid.uuid4().hex}"
    assert await storage.deliveries.first_seen(key)
    assert not await storage.deliveries.first_seen(key)

    racing = f"telegram:update:{uuid.uuid4().hex}"
    results = await asyncio.gather(*(storage.deliveries.first_seen(racing) for _ in range(10)))
    assert sorted(results) == [False] * 9 + [True]


async def test_prune_deliveries(storage: Storage) -> None:
    key = f"old:{uuid.uuid4().hex}"
    await storage.deliveries.first_seen(key)
    assert await storage.deliveries.prune(datetime.now(UTC) + timedelta(seconds=5)) >= 1
    assert await storage.deliveries.first_seen(key)


async def test_state(storage: Storage) -> None:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    assert await storage.state.get(account.id, persona, "profile") is None
    await storage.state.put(account.id, persona, "profile", b'{"v": 1}')
    await storage.state.put(account.id, persona, "verifier", bytes(range(256)))
    await storage.state.put(account.id, persona, "profile", b'{"v": 2}')
    assert await storage.state.get(account.id, persona, "profile") == b'{"v": 2}'
    assert await storage.state.get(account.id, persona, "verifier") == bytes(range(256))

    other = await new_account(storage)
    assert await storage.state.get(other.id, persona, "profile") is None
    with pytest.raises(NotFound):
        await storage.state.put(other.id, persona, "profile", b"overwrite")
    assert await storage.state.get(account.id, persona, "profile") == b'{"v": 2}'


# --- bulk import -------------------------------------------------------------------------------


async def _peak_bytes_while_adding(storage: Storage, count: int) -> int:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    filler = "x" * 1_000

    async def generate() -> AsyncIterator[StoredMessage]:
        for i in range(count):
            yield stored(persona, message(f"m{i}", text=f"{i} {filler}", at=i))

    tracemalloc.start()
    try:
        assert await storage.messages.add_stream(account.id, generate()) == count
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def test_add_stream_memory_does_not_grow_with_the_stream(storage: Storage) -> None:
    small = await _peak_bytes_while_adding(storage, 2_000)
    large = await _peak_bytes_while_adding(storage, 6_000)  # 6 MB of text streamed through
    print(f"peak traced memory: {small:,} B for 2,000 messages, {large:,} B for 6,000")
    assert large < 1.3 * small + 1_000_000, (small, large)


async def test_first_seen_holds_across_processes(backend: Backend, tmp_path: Path) -> None:
    """Two workers (separate engines and pools) on one database see each key once in total."""
    url = await backend.fresh_url(tmp_path)
    async with (
        backend.fresh_storage(tmp_path, url=url) as one,
        backend.fresh_storage(tmp_path, url=url) as two,
    ):
        keys = [f"slack:retry:{i}" for i in range(5)]
        results = await asyncio.gather(
            *(worker.deliveries.first_seen(key) for key in keys for worker in (one, two, one, two))
        )
        assert sum(results) == len(keys)
