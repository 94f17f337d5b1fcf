"""Errors raised by the storage layer.

Each carries one sentence meant for the operator: what failed and where (a file path, or a host and
port), never a password, a key or a traceback. The CLI prints ``str(error)`` and exits non-zero.
"""

from __future__ import annotations

from core.ports import Unreadable


class StorageError(Exception):
    """Base class of every error the storage layer raises on purpose."""


class StorageUnavailable(StorageError):
    """The database cannot be opened or does not answer (missing directory, refused connection)."""


class MasterKeyError(StorageError):
    """The master key is missing, malformed, or kept in a file that other users can read."""


class WrongMasterKey(MasterKeyError):
    """The master key is well formed but cannot unwrap the data keys stored in the database."""


class DecryptionError(StorageError, Unreadable):
    """A stored value failed authentication: it was altered, or copied from another row or account.

    Reads of many rows skip such a row and quarantine it (``storage.stores.context.Quarantine``);
    a read of one named row raises this (as the core's ``Unreadable``)."""


class NotFound(StorageError, LookupError):
    """A write named a row (a persona, an account) that the calling account does not own."""
