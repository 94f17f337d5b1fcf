"""Tokens, secrets and message text never reach logs or exception reprs, at any level.

The whole suite already runs with DEBUG logging scanned for canaries (``tests/conftest.py``); this
module runs minime itself with every canary secret configured, checks the reprs and error texts
that could carry them, and lints our own log calls.
"""

from __future__ import annotations

import ast
import json
import logging
import secrets
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.importers import ImportFormatError, UnknownOwner, open_import
from bot.cli import main
from bot.settings import load_settings
from storage import StorageError, open_storage
from storage.crypto import KeyRing, KeyRotation, KeySource, MasterKeys
from tests.conftest import CANARY_SECRETS

ROOT = Path(__file__).resolve().parents[2]

SECRET_ENV = {
    "MINIME_MASTER_KEY": CANARY_SECRETS["master key"],
    "MINIME_LLM__API_KEY": CANARY_SECRETS["llm api key"],
    "MINIME_SLACK__BOT_TOKEN": CANARY_SECRETS["slack bot token"],
    "MINIME_SLACK__APP_TOKEN": CANARY_SECRETS["slack app token"],
    "MINIME_SLACK__USER_TOKEN": CANARY_SECRETS["slack user token"],
    "MINIME_SLACK__SIGNING_SECRET": CANARY_SECRETS["slack signing secret"],
    "MINIME_TELEGRAM__BOT_TOKEN": CANARY_SECRETS["telegram bot token"],
    "MINIME_TELEGRAM__WEBHOOK_SECRET": CANARY_SECRETS["telegram webhook secret"],
    "MINIME_DISCORD__BOT_TOKEN": CANARY_SECRETS["discord token"],
}


def leaks(text: str, *extra: str) -> list[str]:
    found = [name for name, value in CANARY_SECRETS.items() if value in text]
    return found + [value for value in extra if value in text]


def test_settings_never_show_their_secrets() -> None:
    loaded = load_settings(SECRET_ENV)
    assert loaded.slack.bot_token is not None
    assert loaded.slack.bot_token.get_secret_value() == CANARY_SECRETS["slack bot token"]
    shown = "\n".join(
        [
            repr(loaded),
            str(loaded),
            repr(loaded.slack),
            repr(loaded.model_dump()),
            loaded.model_dump_json(),
        ]
    )
    assert leaks(shown) == []
    with pytest.raises(Exception) as caught:  # a validation error names the field, not the value
        load_settings({**SECRET_ENV, "MINIME_HTTP_PORT": CANARY_SECRETS["discord token"]})
    assert leaks(str(caught.value) + repr(caught.value)) == []


def test_key_objects_never_show_key_material() -> None:
    master = MasterKeys.parse(CANARY_SECRETS["master key"], source=KeySource("env"))
    ring = KeyRing(master)
    cipher, wrapped = ring.new_data_key("acct")
    rotation = KeyRotation(
        source=KeySource("env"), rewrapped=1, new_key=CANARY_SECRETS["master key"]
    )
    shown = " ".join(repr(x) for x in (master, ring, cipher, rotation)) + str(rotation)
    assert leaks(shown) == []
    assert wrapped.hex() not in shown


async def test_storage_errors_never_show_the_password(tmp_path: Path) -> None:
    password = f"CANARY{secrets.token_hex(8)}"
    url = f"postgresql+asyncpg://minime:{password}@127.0.0.1:1/minime"
    with pytest.raises(StorageError) as caught:
        async with open_storage(url, data_dir=tmp_path, master_key=None):
            pass
    assert password not in str(caught.value) and password not in repr(caught.value)
    assert "127.0.0.1:1" in str(caught.value)


@settings(max_examples=60, deadline=None)
@given(
    field=st.sampled_from(["id", "conversation", "sender", "sent_at", "reply_to", "thread"]),
    bad=st.one_of(st.integers(), st.none(), st.text(max_size=20), st.lists(st.integers())),
)
def test_import_errors_never_quote_the_message_text(
    tmp_path_factory: pytest.TempPathFactory, field: str, bad: object
) -> None:
    text = f"CANARY{secrets.token_hex(8)} is private"
    line = {
        "id": "1",
        "conversation": "c",
        "thread": None,
        "sender": "ana",
        "text": text,
        "sent_at": "2026-01-01T00:00:00+00:00",
        "reply_to": None,
    }
    line[field] = bad
    folder = tmp_path_factory.mktemp("bad")
    jsonl = folder / "in.jsonl"
    jsonl.write_text(json.dumps(line) + "\n")
    export = folder / "minime-export.json"
    export.write_text(
        json.dumps(
            {
                "format": "minime-export",
                "version": 1,
                "personas": [{"name": "default", "owner_names": ["ana"]}],
                "messages": [{**line, "persona": "default", "from_owner": True}],
            }
        )
    )
    for path, fmt in ((jsonl, "jsonl"), (export, "minime")):
        try:
            source = open_import(path, fmt)
            list(source.messages())
            source.resolve_owner("ana")
        except (ImportFormatError, UnknownOwner) as error:
            assert text not in str(error) and "CANARY" not in repr(error)


LEVELS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
SUSPECT = {
    "text",
    "content",
    "body",
    "payload",
    "raw",
    "data",
    "message",
    "messages",
    "incoming",
    "reply",
    "draft",
    "outgoing",
    "edited_text",
    "incoming_text",
    "reply_text",
    "update",
    "event",
    "request",
    "headers",
    "token",
    "secret",
    "api_key",
    "key",
    "password",
    "url",
}
"""Names that hold message text, payloads or secrets; logging one of them is a leak."""


def _leaves(node: ast.AST) -> list[str]:
    """The names a logging argument ends in: ``update.update_id`` → ``update_id``."""
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.Name):
        return [node.id]
    found: list[str] = []
    for child in ast.iter_child_nodes(node):
        found += _leaves(child)
    return found


def test_our_log_calls_never_pass_message_text_or_secrets() -> None:
    offences = []
    calls = 0
    for package in ("core", "storage", "bot", "adapters"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in LEVELS
                    and "log" in ast.unparse(node.func.value).lower()
                ):
                    continue
                calls += 1
                arguments = [*node.args, *(k.value for k in node.keywords if k.arg != "exc_info")]
                bad = sorted({leaf for arg in arguments for leaf in _leaves(arg)} & SUSPECT)
                if bad:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    offences.append(f"{where}: {ast.unparse(node)[:120]} logs {bad}")
    assert calls >= 10, "the lint must see our real log calls"
    assert offences == []


@pytest.mark.slow
def test_the_cli_at_debug_with_every_secret_configured_logs_none_of_them(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for key, value in {**SECRET_ENV, "MINIME_LOG_LEVEL": "DEBUG"}.items():
        monkeypatch.setenv(key, value)
    caplog.set_level(logging.DEBUG)
    text = f"CANARY{secrets.token_hex(8)}"
    history = tmp_path / "h.jsonl"
    rows = []
    for n in range(6):
        rows.append(
            {
                "id": f"q{n}",
                "conversation": "dm",
                "thread": None,
                "sender": "kim",
                "text": f"are you coming {text}?",
                "sent_at": f"2026-01-0{n + 1}T10:00:00+00:00",
                "reply_to": None,
            }
        )
        rows.append({**rows[-1], "id": f"a{n}", "sender": "ana", "reply_to": f"q{n}"})
    history.write_text("".join(json.dumps(r) + "\n" for r in rows))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**rows[0], "sent_at": "yesterday"}) + "\n")
    data = ["--data-dir", str(tmp_path / "data")]
    errors, printed = [], []
    for argv in (
        ["import", str(history), "--user", "u", "--me", "ana"],
        ["import", str(bad), "--user", "u", "--me", "ana"],
        ["draft", "--user", "u", "--input", str(history), "--output", str(tmp_path / "o.jsonl")],
        ["triage", "--user", "u", "--input", str(history), "--output", str(tmp_path / "t.jsonl")],
        ["export", "--user", "u", "--output", str(tmp_path / "e.zip")],
        ["keys", "rotate"],
        ["erase", "--user", "u", "--yes"],
        ["profile", "--user", "nobody"],
    ):
        main([*data, *argv])
        out, err = capsys.readouterr()
        errors.append(err)
        if argv[0] != "keys":  # rotation prints the new key for the operator, by design
            printed.append(out)
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert leaks("\n".join(errors + printed) + logged) == []
    assert text not in logged and text not in "\n".join(errors)
    assert "not an ISO 8601 time" in errors[1]  # the bad line was reported, without its text


def test_the_session_scan_would_catch_a_leak() -> None:
    """The suite-wide scan (tests/conftest.py) is not vacuous: a fresh scanner flags each kind."""
    from tests.conftest import CanaryScan

    scan = CanaryScan()
    logger = logging.getLogger("tests.privacy.leaky")
    logger.addHandler(scan)
    logger.propagate = False  # keep these deliberate leaks away from the session scan
    try:
        logger.debug("token %s", CANARY_SECRETS["slack bot token"])
        logger.info("key=%s", CANARY_SECRETS["master key"])
        logger.warning("text: %s", f"CANARY{secrets.token_hex(8)}")
        try:
            raise ValueError(CANARY_SECRETS["llm api key"])
        except ValueError:
            logger.exception("failed")
        logger.error("fine: %d messages dropped", 3)
    finally:
        logger.removeHandler(scan)
    assert [hit.what for hit in scan.hits] == [
        "the slack bot token canary",
        "the master key canary",
        "a message-text canary",
        "the llm api key canary",
    ]
    assert all(leaks(hit.excerpt) == [] for hit in scan.hits)  # the report masks what leaked
