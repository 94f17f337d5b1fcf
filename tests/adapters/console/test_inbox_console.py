"""The inbox in the console: arrivals (``>>``), numbered Draft · Important · Not important,
digests printed by the console as the notifier."""

from __future__ import annotations

import io
from pathlib import Path

from adapters.console.adapter import ConsoleAdapter
from adapters.console.convert import Arrived, to_input
from bot.bootstrap import open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import IncomingMessage, Reply, UserRef, utc_now

ME = UserRef(platform="local", user_id="me")


def test_double_arrow_is_an_arrival_and_single_arrow_a_paste() -> None:
    arrived = to_input(">> omar: fyi the build is green", user=ME, buttons=(), now=utc_now())
    assert isinstance(arrived, Arrived) and arrived.incoming.message.sender == "omar"
    assert arrived.incoming.message.text == "fyi the build is green"
    pasted = to_input("> omar: fyi the build is green", user=ME, buttons=(), now=utc_now())
    assert isinstance(pasted, IncomingMessage)


async def test_arrivals_wait_in_the_inbox_and_buttons_act_on_them(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data")
    out = io.StringIO()
    script = (
        "/clone train --sample\n"
        ">> lena: the quarterly numbers are in the shared folder\n"
        ">> priya: can you review my PR before the release today?\n"
        "/clone inbox\n"
        "1\n"  # Draft (Priya's question is first: it needs a reply)
        "/clone inbox\n"
        "4\n"  # Important on Lena's FYI (Draft 1 · Important 1 · Not important 1 · Important 2)
        "/quit\n"
    )
    async with open_runtime(settings, embedder=HashingEmbedder()) as runtime:
        adapter = ConsoleAdapter(
            clone=runtime.clone,
            user="me",
            out_dir=tmp_path / "out",
            stdin=io.StringIO(script),
            stdout=out,
            interactive=False,
        )
        await adapter.run()
        assert await adapter.notify(ME, Reply(text="Digest: nothing is waiting for you."))
        assert not await adapter.notify(UserRef(platform="slack", user_id="U1"), Reply(text="x"))
    text = out.getvalue()
    assert "(triaged: no reply needed; `/clone inbox` lists what waits)" in text
    assert "2 waiting, most important first:" in text
    assert "1. priya (" in text and "needs a reply" in text
    assert "[1] Draft 1" in text and "Important 2" in text
    assert "Drafts for priya" in text
    assert "Noted: lena's message is important." in text
    assert text.rstrip().endswith("Digest: nothing is waiting for you.")


async def test_a_triage_result_carries_one_tap_important_buttons(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data")
    async with open_runtime(settings, embedder=HashingEmbedder()) as runtime:
        await runtime.clone.import_sample(ME)
        first = io.StringIO()
        adapter = ConsoleAdapter(
            clone=runtime.clone,
            user="me",
            out_dir=tmp_path / "out",
            stdin=io.StringIO("> priya: can you review my PR before the release today?\n"),
            stdout=first,
            interactive=False,
        )
        await adapter.run()
        actions = next(line for line in first.getvalue().splitlines() if line.startswith("[1]"))
        number = actions.split("] Not important")[0].rsplit("[", 1)[1]
        assert "Important" in actions and "Dismiss" in actions
        # The same console session goes on: press "Not important".
        adapter._stdin = io.StringIO(f"{number}\n")
        second = io.StringIO()
        adapter._stdout = second
        await adapter.run()
        assert "Noted: not important." in second.getvalue()
        account = await runtime.clone.account(ME)
        persona = await runtime.clone.active_persona(account)
        labels = await runtime.storage.labels.list(account.id, persona.id)
        assert [x.kind for x in labels] == ["not_important"]
