"""A persona's identity: attributes (tone, audience, background, values, avoid), templates,
rename and clone, and the places a persona is bound to (``persona use <name> here``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace

from core.app.context import AppContext
from core.app.models import FIT_STATE, PRIORITISER_STATE, PROFILE_STATE, VERIFIER_STATE
from core.app.teams import Teams
from core.commands import split_options
from core.models import Account, CommandInvocation, Message, Persona, Reply, StoredMessage
from core.teams import ATTRIBUTES, MAX_ATTRIBUTE_CHARS, TEMPLATES, Role, describe

MODEL_STATES = (VERIFIER_STATE, FIT_STATE, PRIORITISER_STATE, PROFILE_STATE)
"""The learned models ``persona clone --with-models`` copies (never the messages unless asked)."""
_CLEAR = frozenset({"-", "none", "clear", "off"})


def place_of(command: CommandInvocation) -> str | None:
    """Where a command was typed, as a persona binding names it (a channel, a chat, a server)."""
    return command.place or command.conversation


async def persona_for(
    ctx: AppContext, account: Account, platform: str, place: str | None
) -> Persona:
    """The persona bound to ``place`` on ``platform``, else the account's active persona."""
    if place:
        for binding in await ctx.stores.identity.bindings(account.id):
            if binding.platform == platform and binding.place == place:
                persona = await ctx.stores.personas.get(account.id, binding.persona_id)
                if persona is not None:
                    return persona
    return await ctx.active_persona(account)


def by_name(personas: Sequence[Persona], name: str) -> Persona | None:
    wanted = " ".join(name.split()).lower()
    return next((p for p in personas if p.name.lower() == wanted), None)


class PersonaIdentity:
    """``persona set | show | rename | clone | template | use <name> here | list`` (bindings)."""

    def __init__(
        self, ctx: AppContext, teams: Teams, *, forget: Callable[[str, str], None]
    ) -> None:
        self._ctx = ctx
        self._teams = teams
        self._forget = forget

    async def set(self, account: Account, command: CommandInvocation, args: Sequence[str]) -> Reply:
        """``persona set <name> <attribute> <text>`` (``-`` clears one); editors may too."""
        if len(args) < 3:
            return Reply(text=f"Usage: persona set <name> {'|'.join(ATTRIBUTES)} <text>")
        name, key, text = args[0], args[1].lower(), " ".join(" ".join(args[2:]).split())
        if key not in ATTRIBUTES:
            return Reply(
                text=f"Unknown attribute '{args[1]}'. A persona has: {', '.join(ATTRIBUTES)}."
            )
        if len(text) > MAX_ATTRIBUTE_CHARS:
            return Reply(text=f"Keep {key} under {MAX_ATTRIBUTE_CHARS} characters.")
        target = await self._teams.target(account, command.user, name, Role.EDITOR)
        if isinstance(target, str):
            return Reply(text=target)
        identity = self._ctx.stores.identity
        attributes = await identity.attributes(target.account_id, target.persona.id)
        attributes[key] = "" if text.lower() in _CLEAR else text
        await identity.set_attributes(target.account_id, target.persona.id, attributes)
        if not attributes[key]:
            return Reply(text=f"Cleared {key} of persona '{target.persona.name}'.")
        effect = {
            "avoid": "Drafts that touch these topics are never offered.",
            "tone": "Drafts from the language model follow it.",
            "audience": "Drafts from the language model write for them.",
        }.get(key, "The language model sees it when it drafts.")
        return Reply(text=f"Persona '{target.persona.name}': {key} is now “{text}”. {effect}")

    async def sample(
        self, account: Account, command: CommandInvocation, args: Sequence[str]
    ) -> Reply:
        """``persona sample <name> <message> => <reply>``: an example exchange in the persona's
        voice (a brand's answer to a common question); editors of a team persona may add them."""
        text = " ".join(args[1:])
        message, arrow, reply = text.partition("=>")
        message, reply = " ".join(message.split()), " ".join(reply.split())
        if not args or not arrow or not message or not reply:
            return Reply(text="Usage: persona sample <name> <a message> => <the persona's reply>")
        if max(len(message), len(reply)) > 4 * MAX_ATTRIBUTE_CHARS:
            return Reply(text=f"Keep each side under {4 * MAX_ATTRIBUTE_CHARS} characters.")
        target = await self._teams.target(account, command.user, args[0], Role.EDITOR)
        if isinstance(target, str):
            return Reply(text=target)
        persona, now, key = target.persona, self._ctx.clock(), uuid.uuid4().hex
        asked = Message(
            id=f"sample:{key}:q",
            conversation=f"sample:{persona.id}",
            thread=None,
            sender="them",
            text=message,
            sent_at=now,
        )
        answered = Message(
            id=f"sample:{key}:a",
            conversation=asked.conversation,
            thread=None,
            sender=persona.owner_names[0] if persona.owner_names else "me",
            text=reply,
            sent_at=now,
            reply_to=asked.id,
        )

        async def pair() -> AsyncIterator[StoredMessage]:
            yield StoredMessage(
                message=asked, persona_id=persona.id, from_owner=False, source="sample"
            )
            yield StoredMessage(
                message=answered, persona_id=persona.id, from_owner=True, source="sample"
            )

        await self._ctx.stores.messages.add_stream(target.account_id, pair())
        self._forget(target.account_id, persona.id)
        return Reply(
            text=f"Persona '{args[0]}' learned a sample exchange: “{message}” → “{reply}”. "
            "Drafts for similar messages can start from it."
        )

    async def template(self, account: Account, args: Sequence[str]) -> Reply:
        """``persona template <name> <professional|casual|brand>``: attributes only."""
        if len(args) != 2:
            return Reply(text=f"Usage: persona template <name> {'|'.join(TEMPLATES)}")
        persona = by_name(await self._ctx.stores.personas.list(account.id), args[0])
        if persona is None:
            return await self._unknown(account, args[0])
        chosen = TEMPLATES.get(args[1].lower())
        if chosen is None:
            return Reply(
                text=f"No template '{args[1]}'. Templates: {', '.join(TEMPLATES)} "
                "(they set attributes only; nothing is added to what the persona learned)."
            )
        await self._ctx.stores.identity.set_attributes(account.id, persona.id, chosen)
        lines = [f"Persona '{persona.name}' now starts from the {args[1].lower()} template:"]
        return Reply(text="\n".join([*lines, *(f"  {line}" for line in describe(chosen))]))

    async def show(
        self, account: Account, command: CommandInvocation, args: Sequence[str]
    ) -> Reply:
        """``persona show [name]``: attributes, bindings, team and shares of one persona."""
        if args:
            target = await self._teams.target(account, command.user, " ".join(args), Role.VIEWER)
            if isinstance(target, str):
                return Reply(text=target)
            persona, owner_id, role = target.persona, target.account_id, target.role
        else:
            persona, owner_id, role = (
                await self._ctx.active_persona(account),
                account.id,
                Role.OWNER,
            )
        stores = self._ctx.stores
        attributes = await stores.identity.attributes(owner_id, persona.id)
        lines = [f"Persona '{persona.name}'" + ("" if role is Role.OWNER else f" (you: {role})")]
        lines += [f"  {line}" for line in describe(attributes)] or ["  no attributes set"]
        if role is Role.OWNER:
            lines += [
                f"  bound to {b.platform} {b.place}"
                for b in await stores.identity.bindings(owner_id)
                if b.persona_id == persona.id
            ]
            lines += [
                f"  {m.role}: {m.user}"
                for m in await stores.teams.members(owner_id)
                if m.persona_id == persona.id
            ]
            shares = [s for s in await stores.shares.shares(owner_id) if s.persona_id == persona.id]
            if shares:
                lines.append(f"  others may ask it: {len(shares)} share(s), see `persona shares`")
        lines.append(f"Change with `persona set {persona.name} {'|'.join(ATTRIBUTES)} <text>`.")
        return Reply(text="\n".join(lines))

    async def rename(self, account: Account, args: Sequence[str]) -> Reply:
        """``persona rename <old> <new>``."""
        if len(args) != 2:
            return Reply(
                text='Usage: persona rename <old> <new> (quote names with spaces: "my brand")'
            )
        personas = await self._ctx.stores.personas.list(account.id)
        persona = by_name(personas, args[0])
        if persona is None:
            return await self._unknown(account, args[0])
        clash = by_name(personas, args[1])
        if clash is not None and clash.id != persona.id:
            return Reply(text=f"You already have a persona '{clash.name}'.")
        try:
            renamed = await self._ctx.stores.personas.update(
                account.id, replace(persona, name=args[1])
            )
        except ValueError as error:
            return Reply(text=f"Can't rename it: {error}.")
        return Reply(text=f"Renamed persona '{persona.name}' to '{renamed.name}'.")

    async def clone(self, account: Account, args: Sequence[str]) -> Reply:
        """``persona clone <from> <to> [--with-models] [--with-messages]``."""
        words, _ = split_options(args, ())
        flags = {w for w in words if w.startswith("--")}
        names = [w for w in words if not w.startswith("--")]
        unknown = flags - {"--with-models", "--with-messages"}
        if len(names) != 2 or unknown:
            return Reply(text="Usage: persona clone <from> <to> [--with-models] [--with-messages]")
        stores = self._ctx.stores
        personas = await stores.personas.list(account.id)
        source = by_name(personas, names[0])
        if source is None:
            return await self._unknown(account, names[0])
        if by_name(personas, names[1]) is not None:
            return Reply(text=f"You already have a persona '{names[1]}'.")
        try:
            copy = await stores.personas.create(account.id, names[1])
        except ValueError as error:
            return Reply(text=f"Can't create it: {error}.")
        copy = await stores.personas.update(
            account.id, replace(copy, owner_names=source.owner_names)
        )
        await stores.identity.set_attributes(
            account.id, copy.id, await stores.identity.attributes(account.id, source.id)
        )
        copied = ["its attributes"]
        if "--with-models" in flags:
            for kind in MODEL_STATES:
                value = await self._ctx.derived_state(account.id, source.id, kind)
                if value is not None:
                    await stores.state.put(account.id, copy.id, kind, value)
            copied.append("its learned models")
        if "--with-messages" in flags:

            async def messages() -> AsyncIterator[StoredMessage]:
                async for item in stores.messages.iter(account.id, source.id):
                    yield replace(item, persona_id=copy.id)

            count = await stores.messages.add_stream(account.id, messages())
            copied.append(f"{count} of its messages")
        else:
            copied.append("none of your messages (add --with-messages for those)")
        return Reply(
            text=f"Cloned '{source.name}' as '{copy.name}' with {', '.join(copied)}. "
            f"`persona use {copy.name}` switches to it."
        )

    async def use_here(self, account: Account, command: CommandInvocation, name: str) -> Reply:
        """``persona use <name> here``: drafts for messages in this place come from it."""
        place = place_of(command)
        if not place:
            return Reply(
                text="I can't tell where 'here' is; use this in a channel, chat or server."
            )
        stores = self._ctx.stores
        if name.lower() in ("none", "-", "off"):
            await stores.identity.bind(account.id, command.user.platform, place, None)
            return Reply(text="This place uses your active persona again.")
        persona = by_name(await stores.personas.list(account.id), name)
        if persona is None:
            return await self._unknown(account, name)
        await stores.identity.bind(account.id, command.user.platform, place, persona.id)
        return Reply(
            text=f"Here ({command.user.platform} {place}) drafts now come from persona "
            f"'{persona.name}'. `persona use none here` undoes it."
        )

    async def list_lines(self, account: Account) -> list[str]:
        """Bindings and team personas, under the ``persona list`` of one's own personas."""
        stores = self._ctx.stores
        names = {p.id: p.name for p in await stores.personas.list(account.id)}
        lines = [
            f"  {names.get(b.persona_id, '?')} is used in {b.platform} {b.place}"
            for b in await stores.identity.bindings(account.id)
        ]
        return lines

    async def _unknown(self, account: Account, name: str) -> Reply:
        have = ", ".join(p.name for p in await self._ctx.stores.personas.list(account.id))
        return Reply(text=f"No persona '{name}'. You have: {have}.")
