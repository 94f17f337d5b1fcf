"""Training: imports of exports (and of minime's own export), the sample persona, ``train``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime
from itertools import islice
from pathlib import Path

from core.app.context import AppContext
from core.app.models import ModelCache
from core.commands import split_options
from core.importing import Progress, import_messages
from core.models import (
    Account,
    CommandInvocation,
    ImportSummary,
    Message,
    Persona,
    PersonaId,
    Reply,
    StoredMessage,
    UserRef,
)
from core.ports import ExportReader
from core.privacy import ANY, RestorableExport, with_live_learning


def describe_summary(summary: ImportSummary) -> str:
    """One line about an import, for people."""
    span = ""
    if summary.first and summary.last:
        span = f", {summary.first:%Y-%m-%d} to {summary.last:%Y-%m-%d}"
    replies = (
        "none of them a reply"
        if summary.owner_replies == 0
        else f"{summary.owner_replies} of them {'a reply' if summary.owner_replies == 1 else 'replies'}"
    )
    return (
        f"{_count(summary.messages, 'message')} ({summary.new:,} new) in "
        f"{_count(summary.conversations, 'conversation')}{span}; "
        f"{summary.owner_messages:,} written by you, {replies}."
    )


def _count(n: int, noun: str) -> str:
    """``1 conversation``, ``3 conversations``, ``3,033 messages``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


ImportHook = Callable[[UserRef, Account, Persona, ImportSummary], Awaitable[None]]
"""Called after an import with who imported, where, and what it added."""


class Training:
    """Imports for the active persona (all or nothing), each followed by a rebuild of its models."""

    def __init__(
        self,
        ctx: AppContext,
        models: ModelCache,
        *,
        read_export: ExportReader,
        sample_path: Path,
        sample_owner: str,
        example_path: Path | None = None,
        example_owner: str | None = None,
    ) -> None:
        self._ctx = ctx
        self._models = models
        self._read_export = read_export
        self._sample_path = sample_path
        self._sample_owner = sample_owner
        self._example_path = example_path
        self._example_owner = example_owner
        self.imported: list[ImportHook] = []
        """Told of each import once its models are refreshed (the quality schedule)."""

    async def import_file(
        self,
        user: UserRef,
        path: Path,
        *,
        fmt: str = "auto",
        me: str | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """Import an export for the user's active persona (all or nothing) and refresh its models.

        Raises the reader's errors (bad format, unknown owner) with nothing written.
        """
        source = await asyncio.to_thread(self._read_export, path, fmt)
        if isinstance(source, RestorableExport):
            # minime's own export: personas and owner flags come back exactly (no --me needed).
            return await self._restore(user, source, progress=progress)
        owner = await asyncio.to_thread(source.resolve_owner, me)
        return await self._import(
            user, source.messages(), owner=owner, fmt=source.format, progress=progress
        )

    async def import_sample(self, user: UserRef) -> ImportSummary:
        """Train on the built-in synthetic persona (a first run that is useful at once)."""
        source = await asyncio.to_thread(self._read_export, self._sample_path, "jsonl")
        return await self._import(
            user, source.messages(), owner=self._sample_owner, fmt="sample", source="sample"
        )

    async def _restore(
        self, user: UserRef, source: RestorableExport, *, progress: Progress | None = None
    ) -> ImportSummary:
        """Load a privacy export back: each persona (by name) gets its messages and owner names.

        The export is read and validated whole before anything is written; the messages then go
        in one transaction (a re-import adds nothing).
        """
        stores = self._ctx.stores
        exported = await asyncio.to_thread(source.personas)
        account = await self._ctx.account(user)
        personas = {p.name.lower(): p for p in await stores.personas.list(account.id)}
        ids: dict[str, PersonaId] = {}
        for item in exported:
            persona = personas.get(item.name.lower())
            if persona is None:
                persona = await stores.personas.create(account.id, item.name)
            names = tuple(dict.fromkeys((*persona.owner_names, *item.owner_names)))
            if names != persona.owner_names:
                persona = await stores.personas.update(
                    account.id, replace(persona, owner_names=names)
                )
            ids[item.name] = persona.id
        iterator = await asyncio.to_thread(source.held_messages)
        tally = {"messages": 0, "owner": 0, "replies": 0}
        conversations: set[str] = set()
        times: list[datetime] = []

        async def stream() -> AsyncIterator[StoredMessage]:
            while True:
                batch = await asyncio.to_thread(lambda: list(islice(iterator, 2_000)))
                if not batch:
                    return
                for held in batch:
                    tally["messages"] += 1
                    tally["owner"] += held.from_owner
                    tally["replies"] += held.from_owner and held.message.reply_to is not None
                    conversations.add(held.message.conversation)
                    times.append(held.message.sent_at)
                    yield StoredMessage(
                        message=held.message,
                        persona_id=ids[held.persona],
                        from_owner=held.from_owner,
                        source=held.source,
                    )
                if progress is not None:
                    progress(len(batch))

        new = await stores.messages.add_stream(account.id, stream())
        active = source.active_persona()
        if active is not None and active in ids:
            account = await stores.accounts.update(replace(account, active_persona=ids[active]))
        self._models.forget(account.id)
        await self._models.get(account, await self._ctx.active_persona(account))
        return ImportSummary(
            format=source.format,
            messages=tally["messages"],
            new=new,
            owner_messages=tally["owner"],
            owner_replies=tally["replies"],
            conversations=len(conversations),
            first=min(times, default=None),
            last=max(times, default=None),
        )

    async def _import(
        self,
        user: UserRef,
        messages: Iterable[Message],
        *,
        owner: str,
        fmt: str,
        source: str = "import",
        progress: Progress | None = None,
    ) -> ImportSummary:
        account = await self._ctx.account(user)
        persona = await self._ctx.active_persona(account)
        summary = await import_messages(
            messages,
            store=self._ctx.stores.messages,
            account_id=account.id,
            persona_id=persona.id,
            owner=owner,
            format_name=fmt,
            source=source,
            progress=progress,
        )
        if owner not in persona.owner_names:
            await self._ctx.stores.personas.update(
                account.id, replace(persona, owner_names=(*persona.owner_names, owner))
            )
        self._models.forget(account.id, persona.id)
        # Build the index now (embeddings of new exemplars), not on the first draft.
        persona = await self._ctx.active_persona(account)
        await self._models.get(account, persona)
        for hook in self.imported:
            await hook(user, account, persona, summary)
        return summary

    async def command(
        self, command: CommandInvocation, account: Account, args: tuple[str, ...]
    ) -> Reply:
        """``train --sample`` · ``train --example`` · ``train on|off [platform|all]`` ·
        ``train <export>... [--me NAME]``."""
        if args[:1] == ("--sample",) or args[:1] == ("sample",):
            summary = await self.import_sample(command.user)
            return Reply(
                text="Trained on the sample persona (synthetic messages of 'Sam'). "
                + describe_summary(summary)
            )
        if args[:1] in (("--example",), ("example",)) and self._example_path is not None:
            summary = await self.import_file(
                command.user, self._example_path, fmt="jsonl", me=self._example_owner
            )
            return Reply(
                text="Trained on the real example: the #ubuntu IRC help channel (CC-BY-4.0, "
                f"Kummerfeld et al., ACL 2019), with its helper '{self._example_owner}' as you. "
                + describe_summary(summary)
                + " Paste a question (`draft how do I install the nvidia driver?`) to see drafts."
            )
        if args[:1] in (("on",), ("off",)):
            return await self._live_learning(command, account, args)
        words, options = split_options(args, ("--me",))
        named = [a for a in words if not a.startswith("--")]
        if named and not command.attachments and not command.local_files:
            return Reply(
                text="Attach the export file to the command: I can't read paths on this platform."
            )
        paths = [Path(a.path) for a in command.attachments] or [Path(a) for a in named]
        if not paths:
            return Reply(
                text="Attach an export (Slack, Telegram, Discord, WhatsApp, mail, X) or use `train --sample`."
            )
        me = options.get("--me") or None
        lines = []
        for path in paths:
            try:
                summary = await self.import_file(command.user, path, me=me)
            except ValueError as error:  # the reader's one-sentence errors (format, unknown owner)
                lines.append(f"{path.name}: not imported: {error}")
                continue
            lines.append(f"{path.name}: " + describe_summary(summary))
        return Reply(text="\n".join(lines))

    async def _live_learning(
        self, command: CommandInvocation, account: Account, args: tuple[str, ...]
    ) -> Reply:
        """``train on|off``: consent per source (``train on`` in a Slack chat is for Slack only)."""
        platform = args[1].lower() if len(args) > 1 else command.user.platform
        if platform in ("all", "everywhere", ANY):
            platform = ANY
        on = args[0] == "on"
        settings = with_live_learning(account.settings, platform, on)
        await self._ctx.stores.accounts.update(replace(account, settings=settings))
        where = "every platform" if platform == ANY else platform
        if on:
            return Reply(
                text=f"Learning from messages you send on {where} is on: I keep them, "
                "encrypted, as samples of your style. `train off` stops it; "
                "`privacy pause` stops everything."
            )
        return Reply(text=f"Learning from messages you send on {where} is off.")
