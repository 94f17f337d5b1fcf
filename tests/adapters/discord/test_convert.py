"""convert.py on recorded payloads: what each Discord event means to the core."""

from __future__ import annotations

from typing import Any

from adapters.discord.convert import (
    SEND_MODE_SETTING,
    command_text,
    dm_to_input,
    is_snowflake,
    modal_text,
    send_mode,
    subcommand,
    target_message,
    to_action,
    to_command,
    to_incoming,
    uploads,
    user_ref,
    with_send_mode,
)
from adapters.discord.render import custom_id
from core.commands import parse
from core.models import Action, Button, CommandInvocation, IncomingMessage
from tests.adapters.discord.conftest import CHANNEL_ID, GUILD_ID, OWNER, OWNER_ID, TARGET_ID
from tests.adapters.discord.fake_discord import APPLICATION_ID, load


def command(name: str) -> CommandInvocation:
    payload = load(name)
    return to_command(
        payload["data"],
        user=OWNER,
        channel_id=payload["channel_id"],
        guild_id=payload.get("guild_id"),
    )


def test_subcommands_become_the_shared_grammar() -> None:
    persona = command("clone_persona_new.json")
    assert (persona.name, persona.text, persona.is_private) == ("persona", "new work", False)
    assert parse(f"{persona.name} {persona.text}").args == ("new", "work")
    erase = command("clone_privacy_erase.json")
    assert (erase.name, erase.text) == ("privacy", "erase confirm")
    draft = command("clone_draft.json")
    assert draft.text == "are you free for lunch on friday?"
    assert draft.conversation == CHANNEL_ID and draft.command_prefix == "/clone "


def test_only_a_dm_with_the_bot_is_private() -> None:
    help_ = command("clone_help_dm.json")
    assert (help_.name, help_.is_private) == ("help", True)


def test_every_option_maps_to_text_the_core_parses() -> None:
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "train": ({"source": "sample"}, "--sample"),
        "post": ({"platform": "x", "topic": "our launch"}, "x our launch"),
        "ask": ({"question": "lunch?"}, "lunch?"),
        "digest": ({"time": "08:30"}, "08:30"),
        "link": ({"code": "ABC123"}, "ABC123"),
        "persona": ({"action": "use", "name": "work"}, "use work"),
        "privacy": ({"action": "pause", "confirm": False}, "pause"),
        "profile": ({"statement": 3, "correction": "wrong"}, "correct 3 wrong"),
        "inbox": ({"conversation": "dm:kenji"}, "dm:kenji"),
        "filter": (
            {"action": "add", "kind": "topic", "pattern": "team offsite", "flag": True},
            "add topic 'team offsite' --flag",
        ),
        "models": ({"action": "rollback", "persona": "work"}, "rollback work"),
        "quality": ({"persona": "work", "history": True}, "history work"),
    }
    for name, (values, text) in cases.items():
        assert command_text(name, values) == text
        parse(f"{name} {text}")
    assert command_text("train", {"source": "off", "me": "ana.k"}) == "off --me=ana.k"
    assert command_text("filter", {"action": "remove", "number": 2}) == "remove 2"
    assert command_text("filter", {}) == "list"
    assert command_text("profile", {}) == ""
    assert parse("filter add topic 'team offsite' --flag").args == (
        "add",
        "topic",
        "team offsite",
        "--flag",
    )


def test_train_attachments_come_from_the_resolved_data() -> None:
    data = load("clone_train_file.json")["data"]
    assert subcommand(data)[0] == "train"
    (found,) = uploads(data)
    assert found["filename"].endswith(".json") and found["url"].startswith("https://cdn.")


def test_the_context_menu_target_is_the_incoming_message() -> None:
    payload = load("context_menu_draft_reply.json")
    raw = target_message(payload["data"])
    assert raw is not None and raw["id"] == TARGET_ID
    incoming = to_incoming(raw, owner=OWNER, guild_id=GUILD_ID)
    assert isinstance(incoming, IncomingMessage)
    assert incoming.owner == OWNER
    assert incoming.message.conversation == CHANNEL_ID
    assert incoming.message.sender == "Carla" and incoming.sender_name == "Carla"
    assert incoming.mentions_owner and not incoming.is_direct
    assert incoming.message.sent_at.tzinfo is not None
    empty = {**raw, "content": "  "}
    assert to_incoming(empty, owner=OWNER, guild_id=GUILD_ID) is None


def test_dms_are_commands_or_pasted_messages() -> None:
    message = load("dm_message_create.json")
    pasted = dm_to_input(message, bot_id=APPLICATION_ID)
    assert isinstance(pasted, IncomingMessage)
    assert pasted.owner == user_ref(OWNER_ID) and pasted.is_direct
    assert pasted.message.id == f"dm:{message['id']}"
    for text in ("/clone draft hi", "/draft hi", "clone help", "help"):
        assert isinstance(dm_to_input({**message, "content": text}, bot_id="1"), CommandInvocation)
    own = {**message, "author": {**message["author"], "id": APPLICATION_ID}}
    assert dm_to_input(own, bot_id=APPLICATION_ID) is None
    other_bot = {**message, "author": {**message["author"], "bot": True}}
    assert dm_to_input(other_bot, bot_id=APPLICATION_ID) is None


def test_button_ids_round_trip_and_the_presser_is_the_actor() -> None:
    button = Button(label="Send 2", action=Action.SEND, draft_id="a" * 32, option=1)
    presser = user_ref("42")
    action = to_action(custom_id(button), user=presser)
    assert action is not None
    assert (action.user, action.action, action.draft_id, action.option) == (
        presser,
        Action.SEND,
        "a" * 32,
        1,
    )
    assert len(custom_id(button)) <= 100
    assert to_action("someone-elses:button", user=presser) is None
    edited = to_action("minime-edit:" + "b" * 32 + ":0", user=presser, edited_text="hi")
    assert edited is not None and (edited.action, edited.edited_text) == (Action.EDIT, "hi")


def test_modal_text_reads_action_rows_and_labels() -> None:
    data = load("modal_submit.json")["data"]
    data["components"][0]["components"][0]["value"] = "  new text "
    assert modal_text(data) == "new text"
    labelled = {
        "custom_id": "x",
        "components": [{"type": 18, "component": {"type": 4, "custom_id": "text", "value": "v"}}],
    }
    assert modal_text(labelled) == "v"  # type: ignore[arg-type]
    data["components"][0]["components"][0]["value"] = "   "
    assert modal_text(data) is None


def test_send_mode_is_chosen_per_server() -> None:
    settings: dict[str, object] = {"learn_live": True}
    assert send_mode(settings, GUILD_ID) is None
    chosen = with_send_mode(settings, GUILD_ID, "post")
    assert chosen[SEND_MODE_SETTING] == {GUILD_ID: "post"} and chosen["learn_live"] is True
    assert send_mode(chosen, GUILD_ID) == "post"
    assert send_mode(chosen, "999") is None and send_mode(chosen, None) is None
    assert send_mode({SEND_MODE_SETTING: {GUILD_ID: "shout"}}, GUILD_ID) is None
    assert settings == {"learn_live": True}


def test_snowflakes() -> None:
    assert is_snowflake(TARGET_ID)
    assert not is_snowflake("pasted:abc") and not is_snowflake(None) and not is_snowflake("12")


def test_a_name_with_spaces_reaches_train_as_one_value() -> None:
    from core.commands import split_options

    text = command_text("train", {"me": "Ana Karenina"})
    _, options = split_options(parse(f"train {text}").args, ("--me",))
    assert options == {"--me": "Ana Karenina"}


def test_a_reply_carries_the_message_it_answers_as_context() -> None:
    payload = load("context_menu_draft_reply_to_reply.json")
    raw = target_message(payload["data"])
    assert raw is not None
    incoming = to_incoming(raw, owner=OWNER, guild_id=GUILD_ID)
    assert isinstance(incoming, IncomingMessage)
    [earlier] = incoming.context
    assert earlier.sender == "Ana" and "which PR?" in earlier.text
    assert incoming.message.reply_to == earlier.id
    assert earlier.conversation == incoming.message.conversation == CHANNEL_ID
    assert earlier.sent_at < incoming.message.sent_at
    plain = target_message(load("context_menu_draft_reply.json")["data"])
    assert plain is not None
    single = to_incoming(plain, owner=OWNER, guild_id=GUILD_ID)
    assert single is not None and single.context == ()
