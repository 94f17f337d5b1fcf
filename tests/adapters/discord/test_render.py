"""render.py: replies within Discord's limits, draft cards with the style score."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.discord.convert import to_action
from adapters.discord.render import (
    CONTENT_LIMIT,
    copy_ready,
    custom_id,
    disclosure,
    meter,
    render,
    split,
)
from core.models import Action, Button, Draft, DraftOption, DraftStatus, Message, Priority, Reply
from core.service import render_draft
from tests.adapters.discord.conftest import OWNER


def draft(options: int = 3) -> Draft:
    return Draft(
        id="d" * 32,
        account_id="acc",
        persona_id="p",
        incoming=Message(
            id="1",
            conversation="c",
            thread=None,
            sender="Carla",
            text="can you review my PR today?",
            sent_at=datetime(2026, 11, 21, tzinfo=UTC),
        ),
        options=tuple(
            DraftOption(text=f"option {n}", engine="retrieval", style_score=80 - 20 * n)
            for n in range(options)
        ),
        status=DraftStatus.PENDING,
        created_at=datetime(2026, 11, 21, tzinfo=UTC),
        owner=OWNER,
    )


def test_a_draft_is_one_card_with_score_meters_and_its_buttons() -> None:
    priority = Priority(score=0.82, needs_reply=True, reasons=("asks you a direct question",))
    (card,) = render(render_draft(draft(), priority))
    assert card.embed is not None and card.content is None
    assert card.embed.title == "Draft reply to Carla"
    assert card.embed.description == "> can you review my PR today?"
    assert [f.value for f in card.embed.fields] == ["option 0", "option 1", "option 2"]
    assert "▰▰▰▰▰▰▰▰▱▱ 80/100" in card.embed.fields[0].name
    assert card.embed.footer is not None and "direct question" in card.embed.footer
    assert [b.label for b in card.buttons] == [
        "Send 1",
        "Send 2",
        "Send 3",
        "Edit",
        "Regenerate",
        "Dismiss",
    ]
    assert [b.row for b in card.buttons] == [0, 0, 0, 1, 1, 1]
    assert [b.style for b in card.buttons][-3:] == ["primary", "secondary", "danger"]
    assert card.draft_id == "d" * 32


def test_meter_bounds() -> None:
    assert meter(0) == "▱" * 10 + " 0/100"
    assert meter(130) == "▰" * 10 + " 100/100"


def test_long_text_is_split_under_the_limit() -> None:
    text = "\n".join(f"line {n} " + "x" * 90 for n in range(100))
    pieces = split(text)
    assert len(pieces) > 1 and all(len(p) <= CONTENT_LIMIT for p in pieces)
    assert "\n".join(pieces) == text
    assert split("y" * 4500) == ["y" * 2000, "y" * 2000, "y" * 500]
    shown = render(Reply(text=text), monospace=True)
    assert all(m.content is not None and len(m.content) <= CONTENT_LIMIT for m in shown)
    assert all(m.content is not None and m.content.startswith("```") for m in shown)


def test_images_and_files_ride_on_the_last_message() -> None:
    (message,) = render(Reply(text="card", image=b"png", image_name="style-card.png"))
    assert message.files == (("style-card.png", b"png"),)
    assert message.embed is not None and message.embed.image == "style-card.png"
    (export,) = render(Reply(text="yours", file=b"zip", file_name="minime-export.zip"))
    assert export.files == (("minime-export.zip", b"zip"),) and export.embed is None


def test_disclosure_names_the_owner_safely_and_fits() -> None:
    posted = disclosure("sure, 3pm works", "Ana")
    assert posted == "sure, 3pm works\n-# — drafted with Ana's clone"
    sneaky = disclosure("ok", "[click](https://evil.example)")
    assert "](" not in sneaky.replace("\\](", "")
    assert len(disclosure("z" * 5000, "Ana")) <= CONTENT_LIMIT
    assert copy_ready("exactly this") == "exactly this"


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs",),
            blacklist_characters="\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
        ),
        max_size=6000,
    )
)
def test_split_never_exceeds_the_limit_and_loses_nothing(text: str) -> None:
    pieces = split(text)
    assert all(len(piece) <= CONTENT_LIMIT for piece in pieces)
    assert "".join(pieces).replace("\n", "") == "".join(text.splitlines())
    if all(len(line) <= CONTENT_LIMIT for line in text.splitlines()):
        assert "\n".join(pieces) == "\n".join(text.splitlines())


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(list(Action)),
    st.text(alphabet="0123456789abcdef", min_size=1, max_size=64),
    st.integers(min_value=0, max_value=24),
)
def test_every_button_id_parses_back_to_its_action(
    action: Action, draft_id: str, option: int
) -> None:
    button = Button(label="x", action=action, draft_id=draft_id, option=option)
    parsed = to_action(custom_id(button), user=OWNER)
    assert parsed is not None
    assert (parsed.action, parsed.draft_id, parsed.option) == (action, draft_id, option)
    assert len(custom_id(button)) <= 100
