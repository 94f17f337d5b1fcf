"""Encryption at rest: envelopes bound to their row, master keys, rotation, wrong keys."""

from __future__ import annotations

import os
import re
import stat
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, update

import storage.crypto as crypto
from storage import DecryptionError, MasterKeyError, Storage, WrongMasterKey, tables
from storage.crypto import (
    DataCipher,
    KeySource,
    MasterKeys,
    generate_master_key,
    row_id,
)
from storage.scope import Scope, set_scope
from tests.storage.support import Backend, message, new_account, stored, stream

# --- the primitives ----------------------------------------------------------------------------


def test_envelope_is_bound_to_account_and_row() -> None:
    key = os.urandom(32)
    mine, theirs = DataCipher("acct-a", key), DataCipher("acct-b", key)
    sealed = mine.encrypt_text(row_id("msg", "p", "1", "text"), "hello")
    assert mine.decrypt_text(row_id("msg", "p", "1", "text"), sealed) == "hello"
    assert b"hello" not in sealed

    for cipher, row in [
        (theirs, row_id("msg", "p", "1", "text")),  # same key, other account
        (mine, row_id("msg", "p", "2", "text")),  # other row
        (mine, row_id("msg", "p", "1", "sender")),  # other column
    ]:
        with pytest.raises(DecryptionError):
            cipher.decrypt(row, sealed)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(DecryptionError):
        mine.decrypt(row_id("msg", "p", "1", "text"), tampered)
    with pytest.raises(DecryptionError):
        mine.decrypt("x", b"\x01short")
    # A fresh nonce every time: equal plaintexts do not give equal ciphertexts.
    assert mine.encrypt(row_id("r", "x"), b"same") != mine.encrypt(row_id("r", "x"), b"same")


def test_master_keys_hide_secrets_and_validate() -> None:
    key = generate_master_key()
    keys = MasterKeys.parse(f"{key}, {generate_master_key()}", source=KeySource("env"))
    assert len(keys) == 2
    assert key not in repr(keys) and "MINIME_MASTER_KEY" in repr(keys)
    assert keys.unwrap(keys.wrap(b"k" * 32)) == b"k" * 32
    with pytest.raises(MasterKeyError, match="not a valid Fernet key"):
        MasterKeys.parse("not-a-key", source=KeySource("env"))
    with pytest.raises(MasterKeyError):
        MasterKeys.parse(" , ", source=KeySource("env"))
    sealed = keys.seal("slack:event:Ev1", b"a delivery")
    assert b"a delivery" not in sealed and keys.unseal("slack:event:Ev1", sealed) == b"a delivery"
    with pytest.raises(DecryptionError, match="another record"):
        keys.unseal("slack:event:Ev2", sealed)  # bound to its delivery key
    with pytest.raises(DecryptionError):
        keys.unseal("slack:event:Ev1", sealed[:-1] + bytes([sealed[-1] ^ 1]))
    other = MasterKeys([generate_master_key()], source=KeySource("file", Path("/d/master.key")))
    with pytest.raises(WrongMasterKey, match=re.escape("/d/master.key")):
        other.unwrap(keys.wrap(b"k" * 32))
    with pytest.raises(DecryptionError):
        other.unseal("slack:event:Ev1", sealed)  # a retired master key: unreadable


def test_key_file_is_created_private_and_atomically(tmp_path: Path) -> None:
    keys = crypto.create_master_key_file(tmp_path)
    path = tmp_path / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.source == KeySource("file", path)
    # A second creation (another process racing) keeps the first key.
    again = crypto.create_master_key_file(tmp_path)
    assert again._text() == keys._text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key"]

    path.chmod(0o644)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        crypto.read_master_keys(None, tmp_path)
    with pytest.raises(MasterKeyError, match="does not exist"):
        crypto.create_master_key_file(tmp_path / "missing")


# --- against the database ----------------------------------------------------------------------


async def test_ciphertext_copied_to_another_row_or_account_fails(storage: Storage) -> None:
    alice = await new_account(storage)
    bob = await new_account(storage)
    assert alice.active_persona is not None and bob.active_persona is not None
    await storage.messages.add_stream(
        alice.id,
        stream(
            [
                stored(alice.active_persona, message("a1", text="alice's secret")),
                stored(alice.active_persona, message("a2", text="alice's other")),
            ]
        ),
    )
    await storage.messages.add_stream(
        bob.id, stream([stored(bob.active_persona, message("b1", text="bob's"))])
    )
    m = tables.messages
    async with storage.engine.begin() as connection:
        # Row-level security (the app role): each account's rows under its own scope.
        await set_scope(connection, Scope(account=alice.id))
        secret = (
            await connection.execute(
                select(m.c.text).where(m.c.msg_id == "a1", m.c.account_id == alice.id)
            )
        ).scalar_one()
        # Into another account's row, and into another row of the same account.
        await set_scope(connection, Scope(account=bob.id))
        await connection.execute(
            update(m).where(m.c.account_id == bob.id, m.c.msg_id == "b1").values(text=secret)
        )
        await set_scope(connection, Scope(account=alice.id))
        await connection.execute(
            update(m).where(m.c.account_id == alice.id, m.c.msg_id == "a2").values(text=secret)
        )

    with pytest.raises(DecryptionError):
        await storage.messages.get(bob.id, bob.active_persona, ["b1"])
    with pytest.raises(DecryptionError):
        await storage.messages.get(alice.id, alice.active_persona, ["a2"])
    [intact] = await storage.messages.get(alice.id, alice.active_persona, ["a1"])
    assert intact.message.text == "alice's secret"


async def test_state_blob_moved_between_accounts_fails(storage: Storage) -> None:
    alice = await new_account(storage)
    bob = await new_account(storage)
    assert alice.active_persona is not None and bob.active_persona is not None
    await storage.state.put(alice.id, alice.active_persona, "profile", b"alice")
    await storage.state.put(bob.id, bob.active_persona, "profile", b"bob")
    s = tables.state
    async with storage.engine.begin() as connection:
        await set_scope(connection, Scope(account=alice.id))  # row-level security
        blob = (
            await connection.execute(select(s.c.value).where(s.c.account_id == alice.id))
        ).scalar_one()
        await set_scope(connection, Scope(account=bob.id))
        await connection.execute(update(s).where(s.c.account_id == bob.id).values(value=blob))
    with pytest.raises(DecryptionError):
        await storage.state.get(bob.id, bob.active_persona, "profile")


async def test_rotation_with_a_key_file(backend: Backend, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = await backend.fresh_url(data_dir)
    async with backend.fresh_storage(data_dir, url=url) as opened:
        account = await new_account(opened)
        assert account.active_persona is not None
        await opened.messages.add_stream(
            account.id, stream([stored(account.active_persona, message("m", text="kept"))])
        )
        old_key = (data_dir / "master.key").read_text().strip()

        rotation = await opened.rotate_master_key()
        assert rotation.rewrapped >= 1 and rotation.new_key is None
        assert rotation.key_file == data_dir / "master.key"
        new_key = (data_dir / "master.key").read_text().strip()
        assert new_key != old_key and new_key not in repr(rotation)
        assert stat.S_IMODE((data_dir / "master.key").stat().st_mode) == 0o600
        assert not (data_dir / "master.key.old").exists()

    # Only the new key is needed now; the old one no longer opens the database.
    async with backend.fresh_storage(data_dir, url=url) as reopened:
        [got] = await reopened.messages.get(account.id, account.active_persona, ["m"])
        assert got.message.text == "kept"
    with pytest.raises(WrongMasterKey):
        async with backend.fresh_storage(data_dir, master_key=old_key, url=url):
            pass


async def test_rotation_with_an_environment_key(backend: Backend, tmp_path: Path) -> None:
    old_key = generate_master_key()
    url = await backend.fresh_url(tmp_path)
    async with backend.fresh_storage(tmp_path, master_key=old_key, url=url) as opened:
        account = await new_account(opened)
        assert account.active_persona is not None
        await opened.state.put(account.id, account.active_persona, "profile", b"p")
        rotation = await opened.rotate_master_key()
        assert rotation.new_key is not None and rotation.key_file is None
        assert not (tmp_path / "master.key").exists()  # nothing written for an env key
        # The running process keeps working with the new key (fresh key cache).
        opened.keys.forget(account.id)
        assert await opened.state.get(account.id, account.active_persona, "profile") == b"p"

    async with backend.fresh_storage(tmp_path, master_key=rotation.new_key, url=url) as reopened:
        assert await reopened.state.get(account.id, account.active_persona, "profile") == b"p"
    with pytest.raises(WrongMasterKey, match="MINIME_MASTER_KEY"):
        async with backend.fresh_storage(tmp_path, master_key=old_key, url=url):
            pass
    # During a staged roll-out both keys may be given, newest first.
    both = f"{rotation.new_key},{old_key}"
    async with backend.fresh_storage(tmp_path, master_key=both, url=url) as reopened:
        assert await reopened.state.get(account.id, account.active_persona, "profile") == b"p"


async def test_failed_rotation_puts_the_key_file_back(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await backend.fresh_url(tmp_path)
    async with backend.fresh_storage(tmp_path, url=url) as opened:
        account = await new_account(opened)
        before = (tmp_path / "master.key").read_text()

        async def boom(*_args: object) -> int:
            # The new key is on disk and the old one kept aside while the database changes.
            assert (tmp_path / "master.key").read_text() != before
            assert (tmp_path / "master.key.old").read_text() == before
            raise RuntimeError("database went away")

        monkeypatch.setattr(crypto, "rotate_master_key", boom)
        with pytest.raises(RuntimeError):
            await opened.rotate_master_key()
        assert (tmp_path / "master.key").read_text() == before
        assert not (tmp_path / "master.key.old").exists()
    monkeypatch.undo()
    async with backend.fresh_storage(tmp_path, url=url) as reopened:
        assert await reopened.accounts.get(account.id) is not None


async def test_interrupted_rotation_is_still_readable(backend: Backend, tmp_path: Path) -> None:
    """A crash after the new key file was written but before the commit: the old key (kept in
    master.key.old) still opens the database."""
    url = await backend.fresh_url(tmp_path)
    async with backend.fresh_storage(tmp_path, url=url) as opened:
        account = await new_account(opened)
    path = tmp_path / "master.key"
    os.replace(path, tmp_path / "master.key.old")
    crypto._replace_key_file(path, generate_master_key())
    async with backend.fresh_storage(tmp_path, url=url) as reopened:
        assert await reopened.accounts.get(account.id) is not None


async def test_wrong_or_missing_master_key(backend: Backend, tmp_path: Path) -> None:
    url = await backend.fresh_url(tmp_path)
    async with backend.fresh_storage(tmp_path, url=url) as opened:
        await new_account(opened)
    key_file = tmp_path / "master.key"

    with pytest.raises(WrongMasterKey) as wrong_env:
        async with backend.fresh_storage(tmp_path, master_key=generate_master_key(), url=url):
            pass
    message = str(wrong_env.value)
    assert "MINIME_MASTER_KEY" in message and "\n" not in message and message.endswith(".")

    original = key_file.read_text()
    crypto._replace_key_file(key_file, generate_master_key())
    with pytest.raises(WrongMasterKey, match=re.escape(str(key_file))):
        async with backend.fresh_storage(tmp_path, url=url):
            pass

    key_file.unlink()
    with pytest.raises(MasterKeyError, match="missing, but the database holds encrypted data"):
        async with backend.fresh_storage(tmp_path, url=url):
            pass
    assert not key_file.exists()  # no new key was generated over existing data

    crypto._replace_key_file(key_file, original.strip())
    key_file.chmod(0o640)
    with pytest.raises(MasterKeyError, match="accessible to other users"):
        async with backend.fresh_storage(tmp_path, url=url):
            pass


async def test_data_keys_are_cached_and_wrapped(storage: Storage) -> None:
    account = await new_account(storage)
    assert storage.keys.cached(account.id) is not None
    k = tables.account_keys
    async with storage.engine.connect() as connection:
        await set_scope(connection, Scope(account=account.id))  # row-level security
        wrapped = (
            await connection.execute(select(k.c.wrapped_key).where(k.c.account_id == account.id))
        ).scalar_one()
    assert len(storage.keys.master.unwrap(wrapped)) == 32
    storage.keys.forget(account.id)
    assert await storage.accounts.get(account.id) == account  # unwrapped again on demand
    assert "cached" in repr(storage.keys) and uuid.UUID(account.id)


# --- rotation that survives being interrupted ---------------------------------------------------


async def test_rotation_hands_the_environment_key_over_before_rewrapping(
    backend: Backend, tmp_path: Path
) -> None:
    old_key = generate_master_key()
    url = await backend.fresh_url(tmp_path)
    async with backend.fresh_storage(tmp_path, master_key=old_key, url=url) as opened:
        account = await new_account(opened)
        assert account.active_persona is not None
        await opened.state.put(account.id, account.active_persona, "profile", b"p")
        handed: list[str] = []

        def hand_over(key: str) -> None:
            handed.append(key)
            raise OSError(28, "No space left on device")  # the operator never got it

        with pytest.raises(OSError):
            await opened.rotate_master_key(hand_over=hand_over)
        rotation = await opened.rotate_master_key(hand_over=handed.append)
        assert handed[-1] == rotation.new_key and len(handed) == 2
    # The failed hand-over changed nothing: the old key still opens everything, the lost one not.
    with pytest.raises(WrongMasterKey):
        async with backend.fresh_storage(tmp_path, master_key=handed[0], url=url):
            pass
    async with backend.fresh_storage(tmp_path, master_key=handed[1], url=url) as reopened:
        assert await reopened.state.get(account.id, account.active_persona, "profile") == b"p"


async def test_a_rotation_interrupted_after_the_new_key_was_written_is_finished(
    backend: Backend, tmp_path: Path
) -> None:
    """Killed after ``master.key`` got the new key, before (or after) the re-wrap committed:
    the next ``keys rotate`` finishes that rotation instead of starting another."""
    url = await backend.fresh_url(tmp_path)
    async with backend.fresh_storage(tmp_path, url=url) as opened:
        account = await new_account(opened)
        assert account.active_persona is not None
        await opened.state.put(account.id, account.active_persona, "profile", b"p")
    path = tmp_path / "master.key"
    old_key = path.read_text().strip()
    os.replace(path, tmp_path / "master.key.old")
    new_key = generate_master_key()
    crypto._replace_key_file(path, new_key)

    async with backend.fresh_storage(tmp_path, url=url) as reopened:
        rotation = await reopened.rotate_master_key()
        assert rotation.resumed and rotation.rewrapped >= 1
    assert path.read_text().strip() == new_key  # the key already in the operator's hands
    assert not (tmp_path / "master.key.old").exists()
    async with backend.fresh_storage(tmp_path, master_key=new_key, url=url) as reopened:
        assert await reopened.state.get(account.id, account.active_persona, "profile") == b"p"
    with pytest.raises(WrongMasterKey):
        async with backend.fresh_storage(tmp_path, master_key=old_key, url=url):
            pass


async def test_a_rotation_interrupted_before_the_new_key_was_written_starts_afresh(
    backend: Backend, tmp_path: Path
) -> None:
    url = await backend.fresh_url(tmp_path)
    async with backend.fresh_storage(tmp_path, url=url) as opened:
        account = await new_account(opened)
    path = tmp_path / "master.key"
    old_key = path.read_text().strip()
    crypto._replace_key_file(tmp_path / "master.key.old", old_key)  # killed right after this

    async with backend.fresh_storage(tmp_path, url=url) as reopened:
        rotation = await reopened.rotate_master_key()
        assert not rotation.resumed
    assert path.read_text().strip() != old_key
    assert not (tmp_path / "master.key.old").exists()
    async with backend.fresh_storage(tmp_path, url=url) as reopened:
        assert await reopened.accounts.get(account.id) is not None


async def test_a_failure_after_the_commit_keeps_the_new_key(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Putting the previous key file back after the data keys moved would lock every account."""
    url = await backend.fresh_url(tmp_path)
    async with backend.fresh_storage(tmp_path, url=url) as opened:
        account = await new_account(opened)
        rewrap = crypto.rotate_master_key

        async def commit_then_fail(*args: object) -> int:
            await rewrap(*args)  # type: ignore[arg-type]
            raise RuntimeError("connection lost while closing")

        monkeypatch.setattr(crypto, "rotate_master_key", commit_then_fail)
        with pytest.raises(RuntimeError):
            await opened.rotate_master_key()
    monkeypatch.undo()
    async with backend.fresh_storage(tmp_path, url=url) as reopened:
        assert await reopened.accounts.get(account.id) is not None
        assert (await reopened.rotate_master_key()).resumed
    assert not (tmp_path / "master.key.old").exists()


async def test_temporary_key_files_of_dead_processes_are_removed(
    backend: Backend, tmp_path: Path
) -> None:
    url = await backend.fresh_url(tmp_path)
    async with backend.fresh_storage(tmp_path, url=url):
        pass
    dead = _dead_pid()
    leftovers = [
        tmp_path / f".master.key.old.{dead}.0badc0de.tmp",  # killed while saving the old key
        tmp_path / f".master.key.{dead}.0badc0de.tmp",
    ]
    live = tmp_path / f".master.key.{os.getppid()}.0badc0de.tmp"  # a live process, mid-write
    for path in [*leftovers, live]:
        path.write_text(generate_master_key() + "\n")
    async with backend.fresh_storage(tmp_path, url=url):
        pass
    assert [p.exists() for p in leftovers] == [False, False]
    assert live.exists()


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
