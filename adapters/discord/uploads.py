"""Training from exports attached to ``/clone train`` or to a DM: download, import, report.

The import, its progress ticker and the guesses at which sender is the owner are shared by every
platform (:mod:`adapters.common.imports`); Discord's own part is the attachment and the status
message edited in place.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import discord

from adapters.common import ImportTicker, import_as_owner
from adapters.discord.views import Out
from adapters.importers import ImportFormatError, UnknownOwner
from core.models import UserRef
from core.service import Clone, describe_summary

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
PROGRESS_EVERY_S = 1.5


class ExportUploads:
    """Imports attached exports, one status message each, with live progress.

    Args:
        clone: the core.
        note: counts an HTTP failure toward the auth breaker.
    """

    def __init__(self, *, clone: Clone, note: Callable[[BaseException], None]) -> None:
        self._clone = clone
        self._note = note

    async def train(
        self,
        out: Out,
        user: UserRef,
        files: list[discord.Attachment],
        *,
        me: str | None,
        names: tuple[str, ...],
    ) -> None:
        """Download each export, import it with live progress, and say what came in."""
        for file in files:
            status = await out.send(content=f"⏬ Downloading `{file.filename}`…")
            if file.size > MAX_UPLOAD_BYTES:
                await status.edit(
                    content=f"`{file.filename}` is larger than {MAX_UPLOAD_BYTES >> 20} MB; "
                    "split it or use `minime import`."
                )
                continue
            with tempfile.TemporaryDirectory(prefix="minime-discord-") as folder:
                path = Path(folder) / _safe_name(file.filename)
                await file.save(path)
                text = await self._import(status, user, path, file.filename, me, names)
            await status.edit(content=text)

    async def _import(
        self,
        status: discord.Message,
        user: UserRef,
        path: Path,
        shown: str,
        me: str | None,
        names: tuple[str, ...],
    ) -> str:
        async def show(read: int) -> None:
            try:
                await status.edit(content=f"📥 Importing `{shown}`: {read:,} messages read…")
            except discord.HTTPException as error:
                self._note(error)

        guesses: tuple[str | None, ...] = (me,) if me else (None, *names)
        try:
            async with ImportTicker(show, every=PROGRESS_EVERY_S) as ticker:
                summary = await import_as_owner(
                    self._clone, user, path, guesses=guesses, progress=ticker
                )
        except UnknownOwner as error:
            message = str(error).replace(str(path), shown).replace("--me", "`me:`")
            return f"I couldn't tell which sender is you. {message}"
        except ImportFormatError as error:
            return f"I couldn't read `{shown}`: {str(error).replace(str(path), shown)}"
        return f"✓ `{shown}`: {describe_summary(summary)}"


def is_train(text: str) -> bool:
    """Whether a DM's command text is ``train`` (``/clone train``, ``clone train``, ``train``)."""
    words = text.lower().lstrip("/").split()
    if words[:1] == ["clone"]:
        words = words[1:]
    return words[:1] == ["train"]


def names_of(user: discord.abc.User) -> tuple[str, ...]:
    """Who the owner might be in their own Discord export: id, user name, display name."""
    names = [str(user.id), user.name, getattr(user, "global_name", None) or ""]
    return tuple(dict.fromkeys(n for n in names if n))


def _safe_name(filename: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).name)[:120]
    return cleaned or "export"
