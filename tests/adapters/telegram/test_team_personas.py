"""Team personas and "ask my clone" through the Telegram adapter (issue 17), against the local
fake Bot API: buttons are signed for whoever received them, roles are checked on every tap."""

from __future__ import annotations

from typing import Any

from adapters.telegram.adapter import TelegramAdapter
from bot.bootstrap import Runtime
from core.models import DraftStatus
from tests.adapters.telegram.conftest import OWNER, OWNER_ID, click_on, deliver, payload
from tests.adapters.telegram.fake_bot_api import FakeBotApi

REVIEWER_ID = 2000002
ASKER_ID = 3000003
STRANGER_ID = 4000004
_updates = iter(range(910_000, 990_000))


def person(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}


async def say(
    adapter: TelegramAdapter, fake: FakeBotApi, user_id: int, text: str
) -> list[dict[str, Any]]:
    """``text`` typed by ``user_id`` in their private chat; the messages the bot sent back."""
    update = payload("command_help.json", update_id=next(_updates))
    update["message"]["text"] = text
    update["message"]["from"] = person(user_id)
    update["message"]["chat"] = {"id": user_id, "type": "private", "first_name": "x"}
    mark = len(fake.calls)
    await deliver(adapter, update)
    return [r for r in fake.since(mark).results("sendMessage")]


def texts(sent: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in sent)


async def status(runtime: Runtime, draft_id: str) -> DraftStatus:
    account = await runtime.clone.account(OWNER)
    draft = await runtime.storage.drafts.get(account.id, draft_id)
    assert draft is not None
    return draft.status


def draft_of(message: dict[str, Any]) -> str:
    return str(message["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1])


async def test_reviewer_approves_demoted_and_removed_reviewers_buttons_do_nothing(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    await say(adapter, fake_api, REVIEWER_ID, "/persona list")
    invited = await say(
        adapter, fake_api, OWNER_ID, f"/persona invite default @{REVIEWER_ID} reviewer"
    )
    assert "is now a reviewer" in texts(invited)

    await deliver(adapter, payload("forward_user.json"))
    (review,) = await say(adapter, fake_api, REVIEWER_ID, f"/persona review {OWNER_ID}/default")
    assert review["chat"]["id"] == REVIEWER_ID and review.get("reply_markup")
    first = draft_of(review)
    mark = len(fake_api.calls)
    await deliver(
        adapter, click_on(review, "Send 1", update_id=next(_updates), user=person(REVIEWER_ID))
    )
    (posted,) = fake_api.since(mark).ok("sendMessage")
    assert posted["chat_id"] == OWNER_ID  # where the owner's draft goes (their chat with the bot)
    assert await status(runtime, first) is DraftStatus.SENT
    account = await runtime.clone.account(OWNER)
    approvals = (await runtime.clone.export_data(account))["approvals"]
    assert isinstance(approvals, list) and approvals[-1]["by"] == f"telegram:{REVIEWER_ID}"

    second = payload("forward_user.json", update_id=next(_updates))
    second["message"]["message_id"] += 1
    second["message"]["text"] = "could you join the sync at 3?"
    await deliver(adapter, second)
    (card,) = await say(adapter, fake_api, REVIEWER_ID, f"/persona review {OWNER_ID}/default")
    pending = draft_of(card)
    assert pending != first
    demoted = await say(adapter, fake_api, OWNER_ID, f"/persona role default @{REVIEWER_ID} viewer")
    assert "is now a viewer" in texts(demoted)
    for step in ("viewer", "removed"):
        mark = len(fake_api.calls)
        await deliver(
            adapter, click_on(card, "Send 1", update_id=next(_updates), user=person(REVIEWER_ID))
        )
        after = fake_api.since(mark)
        assert after.ok("sendMessage") == [], step
        (answer,) = after.ok("answerCallbackQuery")
        assert answer["show_alert"] is True
        assert await status(runtime, pending) is DraftStatus.PENDING
        if step == "viewer":
            assert "viewer" in answer["text"]
            await say(adapter, fake_api, OWNER_ID, f"/persona remove default @{REVIEWER_ID}")


async def test_ask_my_clone_quota_approval_and_auto_answer(
    adapter: TelegramAdapter, runtime: Runtime, fake_api: FakeBotApi
) -> None:
    runtime.clone.use_notifier(adapter)
    question = "can you review my PR today?"
    for user in (ASKER_ID, STRANGER_ID):
        await say(adapter, fake_api, user, "/persona list")
    assert "Nobody by that name" in texts(
        await say(adapter, fake_api, ASKER_ID, f"/ask @{OWNER_ID} {question}")
    )
    shared = await say(
        adapter, fake_api, OWNER_ID, f"/persona share ask default with @{ASKER_ID} quota 1/day"
    )
    assert f"/ask @{OWNER_ID} <question>" in texts(shared)
    assert "Nobody by that name" in texts(
        await say(adapter, fake_api, STRANGER_ID, f"/ask @{OWNER_ID} {question}")
    )
    sent = await say(adapter, fake_api, ASKER_ID, f"/ask @{OWNER_ID} {question}")
    to_owner = [m for m in sent if m["chat"]["id"] == OWNER_ID]
    assert "asked your clone" in texts(to_owner)
    card = next(m for m in to_owner if m.get("reply_markup"))
    assert "approves answers" in texts([m for m in sent if m["chat"]["id"] == ASKER_ID])
    assert "(1/day)" in texts(
        await say(adapter, fake_api, ASKER_ID, f"/ask @{OWNER_ID} {question}")
    )

    mark = len(fake_api.calls)
    await deliver(adapter, click_on(card, "Send 1", update_id=next(_updates)))
    delivered = fake_api.since(mark).ok("sendMessage")
    answer = [m for m in delivered if m["chat_id"] == ASKER_ID]
    assert answer and "approved by" in answer[0]["text"]

    await say(
        adapter, fake_api, OWNER_ID, "/persona share ask default with anyone-in-workspace auto"
    )
    auto = texts(await say(adapter, fake_api, STRANGER_ID, f"/ask @{OWNER_ID} {question}"))
    assert "answered automatically" in auto and "has not reviewed it" in auto
