"""The whole interactive console (adapter + prompt_toolkit reader + a real clone) through
prompt_toolkit's pipe input: what a person pasting into a terminal gets."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.input.base import PipeInput
from prompt_toolkit.output import DummyOutput

from adapters.console.adapter import ConsoleAdapter
from adapters.console.terminal import TerminalReader
from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder

PASTE_START, PASTE_END, ENTER, UP = "\x1b[200~", "\x1b[201~", "\r", "\x1b[A"


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as inp:
        yield inp


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data", max_message_chars=8_000)
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        yield rt


async def session(
    runtime: Runtime, pipe: PipeInput, keys: list[str], tmp_path: Path
) -> tuple[str, TerminalReader]:
    """Run the console while ``keys`` are typed (one chunk per line, a pause between)."""
    out = io.StringIO()
    reader = TerminalReader(
        history_path=tmp_path / "data" / "console-history", input=pipe, output=DummyOutput()
    )
    adapter = ConsoleAdapter(
        clone=runtime.clone,
        user="me",
        out_dir=tmp_path / "out",
        stdin=io.StringIO(),
        stdout=out,
        reader=reader,
    )

    async def type_() -> None:
        for chunk in keys:
            pipe.send_text(chunk)
            await asyncio.sleep(0.2)

    typing = asyncio.create_task(type_())
    await asyncio.wait_for(adapter.run(), timeout=60)
    await typing
    return out.getvalue(), reader


async def test_a_three_line_paste_is_drafted_as_one_message(
    runtime: Runtime, pipe: PipeInput, tmp_path: Path
) -> None:
    pasted = "Hi Sam,\r\ncan you review my PR today?\r\nThanks, Elena"
    out, _ = await session(
        runtime,
        pipe,
        [f"/clone train --sample{ENTER}", f"> elena: {PASTE_START}{pasted}{PASTE_END}{ENTER}", f"/quit{ENTER}"],
        tmp_path,
    )  # fmt: skip
    assert "Tab completes commands" in out  # the terminal's hint, never shown to a pipe
    assert out.count("Drafts for elena") == 1
    assert "Hi Sam, can you review my PR today? Thanks, Elena" in out  # the card quotes it whole
    assert "Type '/clone help'" not in out  # no line of the paste was taken on its own


async def test_a_paste_without_a_prefix_is_a_message_too(
    runtime: Runtime, pipe: PipeInput, tmp_path: Path
) -> None:
    pasted = "Hi Sam,\r\ncan you review my PR today?\r\nThanks"
    out, _ = await session(
        runtime,
        pipe,
        [f"/clone train --sample{ENTER}", f"{PASTE_START}{pasted}{PASTE_END}{ENTER}", f"/quit{ENTER}"],
        tmp_path,
    )  # fmt: skip
    assert out.count("Drafts for them") == 1


async def test_a_10000_character_paste_reaches_the_size_rules_whole(
    runtime: Runtime, pipe: PipeInput, tmp_path: Path
) -> None:
    body = ("word " * 2000).strip() + "!"
    out, _ = await session(
        runtime,
        pipe,
        [f"/clone train --sample{ENTER}", f"> {PASTE_START}{body}{PASTE_END}{ENTER}", f"/quit{ENTER}"],
        tmp_path,
    )  # fmt: skip
    # Not cut at the terminal's 4,095 characters: the cap (8,000 here) sees all 10,000.
    assert "That message is 10,000 characters long; I read messages of up to 8,000" in out


async def test_history_comes_back_next_time_and_goes_with_privacy_erase(
    runtime: Runtime, pipe: PipeInput, tmp_path: Path
) -> None:
    history = tmp_path / "data" / "console-history"
    await session(runtime, pipe, [f"/clone help{ENTER}", f"/quit{ENTER}"], tmp_path)
    assert "/clone help" in history.read_text()
    out, _ = await session(runtime, pipe, [f"{UP}{UP}{ENTER}", f"/quit{ENTER}"], tmp_path)
    assert "minime — your clone" in out  # ↑↑ brought back /clone help
    await session(
        runtime,
        pipe,
        [f"/clone train --sample{ENTER}", f"/clone privacy erase confirm{ENTER}", f"/quit{ENTER}"],
        tmp_path,
    )  # fmt: skip
    assert not history.exists() or "privacy erase" not in history.read_text()
    assert "train --sample" not in (history.read_text() if history.exists() else "")
