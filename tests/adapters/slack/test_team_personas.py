"""Team personas and "ask my clone" through the Slack adapter (issue 17): signed requests
in-process, the local fake Slack Web API recording what the adapter called."""

from __future__ import annotations

import json
import time

from core.models import DraftStatus, UserRef
from tests.adapters.slack.conftest import HarnessFactory, SlackHarness, payload
from tests.adapters.slack.fake_slack import OTHER, OWNER
from tests.adapters.slack.test_adapter import buttons, click, draft_by_command

REVIEWER = "UREVIEW1"
VIEWER = "UVIEWER1"
STRANGER = "USTRANGE"


async def run(slack: SlackHarness, user: str, text: str) -> str:
    """``/clone <text>`` typed by ``user``; what came back on the response URL."""
    before = len(slack.fake.landed("response_url"))
    fields = payload("slash_command") | {
        "text": text,
        "user_id": user,
        "response_url": slack.fake.response_url("cmd"),
        "trigger_id": f"trigger-{time.monotonic_ns()}",
    }
    assert (await slack.command(fields)).status == 200
    await slack.settle()
    return "\n".join(json.dumps(c.args) for c in slack.fake.landed("response_url")[before:])


def send_button(shown: dict[str, object]) -> dict[str, object]:
    found = buttons(shown["blocks"])  # type: ignore[arg-type]
    return next(b for label, b in found.items() if label.startswith("Send"))


async def status(slack: SlackHarness, draft_id: str) -> DraftStatus:
    account = await slack.runtime.storage.accounts.resolve(
        UserRef(platform="slack", user_id=OWNER), create=False
    )
    assert account is not None
    draft = await slack.runtime.storage.drafts.get(account.id, draft_id)
    assert draft is not None
    return draft.status


async def test_reviewer_approves_viewer_cannot_removed_reviewer_button_dead(
    slack_app: HarnessFactory,
) -> None:
    async with slack_app(user_token=True) as slack:
        for user in (REVIEWER, VIEWER):
            await run(slack, user, "persona list")  # they use minime on this workspace
        assert "not on this workspace" in await run(
            slack, OWNER, f"persona invite default <@{STRANGER}> reviewer"
        )
        assert "is now a reviewer" in await run(
            slack, OWNER, f"persona invite default <@{REVIEWER}|rev> reviewer"
        )
        assert "is now a viewer" in await run(
            slack, OWNER, f"persona invite default @{VIEWER} viewer"
        )

        shown = await draft_by_command(slack, "can you review my PR before the standup tomorrow?")
        review = await run(slack, REVIEWER, f"persona review {OWNER}/default")
        assert "Draft reply" in review  # the owner's draft card, with its buttons
        card = [c.args for c in slack.fake.landed("response_url") if c.args.get("blocks")][-1]
        send = send_button(card)
        assert send["value"] == send_button(shown)["value"]
        draft_id = str(send["value"]).split(":")[0]

        await slack.interact(click(send, slack, user=VIEWER))
        await slack.settle()
        assert not slack.fake.landed("chat.postMessage")
        assert await status(slack, draft_id) is DraftStatus.PENDING

        await slack.interact(click(send, slack, user=REVIEWER))
        await slack.settle()
        assert len(slack.fake.landed("chat.postMessage")) == 1
        assert await status(slack, draft_id) is DraftStatus.SENT
        account = await slack.runtime.clone.account(UserRef(platform="slack", user_id=OWNER))
        approvals = (await slack.runtime.clone.export_data(account))["approvals"]
        assert isinstance(approvals, list)
        assert any(a["by"] == f"slack:{REVIEWER}" for a in approvals)

        second = send_button(await draft_by_command(slack, "could you join the sync at 3?"))
        assert "Removed" in await run(slack, OWNER, f"persona remove default <@{REVIEWER}>")
        await slack.interact(click(second, slack, user=REVIEWER))
        await slack.settle()
        assert len(slack.fake.landed("chat.postMessage")) == 1, "the old button did nothing"
        assert await status(slack, str(second["value"]).split(":")[0]) is DraftStatus.PENDING


async def test_ask_my_clone_share_quota_and_auto_answer(slack_app: HarnessFactory) -> None:
    async with slack_app() as slack:
        slack.runtime.clone.use_notifier(slack.adapter)
        await run(slack, STRANGER, "persona list")
        question = "can you review my PR today?"
        assert "Nobody by that name" in await run(slack, OTHER, f"ask <@{OWNER}> {question}")
        assert "may now ask your clone" in await run(
            slack, OWNER, f"persona share ask default with <@{OTHER}> quota 1/day"
        )
        assert "Nobody by that name" in await run(slack, STRANGER, f"ask <@{OWNER}> {question}")
        assert "approves answers" in await run(slack, OTHER, f"ask <@{OWNER}> {question}")
        to_owner = [
            c
            for c in slack.fake.landed("chat.postMessage")
            if "asked your clone" in json.dumps(c.args)
        ]
        assert to_owner, "the owner is asked to approve, in their DM"
        assert "(1/day)" in await run(slack, OTHER, f"ask <@{OWNER}> {question}")
        assert f"slack:{OTHER}: 1 / 1 / 1" in await run(slack, OWNER, "persona shares")

        await run(slack, OWNER, "persona share ask default with anyone-in-workspace auto")
        auto = await run(slack, STRANGER, f"ask <@{OWNER}> {question}")
        assert "answered automatically" in auto and "has not reviewed it" in auto
        await run(slack, OWNER, "persona unshare default")
        assert "Nobody by that name" in await run(slack, STRANGER, f"ask <@{OWNER}> {question}")
