"""``connect`` / ``disconnect``: the owner's own credentials for Bluesky, X and LinkedIn.

Credentials are checked against the network before they are kept, stored encrypted with the
account's data key (like message text), never shown back, never exported, and removed by
``disconnect`` and by ``privacy erase``.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.app.context import AppContext
from core.app.rendering import clip
from core.drafting.posts import PLATFORMS, platform_named
from core.models import Account, CommandInvocation, Reply
from core.publishing import Credentials, Network, NetworkError

HOW = (
    "Connect a network to publish your posts there:\n"
    "• connect bluesky <handle> <app-password>  (Settings → Privacy and security → App "
    "passwords; never your main password)\n"
    "• connect x <access-token>  (an OAuth 2.0 user token with tweet.read tweet.write "
    "users.read)\n"
    "• connect linkedin <access-token>  (an OAuth 2.0 token with openid profile "
    "w_member_social)\n"
    "• disconnect <network> removes the stored credentials."
)


def _network_key(word: str) -> str | None:
    platform = platform_named(word)
    return None if platform is None else next(k for k, v in PLATFORMS.items() if v is platform)


class Connections:
    """``connect [network credentials…]`` · ``disconnect <network>``."""

    def __init__(self, ctx: AppContext, *, networks: Mapping[str, Network]) -> None:
        self._ctx = ctx
        self._networks = dict(networks)

    async def connect(
        self, command: CommandInvocation, account: Account, args: tuple[str, ...]
    ) -> Reply:
        """Check and keep the owner's credentials for one network (or list what is connected)."""
        store = self._ctx.stores.connections
        if not args:
            connected = await store.networks(account.id)
            names = ", ".join(PLATFORMS[n].name for n in connected) or "none yet"
            return Reply(text=f"Connected: {names}.\n{HOW}")
        network = _network_key(args[0])
        if network is None:
            return Reply(
                text=f"I can't publish to '{clip(args[0], 30)}'. Choose bluesky, x or linkedin."
            )
        name = PLATFORMS[network].name
        wanted = 2 if network == "bluesky" else 1
        if len(args) - 1 != wanted:
            usage = next(
                line for line in HOW.splitlines() if line.startswith(f"• connect {network}")
            )
            return Reply(text=f"Usage: {usage[2:]}")
        implementation = self._networks.get(network)
        if implementation is None:
            return Reply(text=f"Publishing to {name} is not set up on this server.")
        given = Credentials(
            network=network,
            identifier=args[1] if network == "bluesky" else "",
            secret=args[-1],
            connected_at=self._ctx.clock(),
        )
        try:
            checked = await implementation.verify(given)
        except NetworkError as error:
            return Reply(
                text=f"{name} did not accept those credentials ({error}). Nothing was kept."
            )
        await store.put(account.id, checked)
        lines = [
            f"Connected {name} as {checked.identifier}. The credentials are stored encrypted, "
            "never shown or exported; `disconnect " + network + "` removes them."
        ]
        if command.user.platform == "telegram":
            lines.append("Delete your message above: it holds the secret, in this chat's history.")
        return Reply(text="\n".join(lines))

    async def disconnect(self, account: Account, args: tuple[str, ...]) -> Reply:
        """Remove the stored credentials of one network."""
        network = _network_key(args[0]) if args else None
        if network is None:
            return Reply(text="Usage: disconnect <bluesky|x|linkedin>")
        removed = await self._ctx.stores.connections.delete(account.id, network)
        name = PLATFORMS[network].name
        if not removed:
            return Reply(text=f"{name} was not connected.")
        return Reply(
            text=f"Disconnected {name}: its credentials are deleted. (Revoke the app password "
            "or token on the network too, if you won't reconnect.)"
        )
