"""X/Twitter archive: tweets.js with and without account.js; zip; threads."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.importers import ImportFormatError, open_import
from tests.adapters.importers.conftest import FIXTURES, mutate, read_all, survives, zip_folder

ARCHIVE = FIXTURES / "twitter"
TWEETS = ARCHIVE / "data" / "tweets.js"


def test_archive_folder() -> None:
    messages = read_all(ARCHIVE, "twitter")
    assert [m.id for m in messages] == [
        "1760000000000000001",
        "1760000000000000002",
        "1760000000000000003",
    ]  # the retweet is skipped
    first, second, third = messages
    assert first.text == (
        "Wrote up how I finally beat PETG stringing & warping: https://blog.example.org/petg"
    )
    assert first.sent_at == datetime(2024, 2, 20, 9, 0, tzinfo=UTC)
    assert (second.reply_to, second.conversation) == (first.id, first.id)  # self-thread
    assert third.text == "haha same, my first spool was a mess"  # leading @mention dropped
    assert third.conversation == "1759999999999999999"  # rooted at the parent outside the archive
    assert {m.sender for m in messages} == {"alice_makes"}


@pytest.mark.parametrize("me", [None, "alice_makes", "Alice Moreau", "1500000000000000001"])
def test_owner_from_account_js(me: str | None) -> None:
    source = open_import(ARCHIVE)
    assert source.format == "twitter"
    assert source.owner_hint() == "alice_makes"
    assert source.resolve_owner(me) == "alice_makes"


def test_zip_and_bare_tweets_js(tmp_path: Path) -> None:
    archive = zip_folder(ARCHIVE, tmp_path / "twitter-2024-03-01.zip")
    assert open_import(archive).format == "twitter"
    assert read_all(archive, "twitter") == read_all(ARCHIVE, "twitter")
    bare = open_import(TWEETS)
    assert bare.format == "twitter"
    assert bare.owner_hint() == "me"
    assert {m.sender for m in bare.messages()} == {"me"}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('[{"tweet": {}}]', "does not start with 'window.YTD.<name>.part0 ='"),
        ("window.YTD.tweets.part0 = [3]", "an entry is not a tweet object"),
        ('window.YTD.tweets.part0 = [{"tweet": {"full_text": "x"}}]', "tweet ? has no 'id_str'"),
        (
            'window.YTD.tweets.part0 = [{"tweet": {"id_str": "1", "full_text": "x", '
            '"created_at": "yesterday"}}]',
            "tweet 1: 'created_at' is not a Twitter time: 'yesterday'",
        ),
        ("window.YTD.tweets.part0 = [", "not valid JSON"),
        ("window.YTD.tweets.part0 = []", "no tweets"),
    ],
)
def test_malformed(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "tweets.js"
    path.write_text(content)
    with pytest.raises(ImportFormatError) as caught:
        read_all(path, "twitter")
    assert str(caught.value).startswith(str(path))
    assert problem in str(caught.value)


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_mutated_archives_never_escape_the_error_contract(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "tweets.js"
        path.write_bytes(mutate(data, TWEETS.read_bytes()))
        survives(path, "twitter")


def test_older_archive_names(tmp_path: Path) -> None:
    data = tmp_path / "archive" / "data"
    data.mkdir(parents=True)
    (data / "tweet.js").write_text(
        TWEETS.read_text().replace("window.YTD.tweets.part0", "window.YTD.tweet.part0")
    )
    (data / "tweetdeck.js").write_text("window.YTD.tweetdeck.part0 = []")
    assert open_import(tmp_path / "archive").format == "twitter"
    assert len(read_all(tmp_path / "archive", "twitter")) == 3
    assert open_import(data / "tweet.js").format == "twitter"


@pytest.mark.parametrize(
    ("me", "sender"),
    [
        ("alice_makes", "alice_makes"),
        ("@alice_makes", "alice_makes"),
        ("Alice Moreau", "Alice Moreau"),
    ],
)
def test_tweets_js_on_its_own_is_all_the_owners(me: str, sender: str) -> None:
    """A chat upload is one file: every tweet is still the archive owner's, named by --me."""
    source = open_import(TWEETS)
    assert source.resolve_owner(me) == sender
    messages = list(source.messages())
    assert len(messages) == 3 and {m.sender for m in messages} == {sender}


@pytest.mark.parametrize(
    "me", ["alice_makes", "@alice_makes", "ALICE MOREAU", "1500000000000000001"]
)
def test_me_works_with_account_js_beside_tweets_js(me: str) -> None:
    source = open_import(ARCHIVE)
    assert source.resolve_owner(me) == "alice_makes"
    assert {m.sender for m in source.messages()} == {"alice_makes"}


def test_me_naming_someone_else_still_fails_when_account_js_names_the_owner() -> None:
    from adapters.importers import UnknownOwner

    with pytest.raises(UnknownOwner, match="alice_makes"):
        open_import(ARCHIVE).resolve_owner("bob")
