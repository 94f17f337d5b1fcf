"""Slack over HTTP: the v0 signature check and the aiohttp route that hands requests to bolt.

Socket Mode needs neither: its deliveries arrive authenticated over the socket.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from adapters.slack.shapes import problem

log = logging.getLogger(__name__)

SIGNATURE_WINDOW_S = 300
_DIGITS = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_STARTED: contextvars.ContextVar[list[asyncio.Task[None]] | None] = contextvars.ContextVar(
    "slack_started_work", default=None
)
"""The work tasks one HTTP delivery started (``events_handler`` may hold its ack for them)."""


_RESUMING: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "slack_resuming_delivery", default=None
)
"""The key of the accepted delivery being resumed: its listener runs the work at once."""


def resuming(key: str | None) -> bool:
    """Whether the delivery ``key`` is being resumed (:func:`redispatch`) in this context."""
    return key is not None and key == _RESUMING.get()


async def redispatch(app: AsyncApp, key: str, payload: bytes) -> None:
    """Dispatch an accepted delivery again from its stored body, as Socket Mode does (no
    signature: it was checked when the delivery arrived); its listener does the work now.

    Raises:
        RuntimeError: bolt did not take it (logged by the caller, the record marked done).
    """
    token = _RESUMING.set(key)
    try:
        request = AsyncBoltRequest(body=json.loads(payload), mode="socket_mode")
        response = await app.async_dispatch(request)
    finally:
        _RESUMING.reset(token)
    if response.status != 200:
        raise RuntimeError(f"bolt answered {response.status} to a resumed delivery")


def started(task: asyncio.Task[None]) -> None:
    """Note work a listener started for the HTTP delivery being dispatched, if any."""
    tasks = _STARTED.get()
    if tasks is not None:
        tasks.append(task)


def signature_ok(
    secret: str, body: bytes, headers: Mapping[str, str], *, now: float | None = None
) -> bool:
    """Slack's v0 HMAC over ``v0:<timestamp>:<body>``, within five minutes.

    Anything malformed (no or empty timestamp, a timestamp that is not a number, a signature of
    the wrong shape) is simply not valid: the caller answers 401, never 500.
    """
    timestamp = (headers.get("X-Slack-Request-Timestamp") or "").strip()
    signature = (headers.get("X-Slack-Signature") or "").strip()
    if not secret or not _DIGITS.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > SIGNATURE_WINDOW_S:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def events_handler(
    app: AsyncApp,
    signing_secret: str,
    *,
    clock: Callable[[], float] = time.time,
    ack_wait_s: float = 0.0,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """``POST /slack/events`` (events, commands, interactivity): verify, then hand to bolt.

    With ``ack_wait_s`` the ack waits up to that long for the work the delivery started: work
    that finishes in time is done before Slack hears "200", so a worker killed mid-way leaves
    the delivery un-acked and Slack's retry lands on another worker.

    A signed body that is not of a documented shape (:mod:`adapters.slack.shapes`) gets 400
    and never reaches bolt or a handler; the log names the field, never the content.
    """

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            body = await request.read()
        except (web.HTTPException, aiohttp.ClientError, ValueError):
            return web.Response(status=400)
        if not signature_ok(signing_secret, body, request.headers, now=clock()):
            return web.Response(status=401, text="invalid signature")
        size = len(body)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            log.info("slack: refused a delivery that is not UTF-8 (%d bytes)", size)
            return web.Response(status=400)
        found = problem(text, request.content_type)
        if found is not None:
            log.info("slack: refused a malformed delivery: %s (%d bytes)", found, size)
            return web.Response(status=400)
        headers: dict[str, str | Sequence[str]] = {
            key: request.headers.getall(key) for key in set(request.headers.keys())
        }
        started: list[asyncio.Task[None]] = []
        token = _STARTED.set(started)
        try:
            bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=headers)
            response = await app.async_dispatch(bolt_request)
        except Exception as error:  # a shape the check let through: still never a 5xx
            log.warning("slack: a delivery failed in dispatch: %s", type(error).__name__)
            return web.Response(status=400)
        finally:
            _STARTED.reset(token)
        if started and ack_wait_s > 0 and response.status == 200:
            await asyncio.wait(started, timeout=ack_wait_s)
        return await to_aiohttp_response(response)

    return handle
