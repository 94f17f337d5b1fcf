"""Hostile export files, for every importer (and minime's own export): a 1 MB message, a zip bomb,
deeply nested JSON, invalid UTF-8 and random bytes each end in one clear, bounded sentence
(``ImportFormatError``/``UnknownOwner``) or a clean import, never a traceback, and a failed import
writes nothing.

The importer author's suites fuzz each format with mutations of its fixtures; this suite adds the
named attacks across all formats, fuzzes every reader with arbitrary bytes under a forced format,
and fuzzes the minime export reader (new) through the service.
"""

from __future__ import annotations

import io
import json
import shutil
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.importers import FORMATS, ImportFormatError, Limits, UnknownOwner, open_import
from bot.bootstrap import Runtime
from core.models import UserRef

FIXTURES = Path(__file__).resolve().parents[1] / "adapters" / "importers" / "fixtures"
USER = UserRef(platform="local", user_id="hostile")

# format → (fixture, a message text found verbatim in it, the owner)
CASES: dict[str, tuple[Path, str, str]] = {
    "jsonl": (FIXTURES / "messages.jsonl", "Can you review my PR today?", "bob"),
    "slack": (FIXTURES / "slack", "morning all, standup in 5", "U01"),
    "telegram": (
        FIXTURES / "telegram" / "single_chat.json",
        "are we still on for the climbing gym",
        "",
    ),
    "discord": (FIXTURES / "discord.json", "anyone tried PETG on the Ender 3?", ""),
    "whatsapp": (FIXTURES / "whatsapp" / "_chat.txt", "Next pick: Piranesi?", ""),
    "mbox": (FIXTURES / "mail" / "Sent.mbox", "Carol! Are you free for dinner on Friday", ""),
    "eml": (FIXTURES / "mail" / "eml" / "01-question.eml", "Can we do Q2 planning this week?", ""),
    "twitter": (FIXTURES / "twitter", "2/ tl;dr: dry it at 65", ""),
    "text": (FIXTURES / "notes.txt", "Quick thoughts on the offsite.", ""),
}
OWNERS = {
    fmt: next(open_import(path, fmt).messages()).sender for fmt, (path, _, _) in CASES.items()
}
"""Some sender of each fixture, as ``--me`` (the formats that do not name their owner need one)."""
JSON_FORMATS = ("jsonl", "slack", "telegram", "discord", "twitter", "minime")


def minime_export(tmp: Path) -> tuple[Path, str]:
    data = {
        "format": "minime-export",
        "version": 1,
        "account": {"active_persona": "default"},
        "personas": [{"name": "default", "owner_names": ["ana"]}],
        "messages": [
            {
                "id": str(n),
                "conversation": "c",
                "thread": None,
                "sender": "ana" if n % 2 else "bo",
                "text": f"a perfectly ordinary message number {n}",
                "sent_at": f"2026-01-01T00:0{n}:00+00:00",
                "reply_to": str(n - 1) if n % 2 else None,
                "persona": "default",
                "from_owner": bool(n % 2),
                "source": "import",
            }
            for n in range(4)
        ],
    }
    path = tmp / "minime-export.json"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path, "a perfectly ordinary message number 1"


def plant(fmt: str, tmp: Path, replace: bytes | None = None, *, quoted: bool = False) -> Path:
    """A copy of ``fmt``'s fixture with its known message text (``quoted``: the whole JSON string
    holding it) replaced by ``replace``."""
    if fmt == "minime":
        (tmp / "src").mkdir(exist_ok=True)
        source, needle = minime_export(tmp / "src")
    else:
        source, needle, _ = CASES[fmt]
    target = tmp / "case" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
        files = [p for p in target.rglob("*") if p.is_file()]
    else:
        shutil.copy(source, target)
        files = [target]
    if replace is None:
        return target
    old = (b'"' if quoted else b"") + needle.encode()
    for path in files:
        data = path.read_bytes()
        start = data.find(old)
        if start < 0:
            continue
        end = data.index(b'"', start + 1) + 1 if quoted else start + len(old)
        path.write_bytes(data[:start] + replace + data[end:])
        return target
    raise AssertionError(f"{needle!r} not found in the {fmt} fixture")


def one_sentence(error: Exception) -> str:
    text = str(error)
    assert text and "\n" not in text and len(text) < 600, text
    assert "Traceback" not in text
    return text


async def held(rt: Runtime) -> int:
    account = await rt.storage.accounts.resolve(USER, create=False)
    if account is None:
        return 0
    total = 0
    for persona in await rt.storage.personas.list(account.id):
        total += await rt.storage.messages.count(account.id, persona.id)
    return total


async def import_or_refuse(rt: Runtime, path: Path, fmt: str) -> str | None:
    """Import through the clone; ``None`` if it imported, else the error sentence (and then
    nothing was written)."""
    before = await held(rt)
    owner = OWNERS.get(fmt)
    try:
        await rt.clone.import_file(USER, path, fmt=fmt, me=owner or None)
    except (ImportFormatError, UnknownOwner) as error:
        assert await held(rt) == before, "a refused import wrote something"
        return one_sentence(error)
    return None


ALL = (*FORMATS, "minime")


@pytest.mark.parametrize("fmt", ALL)
async def test_a_one_megabyte_message_is_refused(
    runtime: Runtime, tmp_path: Path, fmt: str
) -> None:
    big = b"A" * 1_000_000
    started = time.perf_counter()
    error = await import_or_refuse(runtime, plant(fmt, tmp_path, big), fmt)
    assert error is not None and "character limit" in error, error
    assert "AAAAAAAAAA" not in error
    assert time.perf_counter() - started < 15


@pytest.mark.parametrize("fmt", ALL)
async def test_invalid_utf8_is_refused_or_replaced(
    runtime: Runtime, tmp_path: Path, fmt: str
) -> None:
    needle = (CASES[fmt][1] if fmt in CASES else "a perfectly ordinary message number 1").encode()
    broken = needle[:5] + b"\xff\xfe\xc3(" + needle[5:]
    error = await import_or_refuse(runtime, plant(fmt, tmp_path, broken), fmt)
    if error is not None:
        assert "UTF-8" in error or "not valid" in error or "decode" in error, error
        return
    # Imported (mail decodes bodies leniently): whatever came in is valid, storable text.
    account = await runtime.clone.account(USER)
    persona = await runtime.clone.active_persona(account)
    async for item in runtime.storage.messages.iter(account.id, persona.id):
        item.message.text.encode("utf-8")


STREAMED = ("telegram", "discord", "twitter")
"""Formats streamed with ``walk_json`` (ijson events, prefixes kept by the importer)."""


@pytest.mark.parametrize("fmt", JSON_FORMATS)
async def test_deeply_nested_json_is_refused(runtime: Runtime, tmp_path: Path, fmt: str) -> None:
    depth = 6_000 if fmt in STREAMED else 100_000
    nested = b"[" * depth + b"]" * depth
    error = await import_or_refuse(runtime, plant(fmt, tmp_path, nested, quoted=True), fmt)
    assert error is not None and ("nested" in error or "not valid JSON" in error), error


@pytest.mark.parametrize("fmt", STREAMED)
def test_deep_nesting_is_refused_in_bounded_time_and_memory(tmp_path: Path, fmt: str) -> None:
    depth = 8_000
    path = plant(fmt, tmp_path, b"[" * depth + b"]" * depth, quoted=True)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ImportFormatError, match="nested"):
            list(open_import(path, fmt).messages())
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Bounds far above the fixed cost (milliseconds) and far below the quadratic one (22 s).
    assert elapsed < 3 and peak < 20_000_000, (elapsed, peak)


def _padded_zip(fmt: str, tmp: Path, filler: bytes, pad: int) -> Path:
    """The fixture zipped, its main member padded with ``pad`` bytes of ``filler`` (a bomb)."""
    source = plant(fmt, tmp)
    archive = tmp / "bomb.zip"
    files = [p for p in source.rglob("*") if p.is_file()] if source.is_dir() else [source]
    root = source if source.is_dir() else source.parent
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for n, path in enumerate(sorted(files)):
            data = path.read_bytes()
            name = path.relative_to(root).as_posix()
            if fmt == "telegram":
                name = "result.json"  # a Telegram export zip holds result.json
            if n == 0 or (fmt in ("slack", "twitter") and name.endswith((".json", ".js"))):
                data = data + filler * pad
            out.writestr(name, data)
    return archive


ZIPPED = ["slack", "telegram", "discord", "whatsapp", "mbox", "twitter", "minime"]


@pytest.mark.parametrize("fmt", ZIPPED)
def test_a_zip_bomb_stops_at_the_unpacked_cap(tmp_path: Path, fmt: str) -> None:
    archive = _padded_zip(fmt, tmp_path, b" ", pad=40_000_000)
    assert archive.stat().st_size < 400_000  # 40 MB of padding compresses to almost nothing
    limits = Limits(max_unpacked_bytes=4_000_000, max_document_bytes=2_000_000)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        source = open_import(archive, fmt, limits=limits)
        list(source.messages())
        source.resolve_owner(OWNERS.get(fmt))
    except (ImportFormatError, UnknownOwner) as error:
        text = one_sentence(error)
        assert "zip bomb" in text or "larger than" in text or "longer than" in text, text
    else:
        pytest.fail(f"{fmt}: a 40 MB member was read whole under a 4 MB cap")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - started < 30
    assert peak < 32_000_000, f"{fmt}: peak {peak / 1e6:.0f} MB"


@pytest.mark.parametrize("fmt", ["whatsapp", "mbox"])
def test_a_zip_bomb_of_empty_lines_is_refused_quickly(tmp_path: Path, fmt: str) -> None:
    archive = _padded_zip(fmt, tmp_path, b"\n", pad=1_000_000)
    started = time.perf_counter()
    with pytest.raises(ImportFormatError):
        list(open_import(archive, fmt, limits=Limits(max_unpacked_bytes=1_000_000)).messages())
    assert time.perf_counter() - started < 3  # before the ratio cap: minutes


def test_a_zip_bomb_under_the_default_cap_is_refused_by_its_ratio(tmp_path: Path) -> None:
    archive = _padded_zip("whatsapp", tmp_path, b"\n", pad=40_000_000)
    started = time.perf_counter()
    with pytest.raises(ImportFormatError, match=r"times its own .* zip bomb"):
        list(open_import(archive, "whatsapp").messages())
    assert time.perf_counter() - started < 3  # before the ratio cap: minutes


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.binary(max_size=2_000), fmt=st.sampled_from(["auto", *ALL]))
def test_arbitrary_bytes_under_any_format(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, fmt: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "export.json"
    path.write_bytes(data)
    try:
        source = open_import(path, fmt)
        list(source.messages())
        source.resolve_owner(None)
    except (ImportFormatError, UnknownOwner) as error:
        one_sentence(error)


@FUZZ
@given(st.data())
async def test_mutated_minime_exports_through_the_clone(
    runtime: Runtime, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("minime")
    path, _ = minime_export(tmp)
    buffer = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(buffer) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            buffer[at] ^= data.draw(st.integers(1, 255))
        elif action == "delete":
            del buffer[at : at + data.draw(st.integers(1, 30))]
        else:
            buffer[at:at] = data.draw(
                st.sampled_from([b'"', b"{", b"]", b"null", b"\xff", b"1e999"])
            )
    if data.draw(st.booleans()):
        zipped = io.BytesIO()
        with zipfile.ZipFile(zipped, "w") as out:
            out.writestr("minime-export.json", bytes(buffer))
        path = tmp / "export.zip"
        path.write_bytes(zipped.getvalue())
    else:
        path.write_bytes(bytes(buffer))
    await import_or_refuse(runtime, path, "minime")
