"""One tampered or damaged row is quarantined: left out of every read of many rows, counted, logged
by id only, and named in the export; the rest of the account keeps working."""

from __future__ import annotations

import logging
import secrets
import uuid

import numpy as np
import pytest
from sqlalchemy import select, update

from core.models import Draft, DraftOption, DraftStatus, UserRef, utc_now
from storage import DecryptionError, Storage, tables
from storage.scope import Scope, set_scope
from storage.stores.state import OFF_LOOP_BYTES
from tests.storage.support import message, new_account, stored, stream


def flip(blob: bytes) -> bytes:
    return blob[:-1] + bytes([blob[-1] ^ 1])


async def tamper(storage: Storage, table: object, column: str, **where: str) -> None:
    t = tables.metadata.tables[str(table)]
    condition = [t.c[k] == v for k, v in where.items()]
    async with storage.engine.begin() as connection:
        await set_scope(connection, Scope(account=where["account_id"]))  # row-level security
        blob = (await connection.execute(select(t.c[column]).where(*condition))).scalar_one()
        await connection.execute(update(t).where(*condition).values({column: flip(blob)}))


async def test_one_tampered_row_is_left_out_counted_and_named_in_the_export(
    storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    secret = f"CANARY{secrets.token_hex(8)}"
    await storage.messages.add_stream(
        account.id,
        stream(
            [
                stored(persona, message("q1", text=f"question {secret}", at=0)),
                stored(
                    persona,
                    message("a1", text=f"answer {secret}", at=1, reply_to="q1"),
                    from_owner=True,
                ),
                stored(persona, message("q2", text="second question", at=2)),
                stored(
                    persona,
                    message("a2", text="second answer", at=3, reply_to="q2"),
                    from_owner=True,
                ),
            ]
        ),
    )
    await storage.vectors.put(account.id, persona, ["q1", "q2"], np.ones((2, 4), dtype=np.float32))
    await storage.state.put(account.id, persona, "profile", b"derived")
    draft_ids = [uuid.uuid4().hex for _ in range(2)]
    for n, draft_id in enumerate(draft_ids, 1):
        await storage.drafts.create(
            Draft(
                id=draft_id,
                account_id=account.id,
                persona_id=persona,
                incoming=message(f"q{n}"),
                options=(DraftOption(text="ok", engine="retrieval", style_score=50),),
                status=DraftStatus.PENDING,
                created_at=utc_now(),
                owner=UserRef(platform="test", user_id="u"),
            )
        )
    m = tables.messages
    await tamper(storage, m, "text", account_id=account.id, msg_id="a1")
    await tamper(storage, m, "sender", account_id=account.id, msg_id="q1")
    await tamper(storage, tables.vectors, "vector", account_id=account.id, msg_id="q1")
    await tamper(storage, tables.drafts, "options", account_id=account.id, id=draft_ids[0])
    await tamper(storage, tables.state, "value", account_id=account.id, kind="profile")

    caplog.set_level(logging.WARNING)
    kept = [s.message.id async for s in storage.messages.iter(account.id, persona)]
    assert kept == ["q2", "a2"]
    assert [p.reply_id for p in await storage.messages.reply_pairs(account.id, persona)] == ["a2"]
    ids, vectors = await storage.vectors.load(account.id, persona)
    assert ids == ["q2"] and vectors.shape == (1, 4)
    assert [d.id for d in await storage.drafts.pending(account.id)] == [draft_ids[1]]
    assert await storage.drafts.get(account.id, draft_ids[0]) is None
    # A read of one named row still says it is unreadable.
    with pytest.raises(DecryptionError):
        await storage.state.get(account.id, persona, "profile")

    export = await storage.vault.export(account.id)
    assert [row["id"] for row in export["messages"]] == ["q2", "a2"]  # type: ignore[index]
    assert export["unreadable"] == {"draft": 1, "message": 2, "state": 1, "vector": 1}
    assert await storage.vault.unreadable(account.id) == {
        "draft": 1,
        "message": 3,  # a1, q1, and the a1<-q1 pair
        "state": 1,
        "vector": 1,
    }
    logged = caplog.text
    assert "quarantined an unreadable message row" in logged and account.id in logged
    assert secret not in logged and "question" not in logged

    other = await new_account(storage)
    assert await storage.vault.unreadable(other.id) == {}
    assert "unreadable" not in await storage.vault.export(other.id)
    await storage.vault.erase(account.id)
    assert await storage.vault.unreadable(account.id) == {}


async def test_a_large_state_value_round_trips_and_a_tampered_one_is_quarantined(
    storage: Storage,
) -> None:
    """Values of a MiB and more (saved search graphs) are sealed and opened off the event loop:
    the same bytes come back, and a damaged one is refused and counted as any other."""
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    graph = secrets.token_bytes(OFF_LOOP_BYTES) + b"graph"
    await storage.state.put(account.id, persona, "graph-messages", graph)
    assert await storage.state.get(account.id, persona, "graph-messages") == graph
    await tamper(storage, tables.state, "value", account_id=account.id, kind="graph-messages")
    with pytest.raises(DecryptionError):
        await storage.state.get(account.id, persona, "graph-messages")
    assert await storage.vault.unreadable(account.id) == {"state": 1}
