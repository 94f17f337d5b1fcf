"""Auto-detection from content: every fixture, zips and folders, and what is not an export."""

from __future__ import annotations

import gzip
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.importers import FORMATS, ImportFormatError, detect_format, open_import
from tests.adapters.importers.conftest import FIXTURES, zip_folder

CASES = [
    ("messages.jsonl", "jsonl"),
    ("slack", "slack"),
    ("telegram/single_chat.json", "telegram"),
    ("telegram/full_export.json", "telegram"),
    ("discord.json", "discord"),
    ("whatsapp/WhatsApp Chat with Bob Tanaka.txt", "whatsapp"),
    ("whatsapp/WhatsApp Chat with Climbing crew.txt", "whatsapp"),
    ("whatsapp/_chat.txt", "whatsapp"),
    ("whatsapp/ios_12h.txt", "whatsapp"),
    ("whatsapp/dots_de.txt", "whatsapp"),
    ("mail/Sent.mbox", "mbox"),
    ("mail/eml", "eml"),
    ("mail/eml/01-question.eml", "eml"),
    ("mail/eml/03-outlook.eml", "eml"),
    ("twitter", "twitter"),
    ("twitter/data/tweets.js", "twitter"),
    ("notes.txt", "text"),
]


@pytest.mark.parametrize(("name", "fmt"), CASES)
def test_every_fixture_is_detected(name: str, fmt: str) -> None:
    assert detect_format(FIXTURES / name) == fmt
    assert open_import(FIXTURES / name).format == fmt


def test_every_format_has_a_fixture() -> None:
    assert {fmt for _, fmt in CASES} == set(FORMATS)


@pytest.mark.parametrize(("name", "fmt"), [c for c in CASES if c[1] != "text"])
def test_content_wins_over_the_extension(tmp_path: Path, name: str, fmt: str) -> None:
    source = FIXTURES / name
    if source.is_dir():
        target = zip_folder(source, tmp_path / "export.bin")
    else:
        target = tmp_path / "export.dat"
        shutil.copy(source, target)
    assert detect_format(target) == fmt


def test_gzip_jsonl_and_zipped_single_files(tmp_path: Path) -> None:
    gz = tmp_path / "m.jsonl.gz"
    gz.write_bytes(gzip.compress((FIXTURES / "messages.jsonl").read_bytes()))
    assert detect_format(gz) == "jsonl"
    for name, fmt in [("discord.json", "discord"), ("mail/Sent.mbox", "mbox")]:
        archive = tmp_path / f"{fmt}.zip"
        with zipfile.ZipFile(archive, "w") as z:
            z.write(FIXTURES / name, Path(name).name)
        assert detect_format(archive) == fmt
        assert open_import(archive).format == fmt
        assert list(open_import(archive).messages())


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "not a recognised export"),
        ("data.json", b'{"rows": [1, 2, 3]}', "not a recognised export"),
        ("data.json", b"[1, 2, 3]", "not a recognised export"),
        ("table.csv", b"a,b\n1,2\n", "not a recognised export"),
        ("x.zip", b"PK\x03\x04 truncated", "not a readable zip archive"),
        ("x.zip", b"not a zip at all", "not a readable zip archive"),
        ("x.gz", gzip.compress(b"hello"), "gzip file that does not hold canonical message JSONL"),
    ],
)
def test_unknown_files_list_the_formats(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFormatError) as caught:
        detect_format(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    if "recognised" in problem:
        assert "supported formats are jsonl, slack, telegram" in message


def test_missing_path_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="no such file or directory"):
        open_import(tmp_path / "nope.zip")
    with pytest.raises(ImportFormatError, match="unknown format 'icq'"):
        open_import(FIXTURES / "notes.txt", "icq")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ImportFormatError, match="no recognised export inside"):
        detect_format(empty)


def test_truncated_zip_of_each_kind(tmp_path: Path) -> None:
    for folder in ("slack", "twitter", "mail/eml"):
        data = zip_folder(FIXTURES / folder, tmp_path / "full.zip").read_bytes()
        cut = tmp_path / "cut.zip"
        cut.write_bytes(data[: len(data) - 30])
        with pytest.raises(ImportFormatError, match="not a readable zip archive"):
            detect_format(cut)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=500), st.sampled_from(["x.txt", "x.json", "x.zip", "x", "x.mbox"]))
def test_detection_of_junk_never_escapes_the_error_contract(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / name
        path.write_bytes(data)
        try:
            assert detect_format(path) in FORMATS
        except ImportFormatError as exc:
            assert "\n" not in str(exc)


@pytest.mark.parametrize(
    ("files", "fmt"),
    [
        ({"channels/3d-printing.json": "discord.json", "channels/copy.json": "discord.json"},
         "discord"),
        ({"WhatsApp Chat - Book club/_chat.txt": "whatsapp/_chat.txt",
          "WhatsApp Chat - Book club/00000012-PHOTO.jpg": "notes.txt"}, "whatsapp"),
        ({"DataExport_2024-03-10/result.json": "telegram/full_export.json"}, "telegram"),
        ({"Takeout/Mail/Sent.mbox": "mail/Sent.mbox"}, "mbox"),
    ],
)  # fmt: skip
def test_folders_and_zips_that_are_detected_are_readable(
    tmp_path: Path, files: dict[str, str], fmt: str
) -> None:
    folder = tmp_path / "export"
    for target, source in files.items():
        (folder / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / source, folder / target)
    archive = zip_folder(folder, tmp_path / "export.zip")
    for path in (folder, archive):
        source = open_import(path)
        assert source.format == fmt
        messages = list(source.messages())
        assert messages
        if fmt == "whatsapp":
            assert {m.conversation for m in messages} == {"Book club"}
