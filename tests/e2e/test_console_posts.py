"""A post from chat to published, through the console adapter (scripted like a pipe) and the
local fake networks: `post`, `connect`, the numbered Publish, history, export."""

from __future__ import annotations

import io
from pathlib import Path

from adapters.console.adapter import ConsoleAdapter
from bot.bootstrap import open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from tests.adapters.networks.fake_networks import fake_networks


async def test_a_bluesky_post_goes_from_chat_to_published_once(tmp_path: Path) -> None:
    async with fake_networks() as fakes:
        b = fakes.bluesky
        settings = load_settings({}, data_dir=tmp_path / "data", networks=fakes.settings())
        (tmp_path / "data").mkdir()
        out = io.StringIO()
        script = (
            "/clone train --sample\n"
            f"/clone connect bluesky {b.handle} {b.app_password}\n"
            "/clone post bluesky the launch checklist and search filters\n"
            "1\n"  # Publish
            "/clone posts --status published\n"
            "/clone posts export csv\n"
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
        text = out.getvalue()
        assert "[1] Publish  [2] Edit  [3] Regenerate  [4] Schedule  [5] Dismiss" in text
        assert "✓ Published to Bluesky" in text
        # The secret shows only where the typed line is echoed (a terminal shows it as typed).
        assert [line for line in text.splitlines() if b.app_password in line] == [
            f"you> /clone connect bluesky {b.handle} {b.app_password}"
        ]
        assert text.count("✓ Published to Bluesky") == 1 and len(b.records) >= 1
        assert "[published] Bluesky · default" in text
        assert (tmp_path / "out" / "minime-posts.csv").exists() or "minime-posts.csv" in text
