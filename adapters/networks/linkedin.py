"""LinkedIn through its posts API with the owner's OAuth 2.0 token (scopes ``openid profile
w_member_social``): ``GET /v2/userinfo`` for the member (``urn:li:person:<sub>``), ``POST
/rest/posts`` (``LinkedIn-Version``, ``X-Restli-Protocol-Version: 2.0.0``; the new post's URN
comes back in ``x-restli-id``), ``GET /rest/socialActions/<urn>`` for likes and comments.

LinkedIn does not thread: a post is one part.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from urllib.parse import quote

import httpx

from adapters.networks.http import send
from core.publishing import Credentials, Engagement, NetworkError, NetworkSession, Published

DEFAULT_URL = "https://api.linkedin.com"
DEFAULT_VERSION = "202405"
NAME = "LinkedIn"


class _Session:
    def __init__(self, client: httpx.AsyncClient, author: str) -> None:
        self._client = client
        self._author = author

    async def publish(
        self, text: str, *, key: str, parent: Published | None, root: Published | None
    ) -> Published:
        if parent is not None:
            raise NetworkError("refused", "LinkedIn posts are not threads")
        body = {
            "author": self._author,
            "commentary": text,
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        response = await send(self._client, "POST", "/rest/posts", NAME, json=body)
        urn = response.headers.get("x-restli-id") or ""
        if not urn:
            raise NetworkError("server", "LinkedIn did not say which post it made")
        return Published(id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")

    async def find(self, key: str, *, text: str, parent: Published | None) -> Published | None:
        """LinkedIn takes no client key: the post is found by its exact commentary among the
        member's latest posts (``GET /rest/posts?q=author``)."""
        response = await send(
            self._client,
            "GET",
            "/rest/posts",
            NAME,
            params={"q": "author", "author": self._author, "count": "10"},
        )
        for post in response.json().get("elements", []):
            if post.get("commentary") == text and post.get("id"):
                urn = str(post["id"])
                return Published(id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")
        return None

    async def engagement(self, published: list[Published]) -> Engagement:
        likes = comments = 0
        for part in published:
            response = await send(
                self._client, "GET", f"/rest/socialActions/{quote(part.id, safe='')}", NAME
            )
            data = response.json()
            likes += int(data.get("likesSummary", {}).get("totalLikes", 0))
            comments += int(data.get("commentsSummary", {}).get("totalFirstLevelComments", 0))
        return Engagement(likes=likes, replies=comments)


class LinkedInNetwork:
    """LinkedIn's REST API at ``base_url``.

    Args:
        base_url: ``https://api.linkedin.com`` (a local fake in tests).
        version: the ``LinkedIn-Version`` header (``YYYYMM``).
        timeout_s: seconds one request may take.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        version: str = DEFAULT_VERSION,
        timeout_s: float = 20.0,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._version = version
        self._timeout_s = timeout_s

    @asynccontextmanager
    async def _client(
        self, credentials: Credentials
    ) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
        async with httpx.AsyncClient(
            base_url=self._base_url,
            timeout=self._timeout_s,
            headers={
                "Authorization": f"Bearer {credentials.secret}",
                "LinkedIn-Version": self._version,
                "X-Restli-Protocol-Version": "2.0.0",
            },
        ) as client:
            me = (await send(client, "GET", "/v2/userinfo", NAME)).json()
            yield client, f"urn:li:person:{me['sub']}"

    async def verify(self, credentials: Credentials) -> Credentials:
        async with self._client(credentials) as (_, author):
            return replace(credentials, identifier=author)

    @asynccontextmanager
    async def session(self, credentials: Credentials) -> AsyncIterator[NetworkSession]:
        async with self._client(credentials) as (client, author):
            yield _Session(client, author)
