"""Fit-first drafting shaped by the message's dialogue act (rule-based acts: hashing vectors)."""

from __future__ import annotations

from datetime import UTC, datetime

from core.drafting.fit import ReplyFit
from core.drafting.intents import asks_about
from core.drafting.retrieval import ExemplarIndex, FittedDraft, RetrievalDrafter
from core.drafting.style import SurfaceStyleScorer
from core.engines.embedding import HashingEmbedder
from core.models import ReplyPair
from core.profiling.intents import classify_intent
from tests.core.drafting.test_fit import toy_weights

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
EMBEDDER = HashingEmbedder(dim=128)

EXCHANGES = [
    ("can you send the slides?", "sure, will do"),
    ("can you cover my shift tomorrow?", "sure, will do"),
    ("could you check the deploy?", "sure, on it"),
    ("can you join the call at 3?", "sorry, I can't today"),
    ("can you look at the logs?", "sorry, I can't today"),
    ("can you take a look at my doc?", "which one?"),
    ("can you fix the thing?", "which one?"),
    ("thanks for the help yesterday", "np!"),
    ("thank you so much for covering", "np!"),
    ("thanks a lot", "anytime"),
    ("lol that demo was a disaster", "haha yes"),
    ("haha did you see the cat on the call", "haha yes"),
    ("when is the release?", "let me check"),
    ("what time is the standup?", "let me check"),
    ("what is the wifi password?", "it's on the fridge"),
    ("the printer is broken again", "restart it, that usually fixes it"),
]
PAIRS = [
    ReplyPair(
        persona_id="p",
        incoming_id=f"in{n}",
        incoming_text=incoming,
        incoming_sender="alice",
        reply_id=f"re{n}",
        reply_text=reply,
        replied_at=T0,
    )
    for n, (incoming, reply) in enumerate(EXCHANGES)
]


def build() -> ExemplarIndex:
    return ExemplarIndex.build(
        PAIRS,
        EMBEDDER.encode([p.incoming_text for p in PAIRS]),
        reply_vectors=EMBEDDER.encode([p.reply_text for p in PAIRS]),
    )


def draft(text: str, threshold: float = 0.0) -> FittedDraft:
    weights = toy_weights()
    fit = ReplyFit(weights=weights, coef=ReplyFit.unadapted(weights).coef, threshold=threshold)
    return RetrievalDrafter().draft_fitted(
        build(),
        text=text,
        sender="bob",
        query=EMBEDDER.encode([text])[0],
        fit=fit,
        style=SurfaceStyleScorer.fit([p.reply_text for p in PAIRS]),
        encode=EMBEDDER.encode,
    )


def texts(result: FittedDraft) -> list[str]:
    return [o.text for o in result.options]


def test_a_request_that_says_it_all_gets_yes_and_not_now_and_no_question_back() -> None:
    result = draft("need the Q3 budget numbers by Friday 5pm, can you send them over?")
    intents = [classify_intent(t) for t in texts(result)]
    assert intents[:2] == ["accept", "decline"], texts(result)
    assert not any(asks_about(t) for t in texts(result)), "nothing is left open to ask about"


def test_a_request_that_leaves_something_open_may_ask_about_it() -> None:
    result = draft("can you review my PR?")
    assert [classify_intent(t) for t in texts(result)][:2] == ["accept", "decline"]
    assert "which one?" in texts(result)


def test_thanks_get_the_owners_acknowledgement_only() -> None:
    result = draft("thanks for your help yesterday, really appreciated it")
    assert len(result.options) == 1 and texts(result)[0] in ("np!", "anytime")
    assert result.options[0].act in ("acknowledgement", "thanks")


def test_a_joke_gets_a_reaction_only() -> None:
    result = draft("lol that meeting was wild today")
    assert texts(result) == ["haha yes"]


def test_an_open_question_nothing_answers_gets_the_owners_holding_reply() -> None:
    result = draft("what is the budget for the offsite?", threshold=1.01)
    assert result.offered and texts(result) == ["let me check"]
    assert result.best is not None, "the best candidate is still known for evaluation"


def test_every_option_carries_its_act() -> None:
    for text in ("can you review my PR?", "what is the wifi password?", "thanks a lot"):
        result = draft(text)
        assert result.options and all(o.act is not None for o in result.options), text


def test_thanks_gets_an_acknowledgement_or_nothing_never_more_help() -> None:
    # An owner who never acknowledged thanks: their answers to questions, however well they
    # pass the gate, are not offered after "thanks, that fixed it".
    pairs = [p for p in PAIRS if "thank" not in p.incoming_text]
    index = ExemplarIndex.build(
        pairs,
        EMBEDDER.encode([p.incoming_text for p in pairs]),
        reply_vectors=EMBEDDER.encode([p.reply_text for p in pairs]),
    )
    weights = toy_weights()
    fit = ReplyFit(weights=weights, coef=ReplyFit.unadapted(weights).coef, threshold=0.0)
    text = "thanks, that fixed it"
    result = RetrievalDrafter().draft_fitted(
        index,
        text=text,
        sender="bob",
        query=EMBEDDER.encode([text])[0],
        fit=fit,
        style=SurfaceStyleScorer.fit([p.reply_text for p in pairs]),
        encode=EMBEDDER.encode,
    )
    assert result.options == () and not result.offered
    assert result.closest is not None  # chat shows the closest real exchange, said so
    # a question still gets the answers that pass the gate
    assert texts(draft("what is the wifi password?"))


def test_a_question_about_the_owners_life_gets_answers_only_never_a_hold_or_a_no() -> None:
    result = draft("how was your trip to the coast?")
    assert "let me check" not in texts(result)
    assert not {classify_intent(t) for t in texts(result)} & {"accept", "decline", "defer"}
    assert result.best is not None, "the best candidate is still known for evaluation"
