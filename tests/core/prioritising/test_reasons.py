"""Reasons agree with the score and with each other; one tap is evidence, not a verdict."""

from __future__ import annotations

import itertools
import math

import pytest

from core.prioritising import HeuristicPrioritiser, OnboardingAnswers, OwnerContext
from core.prioritising.features import _ANSWER_RATE, _CONFLICTS
from core.prioritising.learned import Label, Prioritiser
from core.prioritising.prior import load_global_prior
from core.prioritising.signals import read_content
from tests.core.prioritising.helpers import incoming, message, stored


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


@pytest.fixture
def shipped() -> Prioritiser:
    return Prioritiser(prior=load_global_prior())


def test_a_thank_you_just_says_thanks_and_asks_nothing(shipped: Prioritiser) -> None:
    ctx = OwnerContext(owner_names=["sam"])
    for p in (shipped, HeuristicPrioritiser()):
        thanks = p.prioritise(incoming("1", "erin", "sam: thanks a lot, that fixed it!"), ctx)
        assert "just says thanks" in thanks.reasons
        assert "asks you to do something" not in thanks.reasons
        assert not thanks.needs_reply
    signals = read_content("thanks for the help!")
    assert signals.thanks and not signals.request
    both = shipped.prioritise(
        incoming("2", "erin", "thanks for the help, can you also send me the slides?"), ctx
    )
    assert "just says thanks" not in both.reasons
    assert both.needs_reply


def test_a_question_with_a_full_width_mark_is_a_question(shipped: Prioritiser) -> None:
    ctx = OwnerContext(owner_names=["sam"])
    assert read_content("明日の会議に来られますか？").question
    assert read_content("¿puedes revisar esto").question
    assert read_content("資料を送ってください").request
    p = shipped.prioritise(incoming("1", "yui", "明日の会議に来られますか？", is_direct=True), ctx)
    assert p.needs_reply
    assert "asks you a direct question" in p.reasons


@pytest.mark.parametrize(
    "text",
    [
        "ubuntu 16.04 does not boot after the upgrade",
        "my router is at 192.168.1.1",
        "the iso is 2.5 GB",
        "upgraded from 10.04 to 12.04 by 3.2 kernel",
    ],
)
def test_versions_addresses_and_sizes_are_not_deadlines(shipped: Prioritiser, text: str) -> None:
    assert read_content(text).deadline is None
    p = shipped.prioritise(incoming("1", "erin", text), OwnerContext(owner_names=["sam"]))
    assert not any(r.startswith("mentions a deadline") for r in p.reasons)


def test_a_real_deadline_needs_a_reply_and_says_when(shipped: Prioritiser) -> None:
    ctx = OwnerContext(owner_names=["sam"])
    for p in (shipped, HeuristicPrioritiser()):
        priority = p.prioritise(
            incoming("1", "erin", "can you update the launch checklist by tuesday?"), ctx
        )
        assert priority.needs_reply
        assert "mentions a deadline by tuesday" in priority.reasons
    assert read_content("please send it by 31/12").deadline == "by 31/12"
    assert read_content("due march 3rd").deadline == "due march 3rd"


def test_reasons_never_contradict_each_other(shipped: Prioritiser) -> None:
    # sam answered carol once in three, zed never: the answer-rate features have something to say
    history = [
        message("c1", "carol", "sam: got a minute?", minutes=0),
        message("s1", "sam", "sure", minutes=1, reply_to="c1"),
        message("c2", "carol", "sam: and the report?", minutes=60),
        message("c3", "carol", "sam: ping", minutes=120),
        *(message(f"z{i}", "zed", f"sam: look at this {i}", minutes=200 + i) for i in range(5)),
    ]
    ctx = OwnerContext.from_history(
        [stored(m) for m in history], ["sam"], vips=["carol"], topics=["invoice"]
    )
    assert ctx.sender("zed") is not None
    texts = [
        "thanks!",
        "thanks, can you send me the invoice?",
        "sam: thanks for the help, I'm off",
        "lol ok",
        "bob: try sudo apt-get install foo",
        "sam: please review the invoice by friday",
        "can someone help me with grub?",
        "明日の会議に来られますか？",
    ]
    for i, (text, sender, direct) in enumerate(
        itertools.product(texts, ["carol", "zed"], [False, True])
    ):
        for p in (shipped, HeuristicPrioritiser()):
            msg = incoming(f"n{i}", sender, text, is_direct=direct, minutes=300)
            reasons = p.prioritise(msg, ctx).reasons
            assert 1 <= len(reasons) <= 3
            for a, b in itertools.combinations(reasons, 2):
                assert frozenset({a, b}) not in _CONFLICTS, (text, reasons)
            assert sum(r.startswith(_ANSWER_RATE) for r in reasons) <= 1, reasons


def test_one_not_important_tap_on_a_vip_lowers_but_does_not_bury(shipped: Prioritiser) -> None:
    ctx = OwnerContext(owner_names=["sam"])
    ctx.apply_onboarding(OnboardingAnswers(vips=("zed",), topics=("invoice",)))
    first = incoming("1", "zed", "the invoice for march is attached", is_direct=True)
    after = incoming("2", "zed", "the invoice for april is attached", is_direct=True)
    stranger = incoming("3", "yan", "the invoice for april is attached", is_direct=True)
    before = shipped.prioritise(after, ctx).score
    stranger_before = shipped.prioritise(stranger, ctx).score
    assert before > 0.8

    shipped.prioritise(first, ctx)
    shipped.observe_label(first, Label.NOT_IMPORTANT, ctx)
    lowered = shipped.prioritise(after, ctx).score
    assert lowered < before  # the tap is evidence...
    assert _logit(before) - _logit(lowered) <= 1.0 + 1e-9  # ...not a verdict
    assert lowered > 0.5
    assert lowered > shipped.prioritise(stranger, ctx).score  # the VIP still outranks
    assert shipped.weights["vip"] > 2.4 and shipped.weights["topic"] > 0.9
    effect = shipped.tap_effect(shipped.features(after, ctx))
    assert effect is not None and effect.shift < 0
    assert effect.reason == (
        "ranked lower because you marked zed's message about invoice not important"
    )
    assert stranger_before > 0


def test_undo_takes_the_tap_back(shipped: Prioritiser) -> None:
    ctx = OwnerContext(owner_names=["sam"], vips=["zed"])
    tapped = incoming("1", "zed", "lunch on friday?", is_direct=True)
    probe = incoming("2", "zed", "lunch on monday?", is_direct=True)
    before = shipped.prioritise(probe, ctx).score
    shipped.prioritise(tapped, ctx)
    shipped.observe_label(tapped, Label.NOT_IMPORTANT, ctx)
    assert shipped.prioritise(probe, ctx).score < before
    again = Prioritiser.from_bytes(shipped.to_bytes())  # the tap survives a restart
    assert again.undo_tap("1")
    assert again.prioritise(probe, ctx).score == pytest.approx(before, abs=1e-9)
    assert again.tap_effect(again.features(probe, ctx)) is None
    assert not again.undo_tap("1")  # only once


@pytest.mark.parametrize(
    "text",
    ["sorry, can't today", "can't make it tomorrow, swamped", "would've been nice", "can’t today"],
)
def test_a_contracted_auxiliary_opens_a_statement_not_a_question(
    shipped: Prioritiser, text: str
) -> None:
    assert not read_content(text).question
    ctx = OwnerContext(owner_names=["sam"])
    for p in (shipped, HeuristicPrioritiser()):
        priority = p.prioritise(incoming("1", "erin", text, is_direct=True), ctx)
        assert "asks you a direct question" not in priority.reasons
        assert "asks a question" not in priority.reasons


@pytest.mark.parametrize(
    "text", ["can't you just reboot it", "didn't you get my email", "can you review my PR"]
)
def test_a_negative_question_is_still_a_question(text: str) -> None:
    assert read_content(text).question
