"""Bluesky through the AT Protocol SDK (``atproto``): ``com.atproto.server.createSession`` with
the owner's handle and app password, ``com.atproto.repo.createRecord`` for each part (threads as
replies, with ``reply.root`` and ``reply.parent`` strong refs), ``getRecord`` to find a part
already posted under its record key, ``app.bsky.feed.getPosts`` for engagement.

Each part is created under a record key derived from the post (a TID): a repeat of the same part
finds it (or is refused by the PDS) instead of posting twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

from atproto import AsyncClient, models
from atproto_client import exceptions
from atproto_client.request import AsyncRequest

from core.publishing import Credentials, Engagement, NetworkError, NetworkSession, Published

COLLECTION = "app.bsky.feed.post"
DEFAULT_URL = "https://bsky.social"


def _error(error: Exception) -> NetworkError:
    """An SDK error as a :class:`NetworkError` (status and the XRPC error name only)."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    content = getattr(response, "content", None)
    name = getattr(content, "error", None) or ""
    detail = f"HTTP {status} {name}".strip() if status else type(error).__name__
    if isinstance(error, exceptions.UnauthorizedError):
        return NetworkError("auth", detail)
    if isinstance(error, exceptions.RateLimitExceededError):
        return NetworkError("rate", detail, retry_after_s=error.retry_after)
    if isinstance(error, exceptions.BadRequestError):
        return NetworkError("refused", detail)
    return NetworkError("server", detail)


def _rkey(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


class _Session:
    def __init__(self, client: AsyncClient, repo: str, handle: str) -> None:
        self._client = client
        self._repo = repo
        self._handle = handle

    def _url(self, uri: str) -> str:
        return f"https://bsky.app/profile/{self._handle}/post/{_rkey(uri)}"

    async def publish(
        self, text: str, *, key: str, parent: Published | None, root: Published | None
    ) -> Published:
        reply = None
        if parent is not None and root is not None:
            reply = models.AppBskyFeedPost.ReplyRef(
                parent=models.ComAtprotoRepoStrongRef.Main(uri=parent.id, cid=parent.cid or ""),
                root=models.ComAtprotoRepoStrongRef.Main(uri=root.id, cid=root.cid or ""),
            )
        record = models.AppBskyFeedPost.Record(
            text=text,
            created_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            reply=reply,
            langs=None,
        )
        try:
            made = await self._client.com.atproto.repo.create_record(
                models.ComAtprotoRepoCreateRecord.Data(
                    repo=self._repo, collection=COLLECTION, rkey=key, record=record
                )
            )
        except exceptions.AtProtocolError as error:
            raise _error(error) from None
        return Published(id=made.uri, url=self._url(made.uri), cid=made.cid)

    async def find(self, key: str, *, text: str, parent: Published | None) -> Published | None:
        try:
            found = await self._client.com.atproto.repo.get_record(
                models.ComAtprotoRepoGetRecord.Params(
                    repo=self._repo, collection=COLLECTION, rkey=key
                )
            )
        except exceptions.BadRequestError:
            return None  # RecordNotFound: this part was never posted
        except exceptions.AtProtocolError as error:
            raise _error(error) from None
        return Published(id=found.uri, url=self._url(found.uri), cid=found.cid)

    async def engagement(self, published: list[Published]) -> Engagement:
        if not published:
            return Engagement()
        try:
            got = await self._client.app.bsky.feed.get_posts(
                models.AppBskyFeedGetPosts.Params(uris=[p.id for p in published])
            )
        except exceptions.AtProtocolError as error:
            raise _error(error) from None
        return Engagement(
            likes=sum(p.like_count or 0 for p in got.posts),
            reposts=sum((p.repost_count or 0) + (p.quote_count or 0) for p in got.posts),
            replies=sum(p.reply_count or 0 for p in got.posts),
        )


class BlueskyNetwork:
    """Bluesky (or any PDS) at ``base_url``.

    Args:
        base_url: the PDS (``https://bsky.social``; a local fake in tests).
        timeout_s: seconds one XRPC call may take.
    """

    def __init__(self, base_url: str = DEFAULT_URL, *, timeout_s: float = 20.0) -> None:
        self._base_url = base_url
        self._timeout_s = timeout_s

    @asynccontextmanager
    async def _signed_in(
        self, credentials: Credentials
    ) -> AsyncIterator[tuple[AsyncClient, str, str]]:
        client = AsyncClient(base_url=self._base_url, request=AsyncRequest(timeout=self._timeout_s))
        try:
            try:
                profile = await client.login(credentials.identifier, credentials.secret)
            except exceptions.AtProtocolError as error:
                raise _error(error) from None
            repo = profile.did if profile is not None else credentials.identifier
            handle = profile.handle if profile is not None else credentials.identifier
            yield client, repo, handle
        finally:
            await client.request.close()

    async def verify(self, credentials: Credentials) -> Credentials:
        async with self._signed_in(credentials) as (_, _, handle):
            return replace(credentials, identifier=handle)

    @asynccontextmanager
    async def session(self, credentials: Credentials) -> AsyncIterator[NetworkSession]:
        async with self._signed_in(credentials) as (client, repo, handle):
            yield _Session(client, repo, handle)
