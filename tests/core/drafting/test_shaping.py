from __future__ import annotations

from core.drafting.acts import Act, rule_act
from core.drafting.intents import Phrasebook, asks_unmentioned, holds, yes_no_answer
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


def cand(text: str, fit: float, answered: frozenset[Act] = frozenset()) -> Candidate:
    return Candidate(
        text=text, fit=fit, act=rule_act(text), intent=classify_intent(text), answered=answered
    )


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


def test_a_question_about_the_owners_life_gets_their_answer_or_nothing() -> None:
    # a decline sharing the question's words is no answer, and "let me check" would be absurd
    sharing = [cand("can't this sunday tbh, wiped - next one?", 0.9)]
    assert card("how was the hike on sunday?", sharing) == []
    answer = cand("so good, legs are dead though", 0.8)
    assert card("how was the hike on sunday?", [*sharing, answer]) == [
        "answer:so good, legs are dead though"
    ]
    # a question about facts still gets the owner's holding reply
    assert card("who owns the payments service now?", sharing) == [
        "hold:let me check and get back to you"
    ]


def test_an_instruction_answers_a_question() -> None:
    found = [cand("run it from a terminal with --verbose", 0.8)]
    assert card("how do I see why the import fails?", found)[0] == (
        "answer:run it from a terminal with --verbose"
    )


def test_a_reply_opening_with_thanks_or_taking_on_a_task_is_no_hold() -> None:
    assert holds("let me check with ops") and holds("one sec, looking")
    assert not holds("thanks, I'll check it later")
    assert not holds("ty - will look by 4pm")
    taken_on = [cand("ty - will look by 4pm", 0.9)]
    assert card("when does the office close on friday?", taken_on) == [
        "hold:let me check and get back to you"
    ]


def test_a_question_asked_back_is_no_answer() -> None:
    found = [cand("hm, when?", 0.95), cand("yep! which platform?", 0.9)]
    assert card("when does the train leave?", found) == ["hold:let me check and get back to you"]
    answer = cand("6:15 from platform 2", 0.7)
    assert card("when does the train leave?", [*found, answer])[0] == "answer:6:15 from platform 2"


def test_yes_or_no_with_the_answer_answers_a_yes_no_question() -> None:
    assert yes_no_answer("yep, it's been down since 9") and not yes_no_answer("nope")
    assert not yes_no_answer("yep, can do by 1pm") and not yes_no_answer("yep! what time?")
    found = [cand("sure, can do by 1pm", 0.95), cand("yep, it's been down since 9", 0.8)]
    assert card("is the wiki down again?", found)[0] == "answer:yep, it's been down since 9"


def test_no_question_back_about_a_thing_the_request_never_mentions() -> None:
    assert asks_unmentioned("yep, which branch is it on?", "can you send me the invoice?")
    assert not asks_unmentioned("yep, which branch is it on?", "can you look at my pull request?")
    assert not asks_unmentioned("which one?", "can you send me the invoice?")
    book = Phrasebook.mine(
        ["yep, which branch is it on?"] * 4 + ["which invoice?"] * 2 + ["sorry, can't today"],
        pairs=[("can you check my PR?", "yep, which branch is it on?")] * 4
        + [("can you pay the invoice?", "which invoice?")] * 2
        + [("can you look at the logs?", "sorry, can't today")],
    )
    message = "can you forward me the invoice?"
    out = [f"{o.slot.kind}:{o.text}" for o in shape("request", message, [], book, threshold=0.5)]
    assert out == ["not_now:sorry, can't today", "ask_details:which invoice?"]


def test_the_owners_no_to_an_invitation_is_no_no_to_a_task() -> None:
    party = frozenset({"invitation"})
    found = [cand("ahh can't, got plans - next weekend?", 0.9, party)]
    message = "could you proofread my cover letter tonight?"
    assert [c for c in card(message, found) if c.startswith("not_now")] == [
        "not_now:sorry, I can't this time"
    ]
    task = [cand("can't tonight, swamped - tomorrow am?", 0.8, frozenset({"request"}))]
    assert [c for c in card(message, found + task) if c.startswith("not_now")] == [
        "not_now:can't tonight, swamped - tomorrow am?"
    ]
    # and for an invitation it is the owner's kind of no
    assert "not_now:ahh can't, got plans - next weekend?" in card(
        "want to come to the lake on saturday?", found
    )


def test_the_owners_plain_yes_is_kept_beside_one_that_asks_back() -> None:
    book = Phrasebook.mine(
        ["yep, which room?"] * 5 + ["sure, see you then"] * 2 + ["ok"] * 9,
        pairs=[("meeting at 3 tomorrow?", "yep, which room?")] * 5
        + [("dinner friday?", "sure, see you then")] * 2
        + [("the build is green", "ok")] * 9,
    )
    message = "dinner at the Blue Door on friday at 7?"  # place and time given: nothing to ask
    yes = [o.text for o in shape("invitation", message, [], book, threshold=0.5)][:1]
    assert yes == ["sure, see you then"]


def test_a_yes_that_asks_what_is_open_can_ask_for_details_beside_a_plain_yes() -> None:
    found = [cand("sgtm, will review by 11am", 0.95), cand("sure - which doc?", 0.9)]
    assert card("could you proofread my doc today?", found) == [
        "yes:sgtm, will review by 11am",
        "not_now:sorry, I can't this time",
        "ask_details:sure - which doc?",
    ]
