"""``posts``: the owner's posts with status, dates and links; search; the scheduled ones and
cancelling them; export as CSV or JSON; engagement fetched from the networks (``posts stats``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import replace

from core.app.context import AppContext
from core.app.post_actions import PostActions
from core.app.post_cards import local_time, platform_of
from core.app.post_stats import stats_text
from core.app.rendering import clip
from core.commands import shell_words, split_options
from core.drafting.posts import PLATFORMS
from core.models import Account, Reply, UserRef
from core.publishing import Actor, Network, NetworkError, Post, PostStatus, is_post_id
from core.scheduling import schedule_of

SHOWN = 20
USAGE = (
    "Usage: posts [words] [--persona P] [--status draft|approved|scheduled|published|dismissed]"
    " · posts scheduled · posts cancel <n> · posts export csv|json · posts stats"
)


def _csv(posts: list[Post], names: Mapping[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "id",
            "persona",
            "network",
            "status",
            "created_at",
            "scheduled_for",
            "published_at",
            "parts",
            "text",
            "url",
            "engine",
            "variant",
            "likes",
            "reposts",
            "replies",
        ]
    )
    for post in posts:
        published_at = next(
            (e.at.isoformat() for e in post.events if e.status is PostStatus.PUBLISHED), ""
        )
        engagement = post.engagement
        writer.writerow(
            [
                post.id,
                names.get(post.persona_id, ""),
                post.network,
                post.status.value,
                post.created_at.isoformat(),
                post.scheduled_for.isoformat() if post.scheduled_for else "",
                published_at,
                len(post.parts),
                post.text,
                post.url or "",
                post.engine,
                post.variant or "",
                engagement.likes if engagement else "",
                engagement.reposts if engagement else "",
                engagement.replies if engagement else "",
            ]
        )
    return out.getvalue().encode("utf-8")


def _json(posts: list[Post], names: Mapping[str, str]) -> bytes:
    rows = [
        {
            "id": post.id,
            "persona": names.get(post.persona_id, ""),
            "network": platform_of(post).name,
            "status": post.status.value,
            "topic": post.topic,
            "created_at": post.created_at.isoformat(),
            "scheduled_for": post.scheduled_for.isoformat() if post.scheduled_for else None,
            "parts": [
                {"text": p.text, "url": p.published.url if p.published else None}
                for p in post.parts
            ],
            "steps": [
                {"status": e.status.value, "by": str(e.actor), "at": e.at.isoformat()}
                for e in post.events
            ],
        }
        for post in posts
    ]
    return json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")


class PostHistory:
    """``posts …``."""

    def __init__(
        self, ctx: AppContext, actions: PostActions, *, networks: Mapping[str, Network]
    ) -> None:
        self._ctx = ctx
        self._actions = actions
        self._networks = dict(networks)

    async def command(self, user: UserRef, account: Account, args: tuple[str, ...]) -> Reply:
        """``posts [words] [--persona P] [--status S]`` · ``scheduled`` · ``cancel <n>`` ·
        ``export csv|json`` · ``stats``."""
        words, options = split_options(shell_words(" ".join(args)), ("--persona", "--status"))
        posts = [p async for p in self._ctx.stores.posts.list(account.id)]
        personas = await self._ctx.stores.personas.list(account.id)
        names = {p.id: p.name for p in personas}
        verb = words[0].lower() if words else ""
        if verb == "scheduled":
            return self._scheduled(account, posts)
        if verb == "cancel":
            return await self._cancel(user, account, posts, words[1:])
        if verb == "export":
            kind = words[1].lower() if len(words) > 1 else "csv"
            if kind not in ("csv", "json"):
                return Reply(text="Usage: posts export csv|json")
            data = _csv(posts, names) if kind == "csv" else _json(posts, names)
            return Reply(
                text=f"Your {len(posts)} posts as {kind.upper()}.",
                file=data,
                file_name=f"minime-posts.{kind}",
            )
        if verb == "stats":
            notes = await self._refresh(account, posts)
            posts = [p async for p in self._ctx.stores.posts.list(account.id)]
            return Reply(text="\n".join([*notes, stats_text(posts, names)]))
        return self._listed(account, posts, names, words, options)

    def _listed(
        self,
        account: Account,
        posts: list[Post],
        names: Mapping[str, str],
        words: tuple[str, ...],
        options: Mapping[str, str],
    ) -> Reply:
        status = options.get("--status")
        if status is not None and status.lower() not in PostStatus.__members__.values():
            return Reply(text=f"No status '{clip(status, 20)}'.\n{USAGE}")
        persona = options.get("--persona")
        if persona is not None and persona.lower() not in {n.lower() for n in names.values()}:
            return Reply(
                text=f"No persona '{clip(persona, 40)}'. You have: {', '.join(names.values())}."
            )
        needles = [w.lower() for w in words]
        chosen = [
            p
            for p in posts
            if (status is None or p.status.value == status.lower())
            and (persona is None or names.get(p.persona_id, "").lower() == persona.lower())
            and all(n in (p.topic + " " + p.text).lower() for n in needles)
        ]
        if not chosen:
            return Reply(
                text="No posts match."
                if posts
                else "No posts yet: `post <x|linkedin|bluesky> <topic>`."
            )
        zone = schedule_of(account.settings).timezone
        lines = [f"Your posts ({len(chosen)}, newest first):"]
        for number, post in enumerate(chosen[:SHOWN], start=1):
            lines.append(self._line(number, post, names, zone))
        if len(chosen) > SHOWN:
            lines.append(f"… and {len(chosen) - SHOWN} more (`posts export csv` has them all).")
        return Reply(text="\n".join(lines))

    def _line(self, number: int, post: Post, names: Mapping[str, str], zone: str) -> str:
        when = local_time(post.created_at, zone)
        if post.status is PostStatus.SCHEDULED and post.scheduled_for is not None:
            when = "for " + local_time(post.scheduled_for, zone)
        link = f" · {post.url}" if post.url else ""
        thread = f" · {len(post.parts)} parts" if len(post.parts) > 1 else ""
        return (
            f"{number}. [{post.status.value}] {PLATFORMS[post.network].name} · "
            f"{names.get(post.persona_id, '?')} · {when}{thread} · “{clip(post.text, 80)}”{link}"
        )

    def _scheduled(self, account: Account, posts: list[Post]) -> Reply:
        scheduled = sorted(
            (p for p in posts if p.status is PostStatus.SCHEDULED and p.scheduled_for),
            key=lambda p: p.scheduled_for or p.created_at,
        )
        if not scheduled:
            return Reply(text="Nothing is scheduled. Schedule a post with its Schedule button.")
        zone = schedule_of(account.settings).timezone
        lines = ["Scheduled:"]
        for number, post in enumerate(scheduled, start=1):
            assert post.scheduled_for is not None
            lines.append(
                f"{number}. {local_time(post.scheduled_for, zone)} · "
                f"{PLATFORMS[post.network].name} · “{clip(post.text, 80)}”"
            )
        lines.append("`posts cancel <n>` cancels one (it goes back to a draft).")
        return Reply(text="\n".join(lines))

    async def _cancel(
        self, user: UserRef, account: Account, posts: list[Post], words: tuple[str, ...]
    ) -> Reply:
        scheduled = sorted(
            (p for p in posts if p.status is PostStatus.SCHEDULED and p.scheduled_for),
            key=lambda p: p.scheduled_for or p.created_at,
        )
        if not words:
            return Reply(text="Usage: posts cancel <n> (the number from `posts scheduled`)")
        pick = words[0]
        post = next((p for p in scheduled if p.id == pick), None) if is_post_id(pick) else None
        if post is None and pick.isdigit() and 1 <= int(pick) <= len(scheduled):
            post = scheduled[int(pick) - 1]
        if post is None:
            return Reply(text=f"No scheduled post {clip(pick, 40)}: see `posts scheduled`.")
        if not await self._actions.cancel(account, post, Actor.owner(user)):
            return Reply(text="That post is no longer scheduled.")
        return Reply(text=f"Cancelled: “{clip(post.text, 80)}” is a draft again, not scheduled.")

    async def _refresh(self, account: Account, posts: list[Post]) -> list[str]:
        """Fetch engagement of published posts from their networks (what can be reached)."""
        notes: list[str] = []
        for network_key in sorted({p.network for p in posts if p.status is PostStatus.PUBLISHED}):
            network = self._networks.get(network_key)
            credentials = await self._ctx.stores.connections.get(account.id, network_key)
            if network is None or credentials is None:
                notes.append(
                    f"{PLATFORMS[network_key].name} is not connected: engagement not refreshed."
                )
                continue
            mine = [
                p for p in posts if p.network == network_key and p.status is PostStatus.PUBLISHED
            ]
            try:
                async with network.session(credentials) as session:
                    for post in mine:
                        parts = [p.published for p in post.parts if p.published is not None]
                        got = await session.engagement(parts)
                        fresh = replace(got, fetched_at=self._ctx.clock())
                        await self._ctx.stores.posts.save(
                            replace(post, engagement=fresh), expect=PostStatus.PUBLISHED
                        )
            except NetworkError as error:
                notes.append(f"{PLATFORMS[network_key].name}: engagement not refreshed ({error}).")
        return notes
