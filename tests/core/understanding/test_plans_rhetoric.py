"""Plans split into steps; rhetorical habits and consistency counted from real messages."""

from __future__ import annotations

from core.understanding import plans, rhetoric
from tests.core.understanding.sample import sample_history


def test_a_plan_splits_into_its_steps() -> None:
    assert not plans.looks_like_plan("can you review my PR today?")
    assert not plans.looks_like_plan("hi sam,\ncan you review my PR today?\nthanks!")
    numbered = "plan:\n1. move the standup to 8am\n2) review every PR within an hour\n- ship friday"
    assert plans.looks_like_plan(numbered)
    assert plans.steps(numbered) == [
        "move the standup to 8am",
        "review every PR within an hour",
        "ship friday",
    ]
    inline = "1. book the room 2. invite the team 3) send the agenda"
    assert plans.looks_like_plan(inline)
    assert plans.steps(inline) == ["book the room", "invite the team", "send the agenda"]
    assert plans.steps("copy: Sign up today. Get 20% off. Cancel any time.") == [
        "Sign up today.",
        "Get 20% off.",
        "Cancel any time.",
    ]
    assert plans.steps("steps: book the room; invite the team then send the agenda") == [
        "book the room",
        "invite the team",
        "send the agenda",
    ]
    assert len(plans.steps("plan:\n" + "\n".join(["- " + "x" * 2000] * 3))[0]) == (
        plans.MAX_STEP_CHARS
    )


def test_rhetoric_and_consistency_on_the_sample_persona() -> None:
    history = sample_history()
    texts = [m.message.text for m in history if m.from_owner]
    habits = {h.name: h for h in rhetoric.habits(texts)}
    assert habits["questions"].count == sum("?" in t for t in texts)
    assert habits["questions"].example in texts
    steady = rhetoric.consistency(history)
    assert steady is not None and steady.contacts >= 2
    assert 0 <= steady.spread["words"] < 1
    lines = rhetoric.lines(history)
    assert lines[0].startswith("Rhetoric: asks a question in")
    assert rhetoric.consistency(history[:10]) is None
