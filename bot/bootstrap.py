"""The one place that wires: settings → storage → engines → the ``Clone`` service.

Nothing here runs at import time; :func:`open_runtime` is an async context manager that closes
what it opened even when start-up fails half-way.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import time
from functools import partial
from pathlib import Path

from adapters.importers import open_import
from bot.account_files import AccountFiles, ErasingVault
from bot.metrics import InstrumentedDrafts, Metrics
from bot.settings import Settings
from core.drafting.llm import LLMDrafter, TokenBudget
from core.drafting.retrieval import RetrievalDrafter
from core.engines.embedding import HashingEmbedder, OnnxEmbedder, SentenceEmbedder
from core.engines.onnx_export import ensure_encoder
from core.models import IncomingMessage, Persona, Priority, StoredMessage, UserRef
from core.ports import Embedder
from core.prioritising import (
    Label,
    OnboardingAnswers,
    OwnerContext,
    Prioritiser,
    WorkingHours,
)
from core.prioritising.prior import load_global_prior
from core.profiling import Profiler
from core.profiling.background import background_messages, background_texts
from core.publishing import Network
from core.samples import EXAMPLE_OWNER, EXAMPLE_PATH, SAMPLE_OWNER, SAMPLE_PERSONA_PATH
from core.service import Clone, PriorityModel, Stores
from core.style_card import StyleCard
from storage import Storage, open_storage

log = logging.getLogger(__name__)


class _LearnedPriority:
    """The persona's learned prioritiser bound to its owner context (online labels, saved state)."""

    def __init__(self, prioritiser: Prioritiser, context: OwnerContext) -> None:
        self.prioritiser = prioritiser
        self.context = context

    def prioritise(self, message: IncomingMessage) -> Priority:
        return self.prioritiser.prioritise(message, self.context)

    def learn(self, message: IncomingMessage, label: str, *, latency_s: float | None) -> None:
        self.prioritiser.observe_label(message, Label(label), self.context, latency_s=latency_s)

    def undo_tap(self) -> str | None:
        tap = self.prioritiser.undo_last_tap()
        return None if tap is None else f"{tap.what} {tap.marked}"

    def dump(self) -> bytes:
        return self.prioritiser.to_bytes()

    def load(self, data: bytes) -> bool:
        try:
            self.prioritiser = Prioritiser.from_bytes(data)
        except (ValueError, KeyError, TypeError):
            return False
        return True


def _names(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


def onboarding_answers(settings: Mapping[str, object]) -> OnboardingAnswers:
    """The owner's onboarding answers as stored in their account settings by ``onboard``."""
    hours = settings.get("working_hours")
    working: WorkingHours | None = None
    if isinstance(hours, dict):
        try:
            working = WorkingHours(
                start=time.fromisoformat(str(hours["start"])),
                end=time.fromisoformat(str(hours["end"])),
                timezone=str(hours.get("timezone") or "UTC"),
            )
        except (KeyError, ValueError):
            working = None
    return OnboardingAnswers(
        vips=_names(settings.get("vips")),
        working_hours=working,
        topics=_names(settings.get("topics")),
        low_priority=_names(settings.get("low_priority")),
    )


def build_priority_model(
    history: Iterable[StoredMessage], owner_names: tuple[str, ...], settings: Mapping[str, object]
) -> PriorityModel:
    """The persona's triage model: the learned prioritiser, starting from the shipped global prior
    (learned across many owners of a public chat corpus, with the onboarding answers held firm),
    over the owner's context (their history, plus the onboarding answers: VIPs, hours, topics).

    The clone continues it from its saved state and updates it online with every label (one-tap
    feedback, replies and their speed, sent/dismissed drafts, silence). It is not refitted on
    the whole history here: a cold start behaves like the heuristic and moves with the owner.
    """
    context = OwnerContext.from_history(
        history, owner_names, onboarding=onboarding_answers(settings)
    )
    return _LearnedPriority(Prioritiser(prior=load_global_prior()), context)


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything a command or adapter needs, opened together and closed together."""

    settings: Settings
    storage: Storage
    clone: Clone
    embedder: Embedder
    metrics: Metrics = field(default_factory=Metrics)


_shared_embedders: dict[tuple[str, str, Path], OnnxEmbedder | SentenceEmbedder] = {}


def default_embedder(settings: Settings) -> OnnxEmbedder | SentenceEmbedder:
    """One sentence encoder per process and configuration: the model loads once, on first use.

    ``minilm`` (the default) is the ONNX Runtime encoder, built from the installed weights into
    ``model_cache_dir`` the first time it is needed; ``minilm-torch`` the sentence-transformers one.
    """
    key = (settings.embedder, settings.embedder_precision, settings.model_cache_dir)
    if key not in _shared_embedders:
        if settings.embedder == "minilm-torch":
            _shared_embedders[key] = SentenceEmbedder()
        else:
            _shared_embedders[key] = OnnxEmbedder(
                locate=partial(
                    ensure_encoder, settings.model_cache_dir, settings.embedder_precision
                )
            )
    return _shared_embedders[key]


_blas_threads_applied: int | None = None


def limit_blas_threads(threads: int) -> None:
    """Cap numpy's BLAS pool for the whole process (once; ``0`` leaves the library default).

    On a small machine a multi-threaded BLAS competes with the encoder and with other workers:
    a 10k-row search took 6.2 ms with 2 threads and 1.6 ms with 1 on two cores.
    """
    global _blas_threads_applied
    if threads <= 0 or _blas_threads_applied == threads:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")
    _blas_threads_applied = threads


def configured_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name: the shared sentence model, or the hashing test double."""
    return HashingEmbedder() if settings.embedder == "hashing" else default_embedder(settings)


@asynccontextmanager
async def warm_in_background(
    runtime: Runtime, owners: Sequence[UserRef] = ()
) -> AsyncIterator[asyncio.Task[list[Persona]]]:
    """Warm start: load the encoder and ``owners``' active personas in the background.

    Started once the process is ready (the console prompt shows, the HTTP listener serves), so
    the first draft after a restart does not pay for loading; a draft that arrives meanwhile
    waits only for what it needs (the model cache builds each persona once, under a lock).
    Stopped on exit; a failure is logged, never raised (drafting then loads on first use).
    """
    task = asyncio.create_task(runtime.clone.warm(owners), name="minime-warm-start")
    task.add_done_callback(_log_warm_failure)
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _log_warm_failure(task: asyncio.Task[list[Persona]]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("warm start failed: %s", type(task.exception()).__name__)


@asynccontextmanager
async def _open_llm(
    settings: Settings,
) -> AsyncIterator[tuple[LLMDrafter | None, TokenBudget | None]]:
    """The LLM engine when ``MINIME_LLM__BASE_URL`` and ``__MODEL`` are set (closed on exit)."""
    if not settings.llm.enabled:
        yield None, None
        return
    from adapters.llm import OpenAICompatModel

    budget = TokenBudget(settings.llm.daily_token_budget)
    key = settings.llm.api_key.get_secret_value() if settings.llm.api_key else None
    model = OpenAICompatModel(
        base_url=str(settings.llm.base_url),
        model=str(settings.llm.model),
        api_key=key,
        budget=budget,
        timeout_s=settings.llm.timeout_s,
        max_retries=settings.llm.max_retries,
    )
    async with model:
        yield LLMDrafter(model), budget


def publishing_networks(settings: Settings) -> dict[str, Network]:
    """Bluesky, X and LinkedIn at the configured addresses (none when publishing is off)."""
    config = settings.networks
    if not config.enabled:
        return {}
    from adapters.networks import BlueskyNetwork, LinkedInNetwork, XNetwork

    return {
        "bluesky": BlueskyNetwork(config.bluesky_url, timeout_s=config.timeout_s),
        "x": XNetwork(config.x_url, timeout_s=config.timeout_s),
        "linkedin": LinkedInNetwork(
            config.linkedin_url, version=config.linkedin_version, timeout_s=config.timeout_s
        ),
    }


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, embedder: Embedder | None = None
) -> AsyncIterator[Runtime]:
    """Open storage (migrating it), build the engines and the clone; close all on exit."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    master_key = settings.master_key.get_secret_value() if settings.master_key else None
    async with (
        AsyncExitStack() as stack,
        open_storage(
            settings.effective_database_url,
            data_dir=settings.data_dir,
            master_key=master_key,
            owner_url=settings.database_owner_url,
        ) as storage,
    ):
        limit_blas_threads(settings.blas_threads)
        engine = embedder or configured_embedder(settings)
        metrics = Metrics()
        llm, budget = await stack.enter_async_context(_open_llm(settings))
        clone = Clone(
            stores=Stores(
                accounts=storage.accounts,
                personas=storage.personas,
                messages=storage.messages,
                vectors=storage.vectors,
                drafts=InstrumentedDrafts(storage.drafts, metrics),
                feedback=storage.feedback,
                state=storage.state,
                vault=ErasingVault(storage.vault, AccountFiles(settings.data_dir)),
                labels=storage.labels,
                posts=storage.posts,
                connections=storage.connections,
                identity=storage.identity,
                teams=storage.teams,
                shares=storage.shares,
                activity=storage.activity,
            ),
            embedder=engine,
            drafter=RetrievalDrafter(),
            verifier_background=background_texts,
            quality_writers=background_messages,
            llm=llm,
            llm_budget=budget,
            priority_factory=build_priority_model,
            read_export=open_import,
            sample_path=Path(SAMPLE_PERSONA_PATH),
            sample_owner=SAMPLE_OWNER,
            example_path=Path(EXAMPLE_PATH),
            example_owner=EXAMPLE_OWNER,
            profile_card=StyleCard(Profiler()),
            max_message_chars=settings.max_message_chars,
            networks=publishing_networks(settings),
        )
        try:
            yield Runtime(
                settings=settings,
                storage=storage,
                clone=clone,
                embedder=engine,
                metrics=metrics,
            )
        finally:
            await clone.aclose()  # background training stops before storage closes
