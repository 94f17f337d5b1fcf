"""Privacy: no plaintext on disk, export of everything, erasure of everything (and only that)."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
from sqlalchemy import func, select

from core.models import (
    Account,
    Approval,
    Draft,
    DraftOption,
    DraftStatus,
    Feedback,
    FeedbackKind,
    UserRef,
)
from core.publishing import Actor, Credentials, Post, PostEvent, PostPart, PostStatus, new_post_id
from storage import NotFound, Storage, tables
from storage.scope import Scope, set_scope
from storage.stores import checkpoint_sqlite
from tests.storage.support import T0, Backend, message, new_user, stored, stream
from tests.storage.teams_support import populate_teams


def raw_files(db: Path) -> dict[str, bytes]:
    """The bytes of the database file and its WAL (absent WAL → empty)."""
    files = {}
    for path in (db, db.with_name(db.name + "-wal")):
        files[path.name] = path.read_bytes() if path.exists() else b""
    return files


def found_in(files: dict[str, bytes], needle: str) -> list[str]:
    return [name for name, data in files.items() if needle.encode() in data]


async def populate(storage: Storage, *, canary: str, id_canary: str) -> Account:
    """An account with a row in every table; ``canary`` only in encrypted columns, ``id_canary``
    in plaintext ones (a message id), to check the scan itself and secure deletion."""
    user = new_user("slack")
    account = await storage.accounts.resolve(user, create=True)
    assert account is not None and account.active_persona is not None
    persona = account.active_persona
    await storage.accounts.issue_link_code(account.id, ttl_s=600)
    code = await storage.accounts.issue_link_code(account.id, ttl_s=600)
    await storage.accounts.redeem_link_code(code, new_user("telegram"))
    await storage.accounts.update(
        Account(
            id=account.id,
            created_at=account.created_at,
            active_persona=persona,
            settings={"vip": [canary]},
        )
    )
    await storage.messages.add_stream(
        account.id,
        stream(
            [
                stored(persona, message("q", sender=f"bob {canary}", text=f"hi {canary}", at=0)),
                stored(
                    persona,
                    message(id_canary, sender="me", text=f"re {canary}", at=60, reply_to="q"),
                    from_owner=True,
                ),
            ]
        ),
    )
    await storage.vectors.put(account.id, persona, [id_canary], np.ones((1, 4), dtype=np.float32))
    draft = Draft(
        id=uuid.uuid4().hex,
        account_id=account.id,
        persona_id=persona,
        incoming=message("in", text=f"incoming {canary}"),
        options=(DraftOption(text=f"option {canary}", engine="retrieval", style_score=80),),
        status=DraftStatus.PENDING,
        created_at=T0,
        owner=user,
    )
    await storage.drafts.create(draft)
    assert await storage.drafts.approve(
        Approval(
            draft_id=draft.id,
            account_id=account.id,
            by=user,
            text=f"sent {canary}",
            option=0,
            edited=False,
            approved_at=T0 + timedelta(seconds=5),
        )
    )
    await storage.feedback.add(
        Feedback(
            account_id=account.id,
            persona_id=persona,
            kind=FeedbackKind.SENT,
            draft_id=draft.id,
            message_id="in",
            text=f"sent {canary}",
            at=T0,
        )
    )
    await storage.state.put(account.id, persona, "profile", f"profile {canary}".encode())
    # A saved search graph: an index rebuilt from the messages, erased but never exported.
    await storage.state.put(account.id, persona, "graph-messages", b"usearch" + bytes(64))
    await populate_teams(storage, account.id, persona, canary)
    await storage.deliveries.first_seen(f"slack:{uuid.uuid4().hex}", account_id=account.id)
    await storage.posts.create(
        Post(
            id=new_post_id(),
            account_id=account.id,
            persona_id=persona,
            network="bluesky",
            topic=f"topic {canary}",
            parts=(PostPart(text=f"post {canary}", style_score=70),),
            status=PostStatus.DRAFT,
            created_at=T0,
            owner=user,
            engine="own",
            events=(PostEvent(status=PostStatus.DRAFT, actor=Actor.owner(user), at=T0),),
        )
    )
    await storage.connections.put(
        account.id,
        Credentials(
            network="bluesky",
            identifier=f"handle {canary}",
            secret=f"SECRETPW{canary}",
            connected_at=T0,
        ),
    )
    async with storage.engine.begin() as connection:  # no store writes labels yet
        await set_scope(connection, Scope(account=account.id))  # row-level security
        await connection.execute(
            tables.priority_labels.insert().values(
                id=uuid.uuid4().hex,
                account_id=account.id,
                persona_id=persona,
                message_id="q",
                label=1.0,
                kind="replied",
                at=T0,
            )
        )
    return account


async def rows_of(storage: Storage, account_id: str) -> dict[str, int]:
    counts = {}
    async with storage.engine.connect() as connection:
        await set_scope(connection, Scope(account=account_id))  # row-level security
        for table in tables.metadata.sorted_tables:
            column = table.c.id if table is tables.accounts else table.c.account_id
            counts[table.name] = (
                await connection.execute(
                    select(func.count()).select_from(table).where(column == account_id)
                )
            ).scalar_one()
    return counts


async def test_canary_never_reaches_the_sqlite_files(tmp_path: Path) -> None:
    backend = Backend("sqlite", tmp_path, None)  # raw database files exist only for SQLite
    canary, id_canary = f"CANARY{secrets.token_hex(8)}", f"IDCANARY{secrets.token_hex(8)}"
    db = tmp_path / "minime.db"
    url = f"sqlite+aiosqlite:///{db}"
    async with backend.fresh_storage(tmp_path, url=url) as opened:
        await populate(opened, canary=canary, id_canary=id_canary)
        before = raw_files(db)
        assert before["minime.db-wal"], "the writes should still sit in the WAL"
        assert found_in(before, canary) == []
        assert found_in(before, id_canary) != []  # the scan does find plaintext
        assert await checkpoint_sqlite(opened.engine)
        after = raw_files(db)
        assert after["minime.db-wal"] == b""
        assert found_in(after, canary) == [] and found_in(after, id_canary) == ["minime.db"]


async def test_erase_removes_every_row_of_the_account_and_nothing_else(
    backend: Backend, tmp_path: Path
) -> None:
    canary, id_canary = f"CANARY{secrets.token_hex(8)}", f"IDCANARY{secrets.token_hex(8)}"
    db = tmp_path / "minime.db"
    url = f"sqlite+aiosqlite:///{db}" if backend.name == "sqlite" else None
    async with backend.fresh_storage(tmp_path, url=url) as opened:
        doomed = await populate(opened, canary=canary, id_canary=id_canary)
        kept = await populate(opened, canary="kept", id_canary="kept-id")
        populated = await rows_of(opened, doomed.id)
        assert all(populated.values()), populated  # every table really had rows
        kept_before = await rows_of(opened, kept.id)
        kept_export = await opened.vault.export(kept.id)
        if backend.name == "sqlite":
            assert found_in(raw_files(db), id_canary) != []  # the scan below would see it

        await opened.vault.erase(doomed.id)

        assert set((await rows_of(opened, doomed.id)).values()) == {0}
        assert opened.keys.cached(doomed.id) is None
        assert await rows_of(opened, kept.id) == kept_before
        assert _without_time(await opened.vault.export(kept.id)) == _without_time(kept_export)
        with pytest.raises(NotFound):
            await opened.vault.export(doomed.id)
        await opened.vault.erase(doomed.id)  # erasing twice is harmless

        if backend.name == "sqlite":
            files = raw_files(db)
            assert files["minime.db-wal"] == b""
            assert found_in(files, canary) == [] and found_in(files, id_canary) == []
            assert found_in(files, "kept-id") == ["minime.db"]


def _without_time(export: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in export.items() if k != "exported_at"}


async def test_export_holds_everything_decrypted(storage: Storage) -> None:
    canary = f"CANARY{secrets.token_hex(4)}"
    account = await populate(storage, canary=canary, id_canary="owner-reply")
    export = await storage.vault.export(account.id)
    json.dumps(export)  # JSON-able as it is

    assert export["format"] == "minime-export"
    assert export["account"] == {
        "id": account.id,
        "created_at": account.created_at.isoformat(),
        "active_persona": "default",
        "paused": False,
        "settings": {"vip": [canary]},
    }
    identities = export["identities"]
    assert isinstance(identities, list) and {i["platform"] for i in identities} == {
        "slack",
        "telegram",
    }
    messages = export["messages"]
    assert isinstance(messages, list)
    assert messages[1] == {
        "id": "owner-reply",
        "conversation": "general",
        "thread": None,
        "sender": "me",
        "text": f"re {canary}",
        "sent_at": (T0 + timedelta(seconds=60)).isoformat(),
        "reply_to": "q",
        "persona": "default",
        "from_owner": True,
        "source": "import",
    }
    text = json.dumps(export)
    for expected in (f"incoming {canary}", f"option {canary}", f"sent {canary}", f"bob {canary}"):
        assert expected in text
    sections = cast(dict[str, list[dict[str, Any]]], export)
    [state] = sections["state"]  # the saved search graph is not in it
    assert state["kind"] == "profile"
    assert base64.b64decode(state["value_base64"]) == f"profile {canary}".encode()
    for name in ("approvals", "feedback", "priority_labels", "vectors", "drafts", "posts"):
        assert len(sections[name]) == 1, name
    assert f"post {canary}" in text and f"topic {canary}" in text
    # Connections are listed, their credentials never exported.
    assert sections["connections"] == [{"network": "bluesky", "connected_at": T0.isoformat()}]
    assert "SECRETPW" not in text and f"handle {canary}" not in text


async def test_erased_identity_starts_afresh(storage: Storage) -> None:
    user = UserRef(platform="discord", user_id=uuid.uuid4().hex)
    first = await storage.accounts.resolve(user, create=True)
    assert first is not None
    await storage.vault.erase(first.id)
    assert await storage.accounts.resolve(user, create=False) is None
    second = await storage.accounts.resolve(user, create=True)
    assert second is not None and second.id != first.id
