"""End to end through the console adapter: the README's first run, scripted through a pipe."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.console.adapter import ConsoleAdapter
from bot.bootstrap import open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from tests.canary_scan import canary_files

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_first_run_through_a_pipe_prints_a_draft_with_its_actions(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIME_")}
    env.update(MINIME_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input="/clone train --sample\n> can you review my PR today?\n/quit\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "Trained on the sample persona" in out
    assert "needs a reply" in out
    assert "1. " in out and "sounds like you" in out
    for action in ("Send", "Edit", "Regenerate", "Dismiss"):
        assert action in out
    assert out.rstrip().endswith("bye")


async def console(tmp_path: Path, script: str) -> str:
    settings = load_settings({}, data_dir=tmp_path / "data")
    (tmp_path / "data").mkdir(exist_ok=True)
    out = io.StringIO()
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
    return out.getvalue()


async def test_send_edit_regenerate_dismiss_go_through_the_approval_path(tmp_path: Path) -> None:
    out = await console(
        tmp_path,
        "/clone train --sample\n"
        "> priya: can you review my PR today?\n"
        "1\n"  # Send 1
        "1\n"  # again: nothing is shown any more, so it is not an action
        "> dev: could you take a look at my pull request?\n"
        "5\n"  # Regenerate
        "6\n"  # Dismiss the regenerated draft
        "> kenji: can you review my PR?\n"
        "4\n"  # Edit ...
        "sure, after standup\n"  # ... with the new text
        "/quit\n",
    )
    assert out.count("✓ sent to console:priya") == 1
    assert "✓ edited and sent to console:kenji: sure, after standup" in out
    assert "Dismissed." in out
    assert out.count("Drafts for dev") == 2, "regenerate shows new options"


async def test_commands_work_in_the_console(tmp_path: Path) -> None:
    out = await console(
        tmp_path,
        "/clone help\n/clone train --sample\n/clone persona new work\n/clone persona list\n"
        "/clone persona use default\n/clone inbox\n/clone privacy pause\n> hi?\n/clone privacy resume\n"
        "/clone nonsense\nwhat\n/quit\n",
    )
    assert "/clone draft <message>" in out
    assert "Created persona 'work'" in out and "* work" in out
    assert "Now using persona 'default'" in out
    assert "Nothing is waiting for you." in out
    assert "Your clone is paused" in out
    assert "I don't know the command 'nonsense'" in out
    assert "Type '/clone help'" in out


async def test_erase_removes_the_export_and_cards_the_console_wrote(tmp_path: Path) -> None:
    import secrets

    from bot.account_files import AccountFiles

    canary = f"CANARY{secrets.token_hex(8)}"
    data = tmp_path / "data"
    data.mkdir()
    settings = load_settings({}, data_dir=data)
    script = (
        "/clone train --sample\n"
        f"> can you check the {canary} report today?\n"
        "/clone privacy export\n/clone profile\n"
    )
    out = io.StringIO()
    async with open_runtime(settings, embedder=HashingEmbedder()) as runtime:
        adapter = ConsoleAdapter(
            clone=runtime.clone,
            user="me",
            out_dir=tmp_path / "out",
            files=AccountFiles(data),
            stdin=io.StringIO(script),
            stdout=out,
            interactive=False,
        )
        await adapter.run()
        written = [p for p in (data / "files").rglob("*") if p.suffix in (".zip", ".png")]
        assert {p.suffix for p in written} == {".zip", ".png"}, out.getvalue()
        assert all(p.stat().st_mode & 0o077 == 0 for p in written)
        assert canary_files(data, canary), "the scan sees the export before the erase"
        assert not (tmp_path / "out").exists()

        adapter = ConsoleAdapter(
            clone=runtime.clone,
            user="me",
            out_dir=tmp_path / "out",
            files=AccountFiles(data),
            stdin=io.StringIO("/clone privacy erase confirm\n"),
            stdout=out,
            interactive=False,
        )
        await adapter.run()
    assert "Erased." in out.getvalue()
    assert not any(p.exists() for p in written)
    assert canary_files(data, canary) == []


async def test_the_card_after_regenerate_keeps_important_and_not_important(tmp_path: Path) -> None:
    out = await console(
        tmp_path,
        "/clone train --sample\n> dev: could you take a look at my pull request?\n5\n/quit\n",
    )
    cards = out.split("Drafts for dev")
    assert len(cards) == 3, "the first card and the regenerated one"
    assert "Not important" in cards[1] and "Not important" in cards[2]
    assert out.count("Priority ") == 2, "each card under its triage result"


async def test_quality_in_the_console_prints_the_report_and_saves_its_picture(
    tmp_path: Path,
) -> None:
    out = await console(tmp_path, "/clone train --sample\n/clone quality\n/quit\n")
    assert "Persona 'default'. Quality of your clone" in out
    assert "Reply relevance" in out and "What would help most:" in out
    assert (tmp_path / "out" / "quality.png").read_bytes().startswith(b"\x89PNG")


async def test_persona_identity_stats_and_sharing_in_the_console(tmp_path: Path) -> None:
    out = await console(
        tmp_path,
        "/clone train --sample\n"
        "/clone persona template default professional\n"
        "/clone persona set default audience the platform team\n"
        "/clone persona show\n"
        "> priya: can you review my PR today?\n"
        "1\n"
        "/clone persona stats\n"
        "/clone persona share ask default with anyone-in-workspace quota 3/day\n"
        "/clone persona share ask ghost with anyone\n"
        "/clone persona template default pirate\n"
        "/clone privacy\n"
        "/quit\n",
    )
    assert "audience: the platform team" in out and "avoid: politics, gossip" in out
    assert "default: 1 offered · 1 sent" in out
    assert list((tmp_path / "out").glob("*.png")), "the stats picture is saved"
    assert "anyone on this workspace may now ask your clone 'default'" in out
    assert "No persona 'ghost' to share" in out
    assert "No template 'pirate'" in out
    assert "may ask your clone 'default' (you approve each answer)" in out
