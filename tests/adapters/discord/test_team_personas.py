"""Team personas and "ask my clone" through the Discord adapter (issue 17): interactions
dispatched to discord.py as the gateway would, answered through the fake Discord API."""

from __future__ import annotations

import copy
from typing import Any

from core.models import DraftStatus
from tests.adapters.discord.conftest import GUILD_ID, OTHER_ID, OWNER, OWNER_ID, Bot, labels
from tests.adapters.discord.fake_discord import load
from tests.adapters.discord.test_adapter import draft_card

VIEWER_ID = "1100000000000000012"
STRANGER_ID = "1100000000000000013"


def member(user_id: str) -> dict[str, Any]:
    found = copy.deepcopy(load("clone_persona_new.json")["member"])
    found["user"] |= {"id": user_id, "username": f"u{user_id[-2:]}", "global_name": None}
    return found


async def clone(bot: Bot, user_id: str, sub: str, **values: str) -> str:
    """``/clone <sub> …`` in the server by ``user_id``; the followup's text."""
    payload = load("clone_persona_new.json")
    payload["member"] = member(user_id)
    payload["data"]["options"] = [
        {
            "name": sub,
            "type": 1,
            "options": [{"name": k, "type": 3, "value": v} for k, v in values.items()],
        }
    ]
    sent = bot.dispatch(payload)
    shown = await bot.followup(sent)
    return str(shown.content or "") + str(shown.data)


async def status(bot: Bot, draft_id: str) -> DraftStatus:
    account = await bot.runtime.clone.account(OWNER)
    draft = await bot.runtime.storage.drafts.get(account.id, draft_id)
    assert draft is not None
    return draft.status


async def test_reviewer_approves_demoted_or_removed_reviewer_cannot(trained: Bot) -> None:
    bot = trained
    for user in (OTHER_ID, VIEWER_ID):
        await clone(bot, user, "persona", action="list")
    assert "not on this workspace" in await clone(
        bot, OWNER_ID, "persona", action="invite", name=f"default <@{STRANGER_ID}> reviewer"
    )
    assert "is now a reviewer" in await clone(
        bot, OWNER_ID, "persona", action="invite", name=f"default <@{OTHER_ID}> reviewer"
    )
    assert "is now a viewer" in await clone(
        bot, OWNER_ID, "persona", action="invite", name=f"default <@!{VIEWER_ID}> viewer"
    )
    assert "that needs reviewer" in await clone(
        bot, VIEWER_ID, "persona", action="review", name=f"{OWNER_ID}/default"
    )

    await draft_card(bot)
    account = await bot.runtime.clone.account(OWNER)
    (waiting,) = await bot.runtime.storage.drafts.pending(account.id)
    draft_id = waiting.id
    review_payload = load("clone_persona_new.json")
    review_payload["member"] = member(OTHER_ID)
    review_payload["data"]["options"] = [
        {
            "name": "persona",
            "type": 1,
            "options": [
                {"name": "action", "type": 3, "value": "review"},
                {"name": "name", "type": 3, "value": f"{OWNER_ID}/default"},
            ],
        }
    ]
    review = await bot.followup(bot.dispatch(review_payload))
    send = next(label for label in labels(review) if label.startswith("Send"))
    press = bot.press(review, send, member=member(OTHER_ID))
    await bot.fake.until(lambda: bot.fake.callbacks(press.id))
    await bot.fake.quiet()
    assert await status(bot, draft_id) in (DraftStatus.APPROVED, DraftStatus.SENT)
    account = await bot.runtime.clone.account(OWNER)
    approvals = (await bot.runtime.clone.export_data(account))["approvals"]
    assert isinstance(approvals, list) and approvals[-1]["by"] == f"discord:{OTHER_ID}"

    # a second draft: the reviewer holds its card, then is removed; the button does nothing
    await draft_card(bot)
    pending = await bot.runtime.storage.drafts.pending(account.id)
    assert len(pending) == 1
    second = await bot.followup(bot.dispatch(copy.deepcopy(review_payload)))
    assert "is now a viewer" in await clone(
        bot, OWNER_ID, "persona", action="role", name=f"default <@{OTHER_ID}> viewer"
    )
    press = bot.press(second, send, member=member(OTHER_ID))
    await bot.fake.until(lambda: bot.fake.callbacks(press.id) or bot.fake.followups(press.token))
    await bot.fake.quiet()
    said = str([c.data for c in bot.fake.callbacks(press.id)]) + str(
        [c.data for c in bot.fake.followups(press.token)]
    )
    assert "viewer" in said, said
    assert await status(bot, pending[0].id) is DraftStatus.PENDING
    assert "Removed" in await clone(
        bot, OWNER_ID, "persona", action="remove", name=f"default <@{OTHER_ID}>"
    )
    press = bot.press(second, send, member=member(OTHER_ID))
    await bot.fake.until(lambda: bot.fake.callbacks(press.id))
    await bot.fake.quiet()
    assert await status(bot, pending[0].id) is DraftStatus.PENDING
    assert not bot.fake.channel_posts() or all(
        pending[0].options[0].text not in str(p.payload) for p in bot.fake.channel_posts()
    )


async def test_stranger_cannot_ask_quota_holds_auto_answer_discloses(trained: Bot) -> None:
    bot = trained
    question = "can you review my PR today?"
    for user in (OTHER_ID, STRANGER_ID):
        await clone(bot, user, "persona", action="list")
    assert "Nobody by that name" in await clone(
        bot, OTHER_ID, "ask", question=f"<@{OWNER_ID}> {question}"
    )
    assert "may now ask your clone" in await clone(
        bot, OWNER_ID, "persona", action="share", name=f"ask default with <@{OTHER_ID}> quota 1/day"
    )
    assert "Nobody by that name" in await clone(
        bot, STRANGER_ID, "ask", question=f"<@{OWNER_ID}> {question}"
    )
    assert "approves answers" in await clone(
        bot, OTHER_ID, "ask", question=f"<@{OWNER_ID}> {question}"
    )
    assert "(1/day)" in await clone(bot, OTHER_ID, "ask", question=f"<@{OWNER_ID}> {question}")
    assert f"discord:{OTHER_ID}: 1 / 1 / 1" in await clone(
        bot, OWNER_ID, "persona", action="shares"
    )
    await clone(
        bot, OWNER_ID, "persona", action="share", name="ask default with anyone-in-workspace auto"
    )
    auto = await clone(bot, STRANGER_ID, "ask", question=f"<@{OWNER_ID}> {question}")
    assert "answered automatically" in auto and "has not reviewed it" in auto


async def test_persona_bound_to_the_server_drafts_there(trained: Bot) -> None:
    bot = trained
    await clone(bot, OWNER_ID, "persona", action="clone", name="default work --with-messages")
    bound = await clone(bot, OWNER_ID, "persona", action="use", name="work here")
    assert f"discord {GUILD_ID}" in bound
    await draft_card(bot)
    account = await bot.runtime.clone.account(OWNER)
    names = {p.id: p.name for p in await bot.runtime.storage.personas.list(account.id)}
    (draft,) = await bot.runtime.storage.drafts.pending(account.id)
    assert names[draft.persona_id] == "work"
