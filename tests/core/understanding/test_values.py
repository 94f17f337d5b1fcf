"""Value and decision statements: each backed by counts and real messages of the history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.models import Message, Priority
from core.understanding import values as v
from tests.core.understanding.sample import sample_history

NOW = datetime(2026, 9, 1, tzinfo=UTC)


def test_every_statement_on_the_sample_persona_cites_real_supporting_messages() -> None:
    history = sample_history()
    by_id = {m.message.id: m for m in history}
    found = v.statements(history)
    assert len(found) >= 5
    kinds = {s.subject_kind for s in found}
    assert {"topic", "request", "condition"} <= kinds
    for statement in found:
        assert 1 <= len(statement.quotes) <= 2
        assert 0 < statement.support <= statement.total
        assert f"{statement.support} of {statement.total}" in statement.text
        for quote in statement.quotes:
            stored = by_id[quote.message_id]  # a real message of the history, verbatim
            assert stored.message.text == quote.text and stored.message.sender == quote.sender
            if statement.direction < 0:
                # "lets it wait": the quote is a message to the owner that got no reply
                assert not stored.from_owner
                assert not any(m.message.reply_to == quote.message_id for m in history)
            else:
                # engages / decides: the quote is the owner's own reply, to the text shown
                assert stored.from_owner
                parent = by_id[stored.message.reply_to or ""]
                assert quote.answering == parent.message.text
            if statement.subject_kind == "request" and statement.lean == "accept":
                assert statement.subject == v.request_kind(quote.answering or "")


def test_decisions_by_kind_of_request_count_accept_decline_defer() -> None:
    found = {s.key: s for s in v.statements(sample_history())}
    reviews = found["request:reviews"]
    assert reviews.lean == "accept" and "typically within" in reviews.text
    assert any(v.classify_intent(q.text) == "accept" for q in reviews.quotes)
    condition = found["condition:yes"]
    assert all(v._CONDITION.search(q.text) for q in condition.quotes)


def test_nothing_is_said_without_evidence() -> None:
    assert v.statements([]) == []
    few = sample_history()[:6]
    assert all(s.quotes and s.total >= v.MIN_SUPPORT for s in v.statements(few))


def test_a_correction_moves_triage_for_its_subject_only() -> None:
    statement = next(s for s in v.statements(sample_history()) if s.direction < 0)
    wrong = v.correct(statement, "wrong", NOW)
    assert wrong.wrong and wrong.effect == 1
    said = v.correct(statement, f"{statement.subject} can wait, really", NOW)
    assert said.effect == -1 and said.text is not None
    assert v.correct(statement, "it depends on the week", NOW).effect == 0
    with pytest.raises(ValueError):
        v.correct(statement, "   ", NOW)
    with pytest.raises(ValueError):
        v.correct(statement, "x" * (v.MAX_CORRECTION + 1), NOW)

    about = Message(
        id="n1",
        conversation="dm:ana",
        thread=None,
        sender="ana",
        text=f"heads up about the {statement.subject} window",
        sent_at=NOW,
    )
    other = Message(
        id="n2", conversation="dm:ana", thread=None, sender="ana", text="lunch?", sent_at=NOW
    )
    base = Priority(score=0.4, needs_reply=False, reasons=("a direct message",))
    moved = v.adjust(base, about, [wrong])
    assert moved.score == pytest.approx(0.4 + v.NUDGE)
    assert moved.reasons[0].startswith("you told me") and "matter to you" in moved.reasons[0]
    assert v.adjust(base, other, [wrong]) is base


def test_corrections_are_kept_as_json_and_survive_a_round_trip() -> None:
    statement = v.statements(sample_history())[0]
    kept = {statement.key: v.correct(statement, "wrong", NOW)}
    back = v.corrections_from_bytes(v.corrections_to_bytes(kept))
    assert back == kept
    assert v.corrections_from_bytes(b"not json") == {}
    shown = v.statements(sample_history(), back)[0]
    assert shown.correction == kept[statement.key]
    assert shown.shown().startswith("(you said this is wrong)")


def test_replies_without_reply_to_are_inferred_by_address_then_by_order() -> None:
    def msg(i: int, sender: str, text: str, minute: int) -> v.StoredMessage:
        message = Message(
            id=f"m{i}",
            conversation="#help",
            thread=None,
            sender=sender,
            text=text,
            sent_at=NOW.replace(minute=minute),
        )
        return v.StoredMessage(message=message, persona_id="p", from_owner=sender == "me")

    reading = v.read(
        [
            msg(1, "ana", "how do i mount the iso?", 1),
            msg(2, "bo", "anyone seen the wifi bug?", 2),
            msg(3, "me", "ana: use mount -o loop", 3),
            msg(4, "cy", "thanks all", 4),
            msg(5, "me", "np", 5),
        ]
    )
    assert reading.replies["m1"].id == "m3"  # addressed to ana, not to bo who spoke last
    assert "m2" not in reading.replies
    assert reading.replies["m4"].id == "m5"
