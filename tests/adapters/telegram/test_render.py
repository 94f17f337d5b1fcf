"""Core replies → Telegram HTML and inline keyboards (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.telegram.callbacks import MAX_BYTES, CallbackCodec, derive_key
from adapters.telegram.render import (
    EDIT_REF,
    MAX_TEXT,
    bot_commands,
    edit_prompt,
    meter,
    render,
)
from core.commands import help_text
from core.models import (
    Draft,
    DraftOption,
    DraftStatus,
    Message,
    Priority,
    Reply,
    UserRef,
)
from core.service import render_draft

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CODEC = CallbackCodec(derive_key("token"))
OWNER = UserRef(platform="telegram", user_id="1000001")


def _draft(conversation: str = "tg:1000001", options: int = 3) -> Draft:
    return Draft(
        id="f" * 32,
        account_id="a",
        persona_id="p",
        incoming=Message(
            id="m",
            conversation=conversation,
            thread=None,
            sender="Bob <script>",
            text="can you review my PR <today>?",
            sent_at=NOW,
        ),
        options=tuple(
            DraftOption(text=f"option {n} & more", engine="retrieval", style_score=40 + 20 * n)
            for n in range(options)
        ),
        status=DraftStatus.PENDING,
        created_at=NOW,
        owner=OWNER,
    )


def test_a_draft_shows_priority_options_scores_and_four_actions() -> None:
    priority = Priority(score=0.91, needs_reply=True, reasons=("asks you a direct question",))
    rendered = render(render_draft(_draft(), priority), codec=CODEC, user_id=OWNER.user_id, now=NOW)
    text = rendered.text
    assert "🔴 <b>Priority 0.91</b> · needs a reply" in text
    assert "asks you a direct question" in text
    assert "Bob &lt;script&gt;" in text and "&lt;today&gt;" in text and "<script>" not in text
    assert "option 2 &amp; more" in text and "80/100 sounds like you" in text
    labels = [[b.text for b in row] for row in rendered.keyboard]
    assert labels == [
        ["✅ Send 1", "✅ Send 2", "✅ Send 3"],
        ["✏️ Edit", "🔄 Regenerate", "✖️ Dismiss"],
    ]
    assert all(len(b.callback_data.encode()) <= MAX_BYTES for row in rendered.keyboard for b in row)
    assert len({b.callback_data for row in rendered.keyboard for b in row}) == 6


def test_business_drafts_say_where_they_came_from() -> None:
    rendered = render(
        render_draft(_draft("tgb:CONN:42", options=1), None),
        codec=CODEC,
        user_id=OWNER.user_id,
        now=NOW,
    )
    assert "Telegram Business chat" in rendered.text
    assert [b.text for b in rendered.keyboard[0]] == ["✅ Send"]


def test_a_retry_keeps_the_cores_explanation() -> None:
    shown = render_draft(_draft(), None)
    retry = Reply(
        text="Couldn't post it (offline). Try again?\n" + shown.text,
        buttons=shown.buttons,
        draft=shown.draft,
    )
    rendered = render(retry, codec=CODEC, user_id=OWNER.user_id, now=NOW)
    assert rendered.text.startswith("Couldn't post it (offline). Try again?")


def test_plain_replies_are_escaped_with_code_spans_and_clipped() -> None:
    rendered = render(
        Reply(text="Train me first: `train --sample` <now> " + "x" * 5000),
        codec=CODEC,
        user_id="1",
        now=NOW,
    )
    assert rendered.text.startswith("Train me first: <code>train --sample</code> &lt;now&gt;")
    assert len(rendered.text) <= MAX_TEXT and rendered.keyboard == ()


def test_help_is_rewritten_for_telegram() -> None:
    rendered = render(Reply(text=help_text(prefix="/")), codec=CODEC, user_id="1", now=NOW)
    assert "/draft" in rendered.text and "Forward me a message" in rendered.text
    assert "Telegram Business" in rendered.text


def test_menu_commands_fit_telegram_rules() -> None:
    commands = dict(bot_commands())
    assert {"start", "help", "train", "draft", "link", "privacy"} <= set(commands)
    assert all(name.islower() and len(name) <= 32 for name in commands)
    assert all(0 < len(text) <= 256 for text in commands.values())


def test_the_edit_prompt_carries_its_reference() -> None:
    prompt = edit_prompt("f" * 32, 0, current="sure <b>")
    assert "<code>sure &lt;b&gt;</code>" in prompt
    plain = prompt.replace("<i>", "").replace("</i>", "")
    found = EDIT_REF.search(plain)
    assert found is not None and found.group("draft") == "f" * 32 and found.group("option") == "1"


def test_meter() -> None:
    assert meter(0) == "▱" * 10 and meter(100) == "▰" * 10 and meter(74) == "▰" * 7 + "▱" * 3
