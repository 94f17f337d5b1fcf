"""WhatsApp chat exports: Android and iOS, 12/24 h, day/month first, marks, media, system lines."""

from __future__ import annotations

import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.importers import ImportFormatError, Limits, open_import
from adapters.importers.whatsapp import REPLY_WINDOW
from tests.adapters.importers.conftest import FIXTURES, mutate, read_all, survives

CHATS = FIXTURES / "whatsapp"
ANDROID_12H = CHATS / "WhatsApp Chat with Bob Tanaka.txt"
ANDROID_24H = CHATS / "WhatsApp Chat with Climbing crew.txt"
IOS = CHATS / "_chat.txt"


def test_android_12h_month_first() -> None:
    messages = read_all(ANDROID_12H, "whatsapp")
    assert [m.sender for m in messages] == ["Bob Tanaka", "Alice Moreau", "Alice Moreau",
                                            "Bob Tanaka", "Alice Moreau", "Bob Tanaka",
                                            "Alice Moreau"]  # fmt: skip
    first, multi, edited = messages[0], messages[1], messages[2]
    assert first.conversation == "Bob Tanaka"
    assert first.sent_at == datetime(2023, 12, 31, 21, 41, tzinfo=UTC)  # U+202F before PM
    assert multi.text == "staying in, tired from the trip\nmaybe fireworks from the balcony though"
    assert edited.text == "this is the view"  # "<Media omitted>" dropped, edit marker removed
    assert messages[3].sent_at == datetime(2024, 1, 1, 0, 3, tzinfo=UTC)  # 12:03 AM
    assert "This message was deleted" not in {m.text for m in messages}


def test_reply_heuristic() -> None:
    messages = read_all(ANDROID_12H, "whatsapp")
    assert messages[1].reply_to == messages[0].id  # a change of sender within the window
    assert messages[2].reply_to is None  # same sender again: not a reply
    assert messages[4].reply_to == messages[3].id
    # brunch question on 1/2, answer on 1/13: too late to count as a reply
    assert messages[6].sent_at - messages[5].sent_at > REPLY_WINDOW
    assert messages[6].reply_to is None
    assert all(m.thread is None for m in messages)


def test_android_24h_day_first_with_bom_and_system_lines() -> None:
    messages = read_all(ANDROID_24H, "whatsapp")
    assert [(m.sender, m.text) for m in messages] == [
        ("Carol Diaz", "who's in for Saturday?"),
        ("Alice Moreau", "me! 10am?"),
        ("+44 7700 900123", "count me in"),
    ]  # created/added/subject (with a colon in it)/left and the attached file are skipped
    assert messages[0].sent_at == datetime(2023, 12, 31, 21, 43, tzinfo=UTC)
    assert messages[0].conversation == "Climbing crew"


def test_ios_marks_multiline_and_chat_name() -> None:
    messages = read_all(IOS, "whatsapp")
    assert [m.sender for m in messages] == ["Carol Diaz", "Alice Moreau", "Bob Tanaka"]
    assert messages[1].text == "love it\nalready bought it actually\n\nchapter 1 is wild"
    assert messages[2].sent_at == datetime(2024, 1, 1, 10, 2, tzinfo=UTC)  # 1/1 day-first
    assert {m.conversation for m in messages} == {"Book club"}  # named by the iOS notice line


def test_ios_12h_and_dotted_dates() -> None:
    ios12 = read_all(CHATS / "ios_12h.txt", "whatsapp")
    assert ios12[0].sent_at == datetime(2023, 12, 31, 21, 41, 5, tzinfo=UTC)
    dots = read_all(CHATS / "dots_de.txt", "whatsapp")
    assert dots[1].sent_at == datetime(2023, 12, 31, 21, 45, tzinfo=UTC)
    assert dots[1].text == "dir auch! 🥂"


@pytest.mark.parametrize(
    ("line", "sender", "sent_at"),
    [
        ("31/12/2023, 9:41 p. m. - Ana: hola", "Ana", datetime(2023, 12, 31, 21, 41, tzinfo=UTC)),
        ("2023-12-31 21:41 - Ana: hi", "Ana", datetime(2023, 12, 31, 21, 41, tzinfo=UTC)),
        ("31.12.2023 klo 21.41 - Ana: moi", None, None),
        ("31.12.2023, 21.41 - Ana: moi", "Ana", datetime(2023, 12, 31, 21, 41, tzinfo=UTC)),
        ("[31/12/2023, 21:41:05] ~\u202fAna Lima: oi", "Ana Lima",
         datetime(2023, 12, 31, 21, 41, 5, tzinfo=UTC)),
        ("12/31/23, 9:41\u202fam - Ana: hi", "Ana", datetime(2023, 12, 31, 9, 41, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_locales(tmp_path: Path, line: str, sender: str | None, sent_at: datetime | None) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(line + "\n")
    if sender is None:
        with pytest.raises(ImportFormatError, match="no WhatsApp message lines found"):
            read_all(path, "whatsapp")
        return
    (message,) = read_all(path, "whatsapp")
    assert (message.sender, message.sent_at) == (sender, sent_at)


def test_zip_with_media(tmp_path: Path) -> None:
    archive = tmp_path / "WhatsApp Chat - Book club.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("00000012-PHOTO-2024-01-01-10-00-00.jpg", b"\xff\xd8\xff\xe0 not really")
        z.write(IOS, "_chat.txt")
    assert open_import(archive).format == "whatsapp"
    assert [m.text for m in read_all(archive, "whatsapp")] == [
        m.text for m in read_all(IOS, "whatsapp")
    ]


def test_owner_must_be_named() -> None:
    source = open_import(ANDROID_12H)
    assert source.owner_hint() is None
    assert source.resolve_owner("alice moreau") == "Alice Moreau"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("hello\n31/12/2023, 21:41 - A: hi\n", "chat.txt:1: does not start with a WhatsApp date"),
        ("hello there\n", "no WhatsApp message lines found"),
        ("31/12/2023, 21:41 - A: hi\n12/31/2023, 21:42 - B: yo\n", "neither consistently"),
        ("31/02/2023, 21:41 - A: hi\n", "31/02/2023 21:41 is not a valid date and time"),
        ("12/31/23, 13:41 PM - A: hi\n", "13:41 is not a 12-hour time"),
        ("", "no WhatsApp message lines found"),
    ],
)
def test_malformed_chats(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(content)
    with pytest.raises(ImportFormatError) as caught:
        read_all(path, "whatsapp")
    assert str(caught.value).startswith(str(path))
    assert problem in str(caught.value)


def test_a_runaway_message_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text("31/12/2023, 21:41 - A: start\n" + "more text\n" * 50)
    with pytest.raises(ImportFormatError, match=r"chat\.txt:1: message text is \d+ characters"):
        read_all(path, "whatsapp", Limits(max_text_chars=100))


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes(b"31/12/2023, 21:41 - A: hi\n31/12/2023, 21:42 - B: \xff\n")
    with pytest.raises(ImportFormatError, match=r"chat\.txt:2: not valid UTF-8$"):
        read_all(path, "whatsapp")


_LINE = st.sampled_from(ANDROID_12H.read_text().splitlines() + IOS.read_text().splitlines())


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_mutated_chats_never_escape_the_error_contract(data: st.DataObject) -> None:
    if data.draw(st.booleans()):
        original = data.draw(st.sampled_from(sorted(CHATS.iterdir()))).read_bytes()
        content = mutate(data, original)
    else:
        lines = data.draw(st.lists(st.one_of(_LINE, st.text(max_size=40)), max_size=12))
        content = "\n".join(lines).encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "chat.txt"
        path.write_bytes(content)
        survives(path, "whatsapp")
