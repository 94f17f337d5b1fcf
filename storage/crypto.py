"""Envelope encryption: a master key wraps one data key per account; data keys encrypt the rows.

* **Master keys** are Fernet keys. They come from ``MINIME_MASTER_KEY`` (comma-separated, newest
  first) or from ``<data_dir>/master.key``, which is generated on first run with mode 0600. A key
  file that group or other users can read is refused (like ``ssh`` does with private keys): the
  operator fixes the mode, minime does not guess. Rotation re-wraps every data key with
  ``MultiFernet([new, *old]).rotate`` in one transaction; the data itself is not re-encrypted.
  It is safe at every instant (see :func:`rotate_keys`): the new key reaches the operator (or the
  key file, fsynced) before any data key changes, an interrupted rotation is finished by the next
  one, and old keys are destroyed only once every data key is wrapped by the new one.
* **Data keys** are 256-bit AES-GCM keys, one per account, stored wrapped in ``account_keys``
  and cached unwrapped per process (dropped when the account is erased). Every value is
  ``version || nonce (96 bits, random) || ciphertext+tag`` with associated data
  ``account_id + "\\x1f" + row id``, so a ciphertext copied into another account's row, another
  row, or another column of the same row fails to decrypt.

Key material never appears in a ``repr``, a log line or an error message.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import tables
from storage.engine import WRITE_OPTION
from storage.errors import DecryptionError, MasterKeyError, WrongMasterKey
from storage.scope import Scope, set_scope, unscoped

log = logging.getLogger(__name__)

MASTER_KEY_ENV: Final = "MINIME_MASTER_KEY"
KEY_FILE_NAME: Final = "master.key"
OLD_KEY_FILE_NAME: Final = "master.key.old"
"""The previous key file, kept only while a rotation is in flight (read as a fallback)."""

DATA_KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
_VERSION: Final = b"\x01"
_SEPARATOR: Final = "\x1f"


def generate_master_key() -> str:
    """A fresh Fernet key (url-safe base64 text), suitable for ``MINIME_MASTER_KEY``."""
    return Fernet.generate_key().decode("ascii")


def row_id(*parts: str) -> str:
    """The stable id of one encrypted value, e.g. ``row_id("msg", persona, msg_id, "text")``.

    The last part is always a fixed column name, so distinct ``(row, column)`` pairs never give the
    same string even when an id contains the separator.
    """
    return _SEPARATOR.join(parts)


@dataclass(frozen=True, slots=True)
class KeySource:
    """Where the master key came from: the environment, or a key file."""

    kind: Literal["env", "file"]
    path: Path | None = None

    def __str__(self) -> str:
        return MASTER_KEY_ENV if self.kind == "env" else f"the key file {self.path}"


class MasterKeys:
    """Fernet master keys, newest (primary) first; they wrap and unwrap per-account data keys.

    Args:
        keys: Fernet keys as text, the first one used to wrap new data keys.
        source: where they came from, named in errors.

    Raises:
        MasterKeyError: no key given, or one that is not a Fernet key.
    """

    __slots__ = ("_fernet", "_keys", "source")

    def __init__(self, keys: Sequence[str], *, source: KeySource) -> None:
        cleaned = tuple(key.strip() for key in keys if key.strip())
        if not cleaned:
            raise MasterKeyError(f"No master key found in {source}.")
        try:
            fernets = [Fernet(key.encode("ascii")) for key in cleaned]
        except (ValueError, UnicodeEncodeError):
            raise MasterKeyError(
                f"The master key in {source} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from None
        self._keys = cleaned
        self._fernet = MultiFernet(fernets)
        self.source = source

    @classmethod
    def parse(cls, text: str, *, source: KeySource) -> MasterKeys:
        """Keys separated by commas or newlines, newest first."""
        return cls(text.replace("\n", ",").split(","), source=source)

    def __repr__(self) -> str:
        return f"MasterKeys(source={self.source}, keys={len(self._keys)})"

    def __len__(self) -> int:
        return len(self._keys)

    def wrap(self, data_key: bytes) -> bytes:
        """Encrypt a data key under the primary master key."""
        return self._fernet.encrypt(data_key)

    def unwrap(self, wrapped: bytes) -> bytes:
        """Decrypt a wrapped data key with any of the master keys.

        Raises:
            WrongMasterKey: none of the keys can (they are not the ones the database was made with).
        """
        try:
            return self._fernet.decrypt(wrapped)
        except InvalidToken:
            raise WrongMasterKey(
                f"The master key from {self.source} does not unlock this database's data keys "
                "(it holds data encrypted under a different master key)."
            ) from None

    def seal(self, context: str, data: bytes) -> bytes:
        """Encrypt ``data`` that belongs to no account yet (an accepted delivery), bound to
        ``context`` (its key): :meth:`unseal` checks the same context comes back."""
        return self._fernet.encrypt(context.encode() + b"\0" + data)

    def unseal(self, context: str, blob: bytes) -> bytes:
        """Open a value sealed by :meth:`seal` for ``context``, with any of the master keys.

        Raises:
            DecryptionError: altered, sealed for another context, or under a key no longer held.
        """
        try:
            opened = self._fernet.decrypt(blob)
        except InvalidToken:
            raise DecryptionError("A sealed value failed authentication.") from None
        prefix = context.encode() + b"\0"
        if not opened.startswith(prefix):
            raise DecryptionError("A sealed value belongs to another record.")
        return opened[len(prefix) :]

    def rotated(self, new_key: str) -> MasterKeys:
        """These keys with ``new_key`` put first (the MultiFernet used to rotate)."""
        return MasterKeys((new_key, *self._keys), source=self.source)

    def rewrap(self, wrapped: bytes) -> bytes:
        """Re-encrypt a wrapped data key under the primary key (``MultiFernet.rotate``)."""
        try:
            return self._fernet.rotate(wrapped)
        except InvalidToken:
            raise WrongMasterKey(
                f"The master key from {self.source} does not unlock this database's data keys, "
                "so they cannot be rotated."
            ) from None

    def _text(self) -> str:
        # Only for writing key files; never logged.
        return ",".join(self._keys)


class DataCipher:
    """AES-GCM under one account's data key, with the row bound in as associated data.

    Args:
        account_id: the owning account; part of every value's associated data.
        data_key: the 256-bit key (unwrapped).
    """

    __slots__ = ("_aead", "_prefix", "account_id")

    def __init__(self, account_id: str, data_key: bytes) -> None:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError("a data key is 32 bytes")
        self.account_id = account_id
        self._aead = AESGCM(data_key)
        self._prefix = (account_id + _SEPARATOR).encode()

    def __repr__(self) -> str:
        return f"DataCipher(account_id={self.account_id!r})"

    def encrypt(self, row: str, plaintext: bytes) -> bytes:
        """Seal ``plaintext`` for the value ``row`` (see :func:`row_id`) of this account."""
        nonce = os.urandom(NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, self._prefix + row.encode())

    def decrypt(self, row: str, blob: bytes) -> bytes:
        """Open a value sealed by :meth:`encrypt` for the same account and row.

        Raises:
            DecryptionError: the value was altered or belongs to another row or account.
        """
        if blob[:1] != _VERSION or len(blob) < 1 + NONCE_BYTES + 16:
            raise DecryptionError(f"A stored value of account {self.account_id} is malformed.")
        try:
            return self._aead.decrypt(
                blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], self._prefix + row.encode()
            )
        except InvalidTag:
            raise DecryptionError(
                f"A stored value of account {self.account_id} failed authentication "
                "(altered, or copied from another row or account)."
            ) from None

    def encrypt_text(self, row: str, text: str) -> bytes:
        return self.encrypt(row, text.encode("utf-8"))

    def decrypt_text(self, row: str, blob: bytes) -> str:
        return self.decrypt(row, blob).decode("utf-8")

    def encrypt_json(self, row: str, value: object) -> bytes:
        return self.encrypt(row, json.dumps(value, separators=(",", ":")).encode("utf-8"))

    def decrypt_json(self, row: str, blob: bytes) -> object:
        return json.loads(self.decrypt(row, blob))


class KeyRing:
    """The master keys plus this process's cache of unwrapped data keys.

    Args:
        master: the master keys that wrap the data keys.
    """

    __slots__ = ("_ciphers", "_master")

    def __init__(self, master: MasterKeys) -> None:
        self._master = master
        self._ciphers: dict[str, DataCipher] = {}

    def __repr__(self) -> str:
        return f"KeyRing(master={self._master!r}, cached={len(self._ciphers)})"

    @property
    def master(self) -> MasterKeys:
        return self._master

    def new_data_key(self, account_id: str) -> tuple[DataCipher, bytes]:
        """A fresh data key for a new account: its cipher and its wrapped form to store."""
        data_key = secrets.token_bytes(DATA_KEY_BYTES)
        return DataCipher(account_id, data_key), self._master.wrap(data_key)

    def cached(self, account_id: str) -> DataCipher | None:
        return self._ciphers.get(account_id)

    def remember(self, cipher: DataCipher) -> None:
        self._ciphers[cipher.account_id] = cipher

    def open(self, account_id: str, wrapped: bytes) -> DataCipher:
        """Unwrap (and cache) the data key of ``account_id``.

        Raises:
            WrongMasterKey: the master keys cannot unwrap it.
        """
        cipher = DataCipher(account_id, self._master.unwrap(wrapped))
        self._ciphers[account_id] = cipher
        return cipher

    def forget(self, account_id: str) -> None:
        """Drop the cached data key (after erasure its wrapped form is gone too)."""
        self._ciphers.pop(account_id, None)

    def replace_master(self, master: MasterKeys) -> None:
        """Use ``master`` from now on (after a rotation); cached data keys stay valid."""
        self._master = master


# --- master key files --------------------------------------------------------------------------


def read_master_keys(master_key: str | None, data_dir: Path) -> MasterKeys | None:
    """The master keys from ``master_key`` (the environment) or ``<data_dir>/master.key``.

    A leftover ``master.key.old`` (an interrupted rotation) is read too, as a fallback key.
    Returns ``None`` when there is neither an environment key nor a key file.

    Temporary key files left behind by a killed process are removed (they may hold an old key).

    Raises:
        MasterKeyError: a key is malformed, or the key file is readable by other users.
    """
    remove_stale_key_temps(data_dir)
    if master_key is not None and master_key.strip():
        return MasterKeys.parse(master_key, source=KeySource("env"))
    path = data_dir / KEY_FILE_NAME
    if not path.exists():
        return None
    keys = _read_key_file(path)
    old = data_dir / OLD_KEY_FILE_NAME
    if old.exists():
        log.warning(
            "found %s from an interrupted key rotation; using it as a fallback key until "
            "'minime keys rotate' finishes the rotation",
            old,
        )
        keys = (*keys, *_read_key_file(old))
    return MasterKeys(keys, source=KeySource("file", path))


def create_master_key_file(data_dir: Path) -> MasterKeys:
    """Generate ``<data_dir>/master.key`` (mode 0600) atomically, without clobbering.

    If another process created it first, its key is used.

    Raises:
        MasterKeyError: the data directory does not exist or cannot be written.
    """
    path = data_dir / KEY_FILE_NAME
    if not data_dir.is_dir():
        raise MasterKeyError(
            f"Cannot create the master key file {path}: the directory {data_dir} does not exist."
        )
    tmp = _write_private_temp(path, generate_master_key())
    try:
        os.link(tmp, path)  # fails if the file appeared meanwhile: never replace a key
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    _fsync_dir(data_dir)
    return MasterKeys(_read_key_file(path), source=KeySource("file", path))


STALE_TEMP_SECONDS: Final = 600.0
"""A key temp file this old is abandoned even if its process id was reused by a live process."""


def remove_stale_key_temps(data_dir: Path) -> int:
    """Delete the temporary key files (``.master.key*.tmp``) of processes that died mid-write.

    Each is written, fsynced and renamed within milliseconds by the process named in it, so one
    whose process is gone (or that is older than :data:`STALE_TEMP_SECONDS`) is a leftover of a
    crash, possibly holding a key that should no longer exist. Returns how many were removed.
    """
    removed = 0
    try:
        candidates = list(data_dir.glob(f".{KEY_FILE_NAME}*.tmp"))
    except OSError:
        return 0
    for temp in candidates:
        parts = temp.name.split(".")  # "", "master", "key", ["old",] pid, token, "tmp"
        try:
            pid = int(parts[-3])
            age = time.time() - temp.stat().st_mtime
        except (ValueError, IndexError, OSError):
            continue
        if pid == os.getpid() or (_process_alive(pid) and age < STALE_TEMP_SECONDS):
            continue
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
            removed += 1
    if removed:
        _fsync_dir(data_dir)
        log.info("removed %d temporary key file(s) left by an interrupted process", removed)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _read_key_file(path: Path) -> tuple[str, ...]:
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise MasterKeyError(
                f"The master key file {path} is accessible to other users "
                f"(mode {stat.S_IMODE(mode):04o}); restrict it with: chmod 600 {path}"
            )
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else "not text"
        raise MasterKeyError(f"Cannot read the master key file {path}: {reason}.") from None
    keys = tuple(k.strip() for k in text.replace("\n", ",").split(",") if k.strip())
    if not keys:
        raise MasterKeyError(f"The master key file {path} is empty.")
    return keys


def _write_private_temp(path: Path, content: str) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (content + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def _replace_key_file(path: Path, content: str) -> None:
    os.replace(_write_private_temp(path, content), path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a directory be fsynced
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- loading and rotation against the database -------------------------------------------------


MASTER_KEY_SCOPE: Final = Scope(purpose="master-key")
"""Checking and re-wrapping data keys reads every account's wrapped key (never its data)."""


async def load_master_keys(
    engine: AsyncEngine, *, data_dir: Path, master_key: str | None
) -> MasterKeys:
    """Find (or on first run create) the master keys and check they unlock this database.

    A key file is generated only while the database holds no data keys: generating a new key
    for an existing database would only hide the real problem (a lost key file).

    Raises:
        MasterKeyError: no key where data exists, a malformed key, or an unsafe key file.
        WrongMasterKey: the keys cannot unwrap the stored data keys.
    """
    keys = read_master_keys(master_key, data_dir)
    async with engine.connect() as connection:
        await set_scope(connection, MASTER_KEY_SCOPE)
        sample = (
            await connection.execute(
                select(tables.account_keys.c.wrapped_key)
                .limit(1)
                .execution_options(**unscoped("master key check"))
            )
        ).scalar_one_or_none()
    if keys is None:
        if sample is not None:
            raise MasterKeyError(
                f"No master key: {MASTER_KEY_ENV} is unset and {data_dir / KEY_FILE_NAME} is "
                "missing, but the database holds encrypted data."
            )
        keys = create_master_key_file(data_dir)
    if sample is not None:
        keys.unwrap(sample)
    return keys


async def rotate_master_key(engine: AsyncEngine, old_keys: MasterKeys, new_key: str) -> int:
    """Re-wrap every data key under ``new_key`` in one transaction; return how many.

    Uses ``MultiFernet([new_key, *old_keys]).rotate``, so keys wrapped by any old key are
    accepted. Nothing changes if one of them cannot be unwrapped.

    Raises:
        MasterKeyError: ``new_key`` is not a Fernet key.
        WrongMasterKey: ``old_keys`` cannot unwrap a stored data key.
    """
    rotator = old_keys.rotated(new_key)
    keys = tables.account_keys
    async with engine.connect() as connection:
        connection = await connection.execution_options(**{WRITE_OPTION: True})
        async with connection.begin():
            await set_scope(connection, MASTER_KEY_SCOPE)
            if connection.dialect.name == "postgresql":
                # No account may be created (with a key wrapped the old way) mid-rotation.
                await connection.execute(text("LOCK TABLE account_keys IN EXCLUSIVE MODE"))
            every_key = select(keys.c.account_id, keys.c.wrapped_key).execution_options(
                **unscoped("master key rotation re-wraps every data key")
            )
            rows = (await connection.execute(every_key)).all()
            if rows:
                await connection.execute(
                    update(keys)
                    .where(keys.c.account_id == bindparam("b_account_id"))
                    .values(wrapped_key=bindparam("b_wrapped_key")),
                    [
                        {"b_account_id": account_id, "b_wrapped_key": rotator.rewrap(wrapped)}
                        for account_id, wrapped in rows
                    ],
                )
    return len(rows)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRotation:
    """The outcome of :func:`rotate_keys`.

    Attributes:
        source: where the master key lives (environment or key file).
        rewrapped: how many data keys were re-wrapped.
        key_file: the key file now holding the new key (file-based keys only).
        new_key: the new key when it comes from the environment: the operator must put it first
            in ``MINIME_MASTER_KEY`` (and restart every worker). Hidden from ``repr``.
        resumed: an interrupted rotation was found and finished (the key already in the key
            file became the only key) instead of starting a new one.
    """

    source: KeySource
    rewrapped: int
    key_file: Path | None = None
    new_key: str | None = None
    resumed: bool = False

    def __repr__(self) -> str:
        return (
            f"KeyRotation(source={self.source}, rewrapped={self.rewrapped}, "
            f"key_file={self.key_file}, new_key={'<hidden>' if self.new_key else None}, "
            f"resumed={self.resumed})"
        )


KeyHandOver = Callable[[str], None]
"""Gives a new environment master key to the operator (prints it); raises if it could not."""


async def rotate_keys(
    engine: AsyncEngine,
    keyring: KeyRing,
    *,
    new_key: str | None = None,
    hand_over: KeyHandOver | None = None,
) -> KeyRotation:
    """``minime keys rotate``: re-wrap every data key under a new master key.

    The order makes it safe to kill at any instant; the database is readable at every point with
    the keys the operator holds:

    * **Key file.** The current keys are copied to ``master.key.old`` and the new key written to
      ``master.key`` (each fsynced, renamed into place, directory fsynced) *before* the database
      changes; :func:`read_master_keys` reads both while ``master.key.old`` exists. Only after the
      re-wrapping transaction has committed is ``master.key.old`` deleted. A rotation that finds a
      ``master.key.old`` was interrupted: it finishes that one (re-wraps under the key already in
      ``master.key``, then deletes the old file) rather than starting another. If the database
      transaction fails, the previous key file is put back (once it is checked that the previous
      keys still open every data key).
    * **Environment key.** Nothing is written to disk. ``hand_over`` receives the new key
      *before* the database changes (the CLI prints and flushes it); if it raises, nothing
      changes. Without ``hand_over`` the key is only returned (``KeyRotation.new_key``), for
      callers that keep it themselves. An interrupted rotation needs no resuming: every data key
      is under either the old or the new key (one transaction), and the next rotation accepts both.

    Stop the other workers first (or restart them right after): a worker still holding only the
    old key cannot open accounts it has not cached, and would wrap new accounts' data keys with
    the old key. With an environment key, ``MINIME_MASTER_KEY="<new>,<old>"`` bridges the gap.

    Raises:
        MasterKeyError: ``new_key`` is not a Fernet key.
        WrongMasterKey: the current keys cannot unwrap a stored data key.
        Exception: whatever ``hand_over`` raised (the database is then unchanged).
    """
    master = keyring.master
    path = master.source.path
    if path is not None:
        remove_stale_key_temps(path.parent)
        old_path = path.with_name(OLD_KEY_FILE_NAME)
        if old_path.exists():
            finished = await _finish_interrupted_rotation(engine, keyring, path, old_path)
            if finished is not None:
                return finished
            master = keyring.master
    key = new_key or generate_master_key()
    MasterKeys([key], source=master.source)  # validate before touching anything
    if path is None:
        if hand_over is not None:
            hand_over(key)
        count = await rotate_master_key(engine, master, key)
        keyring.replace_master(MasterKeys([key], source=master.source))
        return KeyRotation(source=master.source, rewrapped=count, new_key=key)

    old_path = path.with_name(OLD_KEY_FILE_NAME)
    _replace_key_file(old_path, master._text())
    try:
        _replace_key_file(path, key)
        count = await rotate_master_key(engine, master, key)
    except BaseException:
        await _put_back_key_file(engine, master, path, old_path)
        raise
    _destroy(old_path)
    keyring.replace_master(MasterKeys([key], source=master.source))
    return KeyRotation(source=master.source, rewrapped=count, key_file=path)


async def _finish_interrupted_rotation(
    engine: AsyncEngine, keyring: KeyRing, path: Path, old_path: Path
) -> KeyRotation | None:
    """Finish the rotation that left ``old_path``; ``None`` when it had not begun in earnest.

    If the key file's primary key is one of the old keys, the new key never reached the key
    file, so no data key was re-wrapped: the old file is dropped and a new rotation starts.
    """
    current = _read_key_file(path)
    previous = _read_key_file(old_path)
    source = keyring.master.source
    if current[0] in previous:
        _destroy(old_path)
        keyring.replace_master(MasterKeys(current, source=source))
        log.info("dropped %s from a rotation interrupted before its new key was written", old_path)
        return None
    old_keys = MasterKeys((*current[1:], *previous), source=source)
    count = await rotate_master_key(engine, old_keys, current[0])
    if len(current) > 1:
        _replace_key_file(path, current[0])
    _destroy(old_path)
    keyring.replace_master(MasterKeys(current[:1], source=source))
    log.info("finished an interrupted key rotation: re-wrapped %d data keys", count)
    return KeyRotation(source=source, rewrapped=count, key_file=path, resumed=True)


async def _put_back_key_file(
    engine: AsyncEngine, master: MasterKeys, path: Path, old_path: Path
) -> None:
    """After a failed rotation, restore the previous key file if it still opens every data key.

    A failure can surface after the transaction committed (a cancellation, a connection lost
    on close); then the previous keys no longer open the data keys and the new key must stay.
    When the database cannot be asked, both files stay: :func:`read_master_keys` reads both,
    and the next rotation finishes the job.
    """
    try:
        async with engine.connect() as connection:
            await set_scope(connection, MASTER_KEY_SCOPE)
            wrapped = (
                await connection.execute(
                    select(tables.account_keys.c.wrapped_key).execution_options(
                        **unscoped("checking the previous master key after a failed rotation")
                    )
                )
            ).scalars()
            for blob in wrapped:
                master.unwrap(blob)
    except BaseException:
        log.warning(
            "the key rotation failed and the previous key could not be confirmed; keeping both "
            "%s and %s (run 'minime keys rotate' again to finish)",
            path,
            old_path,
        )
        return
    os.replace(old_path, path)
    _fsync_dir(path.parent)


def _destroy(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    _fsync_dir(path.parent)
