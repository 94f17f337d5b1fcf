"""Settings, loaded once from the environment (``MINIME_`` prefix, nested with ``__``).

Secrets are ``SecretStr``: they never show in ``repr``, logs or tracebacks. ``load_settings``
takes a mapping so tests pass their own environment instead of patching ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core.engines.onnx_export import default_cache_dir


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "minime"


class LLMSettings(BaseModel):
    """An OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, llama.cpp server)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    base_url: str | None = None
    """The endpoint (``https://api.openai.com/v1``, Ollama ``http://localhost:11434/v1``); with
    ``model`` it turns the LLM engine on. Unset: retrieval drafts only."""
    model: str | None = None
    """The model name the endpoint serves."""
    api_key: SecretStr | None = None
    """The endpoint's key, if it needs one."""
    timeout_s: float = 30.0
    """Seconds one request may take; on a timeout the retrieval drafts are shown with a note."""
    max_retries: int = 3
    """Retries of a 429/5xx answer (exponential backoff, ``Retry-After`` honoured)."""
    daily_token_budget: int = 200_000
    """Tokens per account per UTC day; once spent, retrieval drafts with a note."""

    @property
    def enabled(self) -> bool:
        return bool(self.base_url and self.model)


class SlackSettings(BaseModel):
    """The Slack app (docs/slack.md)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    bot_token: SecretStr | None = None
    """The Bot User OAuth Token (``xoxb-…``); with the signing secret or the app token it turns
    Slack on."""
    signing_secret: SecretStr | None = None
    """Verifies HTTP-mode requests (*Basic Information* → *Signing Secret*)."""
    app_token: SecretStr | None = None
    """Socket Mode (``xapp-…``); without it Slack runs in HTTP mode."""
    user_token: SecretStr | None = None
    """The owner's user token with ``chat:write``: Send posts as the owner."""
    owner_id: str | None = None
    """The Slack user id (``U…``) of the person who installed the app: ``@minime`` mentions are
    triaged for them. Default: the user of ``user_token``."""
    triage_channels: bool = False
    """Opt-in: with ``user_token``, triage messages in the owner's channels too."""
    api_base_url: str | None = None
    """The Web API's address (``http://127.0.0.1:8099/api/``): a local fake in load tests."""
    ack_wait_s: float = 0.0
    """HTTP mode: hold the ack up to this long while the delivery's work finishes (the
    delivery is stored before the ack either way, so nothing depends on it)."""

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None and (
            self.app_token is not None or self.signing_secret is not None
        )


class TelegramSettings(BaseModel):
    """The Telegram bot (docs/telegram.md)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    bot_token: SecretStr | None = None
    """The token from @BotFather (``123456789:AA…``); turns Telegram on (long polling)."""
    webhook_url: str | None = None
    """``https://your.host/telegram/webhook``: webhook mode instead of long polling."""
    webhook_secret: SecretStr | None = None
    """Webhook mode: 32 to 256 characters of ``A–Z a–z 0–9 _ -``; requests without it get 403."""
    api_base_url: str | None = None
    """A self-hosted Bot API server (``http://host:8081/bot``); default api.telegram.org."""
    api_file_url: str | None = None
    """Its file endpoint (``http://host:8081/file/bot``)."""

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None


class DiscordSettings(BaseModel):
    """The Discord bot (docs/discord.md)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    bot_token: SecretStr | None = None
    """The bot's token (*Developer Portal* → *Bot* → *Reset Token*); turns Discord on."""
    dev_guild_id: int | None = None
    """Sync commands to this guild only (instant, for development)."""
    sharded: bool = False
    """Run ``AutoShardedClient`` (all shards Discord recommends, in this process)."""
    api_base_url: str | None = None
    """The REST API's address with its version (``http://rest-proxy:8080/api/v10``): a shared
    REST proxy that keeps the rate limits of many bots, or a local fake in tests. Default
    ``https://discord.com/api/v10``; a sharded bot also asks it for the gateway."""
    gateway_url: str | None = None
    """The gateway's address (``ws://gateway-proxy:7878``); default
    ``wss://gateway.discord.gg/``."""

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None


class NetworkSettings(BaseModel):
    """Where posts are published (docs/posts.md); each owner connects their own
    account in chat with ``connect``."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    bluesky_url: str = "https://bsky.social"
    """The Bluesky PDS (XRPC) to sign in to and post through (a self-hosted PDS works too)."""
    x_url: str = "https://api.x.com"
    """X's API v2 base URL."""
    linkedin_url: str = "https://api.linkedin.com"
    """LinkedIn's REST API base URL."""
    linkedin_version: str = "202405"
    """The ``LinkedIn-Version`` header (``YYYYMM``) of the posts API."""
    timeout_s: float = 20.0
    """Seconds one request to a network may take."""
    enabled: bool = True
    """Offer publishing at all (``connect``, Publish, Schedule); off: posts stay drafts."""


class Settings(BaseSettings):
    """Everything minime reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="MINIME_",
        env_nested_delimiter="__",
        extra="ignore",
        hide_input_in_errors=True,
        use_attribute_docstrings=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings reads the environment (or the mapping a test passes) itself: the values
        # arrive as init kwargs only, so a test's mapping is never mixed with os.environ.
        return (init_settings,)

    data_dir: Path = Field(
        default_factory=default_data_dir,
        json_schema_extra={"shown_default": "~/.local/share/minime"},
    )
    """The database, master key, saved cards and files (``$XDG_DATA_HOME/minime`` when that is
    set); ``--data-dir`` overrides it."""
    database_url: str | None = Field(
        default=None,
        json_schema_extra={"shown_default": "sqlite+aiosqlite:///<data dir>/minime.db"},
    )
    """SQLAlchemy async URL, or ``postgresql+asyncpg://user@host/db``."""
    database_owner_url: str | None = None
    """PostgreSQL: the role that owns minime's tables (``postgresql+asyncpg://minime@host/db``).
    Migrations run as it; the role of ``database_url`` (``minime_app``) is then created if missing
    and granted row access only, so row-level security binds minime itself (docs/scale.md)."""
    master_key: SecretStr | None = Field(
        default=None, json_schema_extra={"shown_default": "generated into <data dir>/master.key"}
    )
    """Fernet key(s), comma-separated, newest first (the file is created with mode 0600)."""
    log_level: str = "WARNING"
    """``DEBUG``, ``INFO``, …; the platform SDKs' loggers stay at WARNING."""
    http_host: str = "127.0.0.1"
    """The HTTP listener's address (Slack HTTP mode, Telegram webhook, ``/healthz``,
    ``/readyz``, ``/metrics``)."""
    http_port: int = 8080
    """The HTTP listener's port."""
    http_reuse_port: bool = False
    """Bind with ``SO_REUSEPORT`` (Linux): set by ``minime run --workers N`` for its workers."""
    max_message_chars: int = 20_000
    """Longer incoming messages and commands get a one-line notice and are neither triaged nor
    stored."""
    embedder: Literal["minilm", "minilm-torch", "hashing"] = "minilm"
    """``minilm``: all-MiniLM-L6-v2 through ONNX Runtime (no torch in the process);
    ``minilm-torch``: the same model through sentence-transformers and torch (the reference, for
    comparison: more memory, slower); ``hashing``: the fast hashing embedder for load tests and
    smoke checks (drafts are then much worse). Keep ``minilm`` in production."""
    embedder_precision: Literal["int8", "fp32"] = "int8"
    """Weights of the ONNX encoder: ``int8`` (per-channel dynamic quantisation, 23 MB, fastest)
    or ``fp32`` (90 MB, the same vectors as torch)."""
    model_cache_dir: Path = Field(
        default_factory=default_cache_dir, json_schema_extra={"shown_default": "~/.cache/minime"}
    )
    """Where models derived from installed packages are kept: the ONNX encoder, built from the
    installed MiniLM weights by ``scripts/env``, the container build or
    ``python -m core.engines.onnx_export``, else on first use with a line on stderr
    (``$XDG_CACHE_HOME/minime`` when that is set)."""
    blas_threads: int = Field(default=1, ge=0)
    """Threads of numpy's BLAS per process (threadpoolctl); ``0`` leaves the library's default.
    One avoids contention with the encoder and other workers on small machines."""
    workers_fork: bool = True
    """``run --workers N``: fork the workers from one process that loaded the libraries and the
    encoder first, so they share that memory (copy-on-write); ``false``: each worker starts as
    its own ``python -m bot run`` and loads its own copy."""
    delivery_concurrency: int = Field(default=8, ge=1, le=256)
    """Accepted platform deliveries (Slack, Telegram webhooks) worked on at once per process;
    the rest wait their turn, stored and leased."""
    delivery_lease_s: float = Field(default=30.0, gt=0, le=3600)
    """How long an accepted delivery stays its worker's without a heartbeat: a killed worker's
    deliveries are resumed by a live one this long (up to 1.5 times) after it died."""
    llm: LLMSettings = Field(default_factory=LLMSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    networks: NetworkSettings = Field(default_factory=NetworkSettings)

    @field_validator("data_dir", "model_cache_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'minime.db'}"


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build settings from ``env`` (default: the process environment) plus explicit overrides."""
    source = dict(os.environ if env is None else env)
    values: dict[str, object] = {}
    prefix = "MINIME_"
    for key, raw in source.items():
        if not key.upper().startswith(prefix):
            continue
        path = key[len(prefix) :].lower().split("__")
        node = values
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[path[-1]] = raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)  # type: ignore[arg-type]
