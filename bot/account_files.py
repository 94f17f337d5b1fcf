"""Files minime writes for an account (exports, style-card pictures, console attachments).

They hold the account's data in clear, so they are written private and erasure removes them:

* every file is created with mode 0600 from the first byte (never chmod-ed afterwards), its
  directory 0700; a file that exists already is refused unless the caller says to replace it;
* by default a file goes to ``<data dir>/files/<account id>/`` — inside the data dir, not the
  current directory (where a git checkout would show it as untracked private data);
* every file written is recorded in that folder's ledger (``written.json``: absolute path and
  SHA-256, no content). :meth:`AccountFiles.erase` deletes the whole folder — everything minime
  wrote on its own initiative — and reports the files the owner asked for somewhere else
  (``--output``, ``--png``) that still hold what was written: those are the owner's copies to take
  away (an export is made to be imported again after an erase), so they are named, not deleted.

:class:`ErasingVault` puts the files under the account vault's ``erase``, so every way of erasing
an account (``privacy erase`` on any platform, ``minime erase``) removes them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from core.models import AccountId
from core.ports import AccountVault

log = logging.getLogger(__name__)

LEDGER: Final = "written.json"


class FileExists(Exception):
    """The target exists already and replacing it was not asked for; ``str()`` says so."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Erased:
    """What :meth:`AccountFiles.erase` did.

    Attributes:
        removed: the account's folder, if there was one (with every file minime put there).
        kept: files the owner had written elsewhere (``--output``, ``--png``) that still hold
            what minime wrote: their copies, named so they can delete them.
    """

    removed: tuple[Path, ...]
    kept: tuple[Path, ...]


class AccountFiles:
    """The files written for accounts under one data dir.

    Args:
        data_dir: minime's data directory.
    """

    def __init__(self, data_dir: Path) -> None:
        self._root = (data_dir / "files").absolute()

    def folder(self, account_id: str) -> Path:
        """``<data dir>/files/<account id>/`` (not created)."""
        if not account_id or "/" in account_id or account_id.startswith("."):
            raise ValueError("not an account id")
        return self._root / account_id

    def write(
        self,
        account_id: str,
        data: bytes,
        *,
        name: str,
        target: Path | None = None,
        replace: bool = False,
    ) -> Path:
        """Write ``data`` privately for ``account_id``; return the absolute path written.

        Args:
            account_id: whose data it is.
            data: the bytes.
            name: the file name in the account's folder when no ``target`` is given.
            target: where the owner asked for it (``--output``); recorded all the same.
            replace: replace an existing ``target`` instead of refusing (a file in the
                account's own folder is always replaced: it is minime's).

        Raises:
            FileExists: the file exists and ``replace`` is false.
            OSError: it cannot be written.
        """
        folder = self._private_folder(account_id)
        path = (target if target is not None else folder / Path(name).name).absolute()
        replace = replace or target is None
        if path.exists() and not replace:
            raise FileExists(
                f"{path} exists already; pass --force to replace it, or choose another --output"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            # Recorded before it appears, so a crash never leaves an unrecorded copy behind.
            self._record(folder, path, hashlib.sha256(data).hexdigest())
            if replace:
                os.replace(tmp, path)
            else:
                os.link(tmp, path)  # fails if the file appeared meanwhile: never clobber
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return path

    def erase(self, account_id: str) -> Erased:
        """Delete the account's folder; name the owner's copies written elsewhere."""
        folder = self.folder(account_id)
        kept: list[Path] = []
        for path, digest in self._ledger(folder).items():
            target = Path(path)
            if target.is_relative_to(folder):
                continue  # goes with the folder
            try:
                if hashlib.sha256(target.read_bytes()).hexdigest() == digest:
                    kept.append(target)
            except OSError:
                continue  # moved or deleted since: nothing of ours there
        removed: list[Path] = []
        if folder.exists():
            shutil.rmtree(folder)
            removed.append(folder)
        return Erased(removed=tuple(removed), kept=tuple(kept))

    def _private_folder(self, account_id: str) -> Path:
        folder = self.folder(account_id)
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    @staticmethod
    def _ledger(folder: Path) -> dict[str, str]:
        try:
            data = json.loads((folder / LEDGER).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _record(self, folder: Path, path: Path, digest: str) -> None:
        ledger = self._ledger(folder)
        ledger[str(path)] = digest
        tmp = folder / f".{LEDGER}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(ledger, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, folder / LEDGER)


class ErasingVault:
    """An :class:`~core.ports.AccountVault` whose ``erase`` also removes the account's files.

    Args:
        vault: the storage vault (rows and data key).
        files: the files written for accounts.
    """

    def __init__(self, vault: AccountVault, files: AccountFiles) -> None:
        self._vault = vault
        self.files = files

    async def export(self, account_id: AccountId) -> dict[str, object]:
        return await self._vault.export(account_id)

    async def unreadable(self, account_id: AccountId) -> dict[str, int]:
        return await self._vault.unreadable(account_id)

    async def erase(self, account_id: AccountId) -> None:
        """Delete the rows and the key first (the data), then the files written from it."""
        await self._vault.erase(account_id)
        await asyncio.to_thread(self.files.erase, account_id)
