"""``train`` on Telegram: an export sent as a document is downloaded, imported, and reported."""

from __future__ import annotations

from adapters.telegram.adapter import TelegramAdapter
from bot.bootstrap import Runtime
from tests.adapters.telegram.conftest import OWNER, OWNER_ID, PAYLOADS, deliver, payload
from tests.adapters.telegram.fake_bot_api import FakeBotApi

EXPORTS = PAYLOADS / "exports"


async def _owner_messages(runtime: Runtime) -> int:
    account = await runtime.clone.account(OWNER)
    persona = await runtime.clone.active_persona(account)
    return await runtime.storage.messages.count(account.id, persona.id)


def _upload(fake: FakeBotApi, name: str, export: str, **changes: object) -> dict[str, object]:
    update = payload(name)
    file_id = update["message"]["document"]["file_id"]
    fake.files[file_id] = (EXPORTS / export).read_bytes()
    update["message"]["document"].update(changes)
    return update


async def test_a_telegram_export_is_imported_with_progress_and_a_summary(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    before = await _owner_messages(runtime)
    await deliver(adapter, _upload(fake_api, "document_export.json", "result.json"))
    await adapter.drain()

    (status,) = fake_api.results("sendMessage")
    assert status["chat"]["id"] == OWNER_ID and status["text"] == "⏳ Importing result.json…"
    assert fake_api.ok("getFile") and fake_api.ok("download")
    edits = [e["text"] for e in fake_api.ok("editMessageText")]
    assert all(e["message_id"] == status["message_id"] for e in fake_api.ok("editMessageText"))
    assert any("messages read" in text for text in edits[:-1]), "progress, edited in place"
    summary = edits[-1]
    assert summary.startswith("✓ Imported result.json: 10 messages (10 new) in 1 conversation")
    assert "5 written by you" in summary
    assert await _owner_messages(runtime) == before + 10
    workdir = runtime.settings.data_dir / "telegram"
    assert list(workdir.iterdir()) == [], "the downloaded export is deleted"


async def test_an_export_that_does_not_say_whose_it_is_uses_the_uploaders_id(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    await deliver(
        adapter,
        _upload(fake_api, "document_export.json", "single_chat.json", file_name="bob.json"),
    )
    await adapter.drain()
    summary = fake_api.ok("editMessageText")[-1]["text"]
    assert summary.startswith("✓ Imported bob.json") and "5 written by you" in summary


async def test_the_caption_names_the_owner(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    await deliver(adapter, _upload(fake_api, "document_with_me.json", "WhatsApp Chat with Bob.txt"))
    await adapter.drain()
    summary = fake_api.ok("editMessageText")[-1]["text"]
    assert summary.startswith("✓ Imported WhatsApp Chat with Bob.txt: 6 messages"), summary
    assert "3 written by you" in summary


async def test_a_file_that_is_no_export_is_reported_without_its_server_path(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    before = await _owner_messages(runtime)
    await deliver(
        adapter,
        _upload(fake_api, "document_export.json", "not_an_export.json", file_name="notes.json"),
    )
    await adapter.drain()
    report = fake_api.ok("editMessageText")[-1]["text"]
    assert report.startswith("✗ I couldn't import notes.json")
    assert str(runtime.settings.data_dir) not in report
    assert await _owner_messages(runtime) == before


async def test_files_over_twenty_megabytes_are_not_downloaded(
    adapter: TelegramAdapter, fake_api: FakeBotApi
) -> None:
    await deliver(adapter, payload("document_too_big.json"))
    await adapter.drain()
    (hint,) = fake_api.ok("sendMessage")
    assert "20 MB" in hint["text"]
    assert fake_api.ok("getFile") == []


async def test_train_sample_from_the_menu(adapter: TelegramAdapter, fake_api: FakeBotApi) -> None:
    await deliver(adapter, payload("command_train_sample.json"))
    (reply,) = fake_api.ok("sendMessage")
    assert "sample persona" in reply["text"]
