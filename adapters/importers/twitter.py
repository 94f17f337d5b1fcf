"""X/Twitter archive: ``data/tweets.js`` (``window.YTD.tweets.part0 = [...]``; ``data/tweet.js``
in older archives, and ``tweets-part1.js``… in large ones), the archive zip or folder holding it
(with ``data/account.js``), or a bare ``tweets.js``.

Mapping:

- ``id`` is ``id_str``; ``reply_to`` is ``in_reply_to_status_id_str``; ``thread`` is ``None``.
- ``conversation`` is the thread root: the reply chain is followed inside the archive, and a reply
  to a tweet not in the archive is rooted at that tweet's id. (One pass collects the chain, a small
  id → parent map; a second pass yields the tweets.)
- Every tweet in an archive is the archive owner's. ``sender`` is the account's screen name from
  ``data/account.js`` (``--me`` also matches ``@name``, the account id and the display name) and
  is the owner hint. A ``tweets.js`` on its own (a chat upload is one file, not the folder) does
  not say whose it is: with ``--me`` its tweets are sent by that name (the handle, ``@`` dropped,
  or the display name, as given), without it by ``"me"``.
- ``text``: ``full_text`` with HTML entities unescaped, ``t.co`` links expanded to their targets,
  media links removed and a reply's leading ``@mentions`` dropped. Retweets (``RT @…``) are
  skipped: they are someone else's words. ``sent_at`` is ``created_at``.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from adapters.importers._common import (
    Container,
    ImportFormatError,
    Limits,
    Record,
    as_id,
    check_text,
    is_container,
    load_json,
    open_container,
    open_file,
    walk_json,
)
from core.models import Message

ANONYMOUS = "me"
_PREFIX = re.compile(rb"^(?:\xef\xbb\xbf)?\s*window\.YTD\.[A-Za-z0-9_]+\.part\d+\s*=\s*")
_LEADING_MENTIONS = re.compile(r"^(?:@\w{1,50}\s+)+")
_TWEET_FILE = re.compile(r"(^|/)tweets?(-part\d+)?\.js$")  # older archives: data/tweet.js


class _Skip(io.RawIOBase):
    """A stream from which the ``window.YTD... =`` assignment prefix has been cut."""

    def __init__(self, raw: IO[bytes], where: str) -> None:
        self._raw = raw
        head = raw.read(256)
        match = _PREFIX.match(head)
        if match is None:
            raise ImportFormatError(f"{where}: does not start with 'window.YTD.<name>.part0 ='")
        self._pending = head[match.end() :]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._pending:
            n = min(len(buffer), len(self._pending))
            buffer[:n] = self._pending[:n]
            self._pending = self._pending[n:]
            return n
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class TwitterReader:
    """Reads an X/Twitter archive (zip, folder or bare ``tweets.js``)."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self._account: dict[str, str] | None = None

    def owner_hint(self) -> str | None:
        return self._account_info().get("username") or ANONYMOUS

    def owner_keys(self) -> tuple[str, ...]:
        return ()

    def adopt_owner(self, me: str) -> str | None:
        """With ``account.js``, ``None`` (``--me`` is matched against it); without, ``me``."""
        account = self._account_info()
        if "username" in account:
            return None
        name = me.strip().removeprefix("@").strip() or me.strip()
        account["username"] = name
        return name

    def records(self) -> Iterator[Record]:
        account = self._account_info()
        sender = account.get("username") or ANONYMOUS
        aliases = tuple(v for k, v in account.items() if k != "username")
        if "username" in account:
            aliases += ("@" + account["username"],)
        parents: dict[str, str | None] = {}
        for raw, _where in self._tweets():
            ident = as_id(raw.get("id_str")) or as_id(raw.get("id"))
            if ident is not None:
                parents[ident] = as_id(raw.get("in_reply_to_status_id_str"))
        count = 0
        for raw, where in self._tweets():
            message = self._message(raw, where, sender, parents)
            if message is not None:
                count += 1
                yield message, aliases
        if count == 0 and not parents:
            raise ImportFormatError(f"{self.path}: no tweets")

    def _message(
        self, raw: dict[str, Any], where: str, sender: str, parents: dict[str, str | None]
    ) -> Message | None:
        ident = as_id(raw.get("id_str")) or as_id(raw.get("id"))
        at = f"{where}: tweet {ident or '?'}"
        if ident is None:
            raise ImportFormatError(f"{at} has no 'id_str'")
        full = raw.get("full_text", raw.get("text"))
        if not isinstance(full, str):
            raise ImportFormatError(f"{at} has no 'full_text'")
        if full.startswith("RT @"):
            return None
        reply_to = as_id(raw.get("in_reply_to_status_id_str"))
        text = _clean(full, raw.get("entities"), is_reply=reply_to is not None)
        check_text(text, at, self.limits)
        if not text:
            return None
        created = raw.get("created_at")
        try:
            sent_at = datetime.strptime(str(created), "%a %b %d %H:%M:%S %z %Y")
        except ValueError:
            raise ImportFormatError(
                f"{at}: 'created_at' is not a Twitter time: {created!r}"
            ) from None
        return Message(
            id=ident,
            conversation=_root(ident, parents),
            thread=None,
            sender=sender,
            text=text,
            sent_at=sent_at.astimezone(UTC),
            reply_to=reply_to,
        )

    def _account_info(self) -> dict[str, str]:
        if self._account is None:
            info: dict[str, str] = {}
            if is_container(self.path):
                box = open_container(self.path, self.limits)
                try:
                    names = [n for n in box.names if PurePosixPath(n).name == "account.js"]
                    if names:
                        info = self._read_account(box, names[0])
                finally:
                    box.close()
            self._account = info
        return self._account

    def _read_account(self, box: Container, name: str) -> dict[str, str]:
        where = box.where(name)
        data = box.read(name)
        match = _PREFIX.match(data)
        if match is None:
            raise ImportFormatError(f"{where}: does not start with 'window.YTD.account.part0 ='")
        parsed = load_json(data[match.end() :], where, self.limits)
        entry = parsed[0] if isinstance(parsed, list) and parsed else None
        account = entry.get("account") if isinstance(entry, dict) else None
        if not isinstance(account, dict):
            raise ImportFormatError(f"{where}: expected [{{'account': {{...}}}}]")
        info: dict[str, str] = {}
        for key in ("username", "accountId", "accountDisplayName"):
            value = as_id(account.get(key))
            if value:
                info[key] = value
        return info

    def _tweets(self) -> Iterator[tuple[dict[str, Any], str]]:
        with self._streams() as streams:
            for stream, where in streams:
                for _kind, _prefix, value in walk_json(
                    io.BufferedReader(_Skip(stream, where)),
                    where,
                    self.limits,
                    items=frozenset({"item"}),
                ):
                    tweet = value.get("tweet", value) if isinstance(value, dict) else None
                    if not isinstance(tweet, dict):
                        raise ImportFormatError(f"{where}: an entry is not a tweet object")
                    yield tweet, where

    @contextmanager
    def _streams(self) -> Iterator[Iterator[tuple[IO[bytes], str]]]:
        if not is_container(self.path):
            with open_file(self.path) as stream:
                yield iter([(stream, str(self.path))])
            return
        box = open_container(self.path, self.limits)
        try:
            names = sorted(n for n in box.names if _TWEET_FILE.search(n))
            if not names:
                raise ImportFormatError(f"{self.path}: no tweets.js in the archive")

            def opened() -> Iterator[tuple[IO[bytes], str]]:
                for name in names:
                    with box.open(name) as stream:
                        yield stream, box.where(name)

            yield opened()
        finally:
            box.close()


def _root(ident: str, parents: dict[str, str | None]) -> str:
    current = ident
    for _ in range(10_000):  # a cycle in hostile input must not hang
        parent = parents.get(current)
        if parent is None:
            return current
        current = parent
    return current


def _clean(full: str, entities: object, *, is_reply: bool) -> str:
    text = full
    if isinstance(entities, dict):
        urls = entities.get("urls")
        for url in urls if isinstance(urls, list) else []:
            if isinstance(url, dict) and isinstance(url.get("url"), str) and url["url"]:
                expanded = url.get("expanded_url")
                text = text.replace(url["url"], expanded if isinstance(expanded, str) else "")
        media = entities.get("media")
        for item in media if isinstance(media, list) else []:
            if isinstance(item, dict) and isinstance(item.get("url"), str) and item["url"]:
                text = text.replace(item["url"], "")
    text = html.unescape(text)
    if is_reply:
        text = _LEADING_MENTIONS.sub("", text)
    return text.strip()
