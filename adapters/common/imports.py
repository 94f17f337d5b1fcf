"""Importing an export a user shared in a chat: live progress, and which sender is the owner."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType

from adapters.importers import UnknownOwner
from core.models import ImportSummary, UserRef
from core.service import Clone


class ImportTicker:
    """The core's ``progress`` callback: counts the messages read and shows the count.

    ``show(read)`` (an edit of one status message) runs as soon as the count first changes, then at
    most every ``every`` seconds while it keeps changing; an edit in flight when the import ends
    completes before ``async with`` exits, so it cannot land after the final summary.

    Args:
        show: edits the status message; it handles (or logs) its own platform errors.
        every: the least time between two edits, in seconds.
    """

    def __init__(self, show: Callable[[int], Awaitable[None]], *, every: float) -> None:
        self._show = show
        self._every = every
        self.read = 0
        self._changed = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._edit: asyncio.Future[None] | None = None

    def __call__(self, count: int) -> None:
        self.read += count
        self._changed.set()

    async def _run(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            self._edit = asyncio.ensure_future(self._show(self.read))
            await asyncio.shield(self._edit)
            await asyncio.sleep(self._every)

    async def __aenter__(self) -> ImportTicker:
        self._loop = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
        if self._edit is not None:
            await asyncio.gather(self._edit, return_exceptions=True)


async def import_as_owner(
    clone: Clone,
    user: UserRef,
    path: Path,
    *,
    guesses: Sequence[str | None],
    progress: Callable[[int], None],
) -> ImportSummary:
    """Import ``path``, trying each guess at who the owner is in the export, in order.

    ``None`` lets the importer decide from the export itself. The platforms guess from what they
    know of the uploader (their id, user name, display name) when the export does not say.

    Raises:
        UnknownOwner: no guess fits; the first refusal is raised, as it names the senders.
        ImportFormatError: the file is not an export the importers read.
    """
    first: UnknownOwner | None = None
    for who in guesses:
        try:
            return await clone.import_file(user, path, me=who, progress=progress)
        except UnknownOwner as error:
            first = first or error
    raise first or UnknownOwner("no guess at the owner to try")
