"""A tampered row no longer takes the account down: drafting and the export go on without it, and
the owner is told (once), by count, never by content."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.bootstrap import Runtime
from core.models import CommandInvocation, UserRef
from storage import tables
from tests.privacy.conftest import incoming

ALICE = UserRef(platform="slack", user_id="U-ALICE")


async def test_drafting_and_export_survive_a_tampered_message_and_profile(runtime: Runtime) -> None:
    clone = runtime.clone
    await clone.import_sample(ALICE)
    account = await clone.account(ALICE)
    first = await clone.handle_incoming(
        incoming(ALICE, "can you review my PR today?"), explicit=True
    )
    assert first is not None and first.draft is not None  # the profile state now exists
    # The style verifier trains in the background after the first draft and writes its state:
    # let it finish before tampering behind the stores' back (a second SQLite writer would
    # otherwise meet "database is locked"), as a restart would find it finished.
    await clone.settle()
    m, s = tables.messages, tables.state
    async with runtime.storage.engine.begin() as connection:
        pk, text = (
            await connection.execute(
                select(m.c.pk, m.c.text)
                .where(m.c.account_id == account.id, m.c.from_owner.is_(True))
                .limit(1)
            )
        ).one()
        await connection.execute(
            update(m)
            .where(m.c.account_id == account.id, m.c.pk == pk)
            .values(text=text[:-1] + b"\x00")
        )
        await connection.execute(
            update(s).where(s.c.account_id == account.id).values(value=b"\x01" + b"\x00" * 40)
        )
    clone.models.forget(account.id)  # as after a restart: everything is read again

    reply = await clone.handle_incoming(
        incoming(ALICE, "are you free for lunch?", n=2), explicit=True
    )
    assert reply is not None and reply.draft is not None and reply.draft.options
    assert "unreadable (altered or damaged) and left out" in reply.text
    again = await clone.handle_incoming(incoming(ALICE, "lunch tomorrow?", n=3), explicit=True)
    assert again is not None and "unreadable" not in again.text  # said once

    [exported] = await clone.handle_command(
        CommandInvocation(user=ALICE, name="privacy", text="export")
    )
    assert exported.file is not None
    assert "could not be read (altered or damaged): 1 message" in exported.text
