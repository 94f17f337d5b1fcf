"""Publishing networks on their real APIs: Bluesky (the ``atproto`` SDK over XRPC), X (API v2)
and LinkedIn (the posts API). Each implements :class:`core.publishing.Network`; the base URL is
a setting so tests (and a self-hosted PDS) point them elsewhere.

Errors become :class:`core.publishing.NetworkError` with a message for the owner that never
holds a credential.
"""

from __future__ import annotations

from adapters.networks.bluesky import BlueskyNetwork
from adapters.networks.linkedin import LinkedInNetwork
from adapters.networks.x import XNetwork

__all__ = ["BlueskyNetwork", "LinkedInNetwork", "XNetwork"]
