"""Platform payload parsers (``adapters/<platform>/convert.py``) under hostile payloads.

Two kinds of input, for every pure convert function of Slack, Telegram and Discord:

- *hostile values*: each recorded payload (``tests/adapters/<platform>/payloads``) with its strings
  replaced by hostile text (huge, control characters, RTL marks, mention and markup syntax,
  look-alike commands) and its numbers by extreme ones. The structure is what the platform sends,
  so the parser must answer with a core model (or its own event type) or ``None``; the only errors
  allowed are the documented ones (``ValueError`` and its kin: ``CommandError``, a refused click).
- *random structure*: arbitrary JSON objects. Platforms validate structure before signing or
  delivering, so a parser may refuse these with an ordinary exception that the adapter's per-event
  guard catches (``KeyError``, ``TypeError``, ``ValueError``, ``AttributeError``, ``IndexError``) —
  but never hang, recurse without bound, or put a message's text into the exception.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import ActionInvocation, CommandInvocation, IncomingMessage, Message, UserRef

TESTS = Path(__file__).resolve().parents[1]

# Hostile strings of 100,000 characters make Hypothesis warn about the size of its reprs.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
CANARY = "CANARYc0ffee00d15ea5e"

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DOCUMENTED = (ValueError,)
STRUCTURAL = (KeyError, TypeError, ValueError, AttributeError, IndexError)

HOSTILE_TEXT = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "",
            " ",
            "\x00\x01\x1b[31m",
            "\u202eevil\u202c",
            "<@U0OWNER> <!channel> @everyone @here",
            "/clone privacy erase confirm",
            "/draft " + "x" * 50,
            "clone privacy export",
            "```" * 30,
            "\ud800",
            "a" * 100_000,
            f"secret {CANARY}",
            "1" * 400,
            "-1",
            "9999999999999999999999",
            "send:abc:1",
            "d:" + "0" * 64,
        ]
    ),
)
HOSTILE_INT = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63),
    st.sampled_from([0, -1, 2**31, 2**53 + 1, 10**30]),
)


def payload(platform: str, name: str) -> dict[str, Any]:
    return json.loads((TESTS / "adapters" / platform / "payloads" / name).read_text())


def mutate_values(data: st.DataObject, value: Any) -> Any:
    """The same structure, hostile leaves."""
    if isinstance(value, dict):
        return {k: mutate_values(data, v) for k, v in value.items()}
    if isinstance(value, list):
        return [mutate_values(data, v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return data.draw(HOSTILE_INT) if data.draw(st.booleans()) else value
    if isinstance(value, str):
        return data.draw(HOSTILE_TEXT) if data.draw(st.booleans()) else value
    return value


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | HOSTILE_INT | HOSTILE_TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)


def structured(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Random objects that use the platform's own key names (so the parsers go deep)."""
    key = st.sampled_from(keys) | st.text(max_size=8)
    return st.recursive(
        st.dictionaries(key, st.none() | st.booleans() | HOSTILE_INT | HOSTILE_TEXT, max_size=6),
        lambda children: st.dictionaries(
            key, children | st.lists(children, max_size=3) | JSON_VALUES, max_size=6
        ),
        max_leaves=30,
    )


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


def check_result(result: object, allowed: tuple[type, ...]) -> None:
    assert result is None or isinstance(result, allowed), type(result)
    if isinstance(result, IncomingMessage):
        assert isinstance(result.message, Message) and isinstance(result.message.text, str)
        assert result.message.sent_at.tzinfo is not None
        assert isinstance(result.owner, UserRef) and isinstance(result.owner.user_id, str)
    if isinstance(result, CommandInvocation):
        assert isinstance(result.text, str) and isinstance(result.user, UserRef)


def run_hostile(call: Callable[[Any], object], value: Any, allowed: tuple[type, ...]) -> None:
    try:
        result = call(value)
    except DOCUMENTED:
        return
    check_result(result, allowed)


def run_structural(call: Callable[[Any], object], value: Any, allowed: tuple[type, ...]) -> None:
    try:
        result = call(value)
    except STRUCTURAL as error:
        assert CANARY not in str(error) and CANARY not in repr(error)
        return
    check_result(result, allowed)


# ----------------------------------------------------------------------------- Slack

slack = pytest.importorskip("adapters.slack.convert")

SLACK_ALLOWED = (IncomingMessage, CommandInvocation, ActionInvocation, tuple, list, str)
BOT = "U0MINIMEBOT"


def slack_calls() -> list[tuple[str, Callable[[Any], object], str, Callable[[Any], Any]]]:
    """(label, function of the payload, recorded payload, how to pick the part it takes)."""
    event = lambda p: p.get("event", p)  # noqa: E731
    whole = lambda p: p  # noqa: E731
    return [
        ("to_command", slack.to_command, "slash_command.json", whole),
        ("to_dm_command", slack.to_dm_command, "event_message_im.json", event),
        (
            "to_dm_incoming",
            lambda e: slack.to_dm_incoming(e, bot_user_id=BOT),
            "event_message_im.json",
            event,
        ),
        (
            "shared_files",
            lambda e: slack.shared_files(e, bot_user_id=BOT),
            "event_message_im_file.json",
            event,
        ),
        (
            "to_mention_incoming",
            lambda e: slack.to_mention_incoming(e, owner_id="U0OWNER", bot_user_id=BOT),
            "event_app_mention.json",
            event,
        ),
        (
            "to_channel_incoming",
            lambda e: slack.to_channel_incoming(e, owner_id="U0OWNER", bot_user_id=BOT),
            "event_channel_message.json",
            event,
        ),
        ("to_shortcut_incoming", slack.to_shortcut_incoming, "message_action.json", whole),
        ("to_action", slack.to_action, "block_actions_send.json", whole),
        ("to_edit_submission", slack.to_edit_submission, "view_submission.json", whole),
        ("home_command", slack.home_command, "event_app_home_opened.json", whole),
        ("delivery_key", slack.delivery_key, "event_app_mention.json", whole),
    ]


SLACK = slack_calls()
SLACK_KEYS = sorted({k for _, _, name, _ in SLACK for k in keys_of(payload("slack", name))})


@FUZZ
@given(data=st.data(), case=st.sampled_from(SLACK))
def test_slack_parsers_on_hostile_values(data: st.DataObject, case: Any) -> None:
    _label, call, name, part = case
    value = part(mutate_values(data, copy.deepcopy(payload("slack", name))))
    run_hostile(call, value, SLACK_ALLOWED)


@FUZZ
@given(value=structured(SLACK_KEYS), case=st.sampled_from(SLACK))
def test_slack_parsers_on_random_structure(value: dict[str, Any], case: Any) -> None:
    run_structural(case[1], value, SLACK_ALLOWED)


@FUZZ
@given(st.one_of(st.none(), HOSTILE_TEXT))
def test_slack_button_values(value: str | None) -> None:
    decoded = slack.decode_value(value)
    assert decoded is None or (isinstance(decoded[0], str) and isinstance(decoded[1], int))


@settings(FUZZ, report_multiple_bugs=False)
@given(
    st.one_of(
        st.none(),
        HOSTILE_TEXT,
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.sampled_from(["1e17", "-1e17", "9e18", "1e19", "nan", "-0.0"]),
    )
)
def test_slack_timestamps_always_become_aware_times(ts: str | None) -> None:
    assert slack.slack_time(ts).tzinfo is not None


@FUZZ
@given(HOSTILE_TEXT)
def test_slack_text_helpers(text: str) -> None:
    assert isinstance(slack.is_command_text(text), bool)
    assert isinstance(slack.is_help(text), bool)
    hint = slack.me_hint(text)
    assert hint is None or isinstance(hint, str)
    assert isinstance(slack.strip_mentions(text, ("U0MINIMEBOT",)), str)


# ----------------------------------------------------------------------------- Telegram

telegram = pytest.importorskip("adapters.telegram.convert")

TELEGRAM_DIR = TESTS / "adapters" / "telegram" / "payloads"
TELEGRAM_PAYLOADS = sorted(p.name for p in TELEGRAM_DIR.glob("*.json"))
TELEGRAM_ALLOWED = (
    IncomingMessage,
    CommandInvocation,
    ActionInvocation,
    *(
        getattr(telegram, name)
        for name in ("Upload", "Click", "BusinessLink", "BusinessIncoming", "Hint")
        if hasattr(telegram, name)
    ),
)
TELEGRAM_KEYS = sorted({k for n in TELEGRAM_PAYLOADS for k in keys_of(payload("telegram", n))})
TELEGRAM_BOT = 7000000001


@settings(FUZZ, report_multiple_bugs=False)
@given(data=st.data(), name=st.sampled_from(TELEGRAM_PAYLOADS))
def test_telegram_updates_with_hostile_values(data: st.DataObject, name: str) -> None:
    update = mutate_values(data, payload("telegram", name))
    run_hostile(lambda u: telegram.to_event(u, bot_id=TELEGRAM_BOT), update, TELEGRAM_ALLOWED)


@FUZZ
@given(structured(TELEGRAM_KEYS))
def test_telegram_updates_with_random_structure(update: dict[str, Any]) -> None:
    run_structural(lambda u: telegram.to_event(u, bot_id=TELEGRAM_BOT), update, TELEGRAM_ALLOWED)


@FUZZ
@given(HOSTILE_TEXT)
def test_telegram_destinations(conversation: str) -> None:
    found = telegram.destination(conversation)
    assert found is None or isinstance(found, telegram.Destination)


# ----------------------------------------------------------------------------- Discord

discord = pytest.importorskip("adapters.discord.convert")

DISCORD_OWNER = UserRef(platform="discord", user_id="111")
DISCORD_ALLOWED = (IncomingMessage, CommandInvocation, ActionInvocation, dict, str, tuple, list)


def discord_calls() -> list[tuple[str, Callable[[Any], object], str, Callable[[Any], Any]]]:
    data = lambda p: p.get("data", p)  # noqa: E731
    whole = lambda p: p  # noqa: E731

    def target_incoming(d: Any) -> object:
        target = discord.target_message(d)
        if target is None:
            return None
        return discord.to_incoming(target, owner=DISCORD_OWNER, guild_id="g1")

    def press(p: Any) -> object:
        return discord.to_action(str(p.get("data", {}).get("custom_id")), user=DISCORD_OWNER)

    return [
        (
            "to_command",
            lambda d: discord.to_command(d, user=DISCORD_OWNER, channel_id="c1", guild_id=None),
            "clone_draft.json",
            data,
        ),
        ("to_command/train", lambda d: discord.uploads(d), "clone_train_file.json", data),
        ("context menu", target_incoming, "context_menu_draft_reply.json", data),
        (
            "dm_to_input",
            lambda m: discord.dm_to_input(m, bot_id="999"),
            "dm_message_create.json",
            whole,
        ),
        ("to_action", press, "button_press.json", whole),
        ("modal_text", discord.modal_text, "modal_submit.json", data),
    ]


DISCORD = discord_calls()
DISCORD_KEYS = sorted({k for _, _, name, _ in DISCORD for k in keys_of(payload("discord", name))})


@FUZZ
@given(data=st.data(), case=st.sampled_from(DISCORD))
def test_discord_parsers_on_hostile_values(data: st.DataObject, case: Any) -> None:
    _label, call, name, part = case
    value = part(mutate_values(data, copy.deepcopy(payload("discord", name))))
    run_hostile(call, value, DISCORD_ALLOWED)


@FUZZ
@given(value=structured(DISCORD_KEYS), case=st.sampled_from(DISCORD))
def test_discord_parsers_on_random_structure(value: dict[str, Any], case: Any) -> None:
    run_structural(case[1], value, DISCORD_ALLOWED)


def test_the_fuzzed_parsers_accept_their_recorded_payloads() -> None:
    """The fuzz starts from payloads the parsers turn into models (not only ``None``)."""
    made = 0
    for _label, call, name, part in SLACK:
        made += call(part(payload("slack", name))) is not None
    for _label, call, name, part in DISCORD:
        made += call(part(payload("discord", name))) is not None
    for name in TELEGRAM_PAYLOADS:
        made += telegram.to_event(payload("telegram", name), bot_id=TELEGRAM_BOT) is not None
    assert made >= 20
