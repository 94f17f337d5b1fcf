"""Digests and reminders reach the owner's private chat; the one-tap buttons round-trip."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.callbacks import CallbackCodec, derive_key
from core.models import Action, Button, Reply, UserRef
from tests.adapters.telegram.conftest import OWNER, OWNER_ID
from tests.adapters.telegram.fake_bot_api import FakeBotApi

ITEM = "0123456789abcdef0123456789abcdef"


def _buttons(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def test_a_digest_goes_to_the_owners_private_chat_with_one_tap_buttons(
    adapter: TelegramAdapter, fake_api: FakeBotApi
) -> None:
    reply = Reply(
        text="Digest: 1 waiting, 1 need a reply.",
        buttons=(
            Button(label="Draft 1", action=Action.DRAFT, draft_id=ITEM),
            Button(label="Important 1", action=Action.IMPORTANT, draft_id=ITEM),
            Button(label="Not important 1", action=Action.NOT_IMPORTANT, draft_id=ITEM),
        ),
    )
    assert await adapter.notify(OWNER, reply)
    sent = fake_api.ok("sendMessage")[-1]
    assert sent["chat_id"] == OWNER_ID and sent["text"].startswith("Digest:")
    assert _buttons(sent) == ["📝 Draft 1", "⭐ Important 1", "🔕 Not important 1"]
    assert not await adapter.notify(UserRef(platform="slack", user_id="U1"), reply)


def test_one_tap_actions_round_trip_through_signed_callback_data() -> None:
    codec = CallbackCodec(derive_key("7000000001:AAFakeTokenForTests_abcdefghijklmnopqrstu"))
    now = datetime(2026, 5, 1, tzinfo=UTC)
    for action in (Action.IMPORTANT, Action.NOT_IMPORTANT, Action.DRAFT):
        data = codec.encode(action=action, draft_id=ITEM, option=0, user_id="42", now=now)
        assert len(data.encode()) <= 64
        click = codec.decode(data, user_id="42", now=now)
        assert click.action is action and click.draft_id == ITEM
