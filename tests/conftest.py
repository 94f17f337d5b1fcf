"""Session-wide log canary: the whole suite runs with DEBUG logging, and no log line may hold a secret.

Every log record of every test, at every level, is formatted (with its traceback) by a handler on
the root logger and scanned for:

- the canary secrets below (Slack bot/app/user tokens and signing secret, Telegram bot token and
  webhook secret, Discord token, LLM key, master key), which the privacy suite configures for its
  own runs of the CLI, the clone and the stores (``tests/privacy/test_logs.py``);
- the fake secrets the adapters' suites configure (their signing and webhook secrets), and anything
  shaped like a Slack, Telegram, Discord or OpenAI-style token (their fake tokens have those
  shapes);
- message-text canaries (``CANARY`` + hex, as the storage and privacy suites seed them).

The records are scanned as emitted (nothing is kept but the hits) and the session fails at the end
if any hit was found, listing the test, logger, level and source line of each.

The canaries are *not* put in ``os.environ`` for the whole session: ``load_settings(mapping)``
still reads ``MINIME_*`` variables from the process environment (pydantic-settings' environment
source), so a canary there changes other tests' settings — with
``MINIME_TELEGRAM__WEBHOOK_SECRET`` set, ``test_a_webhook_needs_a_strong_secret[None]`` no longer
sees a missing secret. ``test_logs.py`` sets them in the environment only inside its own tests.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.fernet import Fernet

from bot.logs import QUIET


def _hex(n: int) -> str:
    return secrets.token_hex(n)


CANARY_SECRETS: dict[str, str] = {
    "slack bot token": f"xoxb-CANARY{_hex(6)}-{_hex(12)}",
    "slack app token": f"xapp-1-CANARY{_hex(6)}-{_hex(12)}",
    "slack user token": f"xoxp-CANARY{_hex(6)}-{_hex(12)}",
    "slack signing secret": f"CANARYsigning{_hex(16)}",
    "telegram bot token": f"{secrets.randbelow(10**9) + 10**8}:CANARY{_hex(16)}",
    "telegram webhook secret": f"CANARYwebhook{_hex(16)}",
    "discord token": f"M{_hex(12)}.CANARY.{_hex(16)}",
    "llm api key": f"sk-CANARY{_hex(16)}",
    "master key": Fernet.generate_key().decode("ascii"),
}
"""Secret values the privacy suite configures explicitly; any of them in a log line is a leak."""

TOKEN_SHAPES: dict[str, re.Pattern[str]] = {
    "a Slack token": re.compile(r"\bx(?:ox[abposr]|app)-[0-9A-Za-z-]{6,}"),
    "a Telegram bot token": re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"),
    "a Discord token": re.compile(r"\b[MN][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}"),
    "an API key (sk-)": re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
    "a message-text canary": re.compile(r"CANARY[0-9a-f]{8}"),
}


@dataclass(frozen=True, slots=True)
class Hit:
    test: str
    logger: str
    level: str
    where: str
    what: str
    excerpt: str

    def __str__(self) -> str:
        return (
            f"{self.test}: {self.what} in a {self.level} record of logger {self.logger!r} "
            f"({self.where}): {self.excerpt}"
        )


class CanaryScan(logging.Handler):
    """Formats every record (message and traceback) and remembers those holding a canary."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.current_test = "(session set-up)"
        self.records = 0
        self.hits: list[Hit] = []
        self._values = {v: k for k, v in CANARY_SECRETS.items()}

    def watch(self, secrets: dict[str, str]) -> None:
        """Also flag these values (name → value)."""
        self._values.update({v: k for k, v in secrets.items()})

    def scan(self, text: str) -> str | None:
        """What ``text`` leaks (a canary's name or a token shape), or ``None``."""
        for value, name in self._values.items():
            if value in text:
                return f"the {name} canary"
        for name, pattern in TOKEN_SHAPES.items():
            if pattern.search(text):
                return name
        return None

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        try:
            text = self.format(record)
        except Exception as exc:  # a broken record must not hide a leak in its arguments
            text = f"{record.msg!r} {record.args!r} (unformattable: {type(exc).__name__})"
        what = self.scan(text)
        if what is None:
            return
        excerpt = text
        for value, name in self._values.items():
            excerpt = excerpt.replace(value, f"<{name}>")
        for name, pattern in TOKEN_SHAPES.items():
            excerpt = pattern.sub(f"<{name}>", excerpt)
        self.hits.append(
            Hit(
                test=self.current_test,
                logger=record.name,
                level=record.levelname,
                where=f"{record.pathname}:{record.lineno}",
                what=what,
                excerpt=" ".join(excerpt.split())[:300],
            )
        )


SCAN = CanaryScan()


def _adapter_test_secrets() -> dict[str, str]:
    """Fake secrets of the adapters' suites that have no token shape (absent ones are skipped)."""
    import importlib

    found = {}
    for module, name in (
        ("tests.adapters.slack.fake_slack", "SIGNING_SECRET"),
        ("tests.adapters.telegram.test_wiring", "SECRET"),
    ):
        try:
            value = getattr(importlib.import_module(module), name, None)
        except Exception:  # an adapter suite being rewritten must not break the scan
            continue
        if isinstance(value, str) and len(value) >= 12:
            found[f"{module}.{name}"] = value
    return found


@pytest.fixture(scope="session", autouse=True)
def log_canaries() -> Iterator[CanaryScan]:
    """DEBUG logging everywhere, scanned for canaries; the session fails on any hit."""
    root = logging.getLogger()
    saved_level = root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET}
    SCAN.watch(_adapter_test_secrets())
    root.addHandler(SCAN)
    root.setLevel(logging.DEBUG)
    for name in QUIET:  # as ``configure_logging`` pins them in production
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield SCAN
    finally:
        root.removeHandler(SCAN)
        root.setLevel(saved_level)
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
    hits = "\n".join(f"  - {hit}" for hit in SCAN.hits[:50])
    assert not SCAN.hits, (
        f"{len(SCAN.hits)} log records (of {SCAN.records} scanned at DEBUG) hold a secret or "
        f"message-text canary:\n{hits}"
    )


@pytest.fixture(autouse=True)
def _log_canary_test(request: pytest.FixtureRequest, log_canaries: CanaryScan) -> Iterator[None]:
    """Name the running test in hits; keep DEBUG on even after a CLI run lowered it."""
    root = logging.getLogger()
    log_canaries.current_test = request.node.nodeid
    root.setLevel(logging.DEBUG)
    if log_canaries not in root.handlers:  # a test restored an older handler list
        root.addHandler(log_canaries)
    yield
    # ``minime`` commands run in-process install a stderr handler bound to that test's captured
    # stream; it would write later tests' records to a closed file.
    for handler in list(root.handlers):
        if getattr(handler, "_minime", False):
            root.removeHandler(handler)
    root.setLevel(logging.DEBUG)
    log_canaries.current_test = f"(after {request.node.nodeid})"
