"""Linking: one clone across platforms, joined by a one-time code."""

from __future__ import annotations

from core.app.context import AppContext
from core.models import Account, CommandInvocation, Reply


class Linking:
    """``link`` issues a code; ``link <code>`` on the other platform redeems it."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    async def command(
        self, command: CommandInvocation, account: Account, args: tuple[str, ...]
    ) -> Reply:
        """Issue a link code for ``account``, or redeem ``args[0]`` for this identity."""
        accounts = self._ctx.stores.accounts
        if args:
            linked = await accounts.redeem_link_code(args[0], command.user)
            return Reply(
                text="Linked: this identity now uses the same clone."
                if linked
                else "That code is unknown or expired."
            )
        code = await accounts.issue_link_code(account.id, ttl_s=600)
        return Reply(text=f"On your other platform, send: link {code}  (valid 10 minutes, once)")
