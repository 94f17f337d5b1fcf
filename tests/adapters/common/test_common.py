"""The parts the three platform adapters share: progress ticker, owner guesses, send reporting."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest

from adapters.common import (
    BackgroundTasks,
    ImportTicker,
    NotSent,
    Sent,
    addressed_to,
    deliver,
    import_as_owner,
    option_to_edit,
)
from adapters.importers import UnknownOwner
from core.models import Outgoing, Reply, UserRef
from core.service import Clone


class FakeClone:
    """Records what the adapter reported back about a send, and fakes ``import_file``."""

    def __init__(self, owners: dict[str | None, str] | None = None) -> None:
        self.reported: list[tuple[str, str | None]] = []
        self._owners = owners or {}

    async def confirm_sent(self, outgoing: Any) -> None:
        self.reported.append(("confirm_sent", None))

    async def send_failed(self, outgoing: Any, *, reason: str = "the platform refused it") -> Reply:
        self.reported.append(("send_failed", reason))
        return Reply(text=f"Couldn't post it ({reason}). Try again?")

    async def import_file(self, user: Any, path: Path, *, me: str | None, progress: Any) -> str:
        if me not in self._owners:
            raise UnknownOwner(f"no sender {me!r}")
        return self._owners[me]


def _clone(fake: FakeClone) -> Clone:
    return cast(Clone, fake)


OUTGOING = cast(Outgoing, object())


async def test_a_post_the_platform_takes_is_confirmed_once() -> None:
    fake = FakeClone()

    async def post() -> str:
        return "message-1"

    done = await deliver(_clone(fake), OUTGOING, post, refusals=(OSError,))
    assert done == Sent("message-1")
    assert fake.reported == [("confirm_sent", None)]


async def test_a_refusal_is_reported_with_its_reason_and_the_retry_comes_back() -> None:
    fake = FakeClone()

    async def post() -> str:
        raise PermissionError("403")

    done = await deliver(
        _clone(fake), OUTGOING, post, refusals=(OSError,), reason=lambda e: f"said {e}"
    )
    assert isinstance(done, NotSent) and isinstance(done.error, PermissionError)
    assert done.reason == "said 403" and done.retry.text.startswith("Couldn't post it (said 403)")
    assert fake.reported == [("send_failed", "said 403")]


async def test_an_error_that_is_not_a_refusal_propagates_and_reports_nothing() -> None:
    fake = FakeClone()

    async def post() -> str:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await deliver(_clone(fake), OUTGOING, post, refusals=(OSError,))
    assert fake.reported == []


async def test_the_ticker_shows_the_first_count_at_once_then_at_most_every_period() -> None:
    shown: list[int] = []

    async def show(read: int) -> None:
        shown.append(read)

    async with ImportTicker(show, every=0.2) as ticker:
        ticker(5)
        await asyncio.sleep(0.05)
        assert shown == [5], "the first count is shown at once"
        ticker(3)
        ticker(2)
        await asyncio.sleep(0.05)
        assert shown == [5], "no second edit within the period"
        await asyncio.sleep(0.25)
        assert shown == [5, 10]
    assert ticker.read == 10


async def test_an_edit_in_flight_finishes_before_the_ticker_exits() -> None:
    finished: list[int] = []

    async def slow_show(read: int) -> None:
        await asyncio.sleep(0.1)
        finished.append(read)

    async with ImportTicker(slow_show, every=1.0) as ticker:
        ticker(1)
        await asyncio.sleep(0.01)
    assert finished == [1], "a progress edit cannot land after the final summary"


async def test_owner_guesses_are_tried_in_order_and_the_first_refusal_is_kept() -> None:
    user = UserRef(platform="test", user_id="u1")
    fake = FakeClone(owners={"alice": "summary"})
    found = await import_as_owner(
        _clone(fake), user, Path("x"), guesses=(None, "bob", "alice"), progress=lambda n: None
    )
    assert found == "summary"
    with pytest.raises(UnknownOwner, match="no sender None"):
        await import_as_owner(
            _clone(fake), user, Path("x"), guesses=(None, "bob"), progress=lambda n: None
        )


def test_an_edit_opens_on_an_option_the_draft_has() -> None:
    assert option_to_edit(None, 0) is None
    draft = cast(Any, type("D", (), {"options": (Reply(text="a"), Reply(text="b"))})())
    assert option_to_edit(draft, 5) == (1, "b")
    assert option_to_edit(draft, -1) == (0, "a")
    assert option_to_edit(cast(Any, type("E", (), {"options": ()})()), 0) is None


def test_notifications_are_for_their_own_platform() -> None:
    assert addressed_to(UserRef(platform="telegram", user_id="42"), "telegram", numeric_id=True)
    assert not addressed_to(UserRef(platform="telegram", user_id="x"), "telegram", numeric_id=True)
    assert not addressed_to(UserRef(platform="slack", user_id="U1"), "telegram")


async def test_background_work_is_drained_or_cancelled() -> None:
    tasks = BackgroundTasks()
    done: list[str] = []

    async def quick() -> None:
        done.append("quick")

    async def forever() -> None:
        await asyncio.Event().wait()

    tasks.spawn(quick())
    await tasks.drain()
    assert done == ["quick"] and len(tasks) == 0
    stuck = tasks.spawn(forever())
    await tasks.cancel(grace_s=0.01)
    assert stuck.cancelled() and len(tasks) == 0
