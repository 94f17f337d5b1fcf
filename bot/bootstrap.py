"""The one place that wires: settings → storage → engines → the ``Clone`` service.

Nothing here runs at import time; :func:`open_runtime` is an async context manager that closes
what it opened even when start-up fails half-way.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from adapters.importers import open_import
from bot.deliveries import DeliveryGuard, delivery_guard
from bot.metrics import InstrumentedDrafts, Metrics
from bot.settings import Settings
from core.drafting.retrieval import RetrievalDrafter
from core.engines.embedding import HashingEmbedder, SentenceEmbedder
from core.models import IncomingMessage, Priority, StoredMessage
from core.ports import Embedder
from core.prioritising import HeuristicPrioritiser, OwnerContext
from core.profiling import Profiler
from core.samples import SAMPLE_OWNER, SAMPLE_PERSONA_PATH
from core.service import Clone, PriorityModel, Stores
from core.style_card import StyleCard
from storage import Storage, open_storage


@dataclass(frozen=True, slots=True)
class _ContextPriority:
    """A prioritiser bound to one persona's owner context."""

    prioritiser: HeuristicPrioritiser
    context: OwnerContext

    def prioritise(self, message: IncomingMessage) -> Priority:
        return self.prioritiser.prioritise(message, self.context)


def build_priority_model(
    history: Sequence[StoredMessage], owner_names: tuple[str, ...], settings: Mapping[str, object]
) -> PriorityModel:
    """The persona's triage model from its history and the owner's onboarding answers."""
    vips = settings.get("vips") or ()
    topics = settings.get("topics") or ()
    context = OwnerContext.from_history(
        history,
        owner_names,
        vips=[str(v) for v in vips] if isinstance(vips, list | tuple) else (),
        topics=[str(t) for t in topics] if isinstance(topics, list | tuple) else (),
    )
    return _ContextPriority(HeuristicPrioritiser(), context)


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything a command or adapter needs, opened together and closed together."""

    settings: Settings
    storage: Storage
    clone: Clone
    embedder: Embedder
    metrics: Metrics = field(default_factory=Metrics)
    guard: DeliveryGuard | None = None
    """Deliveries once among live workers (PostgreSQL); ``None`` on SQLite."""


_shared_embedder: SentenceEmbedder | None = None


def default_embedder() -> SentenceEmbedder:
    """One embedder per process: the model loads once, on first use."""
    global _shared_embedder
    if _shared_embedder is None:
        _shared_embedder = SentenceEmbedder()
    return _shared_embedder


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, embedder: Embedder | None = None
) -> AsyncIterator[Runtime]:
    """Open storage (migrating it), build the engines and the clone; close all on exit."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    master_key = settings.master_key.get_secret_value() if settings.master_key else None
    async with open_storage(
        settings.effective_database_url, data_dir=settings.data_dir, master_key=master_key
    ) as storage:
        engine = embedder or (
            HashingEmbedder() if settings.embedder == "hashing" else default_embedder()
        )
        metrics = Metrics()
        guard = delivery_guard(
            storage.engine,
            storage.deliveries,
            concurrency=settings.delivery_concurrency,
            metrics=metrics,
        )
        clone = Clone(
            stores=Stores(
                accounts=storage.accounts,
                personas=storage.personas,
                messages=storage.messages,
                vectors=storage.vectors,
                drafts=InstrumentedDrafts(storage.drafts, metrics),
                feedback=storage.feedback,
                state=storage.state,
                vault=storage.vault,
            ),
            embedder=engine,
            drafter=RetrievalDrafter(),
            priority_factory=build_priority_model,
            read_export=open_import,
            sample_path=Path(SAMPLE_PERSONA_PATH),
            sample_owner=SAMPLE_OWNER,
            profile_card=StyleCard(Profiler()),
            max_message_chars=settings.max_message_chars,
        )
        yield Runtime(
            settings=settings,
            storage=storage,
            clone=clone,
            embedder=engine,
            metrics=metrics,
            guard=guard,
        )
