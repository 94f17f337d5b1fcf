"""Local fakes of the three publishing networks on one aiohttp server (127.0.0.1), speaking
their real wire protocols: Bluesky's XRPC (``/xrpc/<nsid>``, as a PDS serves it), X's API v2
(``/2/…``) and LinkedIn's REST posts API (``/rest/…``, ``/v2/userinfo``).

Each fake keeps what was posted (so a test counts posts and checks thread links), checks the
credentials the way the network does (401 otherwise), and can be told to fail:

* ``failures``: HTTP statuses (with headers) answered to the next publish requests;
* ``lose_next``: the next publish is *made* but its answer is a 500, as when a worker dies
  between the network's answer and our record of it.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def fake_jwt(sub: str) -> str:
    """A JWT-shaped token (the SDK reads its ``exp`` to know when to refresh)."""
    header = _b64({"alg": "ES256K", "typ": "at+jwt"})
    body = _b64({"scope": "com.atproto.appPass", "sub": sub, "exp": int(time.time()) + 7200})
    return f"{header}.{body}.c2lnbmF0dXJl"


@dataclass
class Publishing:
    """What every fake network shares: failure injection and the count of publish calls."""

    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    lose_next: bool = False
    lose_call: int | None = None
    """Lose the answer of this publish call (1-based), once."""
    publish_calls: int = 0

    def lost(self) -> bool:
        """Whether this publish's answer is lost (the post is made all the same)."""
        if self.lose_next or self.publish_calls == self.lose_call:
            self.lose_next, self.lose_call = False, None
            return True
        return False

    def failure(self) -> web.Response | None:
        self.publish_calls += 1
        if self.failures:
            status, headers = self.failures.pop(0)
            return web.json_response(
                {"error": "InternalServerError" if status >= 500 else "RateLimitExceeded"
                 if status == 429 else "AuthenticationRequired", "message": f"fake {status}",
                 "title": f"fake {status}"},
                status=status,
                headers=headers,
            )  # fmt: skip
        return None


@dataclass
class FakeBluesky(Publishing):
    handle: str = "owner.bsky.social"
    did: str = "did:plc:ownerfakeowner0000000000"
    app_password: str = "abcd-efgh-ijkl-mnop"
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    """rkey → record, in creation order."""
    likes: dict[str, int] = field(default_factory=dict)
    sessions: int = 0

    def _uri(self, rkey: str) -> str:
        return f"at://{self.did}/app.bsky.feed.post/{rkey}"

    @staticmethod
    def _cid(rkey: str) -> str:
        return "bafyrei" + hashlib.sha256(rkey.encode()).hexdigest()[:52]

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "").startswith("Bearer ey")

    async def create_session(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("identifier") != self.handle or body.get("password") != self.app_password:
            return web.json_response(
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                status=401,
            )
        self.sessions += 1
        return web.json_response(
            {
                "accessJwt": fake_jwt(self.did),
                "refreshJwt": fake_jwt(self.did),
                "handle": self.handle,
                "did": self.did,
                "active": True,
            }
        )

    async def get_profile(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "AuthenticationRequired"}, status=401)
        return web.json_response({"did": self.did, "handle": self.handle})

    async def create_record(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "AuthenticationRequired"}, status=401)
        failed = self.failure()
        if failed is not None:
            return failed
        body = await request.json()
        rkey, record = body.get("rkey"), body.get("record") or {}
        if body.get("collection") != "app.bsky.feed.post" or record.get("$type") != (
            "app.bsky.feed.post"
        ):
            return web.json_response({"error": "InvalidRequest"}, status=400)
        if not rkey or len(rkey) != 13:
            return web.json_response({"error": "InvalidRequest", "message": "bad rkey"}, 400)
        if rkey in self.records:
            return web.json_response(
                {"error": "InvalidRequest", "message": "Record already exists"}, status=400
            )
        reply = record.get("reply")
        if reply is not None:
            known = {self._uri(k) for k in self.records}
            if reply["parent"]["uri"] not in known or reply["root"]["uri"] not in known:
                return web.json_response({"error": "InvalidRequest", "message": "bad reply"}, 400)
        self.records[rkey] = record
        if self.lost():
            return web.json_response({"error": "InternalServerError"}, status=500)
        return web.json_response({"uri": self._uri(rkey), "cid": self._cid(rkey)})

    async def get_record(self, request: web.Request) -> web.Response:
        rkey = request.query.get("rkey", "")
        if rkey not in self.records:
            return web.json_response(
                {"error": "RecordNotFound", "message": "Could not locate record"}, status=400
            )
        return web.json_response(
            {"uri": self._uri(rkey), "cid": self._cid(rkey), "value": self.records[rkey]}
        )

    async def get_posts(self, request: web.Request) -> web.Response:
        posts = []
        for uri in request.query.getall("uris", []):
            rkey = uri.rsplit("/", 1)[-1]
            if rkey in self.records:
                posts.append(
                    {
                        "uri": uri,
                        "cid": self._cid(rkey),
                        "author": {"did": self.did, "handle": self.handle},
                        "record": self.records[rkey],
                        "indexedAt": "2026-12-05T09:00:00.000Z",
                        "likeCount": self.likes.get(rkey, 0),
                        "repostCount": 1,
                        "replyCount": 0,
                        "quoteCount": 0,
                    }
                )
        return web.json_response({"posts": posts})

    def thread(self) -> list[str]:
        """The posted texts in order, checking each part answers the one before (same root)."""
        rkeys = list(self.records)
        for i, rkey in enumerate(rkeys[1:], start=1):
            reply = self.records[rkey]["reply"]
            assert reply["parent"]["uri"] == self._uri(rkeys[i - 1])
            assert reply["root"]["uri"] == self._uri(rkeys[0])
        return [self.records[k]["text"] for k in rkeys]


@dataclass
class FakeX(Publishing):
    token: str = "x-user-token-fake"
    user_id: str = "2244994945"
    username: str = "owner"
    tweets: list[dict[str, Any]] = field(default_factory=list)
    ids: Any = field(default_factory=lambda: itertools.count(1460323737035677698))

    def _ok(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    @staticmethod
    def _unauthorised() -> web.Response:
        return web.json_response(
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
            status=401,
        )

    async def me(self, request: web.Request) -> web.Response:
        if not self._ok(request):
            return self._unauthorised()
        return web.json_response(
            {"data": {"id": self.user_id, "name": "Owner", "username": self.username}}
        )

    async def create(self, request: web.Request) -> web.Response:
        if not self._ok(request):
            return self._unauthorised()
        failed = self.failure()
        if failed is not None:
            return failed
        body = await request.json()
        tweet: dict[str, Any] = {"id": str(next(self.ids)), "text": body["text"]}
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to is not None:
            if reply_to not in {t["id"] for t in self.tweets}:
                return web.json_response({"title": "Invalid Request", "status": 400}, status=400)
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
        self.tweets.append(tweet)
        if self.lost():
            return web.json_response({"title": "Service Unavailable", "status": 503}, status=503)
        return web.json_response(
            {
                "data": {
                    "id": tweet["id"],
                    "text": tweet["text"],
                    "edit_history_tweet_ids": [tweet["id"]],
                }
            },
            status=201,
        )

    async def timeline(self, request: web.Request) -> web.Response:
        if not self._ok(request):
            return self._unauthorised()
        newest = list(reversed(self.tweets))[: int(request.query.get("max_results", "10"))]
        return web.json_response({"data": newest, "meta": {"result_count": len(newest)}})

    async def lookup(self, request: web.Request) -> web.Response:
        if not self._ok(request):
            return self._unauthorised()
        wanted = request.query.get("ids", "").split(",")
        data = [
            {
                **t,
                "public_metrics": {
                    "like_count": 3,
                    "retweet_count": 1,
                    "reply_count": 2,
                    "quote_count": 0,
                },
            }
            for t in self.tweets
            if t["id"] in wanted
        ]
        return web.json_response({"data": data})

    def thread(self) -> list[str]:
        for before, tweet in zip(self.tweets, self.tweets[1:], strict=False):
            assert tweet["referenced_tweets"] == [{"type": "replied_to", "id": before["id"]}]
        return [t["text"] for t in self.tweets]


@dataclass
class FakeLinkedIn(Publishing):
    token: str = "li-member-token-fake"
    sub: str = "782bbtaQ"
    posts: list[dict[str, Any]] = field(default_factory=list)

    def _ok(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    @staticmethod
    def _unauthorised() -> web.Response:
        return web.json_response(
            {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
             "message": "Invalid access token"},
            status=401,
        )  # fmt: skip

    async def userinfo(self, request: web.Request) -> web.Response:
        if not self._ok(request):
            return self._unauthorised()
        return web.json_response({"sub": self.sub, "name": "Owner", "email_verified": True})

    async def create(self, request: web.Request) -> web.Response:
        if not self._ok(request):
            return self._unauthorised()
        if (
            request.headers.get("X-Restli-Protocol-Version") != "2.0.0"
            or not request.headers.get("LinkedIn-Version", "").isdigit()
        ):
            return web.json_response({"status": 426, "message": "version"}, status=426)
        failed = self.failure()
        if failed is not None:
            return failed
        body = await request.json()
        if (
            body.get("author") != f"urn:li:person:{self.sub}"
            or body.get("lifecycleState") != "PUBLISHED"
        ):
            return web.json_response({"status": 422, "message": "bad post"}, status=422)
        urn = f"urn:li:share:{7000000000000000000 + len(self.posts)}"
        self.posts.append({"id": urn, **body})
        return web.Response(status=201, headers={"x-restli-id": urn})

    async def by_author(self, request: web.Request) -> web.Response:
        if not self._ok(request) or request.query.get("q") != "author":
            return self._unauthorised()
        return web.json_response({"elements": list(reversed(self.posts))})

    async def social(self, request: web.Request) -> web.Response:
        if not self._ok(request):
            return self._unauthorised()
        return web.json_response(
            {"likesSummary": {"totalLikes": 7}, "commentsSummary": {"totalFirstLevelComments": 1}}
        )


@dataclass
class FakeNetworks:
    bluesky: FakeBluesky = field(default_factory=FakeBluesky)
    x: FakeX = field(default_factory=FakeX)
    linkedin: FakeLinkedIn = field(default_factory=FakeLinkedIn)
    base_url: str = ""

    def settings(self) -> dict[str, str]:
        """``networks`` settings pointing every network at this server."""
        return {"bluesky_url": self.base_url, "x_url": self.base_url, "linkedin_url": self.base_url}


@asynccontextmanager
async def fake_networks() -> AsyncIterator[FakeNetworks]:
    """Run the three fakes on one free loopback port."""
    fakes = FakeNetworks()
    app = web.Application()
    b, x, li = fakes.bluesky, fakes.x, fakes.linkedin
    app.router.add_post("/xrpc/com.atproto.server.createSession", b.create_session)
    app.router.add_get("/xrpc/app.bsky.actor.getProfile", b.get_profile)
    app.router.add_post("/xrpc/com.atproto.repo.createRecord", b.create_record)
    app.router.add_get("/xrpc/com.atproto.repo.getRecord", b.get_record)
    app.router.add_get("/xrpc/app.bsky.feed.getPosts", b.get_posts)
    app.router.add_get("/2/users/me", x.me)
    app.router.add_post("/2/tweets", x.create)
    app.router.add_get("/2/tweets", x.lookup)
    app.router.add_get("/2/users/{id}/tweets", x.timeline)
    app.router.add_get("/v2/userinfo", li.userinfo)
    app.router.add_post("/rest/posts", li.create)
    app.router.add_get("/rest/posts", li.by_author)
    app.router.add_get("/rest/socialActions/{urn}", li.social)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        fakes.base_url = f"http://127.0.0.1:{port}"
        yield fakes
    finally:
        await runner.cleanup()
