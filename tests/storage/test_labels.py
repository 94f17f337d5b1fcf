"""The priority-label store against its port, on SQLite and PostgreSQL (the shared store suite)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.models import PriorityLabel
from storage import NotFound, Storage
from tests.storage.support import T0, new_account


def _label(
    account_id: str,
    persona_id: str,
    message_id: str,
    *,
    at: float,
    value: float = 1.0,
    kind: str = "important",
) -> PriorityLabel:
    return PriorityLabel(
        account_id=account_id,
        persona_id=persona_id,
        message_id=message_id,
        label=value,
        kind=kind,
        at=T0 + timedelta(seconds=at),
    )


async def test_labels_come_back_oldest_first_and_since(storage: Storage) -> None:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    assert await storage.labels.list(account.id, persona) == []
    await storage.labels.add(_label(account.id, persona, "m2", at=20, value=0.0, kind="ignored"))
    await storage.labels.add(_label(account.id, persona, "m1", at=10))
    await storage.labels.add(_label(account.id, persona, "m3", at=30, kind="replied"))

    labels = await storage.labels.list(account.id, persona)
    assert [(x.message_id, x.label, x.kind) for x in labels] == [
        ("m1", 1.0, "important"),
        ("m2", 0.0, "ignored"),
        ("m3", 1.0, "replied"),
    ]
    assert labels[0].at == T0 + timedelta(seconds=10) and labels[0].at.tzinfo is not None
    since = await storage.labels.list(account.id, persona, since=T0 + timedelta(seconds=20))
    assert [x.message_id for x in since] == ["m2", "m3"]


async def test_labels_are_per_persona_and_per_account(storage: Storage) -> None:
    account = await new_account(storage)
    other = await new_account(storage)
    assert account.active_persona is not None and other.active_persona is not None
    work = await storage.personas.create(account.id, "work")
    await storage.labels.add(_label(account.id, account.active_persona, "a", at=1))
    await storage.labels.add(_label(account.id, work.id, "b", at=2))

    assert [x.message_id for x in await storage.labels.list(account.id, work.id)] == ["b"]
    # Another account's persona is not reachable through this account, for reading or writing.
    assert await storage.labels.list(other.id, account.active_persona) == []
    with pytest.raises(NotFound):
        await storage.labels.add(_label(other.id, account.active_persona, "c", at=3))


async def test_labels_are_exported_and_erased_with_the_account(storage: Storage) -> None:
    account = await new_account(storage)
    persona = account.active_persona
    assert persona is not None
    await storage.labels.add(
        _label(account.id, persona, "m1", at=5, value=0.0, kind="not_important")
    )
    exported = await storage.vault.export(account.id)
    assert exported["priority_labels"] == [
        {
            "persona": "default",
            "message_id": "m1",
            "label": 0.0,
            "kind": "not_important",
            "at": (T0 + timedelta(seconds=5)).isoformat(),
        }
    ]
    await storage.vault.erase(account.id)
    assert await storage.labels.list(account.id, persona) == []


async def test_deleting_a_persona_deletes_its_labels(storage: Storage) -> None:
    account = await new_account(storage)
    work = await storage.personas.create(account.id, "work")
    await storage.labels.add(_label(account.id, work.id, "m1", at=1))
    assert await storage.personas.delete(account.id, work.id)
    assert await storage.labels.list(account.id, work.id) == []
