"""Envelope encryption: a master key wraps one data key per account; data keys encrypt the rows.

* **Master keys** are Fernet keys. They come from ``MINIME_MASTER_KEY`` (comma-separated, newest
  first) or from ``<data_dir>/master.key``, which is generated on first run with mode 0600. A key
  file that group or other users can read is refused (like ``ssh`` does with private keys): the
  operator fixes the mode, minime does not guess. Rotation re-wraps every data key with
  ``MultiFernet([new, *old]).rotate`` in one transaction; the data itself is not re-encrypted.
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
from collections.abc import Sequence
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
from storage.scope import unscoped

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

    Raises:
        MasterKeyError: a key is malformed, or the key file is readable by other users.
    """
    if master_key is not None and master_key.strip():
        return MasterKeys.parse(master_key, source=KeySource("env"))
    path = data_dir / KEY_FILE_NAME
    if not path.exists():
        return None
    keys = _read_key_file(path)
    old = data_dir / OLD_KEY_FILE_NAME
    if old.exists():
        log.warning("found %s from an interrupted key rotation; using it as a fallback key", old)
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
    """

    source: KeySource
    rewrapped: int
    key_file: Path | None = None
    new_key: str | None = None

    def __repr__(self) -> str:
        return (
            f"KeyRotation(source={self.source}, rewrapped={self.rewrapped}, "
            f"key_file={self.key_file}, new_key={'<hidden>' if self.new_key else None})"
        )


async def rotate_keys(
    engine: AsyncEngine, keyring: KeyRing, *, new_key: str | None = None
) -> KeyRotation:
    """``minime keys rotate``: re-wrap every data key under a new master key.

    With a key file, the new key is written first and the previous one is kept in
    ``master.key.old`` (which :func:`read_master_keys` also reads) until the database transaction
    has committed, so a crash at any point leaves a readable database; if the transaction fails,
    the previous key file is put back. With an environment key nothing is written: the new key
    is returned for the operator. Pass ``new_key`` to choose it (for example to show it to the
    operator before the database changes); by default one is generated.

    Stop the other workers first (or restart them right after): a worker still holding only the
    old key cannot open accounts it has not cached, and would wrap new accounts' data keys with
    the old key. With an environment key, ``MINIME_MASTER_KEY="<new>,<old>"`` bridges the gap.

    Raises:
        MasterKeyError: ``new_key`` is not a Fernet key.
        WrongMasterKey: the current keys cannot unwrap a stored data key.
    """
    master = keyring.master
    key = new_key or generate_master_key()
    MasterKeys([key], source=master.source)  # validate before touching anything
    path = master.source.path
    if path is None:
        count = await rotate_master_key(engine, master, key)
        keyring.replace_master(MasterKeys([key], source=master.source))
        return KeyRotation(source=master.source, rewrapped=count, new_key=key)

    old_path = path.with_name(OLD_KEY_FILE_NAME)
    _replace_key_file(old_path, master._text())
    _replace_key_file(path, key)
    try:
        count = await rotate_master_key(engine, master, key)
    except BaseException:
        os.replace(old_path, path)
        _fsync_dir(path.parent)
        raise
    old_path.unlink()
    _fsync_dir(path.parent)
    keyring.replace_master(MasterKeys([key], source=master.source))
    return KeyRotation(source=master.source, rewrapped=count, key_file=path)
