"""The inbox and the digest as the owner reads them: waiting messages grouped by conversation,
one line each, the owner's filters applied (muted ones collapsed with the reason, flagged ones
marked), and ``inbox <conversation>`` to expand one group.

A group of one message reads as before (``1. priya (0.91, needs a reply): “…” — reasons``); a
group of several reads ``2. kenji, 3 messages (0.80, needs a reply): asks you to send the Q3
deck by Fri — reasons``. The summary is extractive without a language model; with one, the top
groups are summarised by it (the group's own messages only, fenced as data), falling back to the
extractive line when it fails or the budget is spent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from core import waiting
from core.app.context import AppContext
from core.app.models import ModelCache, one_completion
from core.app.rendering import waiting_buttons
from core.drafting.llm import LLMDrafter
from core.drafting.safety import new_nonce
from core.models import Account, Button, Draft, Persona, PersonaId
from core.understanding import filters as filtering
from core.understanding import summaries as s

log = logging.getLogger(__name__)
SUMMARISED_BY_MODEL = 5
"""Groups a language model summarises per listing, at most (the rest are extractive)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Listing:
    """What waits, as shown: the groups (filters applied) and the collapsed ones."""

    groups: list[s.Group]
    flagged: dict[str, filtering.Filter]
    """Item id → the flag filter it matched."""
    muted: list[tuple[waiting.WaitingItem, filtering.Filter]]


def _expand_hint(group: s.Group) -> str:
    return f"`inbox {group.conversation}` shows them all"


class InboxView:
    """Groups, summaries and filters over a persona's waiting list."""

    def __init__(self, ctx: AppContext, models: ModelCache, *, llm: LLMDrafter | None) -> None:
        self._ctx = ctx
        self._models = models
        self._llm = llm

    async def _filters(self, account: Account, persona_id: PersonaId) -> list[filtering.Filter]:
        raw = await self._ctx.derived_state(account.id, persona_id, filtering.FILTERS_STATE)
        return filtering.from_bytes(raw)

    async def listing(
        self, account: Account, persona_id: PersonaId, items: Sequence[waiting.WaitingItem]
    ) -> Listing:
        """``items`` (ranked) with the persona's filters applied, grouped by conversation."""
        rules = await self._filters(account, persona_id)
        shown: list[waiting.WaitingItem] = []
        muted: list[tuple[waiting.WaitingItem, filtering.Filter]] = []
        flagged: dict[str, filtering.Filter] = {}
        for item in items:
            mute = filtering.first_match(rules, item.message)
            if mute is not None and not item.starred:
                muted.append((item, mute))
                continue
            flag = filtering.first_match(rules, item.message, flag=True)
            if flag is not None:
                flagged[item.id] = flag
            shown.append(item)
        return Listing(groups=s.group(shown), flagged=flagged, muted=muted)

    async def _summary(self, account: Account, persona: Persona | None, group: s.Group) -> str:
        if self._llm is None or persona is None:
            return s.extractive(group)
        model = await self._models.get(account, persona)
        nonce = new_nonce()
        system, user = s.summary_prompt(group, model.owner_name(persona), nonce)
        text = await one_completion(
            self._models,
            self._llm,
            account,
            model,
            system=system,
            user=user,
            nonce=nonce,
            max_tokens=60,
            purpose="summary",
        )
        line = s.clean_abstract(text) if text else None
        return line or s.extractive(group)

    async def lines(
        self,
        account: Account,
        persona_id: PersonaId,
        listing: Listing,
        *,
        limit: int,
    ) -> tuple[list[str], list[Button]]:
        """One line per group (its buttons act on the group's most important message), then
        one line for what the filters collapsed."""
        persona = await self._ctx.stores.personas.get(account.id, persona_id)
        lines: list[str] = []
        buttons: list[Button] = []
        summarised = 0
        for number, group in enumerate(listing.groups[:limit], start=1):
            if len(group.items) == 1:
                line = waiting.item_line(number, group.top)
            else:
                use_model = summarised < SUMMARISED_BY_MODEL
                summarised += 1
                summary = (
                    await self._summary(account, persona, group)
                    if use_model
                    else s.extractive(group)
                )
                line = s.line(number, group, summary) + f" ({_expand_hint(group)})"
            flags = {listing.flagged[i.id].label for i in group.items if i.id in listing.flagged}
            if flags:
                line = f"{line} ⚑ {', '.join(sorted(flags))}"
            lines.append(line)
            buttons += waiting_buttons(group.top, number)
        if len(listing.groups) > limit:
            lines.append(f"…and {len(listing.groups) - limit} more conversations.")
        if listing.muted:
            lines.append(collapsed_line(listing.muted))
        return lines, buttons

    async def visible_drafts(
        self, account: Account, persona_id: PersonaId, drafts: Sequence[Draft]
    ) -> tuple[list[Draft], int]:
        """Pending drafts but those answering a message a mute filter matches; how many those
        were."""
        rules = await self._filters(account, persona_id)
        shown = [d for d in drafts if filtering.first_match(rules, d.incoming) is None]
        return shown, len(drafts) - len(shown)

    async def expand(
        self,
        account: Account,
        persona_id: PersonaId,
        items: Sequence[waiting.WaitingItem],
        name: str,
    ) -> tuple[list[str], list[Button]] | None:
        """Every waiting message of one conversation — named, numbered as in the listing, or
        by a sender's name — or, for ``muted``, what the filters collapsed; ``None`` when
        nothing matches."""
        listing = await self.listing(account, persona_id, items)
        wanted = name.strip().casefold()
        if wanted == "muted":
            members = [item for item, _ in listing.muted]
            head = f"{len(members)} collapsed by your filters:"
        else:
            group = _find(listing, wanted)
            if group is None:
                return None
            members = list(group.items)
            head = f"{group.conversation}: {len(members)} waiting, most important first:"
        if not members:
            return ["Nothing is collapsed by your filters."], []
        reasons = {item.id: rule.label for item, rule in listing.muted}
        lines, buttons = [head], []
        for number, item in enumerate(members, start=1):
            line = waiting.item_line(number, item)
            if item.id in reasons:
                line += f" (collapsed: {reasons[item.id]})"
            lines.append(line)
            buttons += waiting_buttons(item, number)
        return lines, buttons


def _find(listing: Listing, wanted: str) -> s.Group | None:
    if wanted.isdigit():
        number = int(wanted)
        return listing.groups[number - 1] if 1 <= number <= len(listing.groups) else None
    for group in listing.groups:
        if group.conversation.casefold() == wanted:
            return group
    for group in listing.groups:
        if wanted in (sender.casefold() for sender in group.senders):
            return group
    return None


def collapsed_line(muted: Sequence[tuple[waiting.WaitingItem, filtering.Filter]]) -> str:
    """``Collapsed by your filters: 2 — zed (topic "crypto"), news-bot (sender "news-bot").``"""
    shown = [f"{item.message.sender} ({rule.label})" for item, rule in muted[:5]]
    more = f" and {len(muted) - 5} more" if len(muted) > 5 else ""
    return (
        f"Collapsed by your filters: {len(muted)} — {', '.join(shown)}{more}. "
        "`inbox muted` shows them; `filter list` shows your filters."
    )
