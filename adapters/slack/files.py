"""Training from an export shared in the app's DM: fetch it with the bot token, import it, report.

The import itself, its progress ticker and the summary are the same on every platform
(:mod:`adapters.common.imports`); what is Slack's own is here: ``files.info``, the private download
(only from Slack's file hosts, with the bot token), and ``chat.update`` of one status message.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.common import ImportTicker, import_as_owner
from adapters.slack import convert, render
from core.service import Clone, describe_summary

log = logging.getLogger(__name__)

SEND_ERRORS = (SlackApiError, SlackClientError, aiohttp.ClientError, TimeoutError)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class DeliveryLog(Protocol):
    """The persisted de-duplication log (``storage.deliveries``)."""

    async def first_seen(self, key: str, *, account_id: str | None = None) -> bool: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedFiles:
    """Imports the exports the owner shares in the DM, each file once, with live progress.

    Attributes:
        bot: Web API client with the bot token.
        bot_token: sent (as a header) only to ``file_hosts``.
        session: the HTTP session for the download.
        dm: posts a message in a DM channel (returns its ``ts`` and ``channel``, or ``None``).
    """

    clone: Clone
    deliveries: DeliveryLog
    bot: AsyncWebClient
    bot_token: str = field(repr=False)
    session: aiohttp.ClientSession
    dm: Callable[..., Awaitable[dict[str, Any] | None]]
    file_hosts: tuple[str, ...]
    max_file_bytes: int
    progress_every_s: float

    async def train(
        self, user_id: str, channel: str, file_ids: list[str], *, me: str | None
    ) -> None:
        """Import each shared file the first time it is seen."""
        for file_id in file_ids:
            # The same file shared again (or its event retried) is imported once.
            if not await self.deliveries.first_seen(f"slack:file:{file_id}"):
                continue
            await self._train_one(user_id, channel, file_id, me=me)

    async def _train_one(self, user_id: str, channel: str, file_id: str, *, me: str | None) -> None:
        try:
            info = (await self.bot.files_info(file=file_id))["file"]
        except SEND_ERRORS as error:
            log.warning("slack: files.info failed: %s", type(error).__name__)
            await self.dm(
                channel, text="I couldn't read that file. Is the app allowed `files:read`?"
            )
            return
        name = _SAFE_NAME.sub("_", Path(str(info.get("name") or "export")).name)[:120] or "export"
        url = info.get("url_private_download") or info.get("url_private") or ""
        if int(info.get("size") or 0) > self.max_file_bytes:
            await self.dm(channel, text=f"{name} is too large to import here.")
            return
        status = await self.dm(channel, text=render.progress_text(name, 0))

        async def update(text: str) -> None:
            if status is None or status.get("ts") is None:
                return
            try:
                await self.bot.chat_update(
                    channel=status.get("channel", channel), ts=status["ts"], text=text
                )
            except SEND_ERRORS as error:
                log.info("slack: progress update failed: %s", type(error).__name__)

        async def show(read: int) -> None:
            await update(render.progress_text(name, read))

        with tempfile.TemporaryDirectory(prefix="minime-slack-") as tmp:
            path = Path(tmp) / name
            try:
                await self._download(url, path)
            except (ValueError, *SEND_ERRORS) as error:
                log.warning("slack: download failed: %s", type(error).__name__)
                await update(f"I couldn't download {name}.")
                return
            try:
                async with ImportTicker(show, every=self.progress_every_s) as ticker:
                    summary = await import_as_owner(
                        self.clone, convert.user_ref(user_id), path, guesses=(me,), progress=ticker
                    )
            except Exception as error:  # the importers' errors are meant for people
                said = str(error).replace(str(path), name)[:400]
                await update(
                    f"I couldn't import {name}: {said}\n"
                    'Share it again with a comment like `--me "Your Name"` to say which sender is you.'
                )
                return
        await update(
            f"{render.progress_text(name, summary.messages, done=True)}\n{describe_summary(summary)}"
        )

    async def _download(self, url: str, path: Path) -> None:
        """Fetch a private file with the bot token, only from Slack's file hosts."""
        parsed = urlparse(url)
        loopback = parsed.hostname in ("127.0.0.1", "localhost")  # a local fake Slack in tests
        if parsed.hostname not in self.file_hosts or not (
            parsed.scheme == "https" or (loopback and parsed.scheme == "http")
        ):
            raise ValueError("not a Slack file URL")
        headers = {"Authorization": f"Bearer {self.bot_token}"}
        timeout = aiohttp.ClientTimeout(total=600)
        async with self.session.get(url, headers=headers, timeout=timeout) as response:
            response.raise_for_status()
            size = 0
            with path.open("wb") as out:
                async for chunk in response.content.iter_chunked(1 << 16):
                    size += len(chunk)
                    if size > self.max_file_bytes:
                        raise ValueError("file too large")
                    await asyncio.to_thread(out.write, chunk)
