"""The style card: how the owner writes, measured from their own messages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from core.app.context import NOT_TRAINED, AppContext, ProfileCard
from core.models import Account, Persona, Reply, StoredMessage, UserRef
from core.privacy import ANY, describe_live_learning
from core.teams import describe

ProfileSection = Callable[[Account, Persona, Sequence[StoredMessage]], Awaitable[dict[str, object]]]
"""Adds keys to ``profile --json`` from a persona's history."""


class Profiles:
    """``profile`` (the card), ``profile --json`` and the profiles in a privacy export."""

    def __init__(self, ctx: AppContext, profile_card: ProfileCard | None) -> None:
        self._ctx = ctx
        self._card = profile_card
        self.sections: list[ProfileSection] = []
        """More of ``profile --json`` (values and decisions: ``core/app/values.py``)."""

    async def _history(self, account: Account, persona: Persona) -> list[StoredMessage]:
        return [m async for m in self._ctx.stores.messages.iter(account.id, persona.id)]

    async def command(self, account: Account, *, platform: str = ANY) -> Reply:
        """``profile``: the active persona's style card (text and PNG)."""
        persona = await self._ctx.active_persona(account)
        history = await self._history(account, persona)
        if not any(m.from_owner for m in history):
            return Reply(text=f"No messages of yours yet. {NOT_TRAINED}")
        if self._card is None:
            return Reply(text=f"{sum(m.from_owner for m in history)} messages of yours learned.")
        text, png = await asyncio.to_thread(self._card.card, history)
        sources = sorted({m.source for m in history if m.from_owner})
        text += f"\nLearned from: {', '.join(sources)} messages in persona '{persona.name}'."
        identity = describe(await self._ctx.stores.identity.attributes(account.id, persona.id))
        if identity:
            text += "\nAs you describe this persona: " + "; ".join(identity) + "."
        text += "\n" + describe_live_learning(
            account.settings, () if platform == ANY else (platform,)
        )
        return Reply(text=text, image=png, image_name="style-card.png" if png else None)

    async def profile_json(self, user: UserRef) -> dict[str, object]:
        """Everything the profiler measured for the user's active persona."""
        account = await self._ctx.account(user)
        persona = await self._ctx.active_persona(account)
        history = await self._history(account, persona)
        if self._card is None or not any(m.from_owner for m in history):
            return {"persona": persona.name, "messages": 0}
        profile = await asyncio.to_thread(self._card.profile, history)
        extra = await self._sections(account, persona, history)
        return {"persona": persona.name, **profile.to_json(), **extra}

    async def _sections(
        self, account: Account, persona: Persona, history: Sequence[StoredMessage]
    ) -> dict[str, object]:
        extra: dict[str, object] = {}
        for section in self.sections:
            extra.update(await section(account, persona, history))
        return extra

    async def all_profiles(self, account: Account) -> dict[str, object]:
        """Each persona's profile as the profiler measures it, by persona name."""
        profiles: dict[str, object] = {}
        for persona in await self._ctx.stores.personas.list(account.id):
            history = await self._history(account, persona)
            if self._card is not None and any(m.from_owner for m in history):
                profile = await asyncio.to_thread(self._card.profile, history)
                profiles[persona.name] = {
                    **profile.to_json(),
                    **await self._sections(account, persona, history),
                }
        return profiles
