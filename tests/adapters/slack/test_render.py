"""Core replies → Block Kit (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from adapters.slack import render
from core.models import Draft, DraftOption, DraftStatus, Message, Outgoing, Priority, Reply, UserRef
from core.service import render_draft


def _draft(text: str = "Can you review <!channel> today?", options: int = 2) -> Draft:
    return Draft(
        id="d" * 32,
        account_id="a1",
        persona_id="p1",
        incoming=Message(
            id="m1",
            conversation="C1",
            thread="1.2",
            sender="UALEX",
            text=text,
            sent_at=datetime(2024, 1, 1, tzinfo=UTC),
        ),
        options=tuple(
            DraftOption(text=f"sure, option {n} & more", engine="retrieval", style_score=70 + n)
            for n in range(options)
        ),
        status=DraftStatus.PENDING,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        owner=UserRef(platform="slack", user_id="UOWNER"),
    )


def test_meter() -> None:
    assert render.meter(72) == "▰▰▰▰▰▰▰▱▱▱ 72/100"
    assert render.meter(0).startswith("▱" * 10) and render.meter(150).endswith(" 100/100")
    assert render.meter(-3).endswith(" 0/100")


def test_draft_renders_options_meter_buttons_and_disclosure() -> None:
    reply = render_draft(
        _draft(), Priority(score=0.8, needs_reply=True, reasons=("asks you a direct question",))
    )
    blocks = render.reply_blocks(reply)
    text = json.dumps(blocks)
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text  # shown text cannot ping
    assert "<@UALEX>" in text and "Priority 0.80" in text
    assert text.count("/100") == 2 and "Drafted by your minime clone" in text
    elements = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    labels = [e["text"]["text"] for e in elements]
    assert labels == ["Send 1", "Send 2", "Edit", "Regenerate", "Dismiss"]
    assert [e["value"] for e in elements][:2] == ["d" * 32 + ":0", "d" * 32 + ":1"]
    assert len({e["action_id"] for e in elements}) == len(elements)
    assert elements[0]["style"] == "primary" and elements[-1]["style"] == "danger"
    assert len(blocks) <= 50
    assert render.fallback_text(reply).startswith("Draft reply:")


def test_long_text_splits_into_sections_slack_accepts() -> None:
    reply = Reply(text="\n".join(f"line {n} " + "x" * 80 for n in range(200)))
    blocks = render.reply_blocks(reply)
    assert len(blocks) > 1
    assert all(len(b["text"]["text"]) <= render.SECTION_LIMIT for b in blocks)


def test_help_lists_every_command() -> None:
    text = json.dumps(render.help_blocks())
    for name in (
        "help",
        "train",
        "draft",
        "profile",
        "inbox",
        "persona",
        "post",
        "ask",
        "digest",
        "privacy",
        "link",
    ):
        assert f"/clone {name}" in text, name


def test_edit_modal_is_prefilled() -> None:
    view = render.edit_modal("hello there", metadata='{"d":"x"}')
    assert view["type"] == "modal" and view["callback_id"] == "minime_edit"
    assert view["private_metadata"] == '{"d":"x"}'
    assert view["blocks"][0]["element"]["initial_value"] == "hello there"


def test_bot_post_carries_the_disclosure() -> None:
    outgoing = Outgoing(
        draft_id="d",
        account_id="a",
        text="on it",
        conversation="C1",
        thread="1.2",
        reply_to="m1",
        edited=False,
    )
    assert render.bot_post_text(outgoing, "UOWNER") == "on it\n— drafted with <@UOWNER>'s clone"
    assert "as you" in json.dumps(render.sent_blocks(outgoing, as_owner=True))


def test_home_view() -> None:
    view = render.home_view(
        profile=Reply(text="You write short messages.", image=b"png"),
        inbox=render_draft(_draft(options=1), None),
        personas=Reply(text="* default"),
        paused=False,
    )
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    text = json.dumps(view)
    assert "How you write" in text and "Pause the clone" in text and "minime_cmd_" in text
