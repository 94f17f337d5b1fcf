"""Posts through the Slack adapter: ``/clone post`` shows the card with its buttons, Publish
goes to the (fake) network once however often the click is delivered, Edit opens the modal
prefilled with the post, and another user's click does nothing."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import UserRef
from tests.adapters.networks.fake_networks import FakeNetworks, fake_networks
from tests.adapters.slack.conftest import HarnessFactory, SlackHarness, payload
from tests.adapters.slack.fake_slack import OTHER, OWNER
from tests.adapters.slack.test_adapter import buttons, click


@pytest.fixture(scope="module")
async def networks() -> AsyncIterator[FakeNetworks]:
    async with fake_networks() as fakes:
        yield fakes


@pytest.fixture(scope="module")
async def runtime(
    tmp_path_factory: pytest.TempPathFactory, networks: FakeNetworks
) -> AsyncIterator[Runtime]:
    data = tmp_path_factory.mktemp("slack-posts")
    settings = load_settings({}, data_dir=data, networks=networks.settings())
    async with open_runtime(settings, embedder=HashingEmbedder()) as opened:
        for user in (OWNER, OTHER):
            await opened.clone.import_sample(UserRef(platform="slack", user_id=user))
        yield opened


async def slash(slack: SlackHarness, text: str, *, user: str = OWNER) -> dict[str, Any]:
    fields = payload("slash_command")
    fields |= {"text": text, "user_id": user, "response_url": slack.fake.response_url("cmd")}
    fields["trigger_id"] = f"trigger-{time.monotonic_ns()}"
    response = await slack.command(fields)
    assert response.status == 200
    await slack.settle()
    return slack.fake.landed("response_url")[-1].args


async def test_post_card_publish_once_edit_modal_and_refusal(
    slack_app: HarnessFactory, networks: FakeNetworks
) -> None:
    bluesky = networks.bluesky
    async with slack_app(user_token=True) as slack:
        connected = await slash(slack, f"connect bluesky {bluesky.handle} {bluesky.app_password}")
        assert "Connected Bluesky" in json.dumps(connected)
        assert bluesky.app_password not in json.dumps(connected)
        card = await slash(slack, "post bluesky the launch checklist and search filters")
        found = buttons(card["blocks"])
        assert list(found) == ["Publish", "Edit", "Regenerate", "Schedule", "Dismiss"]
        assert "sounds like you" in json.dumps(card["blocks"])

        await slack.interact(click(found["Edit"], slack))
        await slack.settle()
        [opened] = slack.fake.landed("views.open")
        prefilled = opened.args["view"]["blocks"][0]["element"]["initial_value"]
        account = await slack.runtime.clone.account(UserRef(platform="slack", user_id=OWNER))
        [post] = [p async for p in slack.runtime.storage.posts.list(account.id)]
        assert prefilled == post.text  # the post, ready to edit

        for user in (OTHER, OTHER):
            await slack.interact(click(found["Publish"], slack, user=user))
        await slack.settle()
        assert bluesky.records == {}  # another user's clicks changed nothing

        before = len(bluesky.records)
        for _ in range(3):  # the click, and two redeliveries
            await slack.interact(click(found["Publish"], slack))
        await slack.settle()
        published = len(bluesky.records) - before
        assert published >= 1
        said = [str(c.args.get("text")) for c in slack.fake.landed("response_url")]
        assert sum(t.startswith("✓ Published to Bluesky") for t in said) == 1
        assert any("being published right now" in t or "already handled" in t for t in said)
        await slack.interact(click(found["Publish"], slack))
        await slack.settle()
        assert len(bluesky.records) - before == published


async def test_a_reviewer_publishes_the_owners_post_a_viewer_cannot(
    slack_app: HarnessFactory, networks: FakeNetworks
) -> None:
    bluesky = networks.bluesky
    viewer = "UVIEWER1"
    async with slack_app(user_token=True) as slack:
        await slash(slack, f"connect bluesky {bluesky.handle} {bluesky.app_password}")
        await slash(slack, "persona list", user=viewer)  # they use minime on this workspace
        invited = await slash(slack, f"persona invite default <@{OTHER}|rev> reviewer")
        assert "is now a reviewer" in json.dumps(invited)
        assert "is now a viewer" in json.dumps(
            await slash(slack, f"persona invite default <@{viewer}> viewer")
        )
        card = await slash(slack, "post bluesky search filters that remember you")
        publish = buttons(card["blocks"])["Publish"]
        post_id = str(publish["value"]).split(":")[0]
        account = await slack.runtime.clone.account(UserRef(platform="slack", user_id=OWNER))
        before = len(bluesky.records)

        await slack.interact(click(publish, slack, user=viewer))
        await slack.settle()
        assert len(bluesky.records) == before  # a viewer's click changed nothing
        said = json.dumps(slack.fake.landed("response_url")[-1].args)
        assert "As a viewer of" in said and "can't act on its posts" in said

        await slack.interact(click(publish, slack, user=OTHER))
        await slack.settle()
        assert len(bluesky.records) > before  # with the owner's connection
        post = await slack.runtime.storage.posts.get(account.id, post_id)
        assert post is not None
        assert [(e.status.value, e.actor.kind, e.actor.id) for e in post.events[1:]] == [
            ("approved", "reviewer", f"slack:{OTHER}"),
            ("published", "reviewer", f"slack:{OTHER}"),
        ]
        await slash(slack, f"persona remove default <@{OTHER}>")
        await slash(slack, f"persona remove default <@{viewer}>")
