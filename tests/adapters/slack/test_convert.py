"""Slack payloads → core models, from recorded payloads (pure: no I/O)."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from adapters.slack import convert
from adapters.slack.adapter import signature_ok
from core.models import Action
from tests.adapters.slack.conftest import payload
from tests.adapters.slack.fake_slack import BOT_USER, OWNER, SIGNING_SECRET


def test_slash_command_becomes_a_command_of_the_grammar() -> None:
    command = convert.to_command(payload("slash_command"))  # type: ignore[arg-type]
    assert command.user.platform == "slack" and command.user.user_id == OWNER
    assert command.name == "" and command.text.startswith("draft can you review")
    assert command.conversation == "C2147483705" and not command.is_private
    assert command.command_prefix == "/clone "
    dm = convert.to_command(payload("slash_command") | {"channel_id": "D0OWNERBOT", "text": ""})  # type: ignore[arg-type]
    assert dm.is_private and dm.text == "help"


def test_button_click_is_the_clicking_users_action() -> None:
    body = payload("block_actions_send")
    body["actions"][0]["value"] = "abc123:1"
    action = convert.to_action(body)
    assert action is not None
    assert action.user.user_id == OWNER and action.action is Action.SEND
    assert (action.draft_id, action.option) == ("abc123", 1)
    body["user"]["id"] = "UOTHER"
    other = convert.to_action(body)
    assert other is not None and other.user.user_id == "UOTHER"


def test_malformed_clicks_are_ignored() -> None:
    for value in ("", "nocolon", ":1", "abc:", "abc:x", "a" * 300 + ":1"):
        body = payload("block_actions_send")
        body["actions"][0]["value"] = value
        assert convert.to_action(body) is None, value
    body = payload("block_actions_send")
    body["actions"][0]["action_id"] = "someone_elses_button"
    assert convert.to_action(body) is None
    assert convert.to_action({"type": "block_actions", "actions": []}) is None


def test_edit_submission_round_trips_through_the_modal_metadata() -> None:
    body = payload("view_submission")
    body["view"]["private_metadata"] = convert.edit_metadata(
        "d1", 2, response_url="https://hooks.slack.com/x", channel="C1"
    )
    parsed = convert.to_edit_submission(body)
    assert parsed is not None
    action, url, channel = parsed
    assert action.action is Action.EDIT and action.edited_text == "EDITED"
    assert (action.draft_id, action.option, action.user.user_id) == ("d1", 2, OWNER)
    assert (url, channel) == ("https://hooks.slack.com/x", "C1")
    body["view"]["private_metadata"] = "not json"
    assert convert.to_edit_submission(body) is None


def test_dm_message_is_a_pasted_message_for_its_author() -> None:
    incoming = convert.to_dm_incoming(payload("event_message_im")["event"], bot_user_id=BOT_USER)
    assert incoming is not None
    assert incoming.owner.user_id == OWNER and incoming.is_direct
    assert incoming.message.sender == "them" and incoming.message.thread is None
    assert incoming.message.conversation == "D0OWNERBOT"
    assert incoming.message.sent_at.tzinfo is not None


def test_bots_edits_joins_and_files_are_not_messages_to_draft() -> None:
    for name in ("event_bot_message", "event_message_changed", "event_channel_join"):
        event = payload(name)
        assert convert.to_dm_incoming(event, bot_user_id=BOT_USER) is None, name
        assert convert.to_mention_incoming(event, owner_id=OWNER, bot_user_id=BOT_USER) is None
        assert convert.to_channel_incoming(event, owner_id=OWNER, bot_user_id=BOT_USER) is None
    file_event = payload("event_message_im_file")["event"]
    assert convert.to_dm_incoming(file_event, bot_user_id=BOT_USER) is None
    assert convert.shared_files(file_event, bot_user_id=BOT_USER) == ["F0EXPORT01"]
    own = payload("event_message_im")["event"] | {"user": BOT_USER}
    assert convert.to_dm_incoming(own, bot_user_id=BOT_USER) is None


def test_mention_is_addressed_to_the_installer_in_its_thread() -> None:
    event = payload("event_app_mention")["event"]
    incoming = convert.to_mention_incoming(event, owner_id=OWNER, bot_user_id=BOT_USER)
    assert incoming is not None
    assert incoming.owner.user_id == OWNER and incoming.mentions_owner
    assert "<@" not in incoming.message.text
    assert incoming.message.thread == event["ts"]  # the reply goes in the message's thread
    by_owner = event | {"user": OWNER}
    assert convert.to_mention_incoming(by_owner, owner_id=OWNER, bot_user_id=BOT_USER) is None


def test_channel_message_keeps_its_thread() -> None:
    event = payload("event_channel_message")
    incoming = convert.to_channel_incoming(event, owner_id=OWNER, bot_user_id=BOT_USER)
    assert incoming is not None
    assert incoming.message.thread == "1700000650.000100" and incoming.mentions_owner
    assert (
        convert.to_channel_incoming(
            event | {"channel_type": "im"}, owner_id=OWNER, bot_user_id=BOT_USER
        )
        is None
    )


def test_shortcut_drafts_for_the_clicker_in_the_messages_thread() -> None:
    incoming = convert.to_shortcut_incoming(payload("message_action"))
    assert incoming is not None
    assert incoming.owner.user_id == OWNER and incoming.message.sender == "UALEX"
    assert incoming.message.conversation == "C2147483705"
    assert incoming.message.thread == "1699999000.000100"
    threaded = payload("message_action")
    threaded["message"]["thread_ts"] = "1699990000.000001"
    assert convert.to_shortcut_incoming(threaded).message.thread == "1699990000.000001"  # type: ignore[union-attr]
    empty = payload("message_action")
    empty["message"]["text"] = ""
    assert convert.to_shortcut_incoming(empty) is None


def test_delivery_keys_are_stable_across_retries_and_distinct_across_clicks() -> None:
    event = payload("event_app_mention")
    assert convert.delivery_key(event) == convert.delivery_key(dict(event))
    assert convert.delivery_key(event) == f"slack:event:{event['event_id']}"
    first, second = payload("block_actions_send"), payload("block_actions_send")
    second["actions"][0]["action_ts"] = "1700000002.999999"
    assert convert.delivery_key(first) != convert.delivery_key(second)
    assert convert.delivery_key(payload("slash_command")).startswith("slack:command:")  # type: ignore[union-attr]
    assert convert.delivery_key(payload("message_action")).startswith("slack:shortcut:")  # type: ignore[union-attr]
    assert convert.delivery_key(payload("view_submission")).startswith("slack:view:")  # type: ignore[union-attr]
    assert convert.delivery_key({"type": "event_callback"}) is None


def test_dm_lines_that_are_commands() -> None:
    for text in ("help", "draft can we talk?", "clone profile", "/clone inbox", "persona list"):
        assert convert.is_command_text(text), text
    for text in ("can we move our 1:1?", "", "drafting is hard", "thanks!"):
        assert not convert.is_command_text(text), text
    assert convert.is_help("") and convert.is_help("help") and not convert.is_help("draft hi")


def test_me_hint_from_a_files_comment() -> None:
    assert convert.me_hint('my slack export --me "Sam Rivera"') == "Sam Rivera"
    assert convert.me_hint("--me=sam") == "sam"
    assert convert.me_hint("just a file") is None


@given(st.text(alphabet="0123456789abcdef", min_size=1, max_size=64), st.integers(0, 99))
def test_button_values_round_trip(draft_id: str, option: int) -> None:
    assert convert.decode_value(convert.encode_value(draft_id, option)) == (draft_id, option)


def _sig(body: bytes, stamp: str) -> str:
    digest = hmac.new(
        SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256
    )
    return "v0=" + digest.hexdigest()


def test_signature_check() -> None:
    body, now = b'{"type":"event_callback"}', time.time()
    stamp = str(int(now))
    good = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": _sig(body, stamp)}
    assert signature_ok(SIGNING_SECRET, body, good, now=now)
    assert not signature_ok(SIGNING_SECRET, body + b" ", good, now=now)
    assert not signature_ok(SIGNING_SECRET, body, good, now=now + 301)
    assert not signature_ok("", body, good, now=now)
    assert not signature_ok(SIGNING_SECRET, body, {}, now=now)


@given(
    st.dictionaries(st.sampled_from(["X-Slack-Request-Timestamp", "X-Slack-Signature"]), st.text()),
    st.binary(),
)
def test_signature_check_never_raises(headers: dict[str, str], body: bytes) -> None:
    assert signature_ok(SIGNING_SECRET, body, headers) in (True, False)


def test_manifest_matches_the_code() -> None:
    manifest = yaml.safe_load(
        (Path(__file__).parents[3] / "deploy" / "slack-manifest.yaml").read_text()
    )
    features = manifest["features"]
    assert features["slash_commands"][0]["command"] == convert.COMMAND
    assert features["shortcuts"][0]["callback_id"] == convert.SHORTCUT_CALLBACK
    assert features["shortcuts"][0]["type"] == "message"
    assert features["app_home"]["home_tab_enabled"] is True
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "app_home_opened"} <= events
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    scopes = manifest["oauth_config"]["scopes"]
    assert {"commands", "chat:write", "files:read", "im:history", "app_mentions:read"} <= set(
        scopes["bot"]
    )
    assert "chat:write" in scopes["user"]


def test_me_hint_takes_typographic_quotes_as_slack_types_them() -> None:
    assert convert.me_hint("here you go --me “Sam Rivera”") == "Sam Rivera"
    assert convert.me_hint("--me 'Sam Rivera' thanks") == "Sam Rivera"
