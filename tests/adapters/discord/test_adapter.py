"""The Discord adapter end to end: recorded interaction payloads in, the fake Discord API out."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import discord
import pytest

from adapters.discord.adapter import NOT_YOURS, STALE
from adapters.discord.render import EXPIRED_NOTE
from bot.bootstrap import Runtime
from core.models import DraftStatus, FeedbackKind, Reply
from tests.adapters.discord.conftest import (
    CHANNEL_ID,
    OTHER_MEMBER,
    OWNER,
    TARGET_ID,
    Bot,
    Sent,
    labels,
    make_bot,
)
from tests.adapters.discord.fake_discord import PAYLOADS, Call, load

DEADLINE_S = 3.0
DEFER = 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
EPHEMERAL = 64


def first_answer(bot: Bot, sent_id: str) -> tuple[int, int, float]:
    call = bot.fake.callbacks(sent_id)[0]
    assert call.payload is not None
    flags = (call.payload.get("data") or {}).get("flags", 0)
    return call.payload["type"], flags, call.at


async def draft_card(bot: Bot) -> tuple[Sent, Call]:
    sent = bot.interaction("context_menu_draft_reply.json")
    card = await bot.followup(sent)
    return sent, card


async def account_and_persona(bot: Bot) -> tuple[str, str]:
    account = await bot.runtime.clone.account(OWNER)
    persona = await bot.runtime.clone.active_persona(account)
    return account.id, persona.id


async def test_draft_reply_defers_at_once_then_sends_exactly_one_reply_with_disclosure(
    trained: Bot,
) -> None:
    bot = trained
    mode = bot.interaction("clone_send_mode_post.json")
    assert "Send now posts" in (await bot.followup(mode)).content

    sent = bot.interaction("context_menu_draft_reply.json")
    card = await bot.followup(sent)
    kind, flags, at = first_answer(bot, sent.id)
    assert (kind, flags) == (DEFER, EPHEMERAL)
    assert at - sent.at < DEADLINE_S
    assert bot.fake.calls.index(bot.fake.callbacks(sent.id)[0]) < bot.fake.calls.index(card)
    # The draft: ephemeral, an embed with the style score, Send · Edit · Regenerate · Dismiss.
    assert card.payload is not None and card.payload["flags"] & EPHEMERAL
    assert card.payload["allowed_mentions"] == {"parse": []}
    embed = card.payload["embeds"][0]
    assert embed["title"] == "Draft reply to Carla"
    assert "sounds like you" in embed["fields"][0]["name"]
    assert "/100" in embed["fields"][0]["name"]
    assert {"Edit", "Regenerate", "Dismiss"} <= set(labels(card))
    send_label = next(label for label in labels(card) if label.startswith("Send"))
    option_text = embed["fields"][0]["value"]

    press = bot.press(card, send_label)
    note = await bot.followup(press)
    assert note.content.startswith("✓ Posted with a disclosure")
    assert first_answer(bot, press.id)[:2] == (DEFER, EPHEMERAL)
    await bot.fake.quiet()
    posts = bot.fake.channel_posts()
    assert len(posts) == 1
    post = posts[0]
    assert post.path == f"/channels/{CHANNEL_ID}/messages"
    assert post.payload is not None
    assert post.payload["content"] == f"{option_text}\n-# — drafted with Ana's clone"
    # An allowed_mentions object without replied_user means false: the author is not pinged.
    assert post.payload["allowed_mentions"] == {"parse": []}
    assert str(post.payload["message_reference"]["message_id"]) == TARGET_ID
    # The card is closed: its buttons are gone and it says so.
    assert any(e.content == "✓ Sent." for e in bot.fake.edits(sent.token))

    # A second click on the same (now closed) card posts nothing more.
    again = bot.press(card, send_label)
    await bot.fake.until(lambda: bot.fake.callbacks(again.id))
    assert bot.fake.callbacks(again.id)[0].data["content"] == STALE
    await bot.fake.quiet()
    assert len(bot.fake.channel_posts()) == 1

    account_id, persona_id = await account_and_persona(bot)
    feedback = await bot.runtime.storage.feedback.list(account_id, persona_id)
    assert [f.kind for f in feedback] == [FeedbackKind.SENT]
    assert feedback[0].text == option_text


async def test_edit_opens_a_prefilled_modal_and_the_submission_is_sent_and_learned(
    trained: Bot,
) -> None:
    bot = trained
    sent, card = await draft_card(bot)
    assert card.payload is not None
    option_text = card.payload["embeds"][0]["fields"][0]["value"]

    press = bot.press(card, "Edit")
    await bot.fake.until(lambda: bot.fake.callbacks(press.id))
    modal = bot.fake.callbacks(press.id)[0]
    assert modal.payload is not None and modal.payload["type"] == 9  # MODAL: the first answer
    field = modal.data["components"][0]["components"][0]
    assert field["custom_id"] == "text" and field["value"] == option_text

    submitted = bot.submit_edit(modal, "Sorry Carla, today is packed. Tomorrow 10:00?")
    copy = await bot.followup(submitted)
    assert first_answer(bot, submitted.id)[:2] == (DEFER, EPHEMERAL)
    # No send mode chosen for this server: the text comes back, ready to copy, and nothing posts.
    assert copy.content == "Sorry Carla, today is packed. Tomorrow 10:00?"
    hint = await bot.followup(submitted, 1)
    assert "/clone send-mode post" in hint.content
    assert bot.fake.channel_posts() == []
    assert any(e.content == "✓ Edited and sent." for e in bot.fake.edits(sent.token))

    account_id, persona_id = await account_and_persona(bot)
    feedback = await bot.runtime.storage.feedback.list(account_id, persona_id)
    assert [(f.kind, f.text) for f in feedback] == [
        (FeedbackKind.EDITED, "Sorry Carla, today is packed. Tomorrow 10:00?")
    ]
    drafts = await bot.runtime.storage.drafts.pending(account_id)
    assert drafts == []


async def test_edit_in_post_mode_posts_the_edited_text(trained: Bot) -> None:
    bot = trained
    await bot.followup(bot.interaction("clone_send_mode_post.json"))
    _, card = await draft_card(bot)
    press = bot.press(card, "Edit")
    await bot.fake.until(lambda: bot.fake.callbacks(press.id))
    submitted = bot.submit_edit(bot.fake.callbacks(press.id)[0], "ok @everyone, on it")
    await bot.followup(submitted)
    await bot.fake.quiet()
    (post,) = bot.fake.channel_posts()
    assert post.payload is not None
    assert post.payload["content"].startswith("ok @everyone, on it\n-# — drafted with")
    # An allowed_mentions object without replied_user means false: the author is not pinged.
    assert post.payload["allowed_mentions"] == {"parse": []}


async def test_another_users_press_is_refused_and_changes_nothing(trained: Bot) -> None:
    bot = trained
    _, card = await draft_card(bot)
    send_label = next(label for label in labels(card) if label.startswith("Send"))
    press = bot.press(card, send_label, member=OTHER_MEMBER)
    await bot.fake.until(lambda: bot.fake.callbacks(press.id))
    (answer,) = bot.fake.callbacks(press.id)
    assert answer.payload is not None
    assert answer.payload["type"] == 4 and answer.data["flags"] == EPHEMERAL
    assert answer.data["content"] == NOT_YOURS
    await bot.fake.quiet()
    assert bot.fake.followups(press.token) == []
    assert bot.fake.channel_posts() == []
    account_id, _ = await account_and_persona(bot)
    assert [d.status for d in await bot.runtime.storage.drafts.pending(account_id)] == [
        DraftStatus.PENDING
    ]


async def test_a_redelivered_interaction_is_answered_once(trained: Bot) -> None:
    bot = trained
    sent = bot.interaction("clone_draft.json")
    bot.dispatch(sent.payload, fresh=False)  # the gateway replays it after a resume
    await bot.followup(sent)
    await bot.fake.quiet()
    assert len(bot.fake.callbacks(sent.id)) == 1
    assert len(bot.fake.followups(sent.token)) == 1


async def test_regenerate_and_dismiss_close_the_card(trained: Bot) -> None:
    bot = trained
    sent, card = await draft_card(bot)
    press = bot.press(card, "Regenerate")
    fresh = await bot.followup(press)
    assert fresh.payload is not None and fresh.payload["embeds"]  # other drafts, a new card
    assert fresh.payload["flags"] & EPHEMERAL
    old_texts = {f["value"] for f in card.data["embeds"][0]["fields"]}
    new_texts = {f["value"] for f in fresh.data["embeds"][0]["fields"]}
    assert not old_texts & new_texts
    await bot.fake.until(lambda: bot.fake.edits(sent.token))
    assert bot.fake.edits(sent.token)[-1].content == "↻ Replaced by new drafts below."
    press = bot.press(fresh, "Dismiss")
    note = await bot.followup(press)
    assert note.content.startswith("Dismissed")
    await bot.fake.until(lambda: bot.fake.edits(fresh_token(bot, fresh)))
    assert bot.fake.edits(fresh_token(bot, fresh))[-1].content == "✗ Dismissed."
    account_id, persona_id = await account_and_persona(bot)
    kinds = [f.kind for f in await bot.runtime.storage.feedback.list(account_id, persona_id)]
    assert kinds == [FeedbackKind.REGENERATED, FeedbackKind.DISMISSED]


def fresh_token(bot: Bot, card: Call) -> str:
    """The token of the interaction whose followup ``card`` is (edits go through it)."""
    return card.path.split("/")[3]


async def test_a_press_nobody_holds_any_more_is_answered_clearly(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bot whose views expire at once: the card is disabled and a later press says so.
    bot = await make_bot(runtime, monkeypatch, view_timeout_s=0.3)
    try:
        await bot.runtime.clone.import_sample(OWNER)
        sent, card = await draft_card(bot)
        await bot.fake.until(lambda: bot.fake.edits(sent.token))
        expired = bot.fake.edits(sent.token)[-1]
        assert expired.content == EXPIRED_NOTE
        assert all(b["disabled"] for row in expired.data["components"] for b in row["components"])
        press = bot.press(card, "Dismiss")
        await bot.fake.until(lambda: bot.fake.callbacks(press.id))
        (answer,) = bot.fake.callbacks(press.id)
        assert answer.data["content"] == STALE and answer.data["flags"] == EPHEMERAL
        account_id, _ = await account_and_persona(bot)
        assert len(await bot.runtime.storage.drafts.pending(account_id)) == 1
    finally:
        await bot.fake.quiet(0.1)
        await bot.adapter.close()


async def test_an_edit_submitted_after_a_restart_is_still_sent(trained: Bot) -> None:
    bot = trained
    _, card = await draft_card(bot)
    press = bot.press(card, "Edit")
    await bot.fake.until(lambda: bot.fake.callbacks(press.id))
    modal = bot.fake.callbacks(press.id)[0]
    bot.adapter.client._connection._view_store._modals.clear()  # what a restart forgets
    submitted = bot.submit_edit(modal, "Typed before the restart")
    copy = await bot.followup(submitted)
    assert copy.content == "Typed before the restart"


async def test_post_refused_by_discord_keeps_the_draft_pending(trained: Bot) -> None:
    bot = trained
    await bot.followup(bot.interaction("clone_send_mode_post.json"))
    _, card = await draft_card(bot)
    bot.fake.fail["POST /channels/{channel_id}/messages"] = 403
    send_label = next(label for label in labels(card) if label.startswith("Send"))
    press = bot.press(card, send_label)
    note = await bot.followup(press)
    assert "not allowed to post there" in note.content
    account_id, _ = await account_and_persona(bot)
    assert [d.status for d in await bot.runtime.storage.drafts.pending(account_id)] == [
        DraftStatus.PENDING
    ]


async def test_train_downloads_the_attachment_and_imports_it_with_progress(bot: Bot) -> None:
    payload = load("clone_train_file.json")
    export = (PAYLOADS / "export_discordchatexporter.json").read_bytes()
    (attachment,) = payload["data"]["resolved"]["attachments"].values()
    attachment["size"] = len(export)
    bot.fake.cdn[attachment["url"]] = export
    sent = bot.dispatch(payload)
    status = await bot.followup(sent)
    assert status.content.startswith("⏬ Downloading")
    await bot.fake.until(lambda: any("✓" in (e.content or "") for e in bot.fake.edits(sent.token)))
    final = bot.fake.edits(sent.token)[-1].content
    assert "6 messages" in final and "3 written by you" in final
    assert bot.fake.find("GET", attachment["url"])
    account_id, persona_id = await account_and_persona(bot)
    assert await bot.runtime.storage.messages.count(account_id, persona_id) == 6


async def test_commands_of_the_shared_grammar_run_through_the_group(bot: Bot) -> None:
    persona = bot.interaction("clone_persona_new.json")
    assert "Created persona 'work'" in (await bot.followup(persona)).content
    erase = bot.interaction("clone_privacy_erase.json")
    # Only a DM with the bot is private: erase is refused in a server.
    assert "private chat" in (await bot.followup(erase)).content
    help_ = bot.interaction("clone_help_dm.json")
    shown = (await bot.followup(help_)).content
    assert shown.startswith("```") and "/clone draft <message>" in shown


async def test_dms_are_a_private_console(trained: Bot) -> None:
    bot = trained
    message = load("dm_message_create.json")
    bot.client._connection.parse_message_create(message)  # type: ignore[arg-type]
    dm = f"/channels/{message['channel_id']}/messages"
    await bot.fake.until(lambda: bot.fake.find("POST", dm))
    card = bot.fake.find("POST", dm)[0]
    assert card.payload is not None and card.payload["embeds"][0]["title"] == "Draft reply to them"
    assert card.payload["allowed_mentions"] == {"parse": []}

    command = {**message, "id": "1300000000000000401", "content": "clone help"}
    bot.client._connection.parse_message_create(command)  # type: ignore[arg-type]
    await bot.fake.until(lambda: len(bot.fake.find("POST", dm)) > 1)
    await bot.fake.quiet()
    shown = bot.fake.find("POST", dm)
    # The help is one message, or a few when the command list outgrows Discord's 2,000.
    assert "/clone draft" in "".join(c.content or "" for c in shown[1:]) and len(shown) <= 3
    # The same delivery twice is handled once.
    bot.client._connection.parse_message_create(command)  # type: ignore[arg-type]
    await bot.fake.quiet()
    assert len(bot.fake.find("POST", dm)) == len(shown)


async def test_a_storm_of_403s_stops_the_bot(bot: Bot) -> None:
    closed = asyncio.Event()

    async def close() -> None:
        closed.set()

    bot.adapter.client.close = close  # type: ignore[method-assign]
    for _ in range(10):
        bot.adapter._note(discord.Forbidden(_response(403), {"message": "Missing Access"}))
    await asyncio.wait_for(closed.wait(), 1)
    assert bot.adapter._breaker.tripped is not None


def _response(status: int) -> Any:
    class Response:
        reason = "Forbidden"

    response = Response()
    response.status = status
    return response


def test_payloads_are_valid_json() -> None:
    for path in PAYLOADS.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))


async def test_a_picture_comes_attached_inside_the_embed(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def card(command: object) -> list[Reply]:
        return [Reply(text="How you write", image=b"\x89PNG", image_name="style-card.png")]

    monkeypatch.setattr(bot.runtime.clone, "handle_command", card)
    payload = load("clone_draft.json")
    payload["data"]["options"] = [{"name": "profile", "type": 1, "options": []}]
    shown = await bot.followup(bot.dispatch(payload))
    assert shown.files == ["style-card.png"] and shown.content == "How you write"
    assert shown.payload is not None
    assert shown.payload["embeds"][0]["image"]["url"] == "attachment://style-card.png"


async def test_a_failure_is_reported_once_and_the_bot_carries_on(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(command: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.runtime.clone, "handle_command", broken)
    sent = bot.interaction("clone_persona_new.json")
    apology = await bot.followup(sent)
    assert apology.content == "Sorry, that failed. Please try again."
    assert len(bot.fake.callbacks(sent.id)) == 1


async def test_dm_train_with_an_attached_export(bot: Bot) -> None:
    message = load("dm_message_create.json")
    export = (PAYLOADS / "export_discordchatexporter.json").read_bytes()
    url = (
        "https://cdn.discordapp.com/attachments/1100000000000000099/1300000000000000499/export.json"
    )
    bot.fake.cdn[url] = export
    message["content"] = "clone train"
    message["attachments"] = [
        {
            "id": "1300000000000000499",
            "filename": "export.json",
            "size": len(export),
            "url": url,
            "proxy_url": url,
            "content_type": "application/json",
        }
    ]
    bot.client._connection.parse_message_create(message)  # type: ignore[arg-type]
    dm = f"/channels/{message['channel_id']}/messages/"
    await bot.fake.until(
        lambda: any("✓" in e.content for e in bot.fake.find("PATCH", dm)), within=15
    )
    assert "6 messages" in bot.fake.find("PATCH", dm)[-1].content


async def test_sending_from_the_inbox_retires_only_that_drafts_button(trained: Bot) -> None:
    bot = trained
    await draft_card(bot)
    await draft_card(bot)
    payload = load("clone_draft.json")
    payload["data"]["options"] = [{"name": "inbox", "type": 1, "options": []}]
    inbox = bot.dispatch(payload)
    card = await bot.followup(inbox)
    assert card.content.startswith("2 waiting:")
    assert labels(card) == ["Send 1", "Send 2"]
    first = bot.press(card, "Send 1")
    await bot.followup(first)
    await bot.fake.until(lambda: bot.fake.edits(inbox.token))
    edited = bot.fake.edits(inbox.token)[-1].data["components"][0]["components"]
    assert [(b["label"], b.get("disabled", False)) for b in edited] == [
        ("Send 1", True),
        ("Send 2", False),
    ]
    second = bot.press(card, "Send 2")
    copied = await bot.followup(second)
    assert copied.content and copied.content != STALE
    account_id, _ = await account_and_persona(bot)
    assert await bot.runtime.storage.drafts.pending(account_id) == []


async def test_dm_train_names_the_owner_in_quotes_like_a_shell(bot: Bot) -> None:
    message = load("dm_message_create.json")
    export = (PAYLOADS / "export_discordchatexporter.json").read_bytes()
    url = (
        "https://cdn.discordapp.com/attachments/1100000000000000099/1300000000000000499/export.json"
    )
    bot.fake.cdn[url] = export
    message["content"] = 'clone train --me "carla"'
    message["attachments"] = [
        {
            "id": "1300000000000000499",
            "filename": "export.json",
            "size": len(export),
            "url": url,
            "proxy_url": url,
            "content_type": "application/json",
        }
    ]
    bot.client._connection.parse_message_create(message)  # type: ignore[arg-type]
    dm = f"/channels/{message['channel_id']}/messages/"
    await bot.fake.until(
        lambda: any("✓" in e.content for e in bot.fake.find("PATCH", dm)), within=15
    )
    assert "2 written by you" in bot.fake.find("PATCH", dm)[-1].content


async def test_a_dm_over_the_rate_cap_is_dropped_before_its_delivery_is_recorded(
    trained: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import func, select

    from storage import tables
    from storage.scope import unscoped

    bot = trained
    asked: list[bool] = []

    def over_the_cap(incoming: object, *, explicit: bool = False) -> bool:
        asked.append(explicit)
        return False

    monkeypatch.setattr(bot.runtime.clone, "admit", over_the_cap)
    message = {**load("dm_message_create.json"), "id": "1300000000000000777"}
    bot.client._connection.parse_message_create(message)  # type: ignore[arg-type]
    await bot.fake.quiet()
    assert asked == [True]
    assert bot.fake.find("POST", f"/channels/{message['channel_id']}/messages") == []
    d = tables.deliveries
    query = select(func.count()).select_from(d).where(d.c.key == f"discord:message:{message['id']}")
    async with bot.runtime.storage.engine.connect() as connection:
        counted = await connection.execute(query.execution_options(**unscoped("test count")))
    assert counted.scalar_one() == 0


async def test_a_sustained_storm_of_429s_stops_the_bot(bot: Bot) -> None:
    """discord.py backs off on each 429 per Discord's headers; what still fails counts, and a
    storm stops the bot before Discord's invalid-request ban."""
    closed = asyncio.Event()

    async def close() -> None:
        closed.set()

    bot.adapter.client.close = close  # type: ignore[method-assign]
    limited = _response(429)
    limited.reason = "Too Many Requests"
    for _ in range(9):
        bot.adapter._note(
            discord.HTTPException(limited, {"message": "You are being rate limited."})
        )
    assert bot.adapter._breaker.tripped is None and not closed.is_set()  # a few are ordinary
    bot.adapter._note(discord.HTTPException(limited, {"message": "You are being rate limited."}))
    await asyncio.wait_for(closed.wait(), 1)
    assert "429" in str(bot.adapter._breaker.tripped)
