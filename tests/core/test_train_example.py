"""``train --example`` in chat: the shipped real example, on every platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bootstrap import open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import CommandInvocation, UserRef
from core.samples import EXAMPLE_OWNER


@pytest.mark.parametrize("spelling", ["/clone train --example", "/train example"])
async def test_train_example_imports_the_real_example_as_its_helper(
    tmp_path: Path, spelling: str
) -> None:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data")
    async with open_runtime(settings, embedder=HashingEmbedder()) as runtime:
        user = UserRef(platform="telegram", user_id="42")
        (reply,) = await runtime.clone.handle_command(
            CommandInvocation(user=user, name="", text=spelling)
        )
        assert "Trained on the real example" in reply.text and "CC-BY-4.0" in reply.text
        assert f"'{EXAMPLE_OWNER}'" in reply.text
        assert "3,033 messages (3,033 new) in 6 conversations" in reply.text
        assert "386 written by you, 321 of them replies." in reply.text
        (help_reply,) = await runtime.clone.handle_command(
            CommandInvocation(user=user, name="", text="/clone help")
        )
        assert "--example" in help_reply.text
