"""The App Home tab: the owner's profile, inbox and personas, published with ``views.publish``."""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import convert, render
from adapters.slack.files import SEND_ERRORS
from core.models import CommandInvocation, Reply
from core.service import Clone

log = logging.getLogger(__name__)


async def publish_home(clone: Clone, bot: AsyncWebClient, user_id: str) -> None:
    """Draw ``user_id``'s Home tab from the same commands chat answers (a failed publish is
    logged, never raised: the tab is a convenience)."""
    user = convert.user_ref(user_id)

    async def one(name: str, text: str = "") -> Reply:
        replies = await clone.handle_command(
            CommandInvocation(user=user, name=name, text=text, command_prefix="/clone ")
        )
        return replies[0] if replies else Reply(text="")

    profile = await one("profile")
    inbox = await one("inbox")
    personas = await one("persona", "list")
    account = await clone.account(user)
    view = render.home_view(profile=profile, inbox=inbox, personas=personas, paused=account.paused)
    try:
        await bot.views_publish(user_id=user_id, view=view)
    except SEND_ERRORS as error:
        log.warning("slack: views.publish failed: %s", type(error).__name__)
