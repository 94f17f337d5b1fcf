"""X through its v2 API with the owner's OAuth 2.0 user access token (scopes ``tweet.read
tweet.write users.read``): ``GET /2/users/me`` to check it, ``POST /2/tweets`` for each part
(threads as ``reply.in_reply_to_tweet_id`` chains), ``GET /2/tweets?ids=…&tweet.fields=
public_metrics`` for engagement.

X takes no client-chosen key, so a part is found after a crash by its exact text among the
owner's latest posts (``GET /2/users/:id/tweets``) before it is posted again.

"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx

from adapters.networks.http import send
from core.publishing import Credentials, Engagement, NetworkSession, Published

DEFAULT_URL = "https://api.x.com"
NAME = "X"


class _Session:
    def __init__(self, client: httpx.AsyncClient, user_id: str, username: str) -> None:
        self._client = client
        self._user_id = user_id
        self._username = username
        self._texts: dict[str, str] = {}

    def _url(self, tweet_id: str) -> str:
        return f"https://x.com/{self._username}/status/{tweet_id}"

    async def publish(
        self, text: str, *, key: str, parent: Published | None, root: Published | None
    ) -> Published:
        body: dict[str, object] = {"text": text}
        if parent is not None:
            body["reply"] = {"in_reply_to_tweet_id": parent.id}
        response = await send(self._client, "POST", "/2/tweets", NAME, json=body)
        tweet_id = str(response.json()["data"]["id"])
        return Published(id=tweet_id, url=self._url(tweet_id))

    async def find(self, key: str, *, text: str, parent: Published | None) -> Published | None:
        """X takes no client key: the part is found by its exact text (and the post it
        answers) among the owner's latest posts."""
        response = await send(
            self._client,
            "GET",
            f"/2/users/{self._user_id}/tweets",
            NAME,
            params={"max_results": "10", "tweet.fields": "referenced_tweets"},
        )
        for tweet in response.json().get("data", []):
            answered = {
                ref.get("id")
                for ref in tweet.get("referenced_tweets", [])
                if ref.get("type") == "replied_to"
            }
            if tweet.get("text") == text and (parent is None or parent.id in answered):
                return Published(id=str(tweet["id"]), url=self._url(str(tweet["id"])))
        return None

    async def engagement(self, published: list[Published]) -> Engagement:
        if not published:
            return Engagement()
        response = await send(
            self._client,
            "GET",
            "/2/tweets",
            NAME,
            params={"ids": ",".join(p.id for p in published), "tweet.fields": "public_metrics"},
        )
        metrics = [t.get("public_metrics", {}) for t in response.json().get("data", [])]
        return Engagement(
            likes=sum(int(m.get("like_count", 0)) for m in metrics),
            reposts=sum(
                int(m.get("retweet_count", 0)) + int(m.get("quote_count", 0)) for m in metrics
            ),
            replies=sum(int(m.get("reply_count", 0)) for m in metrics),
        )


class XNetwork:
    """X's v2 API at ``base_url``.

    Args:
        base_url: ``https://api.x.com`` (a local fake in tests).
        timeout_s: seconds one request may take.
    """

    def __init__(self, base_url: str = DEFAULT_URL, *, timeout_s: float = 20.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s

    @asynccontextmanager
    async def _client(
        self, credentials: Credentials
    ) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
        async with httpx.AsyncClient(
            base_url=self._base_url,
            timeout=self._timeout_s,
            headers={"Authorization": f"Bearer {credentials.secret}"},
        ) as client:
            me = (await send(client, "GET", "/2/users/me", NAME)).json()["data"]
            yield client, str(me["id"]), str(me.get("username") or me["id"])

    async def verify(self, credentials: Credentials) -> Credentials:
        async with self._client(credentials) as (_, user_id, username):
            return replace(credentials, identifier=f"@{username} ({user_id})")

    @asynccontextmanager
    async def session(self, credentials: Credentials) -> AsyncIterator[NetworkSession]:
        async with self._client(credentials) as (client, user_id, username):
            yield _Session(client, user_id, username)
