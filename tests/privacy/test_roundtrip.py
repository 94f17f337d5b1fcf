"""Export → erase → import of the export restores the same messages and the same profile."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.importers import ImportFormatError, detect_format, open_import
from bot.bootstrap import Runtime
from bot.cli import main
from core.models import CommandInvocation, Message, UserRef
from core.privacy import EXPORT_MEMBER, RestorableExport
from tests.privacy.conftest import canary

OWNER = UserRef(platform="telegram", user_id="owner-1")


def jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def work_history(secret: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for n in range(12):
        rows.append(
            {
                "id": f"w{n}q",
                "conversation": "dm:bo",
                "thread": None,
                "sender": "bo",
                "text": f"can you look at ticket {n}? {secret}",
                "sent_at": f"2026-02-0{1 + n % 9}T09:{n:02d}:00+00:00",
                "reply_to": None,
            }
        )
        rows.append(
            {
                "id": f"w{n}a",
                "conversation": "dm:bo",
                "thread": "t1" if n % 2 else None,
                "sender": "ana",
                "text": f"sure, ticket {n} today!" if n % 3 else f"no - ticket {n} can wait",
                "sent_at": f"2026-02-0{1 + n % 9}T09:{n:02d}:30+00:00",
                "reply_to": f"w{n}q",
            }
        )
    return rows


async def command(rt: Runtime, name: str, text: str = "", *, user: UserRef = OWNER) -> str:
    replies = await rt.clone.handle_command(CommandInvocation(user=user, name=name, text=text))
    return "\n".join(r.text for r in replies)


async def snapshot(rt: Runtime, user: UserRef) -> dict[str, object]:
    """Every held message per persona (all fields and flags) and each persona's profile."""
    clone = rt.clone
    account = await clone.account(user)
    personas = await rt.storage.personas.list(account.id)
    out: dict[str, object] = {}
    for persona in personas:
        messages = [
            (
                m.message,
                m.from_owner,
                m.source,
            )
            async for m in rt.storage.messages.iter(account.id, persona.id)
        ]
        await command(rt, "persona", f"use {persona.name}", user=user)
        profile = await clone.profile_json(user)
        out[persona.name] = {
            "owner_names": sorted(persona.owner_names),
            "messages": messages,
            "profile": profile,
        }
    account = await clone.account(user)
    active = next(p.name for p in personas if p.id == account.active_persona)
    return {"personas": out, "active": active}


async def seed(rt: Runtime, tmp_path: Path, secret: str) -> None:
    await rt.clone.import_sample(OWNER)
    await command(rt, "persona", "new work")
    await rt.clone.import_file(
        OWNER, jsonl(tmp_path / "work.jsonl", work_history(secret)), me="ana"
    )
    await command(rt, "train", "on")
    assert await rt.clone.observe_owner_message(
        OWNER,
        Message(
            id="tg:77",
            conversation="tg:chat",
            thread=None,
            sender="ana",
            text=f"live one {secret}",
            sent_at=datetime(2026, 2, 20, tzinfo=UTC),
        ),
    )


async def test_export_erase_import_restores_messages_and_profile(
    runtime: Runtime, tmp_path: Path
) -> None:
    secret = canary()
    await seed(runtime, tmp_path, secret)
    before = await snapshot(runtime, OWNER)
    assert {"default", "work"} <= set(before["personas"])  # type: ignore[arg-type]

    [exported] = await runtime.clone.handle_command(
        CommandInvocation(user=OWNER, name="privacy", text="export", is_private=True)
    )
    assert exported.file is not None and exported.file_name == "minime-export.zip"
    archive = tmp_path / "minime-export.zip"
    archive.write_bytes(exported.file)
    assert detect_format(archive) == "minime"
    with zipfile.ZipFile(archive) as opened:
        held = json.loads(opened.read(EXPORT_MEMBER))
    for name, persona in before["personas"].items():  # type: ignore[attr-defined]
        measured = {k: v for k, v in persona["profile"].items() if k != "persona"}
        assert held["profiles"][name] == json.loads(json.dumps(measured))
    assert {"identities", "messages", "drafts", "feedback", "approvals"} <= set(held)

    erased = await command(runtime, "privacy", "erase confirm")
    assert "Erased" in erased
    assert await runtime.storage.accounts.resolve(OWNER, create=False) is None

    summary = await runtime.clone.import_file(OWNER, archive)  # format auto, no --me
    total = sum(len(p["messages"]) for p in before["personas"].values())  # type: ignore[attr-defined]
    assert summary.format == "minime" and summary.messages == summary.new == total
    after = await snapshot(runtime, OWNER)
    assert after == before

    again = await runtime.clone.import_file(OWNER, archive)
    assert again.new == 0  # a re-import adds nothing


async def test_restore_into_a_fresh_database(runtime: Runtime, tmp_path: Path) -> None:
    """The same archive loads on another machine (another database, another master key)."""
    from bot.bootstrap import open_runtime
    from bot.settings import load_settings
    from core.engines.embedding import HashingEmbedder

    await seed(runtime, tmp_path, canary())
    before = await snapshot(runtime, OWNER)
    [exported] = await runtime.clone.handle_command(
        CommandInvocation(user=OWNER, name="privacy", text="export")
    )
    assert exported.file is not None
    archive = tmp_path / "export.zip"
    archive.write_bytes(exported.file)
    other = tmp_path / "elsewhere"
    other.mkdir()
    async with open_runtime(load_settings({}, data_dir=other), embedder=HashingEmbedder()) as fresh:
        await fresh.clone.import_file(OWNER, archive)
        assert await snapshot(fresh, OWNER) == before


async def test_export_only_in_a_private_chat(runtime: Runtime) -> None:
    await runtime.clone.import_sample(OWNER)
    [reply] = await runtime.clone.handle_command(
        CommandInvocation(user=OWNER, name="privacy", text="export", is_private=False)
    )
    assert reply.file is None and "private chat" in reply.text
    [reply] = await runtime.clone.handle_command(
        CommandInvocation(user=OWNER, name="privacy", text="erase confirm", is_private=False)
    )
    assert "private chat" in reply.text
    assert await runtime.storage.accounts.resolve(OWNER, create=False) is not None


def test_the_export_reads_as_a_plain_import_too(tmp_path: Path) -> None:
    """Through the generic importer interface (eval, scripts): messages, owner from the export."""
    data = {
        "format": "minime-export",
        "version": 1,
        "account": {"active_persona": "default"},
        "personas": [{"name": "default", "owner_names": ["ana"]}],
        "messages": [
            {
                "id": "1",
                "conversation": "c",
                "thread": None,
                "sender": "bo",
                "text": "hi?",
                "sent_at": "2026-01-01T00:00:00+00:00",
                "reply_to": None,
                "persona": "default",
                "from_owner": False,
                "source": "import",
            },
            {
                "id": "2",
                "conversation": "c",
                "thread": None,
                "sender": "ana",
                "text": "hello",
                "sent_at": "2026-01-01T00:01:00+00:00",
                "reply_to": "1",
                "persona": "default",
                "from_owner": True,
                "source": "live",
            },
        ],
    }
    bare = tmp_path / "minime-export.json"
    bare.write_text(json.dumps(data, indent=1))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(EXPORT_MEMBER, json.dumps(data))
    zipped = tmp_path / "export.zip"
    zipped.write_bytes(buffer.getvalue())
    for path in (bare, zipped):
        assert detect_format(path) == "minime"
        source = open_import(path)
        assert isinstance(source, RestorableExport)
        assert source.resolve_owner(None) == "ana"
        assert [m.id for m in source.messages()] == ["1", "2"]
    data["version"] = 99
    bare.write_text(json.dumps(data))
    with pytest.raises(ImportFormatError, match="version 99"):
        list(open_import(bare).messages())


@pytest.mark.slow
def test_cli_export_erase_import(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    history = jsonl(tmp_path / "h.jsonl", work_history(canary()))
    assert (
        main(["--data-dir", str(data_dir), "import", str(history), "--user", "u", "--me", "ana"])
        == 0
    )
    assert main(["--data-dir", str(data_dir), "profile", "--user", "u", "--json"]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "profile", "--user", "u", "--json"]) == 0
    profile_before = json.loads(capsys.readouterr().out)
    archive = tmp_path / "out.zip"
    assert (
        main(["--data-dir", str(data_dir), "export", "--user", "u", "--output", str(archive)]) == 0
    )
    assert main(["--data-dir", str(data_dir), "erase", "--user", "u", "--yes"]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "import", str(archive), "--user", "u", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (
        summary["format"] == "minime" and summary["new"] == 24 and summary["owner_messages"] == 12
    )
    assert main(["--data-dir", str(data_dir), "profile", "--user", "u", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == profile_before
