"""Training from an export sent to the bot as a document: download, import, report in place.

The import, its progress ticker and the guesses at which sender is the owner are shared by every
platform (:mod:`adapters.common.imports`); Telegram's own part is the Bot API download (20 MB at
most) and the status message edited in place.
"""

from __future__ import annotations

import contextlib
import logging
import re
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from adapters.common import ImportTicker, import_as_owner
from adapters.importers import UnknownOwner
from adapters.telegram.convert import Upload
from adapters.telegram.render import escape
from core.models import ImportSummary
from core.service import Clone, describe_summary

log = logging.getLogger(__name__)

MAX_DOWNLOAD = 20 * 1024 * 1024
"""The Bot API lets bots download files up to 20 MB."""
PROGRESS_EVERY_S = 2.0
_FILE_NAME = re.compile(r"[^\w.\-]+")


class ExportUploads:
    """Imports the exports users send as documents, each with a status message edited in place.

    Args:
        bot: the application's bot.
        clone: the core.
        workdir: where exports are downloaded (each deleted after its import).
        say: sends a plain line to a chat.
    """

    def __init__(
        self,
        *,
        bot: Bot,
        clone: Clone,
        workdir: Path,
        say: Callable[[int, str], Awaitable[Message]],
    ) -> None:
        self._bot = bot
        self._clone = clone
        self._workdir = workdir
        self._say = say
        self._importing: set[str] = set()

    async def take(self, upload: Upload) -> None:
        """Import one uploaded export for its sender, one import per user at a time."""
        name = Path(upload.file_name).name or "export"
        if upload.file_size is not None and upload.file_size > MAX_DOWNLOAD:
            await self._say(
                upload.chat_id,
                f"{name} is over 20 MB, more than Telegram lets bots download. Split or zip it, "
                "or import it on the server with `minime import`.",
            )
            return
        if upload.user.user_id in self._importing:
            await self._say(
                upload.chat_id, "An import is already running; send this one when it's done."
            )
            return
        self._importing.add(upload.user.user_id)
        try:
            await self._import(upload, name)
        except Exception as error:
            log.error("Telegram import failed: %s", type(error).__name__)
            with contextlib.suppress(TelegramError):
                await self._say(upload.chat_id, f"Sorry, importing {name} failed.")
        finally:
            self._importing.discard(upload.user.user_id)

    async def _import(self, upload: Upload, name: str) -> None:
        bot = self._bot
        status = await bot.send_message(
            upload.chat_id, f"⏳ Importing {escape(name)}…", parse_mode=ParseMode.HTML
        )

        async def edit(text: str) -> None:
            with contextlib.suppress(BadRequest):
                await bot.edit_message_text(
                    text,
                    chat_id=upload.chat_id,
                    message_id=status.message_id,
                    parse_mode=ParseMode.HTML,
                )

        async def show(read: int) -> None:
            await edit(f"⏳ Importing {escape(name)}… {read:,} messages read")

        self._workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryDirectory(dir=self._workdir, prefix="import-") as folder:
            path = Path(folder) / (_FILE_NAME.sub("_", name).strip("._") or "export")
            exported = await bot.get_file(upload.file_id)
            await exported.download_to_drive(path)
            try:
                async with ImportTicker(show, every=PROGRESS_EVERY_S) as ticker:
                    summary = await self._import_as_owner(upload, path, ticker)
                text = f"✓ Imported {escape(name)}: {escape(describe_summary(summary))}"
            except ValueError as error:  # bad format, unknown owner: nothing was written
                reason = str(error).replace(str(path), name)
                text = f"✗ I couldn't import {escape(name)}: {escape(reason)}"
        await edit(text)

    async def _import_as_owner(
        self, upload: Upload, path: Path, progress: ImportTicker
    ) -> ImportSummary:
        if upload.me is not None:
            guesses: tuple[str | None, ...] = (upload.me,)
        else:  # A Telegram export names senders by id too: the uploader's own id finds them.
            guesses = (None, upload.user.user_id)
        try:
            return await import_as_owner(
                self._clone, upload.user, path, guesses=guesses, progress=progress
            )
        except UnknownOwner as unknown:
            if upload.me is not None:
                raise
            raise UnknownOwner(
                f"{unknown} Send the file again with the caption --me=Your Name."
            ) from None
