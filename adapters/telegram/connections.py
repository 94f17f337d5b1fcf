"""Telegram Business connections: which owner, which connection, whether the bot may reply.

A connection is stored in its owner's account settings (encrypted with the account, exported and
erased with it) under ``telegram_business``; this process also keeps an index by connection id,
because a ``business_message`` names the connection, not the owner. After a restart the index is
refilled from ``getBusinessConnection`` by the adapter.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from adapters.telegram.convert import BusinessLink
from core.models import UserRef
from core.ports import AccountStore

SETTINGS_KEY = "telegram_business"


class BusinessConnections:
    """The owner's Business connections, persisted; a cache by connection id in front.

    Args:
        accounts: the account store (the owner's account is created on first contact).
    """

    def __init__(self, *, accounts: AccountStore) -> None:
        self._accounts = accounts
        self._by_id: dict[str, BusinessLink] = {}

    def cached(self, connection_id: str) -> BusinessLink | None:
        """The connection if this process has seen it."""
        return self._by_id.get(connection_id)

    async def save(self, link: BusinessLink) -> None:
        """Remember a connection (new, changed rights, disabled) for its owner."""
        account = await self._accounts.resolve(link.owner, create=True)
        assert account is not None
        settings = dict(account.settings)
        stored = _links(settings)
        stored[link.connection_id] = link.as_json()
        settings[SETTINGS_KEY] = stored
        await self._accounts.update(replace(account, settings=settings))
        self._by_id[link.connection_id] = link

    async def get(self, owner: UserRef, connection_id: str) -> BusinessLink | None:
        """The connection as stored for ``owner``; ``None`` if it is not theirs."""
        account = await self._accounts.resolve(owner, create=False)
        if account is None:
            return None
        raw = _links(dict(account.settings)).get(connection_id)
        if not isinstance(raw, dict):
            return None
        link = BusinessLink.from_json(raw)
        if link.owner != owner:
            return None
        self._by_id[connection_id] = link
        return link


def _links(settings: dict[str, object]) -> dict[str, Any]:
    value = settings.get(SETTINGS_KEY)
    return dict(value) if isinstance(value, dict) else {}
