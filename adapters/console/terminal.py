"""The console on a terminal: line editing, history, bracketed paste and completion.

Built on prompt_toolkit (the adapter reads lines through :class:`TerminalReader` only when stdin
is a terminal; a pipe keeps the plain line-by-line reader, so scripts and tests see the same
output as ever):

- **Editing**: the usual keys (arrows, Home/End, Ctrl-A/E/K/U/W, Alt-B/F…), and ↑/↓ through the
  history, which is kept per data dir in a file only its owner can read (mode 0600).
- **Paste**: a bracketed paste is inserted whole, newlines included, so a multi-line message is
  one message, and nothing is cut at the terminal's 4,095-character line limit (raw mode).
- **Continuation**: a line that ends with ``\\`` continues on the next one; Alt-Enter (or Esc then
  Enter) inserts a newline. Enter sends everything as one message.
- **Completion**: Tab completes ``/clone`` commands and their subcommands (from the shared
  grammar's table, so it offers exactly what exists).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.patch_stdout import patch_stdout

from core.commands import COMMANDS, ROOT, CommandError, parse

CONSOLE_WORDS: dict[str, str] = {"/quit": "leave the console"}
"""The console's own words, next to the shared grammar's commands."""

HISTORY_FILE = "console-history"

ARGUMENT_WORDS: dict[str, tuple[str, ...]] = {
    "train": ("--sample", "--example", "--me", "on", "off"),
    "digest": ("off", "followup"),
    "onboard": ("vips", "hours", "topics", "wait", "tz"),
    "post": ("x", "linkedin", "bluesky"),
}
"""Literal words of commands without subcommands, as their usage in the grammar spells them
(a test checks each one is in that usage)."""


class CommandCompleter(Completer):
    """Completes ``/clone <command> [<subcommand>]`` (and ``/<command>``) from the grammar."""

    def __init__(self) -> None:
        self._summaries = {spec.name: spec.summary for spec in COMMANDS}
        self._subcommands = {
            spec.name: spec.subcommands or ARGUMENT_WORDS.get(spec.name, ()) for spec in COMMANDS
        }

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        """Completions for the word at the cursor."""
        text = document.text_before_cursor
        if not text.startswith("/") or "\n" in text:
            return
        words = text.split(" ")
        current = words[-1]
        before = [w for w in words[:-1] if w]
        if not before:
            firsts = {f"/{ROOT}": "every command of your clone", **CONSOLE_WORDS}
            firsts.update({f"/{name}": summary for name, summary in self._summaries.items()})
            yield from _matching(current, firsts)
            return
        if before[0] == f"/{ROOT}":
            before = before[1:]
        else:
            before = [before[0].removeprefix("/"), *before[1:]]
        if not before:
            yield from _matching(current, self._summaries)
        elif len(before) == 1 and before[0] in self._subcommands:
            yield from _matching(current, dict.fromkeys(self._subcommands[before[0]], ""))


def _matching(prefix: str, words: dict[str, str]) -> Iterable[Completion]:
    for word, meta in words.items():
        if word.startswith(prefix) and word != prefix:
            yield Completion(word, start_position=-len(prefix), display_meta=meta or None)


def _key_bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.complete_state is not None and buffer.complete_state.current_completion:
            buffer.apply_completion(buffer.complete_state.current_completion)
            return
        if buffer.document.text_before_cursor.endswith("\\"):
            buffer.delete_before_cursor(1)
            buffer.insert_text("\n")  # continuation: the message goes on
            return
        buffer.validate_and_handle()

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return bindings


def holds_secret(line: str) -> bool:
    """Whether a typed line carries credentials (``connect …``): never written to the history."""
    try:
        return parse(line).name == "connect"
    except CommandError:
        return False


class PrivateHistory(FileHistory):
    """The history file, without the lines that carry credentials."""

    def store_string(self, string: str) -> None:
        if not holds_secret(string):
            super().store_string(string)


def private_history(path: Path) -> FileHistory:
    """The history file, created readable by its owner only (it holds what was typed, but
    never a ``connect`` line with its credentials)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    path.chmod(0o600)
    return PrivateHistory(str(path))


class TerminalReader:
    """Reads one message or command at a time from a terminal, with prompt_toolkit.

    Args:
        history_path: where the history is kept (``<data dir>/console-history``); ``None``
            keeps it in memory only.
        input, output: prompt_toolkit's input and output (tests pass a pipe input and a
            ``DummyOutput``); default: the process's terminal.
    """

    def __init__(
        self, *, history_path: Path | None = None, input: Any = None, output: Any = None
    ) -> None:
        self._history_path = history_path
        history: History = (
            private_history(history_path) if history_path is not None else InMemoryHistory()
        )
        self._session: PromptSession[str] = PromptSession(
            history=history,
            completer=CommandCompleter(),
            complete_while_typing=False,
            auto_suggest=AutoSuggestFromHistory(),
            key_bindings=_key_bindings(),
            prompt_continuation=lambda width, line_number, wrap_count: "." * (width - 1) + " ",
            enable_history_search=False,
            input=input,
            output=output,
        )

    async def readline(self, prompt: str) -> str | None:
        """The next line (it may hold newlines: a paste, a continuation); ``None`` at Ctrl-D.

        Ctrl-C clears the line being typed and asks again.
        """
        while True:
            try:
                return await self._session.prompt_async(prompt)
            except KeyboardInterrupt:
                continue
            except EOFError:
                return None

    def printing(self) -> AbstractContextManager[Any]:
        """While inside, text written to ``sys.stdout`` (a digest arriving while you type) is
        printed above the prompt instead of through it."""
        if self._session.app.output.__class__.__name__ == "DummyOutput":
            return nullcontext()
        return patch_stdout(raw=True)

    def forget(self) -> None:
        """Drop the history, in memory and on disk (after ``privacy erase``)."""
        self._session.history = InMemoryHistory()
        self._session.default_buffer.history = self._session.history
        if self._history_path is not None:
            self._history_path.unlink(missing_ok=True)
