"""Logging set-up: our loggers at the chosen level, noisy SDK loggers kept quiet, secrets redacted.

bolt, slack_sdk and httpx log request bodies and URLs (with tokens) at INFO/DEBUG; those loggers
are pinned at WARNING whatever the level asked for, and a redacting filter on every handler masks
anything shaped like a token that still gets through.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

QUIET = (
    "httpx",
    "httpcore",
    "hpack",
    "slack_bolt",
    "slack_sdk",
    "telegram",
    "discord.http",
    "discord.gateway",
    "aiohttp.access",
    "aiosqlite",
    "asyncio",
    "sqlalchemy.engine",
    "urllib3",
    "filelock",
    "sentence_transformers",
    "transformers",
    "apscheduler",
    # the openai SDK logs whole request bodies (prompts: the owner's messages) at DEBUG
    "openai",
    "httpx2",
    "httpcore2",
)

_TOKEN_PATTERNS = (
    re.compile(r"xox[abposr]-[0-9A-Za-z-]{6,}"),
    re.compile(r"xapp-[0-9A-Za-z-]{6,}"),
    re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"),  # Telegram bot token
    re.compile(r"bot\d{6,12}:[A-Za-z0-9_-]{30,}"),  # ...inside a Bot API URL
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
    re.compile(r"\b[MN][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}\b"),  # Discord
    re.compile(
        r"(?i)(authorization|token|secret|password|api[_-]?key)([\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+"
    ),
)


class RedactingFilter(logging.Filter):
    """Masks token-shaped strings and any known secret value in log records."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s and len(s) >= 8)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        for pattern in _TOKEN_PATTERNS:
            if pattern.groups >= 2:
                text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
            else:
                text = pattern.sub("[redacted]", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Exception text may quote a request: keep the type, not the payload.
            record.exc_text = f"{type(record.exc_info[1]).__name__} (details redacted)"
            record.exc_info = None
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str = "WARNING", *, secrets: Iterable[str] = ()) -> None:
    """Idempotent: one stderr handler with the redacting filter."""
    root = logging.getLogger()
    redactor = RedactingFilter(secrets)
    for handler in list(root.handlers):
        if getattr(handler, "_minime", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler._minime = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redactor)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
