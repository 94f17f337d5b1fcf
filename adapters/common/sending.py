"""Delivering an approved send and reporting back to the core; the small rules around a draft card.

The core approves a send and hands the adapter an :class:`~core.models.Outgoing`; the adapter posts
it with its SDK and must then tell the core what happened, exactly once: ``confirm_sent`` when the
platform took it, ``send_failed`` when it refused (the core then offers a fresh copy of the draft to
press again). :func:`deliver` is that protocol; the platforms only say how to post and which errors
are refusals.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.models import Draft, Outgoing, Reply, UserRef
from core.service import Clone

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sent(Generic[T]):
    """The platform took the post (``posted`` is what its SDK returned); the core knows."""

    posted: T


@dataclass(frozen=True, slots=True)
class NotSent:
    """Nothing was posted; ``retry`` is the core's fresh copy of the draft, to show again."""

    retry: Reply
    reason: str
    error: Exception | None = None


async def deliver(
    clone: Clone,
    outgoing: Outgoing,
    post: Callable[[], Awaitable[T]],
    *,
    refusals: tuple[type[Exception], ...] = (),
    reason: Callable[[Exception], str] = lambda error: type(error).__name__,
) -> Sent[T] | NotSent:
    """Post once with ``post()``, then report to the core: ``confirm_sent`` or ``send_failed``.

    Args:
        clone: the core.
        outgoing: the approved text and where it goes.
        post: the platform's post (or hand-over) of ``outgoing``.
        refusals: the errors that mean the platform refused it; any other error propagates and
            the core hears nothing (the approval then lapses on its own).
        reason: why, in words for the owner, from a refusal.
    """
    try:
        posted = await post()
    except refusals as error:
        return await not_sent(clone, outgoing, reason(error), error)
    await clone.confirm_sent(outgoing)
    return Sent(posted)


async def not_sent(
    clone: Clone, outgoing: Outgoing, reason: str, error: Exception | None = None
) -> NotSent:
    """Nothing will be posted (refused, or found impossible before trying): tell the core."""
    retry = await clone.send_failed(outgoing, reason=reason)
    return NotSent(retry=retry, reason=reason, error=error)


def option_to_edit(draft: Draft | None, option: int) -> tuple[int, str] | None:
    """The option an Edit opens on (clamped to those the draft has) and its text, if any."""
    if draft is None or not draft.options:
        return None
    index = min(max(option, 0), len(draft.options) - 1)
    return index, draft.options[index].text


def addressed_to(to: UserRef, platform: str, *, numeric_id: bool = False) -> bool:
    """Whether a notification for ``to`` is this platform's to deliver (the ``Notifier`` port)."""
    return to.platform == platform and (not numeric_id or to.user_id.isdigit())
