"""What happened to published posts: engagement per persona, per network and per take
(``posts stats``), and the owner's opener that did well, which generation then prefers.

How generation prefers what did well: every published post is classed by its opener (the first
sentence a question or a statement). Once at least :data:`MIN_POSTS` published posts of a
persona have engagement, with both openers present, the opener with the higher mean engagement
(likes + reposts + replies) is preferred: of the model's candidates, those opening that way are
offered first (ahead of a better style score), and the card says so, with the figures.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from statistics import mean

from core.app.context import AppContext
from core.drafting.posts import PLATFORMS
from core.models import Account, PersonaId
from core.publishing import Post, PostStatus

MIN_POSTS = 3
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?…])(?:\s|$)", re.S)


def opener_kind(text: str) -> str:
    """``question`` when the first sentence asks, else ``statement``."""
    stripped = text.strip()
    match = _FIRST_SENTENCE.match(stripped)
    first = match.group(1) if match else stripped.splitlines()[0] if stripped else ""
    return "question" if first.rstrip().endswith("?") else "statement"


@dataclass(frozen=True, slots=True, kw_only=True)
class Preference:
    """The opener that did better for a persona, and the sentence that shows why."""

    kind: str
    note: str


def _by_opener(posts: list[Post]) -> dict[str, list[int]]:
    totals: dict[str, list[int]] = defaultdict(list)
    for post in posts:
        if post.engagement is not None and post.parts:
            totals[opener_kind(post.parts[0].text)].append(post.engagement.total)
    return totals


async def opener_preference(
    ctx: AppContext, account: Account, persona_id: PersonaId
) -> Preference | None:
    """The persona's better-performing opener, once there is enough engagement to say."""
    published = [
        p
        async for p in ctx.stores.posts.list(account.id)
        if p.persona_id == persona_id and p.status is PostStatus.PUBLISHED
    ]
    totals = _by_opener(published)
    if sum(len(v) for v in totals.values()) < MIN_POSTS or len(totals) < 2:
        return None
    means = {kind: mean(values) for kind, values in totals.items()}
    best = max(means, key=lambda kind: means[kind])
    other = next(kind for kind in means if kind != best)
    if means[best] == means[other]:
        return None
    return Preference(
        kind=best,
        note=(
            f"Your {best}-opener posts did better (mean {means[best]:.1f} likes+reposts+replies "
            f"over {len(totals[best])} posts vs {means[other]:.1f} over {len(totals[other])} "
            f"for {other} openers), so {best} openers are offered first."
        ),
    )


def stats_text(posts: list[Post], persona_names: dict[PersonaId, str]) -> str:
    """``posts stats``: engagement of published posts per persona and network, per take."""
    published = [p for p in posts if p.status is PostStatus.PUBLISHED]
    if not published:
        return "Nothing published yet: `post <x|linkedin|bluesky> <topic>`, then Publish."
    lines = [f"Published posts: {len(published)} (engagement as the networks last reported it)"]
    groups: dict[tuple[str, str], list[Post]] = defaultdict(list)
    for post in published:
        groups[(persona_names.get(post.persona_id, "?"), post.network)].append(post)
    for (persona, network), group in sorted(groups.items()):
        measured = [p.engagement for p in group if p.engagement is not None]
        likes = sum(e.likes for e in measured)
        reposts = sum(e.reposts for e in measured)
        replies = sum(e.replies for e in measured)
        lines.append(
            f"• {persona} on {PLATFORMS[network].name}: {len(group)} posts · {likes} likes · "
            f"{reposts} reposts · {replies} replies" + ("" if measured else " (not fetched yet)")
        )
    totals = _by_opener(published)
    if totals:
        lines.append(
            "By opener: "
            + " · ".join(
                f"{kind} {mean(values):.1f} per post ({len(values)})"
                for kind, values in sorted(totals.items())
            )
        )
    lines += _variants(published)
    return "\n".join(lines)


def _variants(published: list[Post]) -> list[str]:
    """Takes offered together (``--variants``) and published, compared once both have data."""
    groups: dict[str, list[Post]] = defaultdict(list)
    for post in published:
        if post.group is not None:
            groups[post.group].append(post)
    lines = []
    for group in groups.values():
        if len(group) < 2 or any(p.engagement is None for p in group):
            continue
        ranked = sorted(group, key=lambda p: -(p.engagement.total if p.engagement else 0))
        lines.append(
            f"A/B on “{ranked[0].topic[:60]}”: "
            + " vs ".join(
                f"{p.variant or 'take'} {p.engagement.total if p.engagement else 0}" for p in ranked
            )
            + f" → {ranked[0].variant or 'the first take'} did better."
        )
    return lines
