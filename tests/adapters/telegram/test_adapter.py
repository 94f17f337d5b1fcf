"""The Telegram adapter end to end against the local fake Bot API (PTB through ``base_url``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters.telegram.adapter import TelegramAdapter
from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import DraftStatus, Reply, utc_now
from core.privacy import Disclosure, apply_disclosure
from tests.adapters.telegram.conftest import (
    BOB_CHAT,
    CONNECTION,
    OWNER,
    OWNER_ID,
    OpenRuntime,
    adapter_for,
    click_on,
    click_with,
    deliver,
    payload,
)
from tests.adapters.telegram.fake_bot_api import FakeBotApi


def _draft_id(message: dict[str, Any]) -> str:
    data = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    return str(data.split(":")[1])


async def _status(runtime: Runtime, draft_id: str) -> DraftStatus:
    account = await runtime.clone.account(OWNER)
    draft = await runtime.storage.drafts.get(account.id, draft_id)
    assert draft is not None
    return draft.status


def _buttons(message: dict[str, Any]) -> list[list[str]]:
    return [[b["text"] for b in row] for row in message["reply_markup"]["inline_keyboard"]]


async def test_start_registers_the_command_menu(
    adapter: TelegramAdapter, fake_api: FakeBotApi
) -> None:
    (commands,) = fake_api.ok("setMyCommands")
    names = [c["command"] for c in commands["commands"]]
    for expected in [
        "start",
        "help",
        "train",
        "draft",
        "profile",
        "inbox",
        "persona",
        "post",
        "ask",
        "digest",
        "privacy",
        "link",
    ]:
        assert expected in names
    assert all(1 <= len(c["description"]) <= 256 for c in commands["commands"])


async def test_forward_then_send_posts_the_approved_text_exactly_once(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    await deliver(adapter, payload("forward_user.json"))
    (offer,) = fake_api.results("sendMessage")
    assert offer["chat"]["id"] == OWNER_ID
    assert "Bob Tanaka" in offer["text"] and "/100 sounds like you" in offer["text"]
    rows = _buttons(offer)
    assert [label.split()[-1] for label in rows[1]] == ["Edit", "Regenerate", "Dismiss"]
    assert all("Send" in label for label in rows[0])
    draft_id = _draft_id(offer)
    account = await runtime.clone.account(OWNER)
    draft = await runtime.storage.drafts.get(account.id, draft_id)
    assert draft is not None and draft.incoming.sender == "Bob Tanaka"

    mark = len(fake_api.calls)
    await deliver(adapter, click_on(offer, "Send 1", update_id=900001))
    after = fake_api.since(mark)
    (sent,) = after.ok("sendMessage")
    assert sent == {
        "chat_id": OWNER_ID,
        "text": draft.options[0].text,
        "link_preview_options": {"is_disabled": True},
    }
    assert len(after.ok("answerCallbackQuery")) == 1
    (closed,) = after.ok("editMessageText")
    assert "Approved" in closed["text"] and "reply_markup" not in closed
    assert await _status(runtime, draft_id) is DraftStatus.SENT

    # The same button again (a replay, or a second tap): refused, nothing sent.
    mark = len(fake_api.calls)
    await deliver(adapter, click_on(offer, "Send 1", update_id=900002))
    after = fake_api.since(mark)
    assert after.ok("sendMessage") == []
    (answer,) = after.ok("answerCallbackQuery")
    assert "already handled" in answer["text"] and answer["show_alert"] is True


async def test_the_same_update_twice_and_after_a_restart_is_handled_once(
    runtime_factory: OpenRuntime, fake_api: FakeBotApi
) -> None:
    forward = payload("forward_user.json")
    async with runtime_factory() as runtime, adapter_for(runtime, fake_api) as adapter:
        await deliver(adapter, forward)
        await deliver(adapter, forward)
    assert len(fake_api.ok("sendMessage")) == 1
    # A new process on the same database: the delivery log is persisted.
    async with runtime_factory() as runtime, adapter_for(runtime, fake_api) as adapter:
        await deliver(adapter, forward)
        assert len(fake_api.ok("sendMessage")) == 1
        # update_ids are not monotonic after idle periods: a lower, unseen id is still handled.
        await deliver(adapter, payload("forward_user.json", update_id=17))
        assert len(fake_api.ok("sendMessage")) == 2


async def test_forged_altered_foreign_and_expired_buttons_are_refused_untouched(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    await deliver(adapter, payload("forward_user.json"))
    (offer,) = fake_api.results("sendMessage")
    draft_id = _draft_id(offer)
    good = offer["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    action, draft, issued, mac = good.split(":")
    forged = [
        f"{action}:{draft}:{issued}:{'A' * len(mac)}",  # made-up signature
        f"{action[0]}1:{draft}:{issued}:{mac}",  # another option, same signature
        f"d{action[1]}:{draft}:{issued}:{mac}",  # another action
        f"{action}:{'0' * len(draft)}:{issued}:{mac}",  # another draft
        "s0:../../etc:1:xxxxxxxxxxx",
        "",
    ]
    stranger = {"id": 999, "is_bot": False, "first_name": "Mallory"}
    mark = len(fake_api.calls)
    for number, data in enumerate(forged):
        await deliver(adapter, click_with(offer, data, update_id=910000 + number))
    await deliver(adapter, click_with(offer, good, update_id=910100, user=stranger))
    after = fake_api.since(mark)
    answers = after.ok("answerCallbackQuery")
    assert len(answers) == len(forged) + 1
    assert all(a["show_alert"] and "isn't valid" in a["text"] for a in answers)
    assert {c.method for c in after.calls} == {"answerCallbackQuery"}
    assert await _status(runtime, draft_id) is DraftStatus.PENDING


async def test_an_expired_button_is_answered_clearly(
    runtime: Runtime, fake_api: FakeBotApi
) -> None:
    now = [utc_now()]
    async with adapter_for(runtime, fake_api, clock=lambda: now[0]) as adapter:
        await deliver(adapter, payload("forward_user.json"))
        (offer,) = fake_api.results("sendMessage")
        now[0] += timedelta(hours=49)
        mark = len(fake_api.calls)
        await deliver(adapter, click_on(offer, "Send 1", update_id=920001))
    after = fake_api.since(mark)
    (answer,) = after.ok("answerCallbackQuery")
    assert "expired" in answer["text"] and "Forward the message again" in answer["text"]
    assert after.ok("sendMessage") == []
    assert await _status(runtime, _draft_id(offer)) is DraftStatus.PENDING


async def test_edit_asks_for_the_new_text_and_sends_it(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    await deliver(adapter, payload("forward_user.json"))
    (offer,) = fake_api.results("sendMessage")
    await deliver(adapter, click_on(offer, "Edit", update_id=930001))
    prompt = fake_api.results("sendMessage")[-1]
    assert fake_api.ok("sendMessage")[-1]["reply_markup"]["force_reply"] is True
    assert "Reply to this message" in prompt["text"]
    assert "Editing" in fake_api.ok("editMessageText")[-1]["text"]

    reply = payload("edit_reply.json")
    reply["message"]["reply_to_message"].update(
        message_id=prompt["message_id"], text=prompt["text"]
    )
    mark = len(fake_api.calls)
    await deliver(adapter, reply)
    (sent,) = fake_api.since(mark).ok("sendMessage")
    assert sent["text"] == "sure, send it over and I'll look after lunch"
    assert sent["chat_id"] == OWNER_ID
    assert await _status(runtime, _draft_id(offer)) is DraftStatus.EDITED


async def test_dismiss_and_regenerate_update_the_draft_message_in_place(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    await deliver(adapter, payload("forward_user.json"))
    (offer,) = fake_api.results("sendMessage")
    await deliver(adapter, click_on(offer, "Regenerate", update_id=940001))
    fresh = fake_api.ok("editMessageText")[-1]
    assert fresh["reply_markup"]["inline_keyboard"], "new drafts come with new buttons"
    assert len(fake_api.ok("sendMessage")) == 1
    assert await _status(runtime, _draft_id(offer)) is DraftStatus.REJECTED

    fresh_message = fake_api.results("editMessageText")[-1]
    await deliver(adapter, click_on(fresh_message, "Dismiss", update_id=940002))
    closed = fake_api.ok("editMessageText")[-1]
    assert "Dismissed" in closed["text"] and "reply_markup" not in closed
    assert await _status(runtime, _draft_id(fresh_message)) is DraftStatus.REJECTED


async def test_pasted_text_and_draft_command_offer_drafts(
    adapter: TelegramAdapter, fake_api: FakeBotApi
) -> None:
    await deliver(adapter, payload("pasted_text.json"))
    await deliver(adapter, payload("command_draft.json"))
    offers = fake_api.results("sendMessage")
    assert len(offers) == 2
    assert all(o["reply_markup"]["inline_keyboard"] for o in offers)


async def test_help_is_telegram_spelled(adapter: TelegramAdapter, fake_api: FakeBotApi) -> None:
    await deliver(adapter, payload("command_start.json"))
    (shown,) = fake_api.ok("sendMessage")
    assert shown["parse_mode"] == "HTML"
    assert "/draft" in shown["text"] and "/clone" not in shown["text"]


async def test_ignored_updates_cause_no_calls(
    adapter: TelegramAdapter, fake_api: FakeBotApi
) -> None:
    mark = len(fake_api.calls)
    for name in ("group_message.json", "edited_message.json", "deleted_business_messages.json"):
        await deliver(adapter, payload(name))
    assert fake_api.since(mark).calls == []


async def test_train_with_a_server_path_is_refused(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    account = await runtime.clone.account(OWNER)
    persona = await runtime.clone.active_persona(account)
    before = await runtime.storage.messages.count(account.id, persona.id)
    await deliver(adapter, payload("command_train_path.json"))
    (hint,) = fake_api.ok("sendMessage")
    assert "as a document" in hint["text"]
    assert await runtime.storage.messages.count(account.id, persona.id) == before


# ----------------------------------------------------------------- Business


async def _connect(adapter: TelegramAdapter, name: str = "business_connection.json") -> None:
    await deliver(adapter, payload(name))


async def test_business_message_drafts_in_private_and_send_replies_on_the_owners_behalf(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    await _connect(adapter)
    (welcome,) = fake_api.ok("sendMessage")
    assert welcome["chat_id"] == OWNER_ID and "Connected" in welcome["text"]
    account = await runtime.clone.account(OWNER)
    stored = account.settings["telegram_business"]
    assert isinstance(stored, dict) and stored[CONNECTION]["can_reply"] is True

    await deliver(adapter, payload("business_message.json"))
    offer = fake_api.results("sendMessage")[-1]
    assert offer["chat"]["id"] == OWNER_ID, "drafts are offered in the owner's private chat"
    assert "Business" in offer["text"]
    draft = await runtime.storage.drafts.get(account.id, _draft_id(offer))
    assert draft is not None

    mark = len(fake_api.calls)
    await deliver(adapter, click_on(offer, "Send 1", update_id=950001))
    after = fake_api.since(mark)
    (sent,) = after.ok("sendMessage")
    assert sent["chat_id"] == BOB_CHAT
    assert sent["business_connection_id"] == CONNECTION
    # The bot posts as the owner: by default with a line saying so (privacy disclosure).
    assert sent["text"] == apply_disclosure(
        draft.options[0].text, Disclosure.LINE, owner_name="Alice"
    )
    assert "Business chat" in after.ok("editMessageText")[-1]["text"]
    assert await _status(runtime, draft.id) is DraftStatus.SENT


async def test_business_send_without_the_reply_right_sends_nothing(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    await _connect(adapter, "business_connection_readonly.json")
    assert "read-only" in fake_api.ok("sendMessage")[-1]["text"]
    await deliver(adapter, payload("business_message.json"))
    offer = fake_api.results("sendMessage")[-1]
    mark = len(fake_api.calls)
    await deliver(adapter, click_on(offer, "Send 1", update_id=960001))
    after = fake_api.since(mark)
    assert all(call.get("business_connection_id") is None for call in after.ok("sendMessage"))
    assert [c["chat_id"] for c in after.ok("sendMessage")] == [OWNER_ID]
    (retry,) = after.results("sendMessage")
    assert "Reply to messages" in retry["text"] and "Try again?" in retry["text"]
    assert "Not sent" in after.ok("editMessageText")[-1]["text"]
    # The old approval is spent; the owner gets the same draft again, pending, with buttons.
    assert await _status(runtime, _draft_id(offer)) is DraftStatus.EXPIRED
    assert await _status(runtime, _draft_id(retry)) is DraftStatus.PENDING
    await _connect(adapter, "business_connection.json")
    mark = len(fake_api.calls)
    await deliver(adapter, click_on(retry, "Send 1", update_id=960002))
    (sent,) = fake_api.since(mark).ok("sendMessage")
    assert sent["business_connection_id"] == CONNECTION and sent["chat_id"] == BOB_CHAT


async def test_owners_own_and_bot_sent_business_messages_are_ignored(
    adapter: TelegramAdapter, fake_api: FakeBotApi
) -> None:
    await _connect(adapter)
    mark = len(fake_api.calls)
    await deliver(adapter, payload("business_message_from_owner.json"))
    await deliver(adapter, payload("business_message_by_bot.json"))
    assert fake_api.since(mark).calls == []


async def test_a_business_message_after_a_restart_looks_the_connection_up(
    runtime: Runtime, fake_api: FakeBotApi
) -> None:
    fake_api.business[CONNECTION] = payload("business_connection.json")["business_connection"]
    async with adapter_for(runtime, fake_api) as adapter:
        await deliver(adapter, payload("business_message.json"))
    assert fake_api.ok("getBusinessConnection") == [{"business_connection_id": CONNECTION}]
    (offer,) = fake_api.results("sendMessage")
    assert offer["chat"]["id"] == OWNER_ID


async def test_a_disabled_connection_stops_drafting(
    adapter: TelegramAdapter, fake_api: FakeBotApi
) -> None:
    await _connect(adapter)
    await _connect(adapter, "business_connection_disabled.json")
    assert "disconnected" in fake_api.ok("sendMessage")[-1]["text"]
    mark = len(fake_api.calls)
    await deliver(adapter, payload("business_message.json"))
    assert fake_api.since(mark).calls == []


async def test_privacy_export_arrives_as_a_document_and_inbox_lists_waiting_drafts(
    adapter: TelegramAdapter, fake_api: FakeBotApi
) -> None:
    await deliver(adapter, payload("forward_user.json"))
    inbox = payload("command_help.json", update_id=980001)
    inbox["message"]["text"] = "/inbox"
    await deliver(adapter, inbox)
    listing = fake_api.results("sendMessage")[-1]
    assert "1 waiting" in listing["text"] and "Bob Tanaka" in listing["text"]
    assert _buttons(listing) == [["✅ Send 1"]]

    export = payload("command_help.json", update_id=980002)
    export["message"]["text"] = "/privacy export"
    await deliver(adapter, export)
    (document,) = fake_api.ok("sendDocument")
    assert document["chat_id"] == OWNER_ID
    assert document["document"]["filename"] == "minime-export.zip"


async def test_an_untrained_owner_is_not_pinged_for_every_business_message(
    tmp_path: Path, fake_api: FakeBotApi
) -> None:
    settings = load_settings({}, data_dir=tmp_path)
    async with (
        open_runtime(settings, embedder=HashingEmbedder()) as runtime,
        adapter_for(runtime, fake_api) as adapter,
    ):
        await _connect(adapter)
        assert "/train --sample" in fake_api.ok("sendMessage")[-1]["text"]
        mark = len(fake_api.calls)
        await deliver(adapter, payload("business_message.json"))
        assert fake_api.since(mark).ok("sendMessage") == []


async def test_a_picture_in_a_reply_is_sent_as_a_photo(
    adapter: TelegramAdapter, fake_api: FakeBotApi
) -> None:
    # /profile's card, without drawing one (the card itself is tested in core).
    card = Reply(text="How you write", image=b"\x89PNG\r\n" + bytes(2000), image_name="card.png")
    await adapter._show(OWNER_ID, card, OWNER)
    (text,) = fake_api.ok("sendMessage")
    assert text["text"] == "How you write"
    (picture,) = fake_api.ok("sendPhoto")
    assert picture["chat_id"] == OWNER_ID and picture["photo"]["filename"] == "card.png"


def _command(text: str, update_id: int) -> dict[str, Any]:
    update = payload("command_help.json", update_id=update_id)
    update["message"]["text"] = text
    return update


async def test_with_disclosure_off_the_business_send_is_exactly_the_approved_text(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    await deliver(adapter, _command("/privacy disclosure none", 991001))
    assert "no disclosure" in fake_api.ok("sendMessage")[-1]["text"]
    await _connect(adapter)
    await deliver(adapter, payload("business_message.json"))
    offer = fake_api.results("sendMessage")[-1]
    account = await runtime.clone.account(OWNER)
    draft = await runtime.storage.drafts.get(account.id, _draft_id(offer))
    assert draft is not None
    mark = len(fake_api.calls)
    await deliver(adapter, click_on(offer, "Send 1", update_id=991002))
    (sent,) = fake_api.since(mark).ok("sendMessage")
    assert sent["text"] == draft.options[0].text and sent["chat_id"] == BOB_CHAT


async def test_the_owners_own_business_replies_teach_only_with_consent(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    account = await runtime.clone.account(OWNER)
    persona = await runtime.clone.active_persona(account)

    async def held() -> int:
        return await runtime.storage.messages.count(account.id, persona.id)

    await _connect(adapter)
    before = await held()
    await deliver(adapter, payload("business_message.json"))
    await deliver(adapter, payload("business_message_from_owner.json"))
    assert await held() == before, "learning from live messages is off until `train on`"

    await deliver(adapter, _command("/train on", 992001))
    assert "is on" in fake_api.ok("sendMessage")[-1]["text"]
    await deliver(adapter, payload("business_message.json", update_id=992002))
    await deliver(adapter, payload("business_message_from_owner.json", update_id=992003))
    assert await held() == before + 2, "the owner's reply and the message it answers"
    pairs = await runtime.storage.messages.reply_pairs(account.id, persona.id)
    assert any(p.reply_text == "on it, give me an hour" for p in pairs)


async def test_a_genuine_button_for_an_erased_draft_does_nothing(
    adapter: TelegramAdapter, fake_api: FakeBotApi
) -> None:
    await deliver(adapter, payload("forward_user.json"))
    (offer,) = fake_api.results("sendMessage")
    await deliver(adapter, _command("/privacy erase confirm", 993001))
    assert "Erased" in fake_api.ok("sendMessage")[-1]["text"]
    mark = len(fake_api.calls)
    await deliver(adapter, click_on(offer, "Send 1", update_id=993002))
    after = fake_api.since(mark)
    assert {c.method for c in after.calls} == {"answerCallbackQuery"}
    assert "no longer exists" in after.ok("answerCallbackQuery")[0]["text"]


async def test_a_flood_from_one_contact_is_capped_before_any_delivery_is_recorded(
    adapter: TelegramAdapter, runtime: Runtime
) -> None:
    """Beyond the per-sender cap a message is dropped before its delivery row is written (it
    used to write one row per event, then drop it)."""
    from sqlalchemy import func, select

    from core.service import SENDER_BURST
    from storage import tables
    from storage.scope import unscoped

    async def recorded() -> int:
        d = tables.deliveries
        query = select(func.count()).select_from(d).where(d.c.key.like("telegram:%"))
        async with runtime.storage.engine.connect() as connection:
            counted = await connection.execute(query.execution_options(**unscoped("test count")))
            return int(counted.scalar_one())

    await _connect(adapter)
    before = await recorded()
    flood = 60
    for n in range(flood):
        update = payload("business_message.json", update_id=990000 + n)
        update["business_message"] = {
            **update["business_message"],
            "message_id": 20000 + n,
            "text": f"ping {n}",
        }
        await deliver(adapter, update)
    written = await recorded() - before
    assert written <= SENDER_BURST + 8 < flood, written  # the bucket refills 1 every 2 s
