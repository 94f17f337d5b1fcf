"""How a post looks to the owner: its parts with their length against the network's limit and a
"sounds like you" meter each, where it is in its life, and Publish · Edit · Regenerate ·
Schedule · Dismiss."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.drafting.posts import PLATFORMS, PostPlatform
from core.models import Action, Button, Reply
from core.publishing import Post, PostStatus

PART_SEPARATOR = "---"
"""The line between parts when the owner edits a thread as one text."""
_ENGINES = {
    "llm": "written by the language model",
    "own": "your own words: a past post of yours, reused (edit it before you publish)",
    "edited": "your edit",
}


def platform_of(post: Post) -> PostPlatform:
    return PLATFORMS[post.network]


def meter(score: int) -> str:
    filled = max(0, min(10, round(score / 10)))
    return "▰" * filled + "▱" * (10 - filled)


def local_time(moment: datetime, zone: str) -> str:
    """``Fri 5 Dec 09:00 Europe/Paris``."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %H:%M} {zone}"


def over_limit(post: Post) -> list[int]:
    """Numbers (1-based) of the parts longer than the network allows."""
    limit = platform_of(post).limit
    return [n for n, part in enumerate(post.parts, start=1) if len(part.text) > limit]


def edit_text(post: Post) -> str:
    """The post as one text to edit (parts between ``---`` lines)."""
    return f"\n{PART_SEPARATOR}\n".join(part.text for part in post.parts)


def post_buttons(post: Post) -> tuple[Button, ...]:
    """The buttons a post offers where it is in its life."""
    if post.status in (PostStatus.PUBLISHED, PostStatus.DISMISSED):
        return ()
    publish = "Publish the rest" if post.published_parts else "Publish"
    buttons = [Button(label=publish, action=Action.PUBLISH, draft_id=post.id)]
    # Once approved (a publish was tried), the text is what the network may already hold under
    # the part's key: it is published or dismissed as it is, not edited.
    if post.status is not PostStatus.APPROVED:
        buttons += [
            Button(label="Edit", action=Action.EDIT, draft_id=post.id),
            Button(label="Regenerate", action=Action.REGENERATE, draft_id=post.id),
        ]
        if post.status is not PostStatus.SCHEDULED:
            buttons.append(Button(label="Schedule", action=Action.SCHEDULE, draft_id=post.id))
    buttons.append(Button(label="Dismiss", action=Action.DISMISS, draft_id=post.id))
    return tuple(buttons)


def render_post(post: Post, *, zone: str, notes: tuple[str, ...] = ()) -> Reply:
    """The card of one post, with the buttons its status allows."""
    platform = platform_of(post)
    kind = (
        f"{platform.name} post"
        if len(post.parts) == 1
        else (f"{platform.name} thread of {len(post.parts)}")
    )
    variant = f" · take: {post.variant}" if post.variant else ""
    lines = [
        *notes,
        f"{kind} on “{post.topic}” — {_ENGINES.get(post.engine, post.engine)}{variant}",
    ]
    for number, part in enumerate(post.parts, start=1):
        flag = f" · OVER {platform.name}'s limit" if len(part.text) > platform.limit else ""
        sent = f" · published {part.published.url}" if part.published else ""
        lines.append(
            f"{part.text}\n   [{len(part.text)}/{platform.limit} chars{flag} · sounds like you "
            f"{meter(part.style_score)} {part.style_score}/100{sent}]"
        )
        if number < len(post.parts):
            lines.append("")
    if post.disclosure and post.status is not PostStatus.PUBLISHED:
        lines.append(
            f"Published with your AI disclosure ({post.disclosure}) under the last part; "
            "`privacy disclosure none` turns it off."
        )
    lines.append(status_line(post, zone=zone))
    return Reply(text="\n".join(lines), buttons=post_buttons(post), prefill=edit_text(post))


def status_line(post: Post, *, zone: str) -> str:
    """Where the post is: ``Draft`` · ``Scheduled for …`` · ``Published …`` with who moved it."""
    last = post.events[-1] if post.events else None
    by = f" by {last.actor}" if last is not None else ""
    if post.status is PostStatus.SCHEDULED and post.scheduled_for is not None:
        return f"Status: scheduled for {local_time(post.scheduled_for, zone)}{by}."
    if post.status is PostStatus.PUBLISHED:
        return f"Status: published{by}: {post.url or ''}".rstrip(": ")
    if post.status is PostStatus.APPROVED and post.published_parts:
        return (
            f"Status: approved; {post.published_parts} of {len(post.parts)} parts published. "
            "Publish continues after the last one that went out."
        )
    when = ""
    if post.status is PostStatus.DRAFT and post.scheduled_for is not None:
        when = f" Schedule puts it out at {local_time(post.scheduled_for, zone)}."
    return f"Status: {post.status.value}{by}.{when}"
