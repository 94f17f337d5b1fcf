from __future__ import annotations

from core.drafting.acts import rule_act
from core.drafting.intents import Phrasebook
from core.drafting.shaping import Candidate, shape
from core.profiling import classify_intent

BOOK = Phrasebook.mine(
    [
        "sure, happy to",
        "sure, happy to",
        "sorry, I can't this time",
        "np!",
        "np!",
        "haha true",
        "let me check and get back to you",
        "let me check and get back to you",
        "hey!",
        "where?",
        "which pr?",
    ]
)


def cand(text: str, fit: float) -> Candidate:
    return Candidate(text=text, fit=fit, act=rule_act(text), intent=classify_intent(text))


def card(message: str, candidates: list[Candidate], threshold: float = 0.5) -> list[str]:
    return [
        f"{o.slot.kind}:{o.text}"
        for o in shape(rule_act(message), message, candidates, BOOK, threshold=threshold)
    ]


def test_a_request_gets_yes_not_now_and_a_question_only_about_what_is_open() -> None:
    found = [cand("yep, will look after lunch", 0.9), cand("where?", 0.8)]
    assert card("can you review my PR today?", found) == [
        "yes:yep, will look after lunch",
        "not_now:sorry, I can't this time",
        "ask_details:which pr?",  # the owner's "where?" asks nothing this message leaves open
    ]
    assert card("need the Q3 budget numbers by Friday 5pm, can you send them over?", found) == [
        "yes:yep, will look after lunch",
        "not_now:sorry, I can't this time",
    ]


def test_thanks_gets_the_owners_acknowledgement_and_nothing_else() -> None:
    found = [cand("yep, which branch is it on?", 0.7), cand("np, anytime", 0.6)]
    assert card("thanks for your help yesterday 🙏", found) == ["acknowledge:np, anytime"]
    assert card("thanks for your help yesterday 🙏", found[:1]) == ["acknowledge:np!"]


def test_a_joke_gets_a_reaction() -> None:
    found = [cand("yep! 12:30?", 0.55), cand("lol right", 0.52)]
    assert card("lol that meeting was wild today", found) == ["react:lol right"]
    assert card("lol that meeting was wild today", found[:1]) == ["react:haha true"]


def test_an_open_question_gets_a_real_answer_if_one_fits_else_a_holding_reply() -> None:
    answer = cand("df -h shows it per filesystem", 0.8)
    assert card("what is the command to see disk usage?", [answer]) == [
        "answer:df -h shows it per filesystem",
        "hold:let me check and get back to you",
    ]
    weak = cand("lshw -C network", 0.2)  # below the threshold: not offered
    assert card("what is the command to see disk usage?", [weak]) == [
        "hold:let me check and get back to you"
    ]


def test_nothing_that_does_not_fit_and_nothing_already_shown() -> None:
    empty = Phrasebook.mine([])
    assert shape("thanks", "thanks!", [], empty, threshold=0.5) == []
    out = shape(
        "request",
        "can you review my PR today?",
        [cand("sure, happy to", 0.9)],
        BOOK,
        threshold=0.5,
        avoid=["Sure, happy to!"],
    )
    assert [o.text for o in out] == ["sorry, I can't this time", "which pr?"]
    assert out[0].source == "phrasebook" and out[0].fit is None and out[0].count == 1
    assert len(shape("greeting", "morning!", [], BOOK, threshold=0.5, max_options=0)) == 0


def test_a_yes_is_the_one_the_owner_gives_to_that_kind_of_message() -> None:
    # "on it" accepted tasks, "see you there" invitations: a lunch invitation gets the latter,
    # however much more often the owner wrote "on it".
    book = Phrasebook.mine(
        ["on it"] * 6 + ["see you there"] * 2 + ["sorry, can't today"],
        pairs=[("can you send the deck?", "on it")] * 6
        + [("want to grab lunch at 12:30?", "see you there")] * 2
        + [("can you look at the logs?", "sorry, can't today")],
    )
    lunch = shape(rule_act("lunch tomorrow?"), "lunch tomorrow?", [], book, threshold=0.5)
    assert [o.text for o in lunch if o.slot.kind == "yes"] == ["see you there"]
    task = "can you send the numbers by 5pm?"
    # "sorry, can't today" is a decline (no subject, as chat writes it): the "not now"
    assert [o.text for o in shape(rule_act(task), task, [], book, threshold=0.5)] == [
        "on it",
        "sorry, can't today",
    ]


def test_no_second_question_about_what_an_option_already_asks() -> None:
    found = [cand("sure - which pr?", 0.9), cand("which pr is it?", 0.8)]
    assert card("can you review my PR today?", found) == [
        "yes:sure - which pr?",
        "not_now:sorry, I can't this time",
    ]


def test_an_acknowledgement_is_not_a_yes_to_something_else() -> None:
    # the owner's "ty! on it" followed answers to their own questions: no reply to an apology
    book = Phrasebook.mine(
        ["ty! on it"] * 4 + ["no worries"],
        pairs=[("it's on feat/retries, sorry!", "ty! on it")] * 4 + [("sorry, late", "no worries")],
    )
    assert [o.text for o in shape("apology", "sorry, can't today", [], book, threshold=0.5)] == [
        "no worries"
    ]


def test_a_stock_yes_asks_back_only_about_what_the_message_leaves_open() -> None:
    book = Phrasebook.mine(
        ["yep, which branch is it on?"] * 3 + ["sure"],
        pairs=[("can you check my PR?", "yep, which branch is it on?")] * 3
        + [("can you send the slides?", "sure")],
    )
    said_it_all = "need the Q3 budget numbers by Friday 5pm, can you send them over?"
    assert [o.text for o in shape("request", said_it_all, [], book, threshold=0.5)] == ["sure"]
    vague = "can you review my PR today?"
    yes = [o.text for o in shape("request", vague, [], book, threshold=0.5)][:1]
    assert yes == ["yep, which branch is it on?"]


def test_more_help_after_thanks_is_not_the_owners_way_to_acknowledge() -> None:
    # IRC: "thanks" and the helper goes on helping; that is no "np"
    book = Phrasebook.mine(
        [],
        pairs=[("thanks, that fixed it", "uninstall network-manager maybe")] * 3
        + [("thanks!", "np, glad it helped")],
    )
    assert [o.text for o in shape("thanks", "thanks, that fixed it", [], book, threshold=0.5)] == [
        "np, glad it helped"
    ]
