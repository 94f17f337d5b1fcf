"""The Slack adapter end to end: signed requests in-process, a local fake Slack Web API."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import pytest

from adapters.slack import convert
from core.models import DraftStatus, FeedbackKind, UserRef
from tests.adapters.slack.conftest import HarnessFactory, SlackHarness, payload, sign
from tests.adapters.slack.fake_slack import BOT_TOKEN, OTHER, OWNER, USER_TOKEN

CHANNEL = "C2147483705"


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The buttons of rendered blocks, by label."""
    found = {}
    for block in blocks:
        if block.get("type") == "actions":
            for element in block["elements"]:
                found[element["text"]["text"]] = element
    return found


async def draft_by_command(slack: SlackHarness, text: str, *, user: str = OWNER) -> dict[str, Any]:
    fields = payload("slash_command")
    fields |= {
        "text": f"draft {text}",
        "user_id": user,
        "response_url": slack.fake.response_url("cmd"),
    }
    fields["trigger_id"] = f"trigger-{time.monotonic_ns()}"
    response = await slack.command(fields)
    assert response.status == 200
    await slack.settle()
    shown = [c for c in slack.fake.landed("response_url") if c.args.get("blocks")]
    assert shown, "no draft was shown"
    return shown[-1].args


def click(
    label_button: dict[str, Any],
    slack: SlackHarness,
    *,
    user: str = OWNER,
    stamp: str | None = None,
) -> dict[str, Any]:
    body = payload("block_actions_send")
    body["user"]["id"] = user
    body["response_url"] = slack.fake.response_url("click")
    body["actions"][0] |= {
        "action_id": label_button["action_id"],
        "value": label_button["value"],
        "action_ts": stamp or f"{time.time():.6f}{time.monotonic_ns() % 1000}",
    }
    body["trigger_id"] = f"trigger-{time.monotonic_ns()}"
    return body


async def test_command_draft_then_send_posts_once_as_the_owner(slack_app: HarnessFactory) -> None:
    async with slack_app(user_token=True) as slack:
        shown = await draft_by_command(slack, "can you review my PR before the standup tomorrow?")
        assert shown["response_type"] == "ephemeral"
        found = buttons(shown["blocks"])
        assert {"Edit", "Regenerate", "Dismiss"} <= set(found)
        send = next(b for label, b in found.items() if label.startswith("Send"))
        assert send["value"].endswith(":0")
        assert any("/100" in json.dumps(b) for b in shown["blocks"]), "style meter missing"
        assert any("Drafted by your minime clone" in json.dumps(b) for b in shown["blocks"])

        response = await slack.interact(click(send, slack))
        assert response.status == 200
        await slack.settle()
        posts = slack.fake.landed("chat.postMessage")
        assert len(posts) == 1
        post = posts[0]
        assert post.token == USER_TOKEN
        assert post.args["channel"] == CHANNEL
        draft_id = send["value"].split(":")[0]
        account = await slack.runtime.storage.accounts.resolve(
            UserRef(platform="slack", user_id=OWNER), create=False
        )
        assert account is not None
        draft = await slack.runtime.storage.drafts.get(account.id, draft_id)
        assert draft is not None and draft.status is DraftStatus.SENT
        assert post.args["text"] == draft.options[0].text
        assert "thread_ts" not in post.args  # a pasted message: the reply goes in the channel


async def test_bot_posts_with_disclosure_in_the_original_thread(slack_app: HarnessFactory) -> None:
    async with slack_app(user_token=False) as slack:
        body = payload("message_action")
        body["message"] |= {"thread_ts": "1699998000.000100"}
        await slack.interact(body)
        await slack.settle()
        ephemerals = slack.fake.landed("chat.postEphemeral")
        assert len(ephemerals) == 1 and ephemerals[0].args["user"] == OWNER
        assert ephemerals[0].args["channel"] == CHANNEL
        send = buttons(ephemerals[0].args["blocks"])
        first = next(b for label, b in send.items() if label.startswith("Send"))
        await slack.interact(click(first, slack))
        await slack.settle()
        posts = slack.fake.landed("chat.postMessage")
        assert len(posts) == 1
        assert posts[0].token == BOT_TOKEN
        assert posts[0].args["thread_ts"] == "1699998000.000100"
        assert posts[0].args["text"].endswith(f"— drafted with <@{OWNER}>'s clone")
        replaced = [c for c in slack.fake.landed("response_url") if c.args.get("replace_original")]
        assert replaced and "Sent" in json.dumps(replaced[-1].args["blocks"])


async def test_user_token_of_someone_else_is_not_used(slack_app: HarnessFactory) -> None:
    # OTHER has their own clone in the same workspace; the user token is OWNER's.
    async with slack_app(user_token=True) as slack:
        shown = await draft_by_command(slack, "are you coming to lunch?", user=OTHER)
        send = next(b for label, b in buttons(shown["blocks"]).items() if label.startswith("Send"))
        await slack.interact(click(send, slack, user=OTHER))
        await slack.settle()
        posts = slack.fake.landed("chat.postMessage")
        assert len(posts) == 1 and posts[0].token == BOT_TOKEN
        assert f"<@{OTHER}>'s clone" in posts[0].args["text"]


async def test_shortcut_then_edit_modal_sends_the_edited_text(slack_app: HarnessFactory) -> None:
    async with slack_app(user_token=True) as slack:
        await slack.interact(payload("message_action"))
        await slack.settle()
        shown = slack.fake.landed("chat.postEphemeral")[-1].args
        edit = buttons(shown["blocks"])["Edit"]
        await slack.interact(click(edit, slack))
        await slack.settle()
        opened = slack.fake.landed("views.open")
        assert len(opened) == 1
        view = opened[0].args["view"]
        assert view["callback_id"] == convert.EDIT_CALLBACK
        prefilled = view["blocks"][0]["element"]["initial_value"]
        assert prefilled
        assert not slack.fake.landed("chat.postMessage")

        submission = payload("view_submission")
        submission["view"]["private_metadata"] = view["private_metadata"]
        edited = "Sure — I'll send the numbers Thursday, edited by hand."
        submission["view"]["state"]["values"]["edit"]["text"]["value"] = edited
        response = await slack.interact(submission)
        assert response.status == 200
        await slack.settle()
        posts = slack.fake.landed("chat.postMessage")
        assert len(posts) == 1
        assert posts[0].args["text"] == edited
        assert posts[0].args["thread_ts"] == "1699999000.000100"
        account = await slack.runtime.storage.accounts.resolve(
            UserRef(platform="slack", user_id=OWNER), create=False
        )
        assert account is not None
        persona = await slack.runtime.clone.active_persona(account)
        feedback = await slack.runtime.storage.feedback.list(account.id, persona.id)
        assert any(f.kind is FeedbackKind.EDITED and f.text == edited for f in feedback)


async def test_event_delivered_four_times_makes_one_draft(slack_app: HarnessFactory) -> None:
    async with slack_app() as slack:
        body = payload("event_message_im")
        body["event_id"] = f"Ev{time.monotonic_ns()}"
        account = await slack.runtime.clone.account(UserRef(platform="slack", user_id=OWNER))
        before = len(await slack.runtime.storage.drafts.pending(account.id))
        responses = [await slack.event(body)]
        responses += await asyncio.gather(*(slack.event(body, retry=n) for n in (1, 2, 3)))
        assert [r.status for r in responses] == [200] * 4
        await slack.settle()
        after = len(await slack.runtime.storage.drafts.pending(account.id))
        assert after == before + 1
        shown = slack.fake.landed("chat.postMessage")
        assert len(shown) == 1 and shown[0].args["channel"] == "D0OWNERBOT"


async def test_ten_concurrent_send_clicks_post_once(slack_app: HarnessFactory) -> None:
    async with slack_app(user_token=True) as slack:
        shown = await draft_by_command(slack, "could you check the budget sheet today?")
        send = next(b for label, b in buttons(shown["blocks"]).items() if label.startswith("Send"))
        clicks = [click(send, slack, stamp=f"1700000010.{n:06d}") for n in range(10)]
        responses = await asyncio.gather(*(slack.interact(c) for c in clicks))
        assert all(r.status == 200 for r in responses)
        await slack.settle()
        assert len(slack.fake.landed("chat.postMessage")) == 1


async def test_a_click_by_another_user_is_refused(slack_app: HarnessFactory) -> None:
    async with slack_app(user_token=True) as slack:
        shown = await draft_by_command(slack, "can you join the call at 3?")
        found = buttons(shown["blocks"])
        send = next(b for label, b in found.items() if label.startswith("Send"))
        for button in (send, found["Edit"], found["Dismiss"]):
            await slack.interact(click(button, slack, user=OTHER))
        await slack.settle()
        assert not slack.fake.landed("chat.postMessage")
        assert not slack.fake.landed("views.open")
        draft_id = send["value"].split(":")[0]
        mine = await slack.runtime.clone.pending_draft(
            UserRef(platform="slack", user_id=OWNER), draft_id
        )
        assert mine is not None, "the owner's draft must be untouched"


async def test_bad_stale_or_missing_signatures_get_401(slack_app: HarnessFactory) -> None:
    async with slack_app() as slack:
        body = json.dumps(payload("event_app_mention")).encode()
        good = sign(body)
        cases = [
            {"X-Slack-Signature": "v0=" + "0" * 64},
            {"X-Slack-Signature": "garbage"},
            {"X-Slack-Signature": ""},
            sign(body, timestamp=str(int(time.time()) - 600)),
            {"X-Slack-Request-Timestamp": ""},
            {"X-Slack-Request-Timestamp": "not-a-number"},
            {"X-Slack-Request-Timestamp": "9" * 40},
            sign(body, secret="another-secret-entirely"),
        ]
        for headers in cases:
            response = await slack.deliver(body, "application/json", headers={**good, **headers})
            assert response.status == 401, headers
        bare = await slack.client.post("/slack/events", data=body)
        assert bare.status == 401
        await slack.settle()
        assert not [c for c in slack.fake.calls if c.method != "auth.test"]


async def test_429_on_post_lands_once_after_the_wait(slack_app: HarnessFactory) -> None:
    async with slack_app(user_token=True) as slack:
        shown = await draft_by_command(slack, "can you send the slides tonight?")
        send = next(b for label, b in buttons(shown["blocks"]).items() if label.startswith("Send"))
        slack.fake.throttle["chat.postMessage"] = 1
        started = time.monotonic()
        await slack.interact(click(send, slack))
        await slack.settle()
        waited = time.monotonic() - started
        attempts = [c for c in slack.fake.calls if c.method == "chat.postMessage"]
        assert [c.status for c in attempts] == [429, 200]
        assert len(slack.fake.landed("chat.postMessage")) == 1
        assert waited >= slack.fake.retry_after * 0.9


async def test_failed_post_offers_the_draft_again(slack_app: HarnessFactory) -> None:
    async with slack_app() as slack:
        shown = await draft_by_command(slack, "can you take a look at the outage notes?")
        send = next(b for label, b in buttons(shown["blocks"]).items() if label.startswith("Send"))
        slack.fake.fail["chat.postMessage"] = "not_in_channel"
        await slack.interact(click(send, slack))
        await slack.settle()
        again = slack.fake.landed("response_url")[-1].args
        assert again["replace_original"] is True
        assert "not_in_channel" in json.dumps(again["blocks"])
        assert "invite the app" in json.dumps(again["blocks"])
        retry = next(b for label, b in buttons(again["blocks"]).items() if label.startswith("Send"))
        assert retry["value"] != send["value"]
        slack.fake.fail.clear()
        await slack.interact(click(retry, slack))
        await slack.settle()
        assert [c.status for c in slack.fake.calls if c.method == "chat.postMessage"] == [200, 200]
        assert len(slack.fake.landed("chat.postMessage")) == 2  # the refused one, then the retry


async def test_help_is_a_formatted_message(slack_app: HarnessFactory) -> None:
    async with slack_app() as slack:
        fields = payload("slash_command") | {
            "text": "help",
            "response_url": slack.fake.response_url("h"),
        }
        await slack.command(fields)
        await slack.settle()
        shown = slack.fake.landed("response_url")[-1].args
        assert shown["blocks"][0]["type"] == "header"
        text = json.dumps(shown["blocks"])
        for name in ("draft", "train", "profile", "inbox", "persona", "privacy"):
            assert f"/clone {name}" in text


async def test_mention_is_triaged_for_the_installer(slack_app: HarnessFactory) -> None:
    async with slack_app(owner_id=OWNER) as slack:
        body = payload("event_app_mention")
        body["event_id"] = f"Ev{time.monotonic_ns()}"
        await slack.event(body)
        await slack.settle()
        dms = slack.fake.landed("chat.postMessage")
        assert len(dms) == 1 and dms[0].args["channel"] == OWNER
        assert "Send" in json.dumps(dms[0].args["blocks"])


async def test_ignored_events_do_nothing(slack_app: HarnessFactory) -> None:
    async with slack_app(owner_id=OWNER) as slack:
        for name in ("event_bot_message", "event_message_changed", "event_channel_join"):
            body = payload("event_message_im") | {"event": payload(name), "event_id": f"Ev{name}"}
            assert (await slack.event(body)).status == 200
        await slack.settle()
        assert not [c for c in slack.fake.calls if c.method != "auth.test"]


async def test_regenerate_and_dismiss_replace_the_draft(slack_app: HarnessFactory) -> None:
    async with slack_app() as slack:
        shown = await draft_by_command(slack, "thanks for the update, can we talk tomorrow?")
        found = buttons(shown["blocks"])
        await slack.interact(click(found["Regenerate"], slack))
        await slack.settle()
        replaced = slack.fake.landed("response_url")[-1].args
        assert replaced["replace_original"] is True
        fresh = buttons(replaced["blocks"])
        if "Dismiss" in fresh:  # the regenerated draft
            await slack.interact(click(fresh["Dismiss"], slack))
            await slack.settle()
            last = slack.fake.landed("response_url")[-1].args
            assert last["replace_original"] is True and "Dismissed" in last["text"]


async def test_app_home_publishes_profile_inbox_personas(slack_app: HarnessFactory) -> None:
    async with slack_app() as slack:
        body = payload("event_app_home_opened") | {"event_id": f"Ev{time.monotonic_ns()}"}
        await slack.event(body)
        await slack.settle()
        published = slack.fake.landed("views.publish")
        assert len(published) == 1 and published[0].args["user_id"] == OWNER
        text = json.dumps(published[0].args["view"])
        assert "How you write" in text and "Inbox" in text and "Personas" in text


async def test_profile_uploads_the_card_to_the_dm(slack_app: HarnessFactory) -> None:
    async with slack_app() as slack:
        fields = payload("slash_command") | {
            "text": "profile",
            "response_url": slack.fake.response_url("p"),
        }
        await slack.command(fields)
        await slack.settle()
        assert slack.fake.landed("files.getUploadURLExternal")
        done = slack.fake.landed("files.completeUploadExternal")
        assert done and done[0].args.get("channel_id") == "DOWNER"


async def test_train_from_a_shared_file_with_progress(slack_app: HarnessFactory) -> None:
    lines = [
        {
            "id": f"m{i}",
            "conversation": "c1",
            "thread": None,
            "sender": "alex" if i % 2 == 0 else "jo",
            "text": f"message number {i} about the project",
            "sent_at": f"2024-01-01T10:{i:02d}:00+00:00",
            "reply_to": f"m{i - 1}" if i % 2 else None,
        }
        for i in range(40)
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    async with slack_app() as slack:
        slack.fake.files["F0EXPORT01"] = ("my-export.jsonl", data)
        message = payload("event_message_im_file")
        message["event"]["text"] = 'my history --me "jo"'
        again = payload("event_message_im_file")  # the same file shared a second time
        await slack.event(message)
        await slack.settle()
        await slack.event(again)
        await slack.settle()
        downloads = [c for c in slack.fake.calls if c.method == "file.download"]
        assert len(downloads) == 1 and downloads[0].token == BOT_TOKEN
        started = slack.fake.landed("chat.postMessage")
        assert started[0].args["channel"] == "D0OWNERBOT" and "Importing" in started[0].args["text"]
        final = slack.fake.landed("chat.update")[-1].args["text"]
        assert "Imported my-export.jsonl" in final and "40 messages" in final, final
        assert "20 written by you" in final


async def test_socket_mode_retries_are_deduplicated_too(slack_app: HarnessFactory) -> None:
    from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app
    from slack_sdk.socket_mode.request import SocketModeRequest

    async with slack_app(app_token=True) as slack:
        body = payload("event_message_im")
        for attempt in (None, 1, 2, 3):
            request = SocketModeRequest(
                type="events_api",
                envelope_id=f"env-{attempt}",
                payload=body,
                retry_attempt=attempt,
                retry_reason="timeout" if attempt else None,
            )
            # What the Socket Mode handler does with each envelope.
            response = await run_async_bolt_app(slack.adapter.app, request)
            assert response.status == 200
        await slack.settle()
        assert len(slack.fake.landed("chat.postMessage")) == 1


async def test_url_verification_challenge(slack_app: HarnessFactory) -> None:
    async with slack_app() as slack:
        response = await slack.event(
            {"type": "url_verification", "challenge": "c-123", "token": "t"}
        )
        assert response.status == 200
        assert "c-123" in await response.text()


async def test_channel_triage_is_opt_in(slack_app: HarnessFactory) -> None:
    def channel_event() -> dict[str, Any]:
        body = payload("event_message_im")
        body["event"] = payload("event_channel_message")
        return body

    async with slack_app(user_token=True) as slack:
        await slack.event(channel_event())
        await slack.settle()
        assert not slack.fake.landed("chat.postMessage")
    async with slack_app(user_token=True, triage_channels=True) as slack:
        await slack.event(channel_event())
        await slack.settle()
        dms = slack.fake.landed("chat.postMessage")
        assert len(dms) == 1 and dms[0].args["channel"] == OWNER
        send = next(
            b for label, b in buttons(dms[0].args["blocks"]).items() if label.startswith("Send")
        )
        await slack.interact(click(send, slack))
        await slack.settle()
        post = slack.fake.landed("chat.postMessage")[-1]
        assert post.token == USER_TOKEN
        assert (post.args["channel"], post.args["thread_ts"]) == (CHANNEL, "1700000650.000100")


async def test_payloads_and_tokens_are_never_logged(
    slack_app: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.logs import QUIET, configure_logging

    root = logging.getLogger()
    saved = (root.level, list(root.handlers), {n: logging.getLogger(n).level for n in QUIET})
    configure_logging("DEBUG", secrets=[BOT_TOKEN, USER_TOKEN])
    caplog.set_level(logging.DEBUG)
    try:
        async with slack_app(user_token=True) as slack:
            secret_text = "the merger closes on tuesday, can you confirm?"
            shown = await draft_by_command(slack, secret_text)
            send = next(
                b for label, b in buttons(shown["blocks"]).items() if label.startswith("Send")
            )
            await slack.interact(click(send, slack))
            await slack.settle()
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for leak in (BOT_TOKEN, USER_TOKEN, "merger closes", "xoxb-", "xoxp-"):
        assert leak not in logged


async def test_shortcut_falls_back_to_the_dm_when_the_app_is_not_in_the_channel(
    slack_app: HarnessFactory,
) -> None:
    async with slack_app() as slack:
        slack.fake.fail["chat.postEphemeral"] = "channel_not_found"
        await slack.interact(payload("message_action"))
        await slack.settle()
        dms = slack.fake.landed("chat.postMessage")
        assert len(dms) == 1 and dms[0].args["channel"] == OWNER
        assert "Send" in json.dumps(dms[0].args["blocks"])


async def test_a_failure_after_the_ack_is_told_not_swallowed(
    slack_app: HarnessFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with slack_app() as slack:

        async def broken(command: object) -> list[object]:
            raise RuntimeError("boom")

        monkeypatch.setattr(slack.runtime.clone, "handle_command", broken)
        fields = payload("slash_command") | {
            "text": "inbox",
            "response_url": slack.fake.response_url("x"),
        }
        assert (await slack.command(fields)).status == 200
        await slack.settle()
        told = slack.fake.landed("response_url")[-1].args
        assert "failed on my side" in told["text"]


async def test_edit_submitted_by_another_user_is_refused(slack_app: HarnessFactory) -> None:
    async with slack_app(user_token=True) as slack:
        shown = await draft_by_command(slack, "can you share the roadmap doc?")
        edit = buttons(shown["blocks"])["Edit"]
        draft_id = edit["value"].split(":")[0]
        forged = payload("view_submission")
        forged["user"]["id"] = OTHER
        forged["view"]["private_metadata"] = convert.edit_metadata(
            draft_id, 0, response_url=slack.fake.response_url("f"), channel=CHANNEL
        )
        await slack.interact(forged)
        await slack.settle()
        assert not slack.fake.landed("chat.postMessage")
        assert "isn't yours" in slack.fake.landed("response_url")[-1].args["text"]
        owner = UserRef(platform="slack", user_id=OWNER)
        assert await slack.runtime.clone.pending_draft(owner, draft_id) is not None


async def test_send_from_the_home_inbox_posts_and_refreshes_home(slack_app: HarnessFactory) -> None:
    async with slack_app(user_token=True) as slack:
        shown = await draft_by_command(slack, "could you approve the invoice?")
        draft_id = buttons(shown["blocks"])["Edit"]["value"].split(":")[0]
        body = payload("block_actions_send")
        body["container"] = {"type": "view", "view_id": "VHOME"}
        body.pop("channel")
        body.pop("response_url")
        body["actions"][0] |= {"action_id": "minime_send_0", "value": f"{draft_id}:0"}
        await slack.interact(body)
        await slack.settle()
        posts = slack.fake.landed("chat.postMessage")
        assert len(posts) == 1 and posts[0].token == USER_TOKEN
        assert slack.fake.landed("views.publish")


async def test_help_typed_in_the_dm(slack_app: HarnessFactory) -> None:
    async with slack_app() as slack:
        body = payload("event_message_im")
        body["event"]["text"] = "help"
        await slack.event(body)
        await slack.settle()
        posted = slack.fake.landed("chat.postMessage")
        assert len(posted) == 1 and posted[0].args["channel"] == "D0OWNERBOT"
        assert posted[0].args["blocks"][0]["type"] == "header"


async def test_a_flood_of_mentions_is_capped_before_any_delivery_is_recorded(
    slack_app: HarnessFactory,
) -> None:
    """Beyond the per-sender cap an event is dropped before its delivery row is written."""
    from sqlalchemy import func, select

    from core.service import SENDER_BURST
    from storage import tables
    from storage.scope import unscoped

    async with slack_app(owner_id=OWNER) as slack:

        async def recorded() -> int:
            d = tables.deliveries
            query = select(func.count()).select_from(d).where(d.c.key.like("slack:event:%"))
            async with slack.runtime.storage.engine.connect() as connection:
                counted = await connection.execute(query.execution_options(**unscoped("count")))
                return int(counted.scalar_one())

        before = await recorded()
        flood = 60
        for n in range(flood):
            body = payload("event_app_mention")
            body["event"] = {
                **body["event"],
                "ts": f"1700000200.{n:06d}",
                "text": f"<@UBOT> ping {n}",
            }
            assert (await slack.event(body)).status == 200
        await slack.settle()
        written = await recorded() - before
    assert written <= SENDER_BURST + 8 < flood, written  # the bucket refills 1 every 2 s
