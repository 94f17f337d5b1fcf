"""Commands as data: help and dispatch read one table, which refuses a command without a handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.app.commands import CommandRequest, CommandTable, Handler
from core.commands import COMMANDS, CommandSpec
from core.engines.embedding import HashingEmbedder
from core.models import CommandInvocation, Reply, UserRef

OWNER = UserRef(platform="local", user_id="owner")


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data")
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        yield rt


async def _echo(request: CommandRequest) -> Reply:
    return Reply(text=f"ran {request.args}")


def test_every_listed_command_has_a_handler_in_the_clone(runtime: Runtime) -> None:
    handlers = runtime.clone.app.handlers()
    listed = {spec.name for spec in COMMANDS}
    assert listed - {"help"} == set(handlers)
    assert runtime.clone.app.commands.specs == COMMANDS


def test_a_listed_command_without_a_handler_cannot_be_built(runtime: Runtime) -> None:
    handlers: dict[str, Handler] = dict(runtime.clone.app.handlers())
    del handlers["inbox"]
    with pytest.raises(ValueError, match="inbox"):
        CommandTable(runtime.clone.ctx, handlers, max_message_chars=100)


def test_a_handler_for_an_unlisted_command_cannot_be_built(runtime: Runtime) -> None:
    handlers: dict[str, Handler] = {**runtime.clone.app.handlers(), "frobnicate": _echo}
    with pytest.raises(ValueError, match="frobnicate"):
        CommandTable(runtime.clone.ctx, handlers, max_message_chars=100)


async def test_help_lists_exactly_the_commands_the_table_dispatches(runtime: Runtime) -> None:
    specs = (
        CommandSpec(name="help", usage="help", summary="this screen"),
        CommandSpec(name="inbox", usage="inbox", summary="what waits"),
    )
    table = CommandTable(runtime.clone.ctx, {"inbox": _echo}, max_message_chars=100, specs=specs)
    shown = table.help(prefix="/")
    assert "/inbox" in shown and "/help" in shown
    assert "/draft" not in shown
    [reply] = await table.handle(CommandInvocation(user=OWNER, name="", text="inbox"))
    assert reply.text == "ran ()"


async def test_every_listed_command_answers_without_a_placeholder(runtime: Runtime) -> None:
    clone = runtime.clone
    [help_reply] = await clone.handle_command(CommandInvocation(user=OWNER, name="", text="help"))
    for spec in COMMANDS:
        assert f"/clone {spec.usage}" in help_reply.text
    for spec in COMMANDS:
        replies = await clone.handle_command(
            CommandInvocation(user=OWNER, name="", text=spec.usage)
        )
        assert all("not available" not in r.text for r in replies), spec.name
