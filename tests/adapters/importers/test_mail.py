"""E-mail: mbox and .eml (file, folder, zip); quote/signature stripping; threading; broken headers."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.importers import ImportFormatError, open_import
from adapters.importers.mail import html_to_text, normalise_subject, strip_quotes
from tests.adapters.importers.conftest import FIXTURES, mutate, read_all, survives, zip_folder

SENT = FIXTURES / "mail" / "Sent.mbox"
EML = FIXTURES / "mail" / "eml"


def test_sent_mbox() -> None:
    messages = read_all(SENT, "mbox")
    assert [m.id for m in messages] == [
        "a1@mail.example.org",
        "a2@mail.example.org",
        "a3@mail.example.org",
    ]
    first, second, third = messages
    assert first.text == "Hi Bob,\n\nThursday works. I'll bring the budget numbers.\n\nBest,\nAlice"
    assert first.reply_to == "b1@mail.example.com"
    assert first.conversation == "b0@mail.example.com"  # the first References id is the root
    assert first.sent_at == datetime(2024, 3, 4, 9, 30, tzinfo=UTC)
    # mboxrd ">From" unescaped; the "-- " signature removed
    assert second.text == (
        "Carol! Are you free for dinner on Friday? Thinking of that new ramen place.\n"
        "From what I heard it's great."
    )
    assert second.conversation == "a2@mail.example.org"  # a thread's first message roots it
    # quoted-printable text/plain preferred; "Sent from my iPhone" and the French quote dropped
    assert third.text == "Perfect, 7:30 it is 🍜"
    assert third.conversation == second.conversation
    assert {m.sender for m in messages} == {"Alice Moreau"}


def test_sent_folder_names_its_owner() -> None:
    source = open_import(SENT)
    assert source.format == "mbox"
    assert source.owner_hint() == "Alice Moreau"
    assert source.resolve_owner(None) == "Alice Moreau"
    assert source.resolve_owner("alice@example.org") == "Alice Moreau"


def test_eml_folder_html_and_outlook() -> None:
    messages = read_all(EML, "eml")
    question, answer, outlook = messages
    assert question.text == "Can we do Q2 planning this week?\nThursday maybe?"  # HTML, quote gone
    assert answer.text == "Thursday works, see you then."  # German two-line attribution
    assert answer.sender == "alice@example.org"  # no display name: the address
    assert outlook.text == "Can I join? I have the hiring numbers."
    assert outlook.sender == "Diaz, Carol"
    assert {m.conversation for m in messages} == {"b0@mail.example.com"}
    assert open_import(EML).owner_hint() is None  # received and sent mixed: nobody dominates


def test_single_eml_and_zip(tmp_path: Path) -> None:
    single = EML / "02-answer.eml"
    assert open_import(single).format == "eml"
    assert [m.id for m in read_all(single, "eml")] == ["a1@mail.example.org"]
    archive = zip_folder(EML, tmp_path / "mail.zip")
    assert open_import(archive).format == "eml"
    assert read_all(archive, "eml") == read_all(EML, "eml")


def test_same_address_keeps_one_name(tmp_path: Path) -> None:
    mbox = tmp_path / "inbox.mbox"
    mbox.write_text(
        "From x Mon Jan  1 00:00:00 2024\nFrom: Bob T <BOB@example.com>\n"
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <1@x>\n\nhello\n\n"
        "From x Mon Jan  1 00:00:00 2024\nFrom: Robert Tanaka <bob@example.com>\n"
        "Date: Mon, 1 Jan 2024 11:00:00 +0000\nMessage-ID: <2@x>\n\nagain\n"
    )
    messages = read_all(mbox, "mbox")
    assert [m.sender for m in messages] == ["Bob T", "Bob T"]
    assert open_import(mbox).resolve_owner("Robert Tanaka") == "Bob T"


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        ("Sounds good.\n\nOn Tue, 5 Mar 2024 at 10:00, Bob <b@x.com> wrote:\n> hi\n", "Sounds good."),
        ("Oui.\n\nLe mar. 5 mars 2024 à 10:00, Bob <b@x.com> a écrit :\n> salut\n", "Oui."),
        ("Sí.\n\nEl mar, 5 mar 2024 a las 10:00, Bob (<b@x.com>) escribió:\n> hola\n", "Sí."),
        ("Sì.\n\nIl giorno mar 5 mar 2024 alle ore 10:00 Bob <b@x.com> ha scritto:\n> ciao\n",
         "Sì."),
        ("Ja.\n\nOp di 5 mrt 2024 om 10:00 schreef Bob <b@x.com>:\n> hoi\n", "Ja."),
        ("Да.\n\n5 марта 2024 г., в 10:00, Bob <b@x.com> написал:\n> привет\n", "Да."),
        ("Tak.\n\nW dniu 5.03.2024 o 10:00, Bob <b@x.com> napisał:\n> cześć\n", "Tak."),
        ("> question one?\nanswer one\n> question two?\nanswer two\n",
         "answer one\nanswer two"),
        ("On Tue, Bob wrote:\n> q1\nmy answer inline\n", "my answer inline"),
        ("Thanks!\n\n-- \nAlice\n+1 555 0100\n", "Thanks!"),
        ("Thanks!\n\nSent from my iPhone\n\nOn Tue Bob wrote:\nold\n", "Thanks!"),
        ("Top post.\n\nOn Tue, Mar 5, 2024 at 10:00 AM Bob Tanaka <bob@x.com>\nwrote:\n\nold\n",
         "Top post."),
        ("Fine.\n\n________________________________\nFrom: Bob\nSent: Tuesday\n\nold\n", "Fine."),
    ],
)  # fmt: skip
def test_strip_quotes(body: str, kept: str) -> None:
    assert strip_quotes(body) == kept


def test_html_and_subjects() -> None:
    html = "<p>Hi&nbsp;there<br>line two</p><blockquote>quoted</blockquote><script>x()</script>"
    assert html_to_text(html) == "Hi there\nline two"
    assert normalise_subject("Re: FWD: AW:  Lunch  plans") == "lunch plans"


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ("From: \nDate: Mon, 1 Jan 2024 10:00:00 +0000\n", "broken headers (no usable 'From')"),
        ("From: a@x.com\n", "broken headers (no 'Date')"),
        ("From: a@x.com\nDate: someday\n", "broken headers ('Date' is not a date: 'someday')"),
        ("From: a@x.com\nthis line has no colon\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n",
         "broken headers"),
    ],
)  # fmt: skip
def test_broken_headers_name_the_message(tmp_path: Path, headers: str, problem: str) -> None:
    good = "From: b@x.com\nDate: Mon, 1 Jan 2024 09:00:00 +0000\nMessage-ID: <0@x>\n\nfine\n"
    mbox = tmp_path / "broken.mbox"
    mbox.write_text(f"From x\n{good}\nFrom x\n{headers}\nbody\n")
    with pytest.raises(ImportFormatError) as caught:
        read_all(mbox, "mbox")
    assert str(caught.value).startswith(f"{mbox}: message 2 (line 8): ")
    assert problem in str(caught.value)


def test_not_an_mbox_and_empty(tmp_path: Path) -> None:
    path = tmp_path / "x.mbox"
    path.write_text("hello\n")
    with pytest.raises(ImportFormatError, match=r"x\.mbox:1: not an mbox"):
        read_all(path, "mbox")
    path.write_text("")
    with pytest.raises(ImportFormatError, match=r"x\.mbox: no messages"):
        read_all(path, "mbox")
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(ImportFormatError, match=r"no \.eml files inside"):
        read_all(folder, "eml")


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_mutated_mail_never_escapes_the_error_contract(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        if data.draw(st.booleans()):
            path = root / "Sent.mbox"
            path.write_bytes(mutate(data, SENT.read_bytes()))
            survives(path, "mbox")
        else:
            path = root / "eml"
            shutil.copytree(EML, path)
            victim = data.draw(st.sampled_from(sorted(path.iterdir())))
            victim.write_bytes(mutate(data, victim.read_bytes()))
            survives(path, "eml")


def test_encoded_and_raw_utf8_headers(tmp_path: Path) -> None:
    mbox = tmp_path / "inbox.mbox"
    mbox.write_bytes(
        b"From x\nFrom: =?utf-8?q?Jos=C3=A9_Garc=C3=ADa?= <jose@example.com>\n"
        b"Date: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <1@x>\n"
        b"Content-Type: text/plain; charset=iso-8859-1\n\nCaf\xe9 ma\xf1ana?\n\n"
        b"From x\nFrom: Ren\xc3\xa9e <renee@example.com>\nDate: Mon, 1 Jan 2024 11:00:00 +0000\n"
        b"Message-ID: <2@x>\nContent-Type: text/plain; charset=x-unknown\n\nok \xc3\xa0 demain\n"
    )
    first, second = read_all(mbox, "mbox")
    assert (first.sender, first.text) == ("José García", "Café mañana?")
    assert (second.sender, second.text) == ("Renée", "ok à demain")
