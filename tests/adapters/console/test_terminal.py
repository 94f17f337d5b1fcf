"""The interactive console through prompt_toolkit's own test harness (a pipe input, no terminal).

Keys are sent as a terminal sends them: arrows as escape sequences, Enter as ``\\r``, a paste
between the bracketed-paste markers ``ESC[200~`` … ``ESC[201~``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.input.base import PipeInput
from prompt_toolkit.output import DummyOutput

from adapters.console.terminal import CommandCompleter, TerminalReader

LEFT, UP, HOME = "\x1b[D", "\x1b[A", "\x01"
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
ENTER = "\r"


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as inp:
        yield inp


def reader(pipe: PipeInput, history: Path | None = None) -> TerminalReader:
    return TerminalReader(history_path=history, input=pipe, output=DummyOutput())


async def read(term: TerminalReader, keys: str, pipe: PipeInput) -> str | None:
    pipe.send_text(keys)
    return await asyncio.wait_for(term.readline("you> "), timeout=10)


async def read_slowly(term: TerminalReader, chunks: list[str], pipe: PipeInput) -> str | None:
    """Keys in chunks with a pause between (completion runs in the background, as it would
    while a person reads the menu)."""

    async def type_() -> None:
        for chunk in chunks:
            pipe.send_text(chunk)
            await asyncio.sleep(0.3)

    typing = asyncio.create_task(type_())
    line = await asyncio.wait_for(term.readline("you> "), timeout=10)
    await typing
    return line


async def test_line_editing_moves_the_cursor_and_inserts(pipe: PipeInput) -> None:
    term = reader(pipe)
    # "helo" ← "l" → "hello"; Home, then "> bob: " in front.
    assert await read(term, f"helo{LEFT}l{HOME}> bob: {ENTER}", pipe) == "> bob: hello"


async def test_history_is_kept_per_data_dir_and_private(pipe: PipeInput, tmp_path: Path) -> None:
    path = tmp_path / "data" / "console-history"
    assert await read(reader(pipe, path), f"/clone inbox{ENTER}", pipe) == "/clone inbox"
    assert path.stat().st_mode & 0o777 == 0o600
    # A new session on the same data dir: ↑ brings the line back.
    assert await read(reader(pipe, path), f"{UP}{ENTER}", pipe) == "/clone inbox"
    other = tmp_path / "other" / "console-history"
    assert await read(reader(pipe, other), f"{UP}x{ENTER}", pipe) == "x"


async def test_a_bracketed_paste_of_three_lines_is_one_message(pipe: PipeInput) -> None:
    pasted = "Hi Sam,\r\ncan you review my PR today?\r\nThanks, Elena"
    line = await read(reader(pipe), f"> elena: {PASTE_START}{pasted}{PASTE_END}{ENTER}", pipe)
    assert line == "> elena: Hi Sam,\ncan you review my PR today?\nThanks, Elena"


async def test_a_10000_character_paste_arrives_whole(pipe: PipeInput) -> None:
    body = ("word " * 2000).strip() + "!"
    assert len(body) == 10_000
    line = await read(reader(pipe), f"> {PASTE_START}{body}{PASTE_END}{ENTER}", pipe)
    assert line == f"> {body}"


async def test_continuation_and_alt_enter_make_multi_line_messages(pipe: PipeInput) -> None:
    term = reader(pipe)
    assert await read(term, f"> bob: first\\{ENTER}second{ENTER}", pipe) == "> bob: first\nsecond"
    assert await read(term, f"> a\x1b{ENTER}b{ENTER}", pipe) == "> a\nb"


async def test_tab_completes_clone_commands_from_the_grammar(pipe: PipeInput) -> None:
    term = reader(pipe)
    assert await read_slowly(term, ["/clone inb\t", ENTER], pipe) == "/clone inbox"
    assert await read_slowly(term, ["/clone persona ne\t", ENTER], pipe) == "/clone persona new"
    # Ambiguous (/quit, /quality): the first Tab opens the menu, the second picks its first,
    # Enter takes the pick (the menu closes) and Enter again sends the line.
    assert await read_slowly(term, ["/qu\t", "\t", ENTER, ENTER], pipe) == "/quit"


def test_the_completer_offers_exactly_the_grammar() -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from core.commands import COMMANDS

    def words(text: str) -> set[str]:
        found = CommandCompleter().get_completions(Document(text), CompleteEvent())
        return {c.text for c in found}

    assert words("/clone ") == {spec.name for spec in COMMANDS}
    assert words("/clone privacy ") == {
        "status",
        "export",
        "erase",
        "pause",
        "resume",
        "disclosure",
    }
    assert words("/clone draft ") == set()
    assert words("/clone train --") == {"--sample", "--example", "--me"}
    assert words("/train o") == {"on", "off"}
    assert words("> /clone") == set()


async def test_ctrl_d_ends_and_ctrl_c_clears_the_line(pipe: PipeInput) -> None:
    term = reader(pipe)
    assert await read(term, f"half a line\x03/clone help{ENTER}", pipe) == "/clone help"
    assert await read(term, "\x04", pipe) is None


def test_argument_words_are_spelled_as_the_grammar_spells_them() -> None:
    from adapters.console.terminal import ARGUMENT_WORDS
    from core.commands import SPECS

    for name, words in ARGUMENT_WORDS.items():
        spelled = set(re.split(r"[\s|<>\[\]]+", SPECS[name].usage))
        for word in words:
            assert word in spelled, (name, word)


async def test_a_connect_line_with_credentials_never_reaches_the_history_file(
    pipe: PipeInput, tmp_path: Path
) -> None:
    path = tmp_path / "data" / "console-history"
    line = "/clone connect bluesky me.bsky.social abcd-efgh-ijkl-mnop"
    assert await read(reader(pipe, path), f"{line}{ENTER}", pipe) == line
    assert await read(reader(pipe, path), f"/clone posts{ENTER}", pipe) == "/clone posts"
    kept = path.read_text(encoding="utf-8")
    assert "/clone posts" in kept and "abcd-efgh-ijkl-mnop" not in kept
