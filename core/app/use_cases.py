"""Every use case of the clone, built once from the wiring, and the command table over them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.app.actions import Actions
from core.app.ask import Ask
from core.app.commands import CommandRequest, CommandTable, Handler
from core.app.connections import Connections
from core.app.consult import Consults
from core.app.context import AppContext, PriorityFactory, ProfileCard, StyleFactory
from core.app.drafting import Drafting
from core.app.filters import Filters
from core.app.inbox import Inbox
from core.app.incoming import Incoming
from core.app.linking import Linking
from core.app.model_versions import VersionedState
from core.app.models import ModelCache
from core.app.onboarding import Onboarding
from core.app.persona_extras import PersonaExtras
from core.app.persona_identity import PersonaIdentity
from core.app.persona_stats import PersonaStatsView
from core.app.personas import Personas
from core.app.post_actions import PostActions
from core.app.post_history import PostHistory
from core.app.post_windows import PostWindows
from core.app.posts import Posts
from core.app.privacy import Privacy
from core.app.profile import Profiles
from core.app.quality import ExtraWriters, Quality
from core.app.quality_history import QualityHistory
from core.app.reactions import Reactions
from core.app.schedules import Schedules
from core.app.summaries import InboxView
from core.app.teams import Teams
from core.app.training import Training
from core.app.values import CORRECT_USAGE, Values
from core.app.versions import ModelVersions
from core.drafting.llm import LLMDrafter, TokenBudget
from core.drafting.retrieval import RetrievalDrafter
from core.models import Reply
from core.ports import ExportReader, Notifier
from core.privacy import RateLimiter
from core.publishing import Network
from core.teams import mention_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Wiring:
    """What ``bot/bootstrap.py`` hands the clone besides its stores and clock."""

    drafter: RetrievalDrafter
    priority_factory: PriorityFactory
    read_export: ExportReader
    sample_path: Path
    sample_owner: str
    style_factory: StyleFactory
    verifier_background: Callable[[], Sequence[str]] | None
    llm: LLMDrafter | None
    llm_budget: TokenBudget | None
    profile_card: ProfileCard | None
    max_message_chars: int
    sender_limiter: RateLimiter | None
    owner_limiter: RateLimiter | None
    example_path: Path | None = None
    """The real example data set (``train --example``); ``None``: not offered."""
    example_owner: str | None = None
    quality_writers: ExtraWriters | None = None
    """Other writers' messages for the attribution test of ``quality`` (the shipped background)."""
    networks: Mapping[str, Network] = field(default_factory=dict)
    """The publishing networks by key (``bluesky``, ``x``, ``linkedin``); none: not offered."""


class UseCases:
    """The clone's rooms, each given its ports and the rooms it calls."""

    def __init__(self, ctx: AppContext, wiring: Wiring) -> None:
        # Every retrained model keeps its previous version (``models rollback``).
        ctx.stores = replace(
            ctx.stores, state=VersionedState(ctx.stores.state, lambda: ctx.clock())
        )
        self.models = ModelCache(
            ctx,
            priority_factory=wiring.priority_factory,
            style_factory=wiring.style_factory,
            verifier_background=wiring.verifier_background,
            llm_budget=wiring.llm_budget,
            profile_card=wiring.profile_card,
        )
        self.drafting = Drafting(ctx, self.models, drafter=wiring.drafter, llm=wiring.llm)
        self.inbox = Inbox(ctx, self.models, self.drafting)
        self.teams = Teams(ctx)
        self.incoming = Incoming(
            ctx,
            self.models,
            self.inbox,
            self.drafting,
            max_message_chars=wiring.max_message_chars,
            sender_limiter=wiring.sender_limiter,
            owner_limiter=wiring.owner_limiter,
            teams=self.teams,
        )
        self.consults = Consults(ctx, self.drafting, self.inbox)
        self.posts = Posts(ctx, self.models, llm=wiring.llm)
        self.post_actions = PostActions(
            ctx, self.models, self.posts, networks=wiring.networks, teams=self.teams
        )
        self.post_history = PostHistory(ctx, self.post_actions, networks=wiring.networks)
        self.connections = Connections(ctx, networks=wiring.networks)
        self.actions = Actions(
            ctx,
            self.models,
            self.drafting,
            self.inbox,
            self.post_actions,
            teams=self.teams,
            consults=self.consults,
        )
        self.schedules = Schedules(ctx, self.inbox)
        self.onboarding = Onboarding(ctx, self.models, self.schedules)
        self.training = Training(
            ctx,
            self.models,
            read_export=wiring.read_export,
            sample_path=wiring.sample_path,
            sample_owner=wiring.sample_owner,
            example_path=wiring.example_path,
            example_owner=wiring.example_owner,
        )
        self.personas = Personas(
            ctx,
            self.models,
            PersonaExtras(
                PersonaIdentity(ctx, self.teams, forget=self.models.forget),
                self.teams,
                self.consults,
                PersonaStatsView(ctx, self.teams),
            ),
        )
        self.profiles = Profiles(ctx, wiring.profile_card)
        self.privacy = Privacy(
            ctx, self.models, self.inbox, self.profiles, teams=self.teams, consults=self.consults
        )
        self.post_windows = PostWindows(ctx)
        self.ask = Ask(ctx, self.models, self.drafting)
        self.linking = Linking(ctx)
        self.quality = Quality(ctx, extra_writers=wiring.quality_writers)
        self._understanding(ctx, wiring)
        self.commands = CommandTable(
            ctx, self.handlers(), max_message_chars=wiring.max_message_chars
        )

    def _understanding(self, ctx: AppContext, wiring: Wiring) -> None:
        """Values, filters, summaries, quality over time and model versions (issue 18), and
        the hooks through which they reach triage, drafting, the inbox, imports and quality."""
        self._ctx = ctx
        self.values = Values(ctx)
        self.profiles.sections.append(self.values.json_section)
        self.filters = Filters(ctx)
        self.inbox.view = InboxView(ctx, self.models, llm=wiring.llm)
        self.incoming.adjust = self.values.adjuster
        self.drafting.guards.append(self.values.guard)
        self.drafting.prompt_notes.append(self.values.prompt_notes)
        self.quality_history = QualityHistory(ctx, self.quality)
        self.quality.after = self.quality_history.annotate
        self.personas.extras.stats.quality = self.quality_history.trend
        self.training.imported.append(self.quality_history.after_import)
        self.versions = ModelVersions(ctx, self.models, self.quality)
        self.reactions = Reactions(ctx, self.models, self.ask, self.values, llm=wiring.llm)

    async def _profile(self, r: CommandRequest) -> Reply:
        if r.args and r.args[0].lower() == "correct":
            persona = await self._ctx.active_persona(r.account)
            return await self.values.correct(r.account, persona, r.args[1:])
        if r.args:
            return Reply(text=CORRECT_USAGE)
        base = await self.profiles.command(r.account, platform=r.command.user.platform)
        return await self.values.profile(r.account, base)

    async def _quality(self, r: CommandRequest) -> Reply:
        if r.args and r.args[0].lower() == "history":
            return await self.quality_history.history_command(r.account, r.args[1:])
        return await self.quality.command(r.command, r.account, r.args)

    def handlers(self) -> dict[str, Handler]:
        """The handler of each command of the grammar but ``help`` (the table's own)."""
        return {
            "train": lambda r: self.training.command(r.command, r.account, r.args),
            "draft": lambda r: self.incoming.draft_command(r.command, r.text),
            "profile": self._profile,
            "inbox": lambda r: self.inbox.command(r.account, r.args),
            "persona": lambda r: (
                self.post_windows.command(r.account, r.args[1:])
                if r.args[0] == "schedule"
                else self.personas.command(r.account, r.args, r.command)
            ),
            "post": lambda r: self.posts.command(r.command, r.account, r.text),
            "posts": lambda r: self.post_history.command(r.command.user, r.account, r.args),
            "connect": lambda r: self.connections.connect(r.command, r.account, r.args),
            "disconnect": lambda r: self.connections.disconnect(r.account, r.args),
            "ask": self._ask,
            "quality": self._quality,
            "filter": lambda r: self.filters.command(r.account, r.args),
            "models": lambda r: self.versions.command(r.account, r.args),
            "digest": lambda r: self.schedules.command(r.command, r.account, r.args),
            "onboard": lambda r: self.onboarding.command(r.account, r.args),
            "privacy": lambda r: self.privacy.command(r.command, r.account, r.args),
            "link": lambda r: self.linking.command(r.command, r.account, r.args),
        }

    async def _ask(self, request: CommandRequest) -> Reply:
        """``ask <question>``; ``ask @someone <question>`` asks someone else's clone."""
        if request.args and mention_id(request.args[0]) is not None:
            head, _, question = request.text.partition(" ")
            return await self.consults.ask(request.command.user, head, question)
        return await self.reactions.command(request.account, request.text)

    def use_notifier(self, notifier: Notifier | None) -> None:
        """Where what the clone says unprompted goes: slow ``quality`` results, team news,
        answers to questions asked of the clone."""
        self.quality.use_notifier(notifier)
        self.teams.notifier = notifier
        self.consults.notifier = notifier
