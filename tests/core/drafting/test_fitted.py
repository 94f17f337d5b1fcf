"""Fit-first drafting: ranked by fit, offered only above the gate, spread over different acts."""

from __future__ import annotations

import numpy as np
import pytest

from core.drafting.fit import ReplyFit
from core.drafting.intents import normalise
from core.drafting.retrieval import (
    FIT_BAND,
    ExemplarIndex,
    RetrievalDrafter,
    _order,
    _Pick,
    _voiced,
)
from core.drafting.style import SurfaceStyleScorer
from core.engines.embedding import HashingEmbedder
from tests.core.drafting.test_fit import toy_weights
from tests.core.drafting.test_retrieval import pair

EMBEDDER = HashingEmbedder(dim=128)


PAIRS = [
    pair(1, "is the printer working again?", "printer works, cups needed a restart"),
    pair(2, "my wifi keeps dropping", "wifi drops are the broadcom driver, install bcmwl"),
    pair(3, "lol that meeting was wild", "haha yes"),
    pair(4, "thanks for the help yesterday", "np!"),
    pair(5, "can you review my PR today?", "bob: sure, after lunch", sender="bob"),
    pair(6, "grub does not boot", "reinstall grub from a live usb"),
]


def build() -> ExemplarIndex:
    return ExemplarIndex.build(
        PAIRS,
        EMBEDDER.encode([p.incoming_text for p in PAIRS]),
        reply_vectors=EMBEDDER.encode([p.reply_text for p in PAIRS]),
    )


def draft(text: str, fit: ReplyFit, index: ExemplarIndex | None = None, options: int = 3):  # type: ignore[no-untyped-def]
    return RetrievalDrafter(max_options=options).draft_fitted(
        index if index is not None else build(),
        text=text,
        sender="carol",
        query=EMBEDDER.encode([text])[0],
        fit=fit,
        style=SurfaceStyleScorer.fit([p.reply_text for p in PAIRS]),
        encode=EMBEDDER.encode,
    )


def test_the_reply_that_answers_comes_first_with_its_meters() -> None:
    result = draft("my wifi keeps dropping out, any fix?", ReplyFit.unadapted(toy_weights()))
    assert result.best is not None and "bcmwl" in result.best.text
    assert result.offered and result.options[0] == result.best
    assert all(o.fit is not None and 0 <= o.fit <= 100 for o in result.options)
    assert result.closest is not None and result.closest.reply_id == "re2"


def test_the_gate_offers_fewer_options_when_fewer_fit() -> None:
    weights = toy_weights()
    coef = ReplyFit.unadapted(weights).coef
    text = "my wifi keeps dropping out, any fix?"
    many = draft(text, ReplyFit(weights=weights, coef=coef, threshold=0.05))
    assert len(many.options) == 3
    fits = sorted((o.fit or 0 for o in many.options), reverse=True)
    assert fits[0] > fits[1], "the toy model separates the answer from the rest"
    between = (fits[0] + fits[1]) / 200
    few = draft(text, ReplyFit(weights=weights, coef=coef, threshold=between))
    assert len(few.options) == 1 < len(many.options)
    assert all((o.fit or 0) / 100 >= between for o in few.options)
    assert few.best == many.best, "the best candidate does not depend on the gate"


def test_nothing_fits_offers_nothing_but_keeps_the_best_and_the_closest_exchange() -> None:
    weights = toy_weights()
    never = ReplyFit(weights=weights, coef=ReplyFit.unadapted(weights).coef, threshold=1.01)
    result = draft("the quarterly budget numbers for the board deck", never)
    assert not result.offered and result.options == ()
    assert result.best is not None and result.closest is not None


def test_replies_are_re_addressed_and_rejected_ones_never_return() -> None:
    fit = ReplyFit(
        weights=toy_weights(), coef=ReplyFit.unadapted(toy_weights()).coef, threshold=0.0
    )
    first = draft("can you review my PR today?", fit, options=8)
    texts = [o.text for o in first.options]
    assert "carol: sure, after lunch" in texts and "bob: sure, after lunch" not in texts
    assert "sure, after lunch" not in texts, "the stock phrase is the same answer"
    again = RetrievalDrafter(max_options=8).draft_fitted(
        build(),
        text="can you review my PR today?",
        sender="carol",
        query=EMBEDDER.encode(["can you review my PR today?"])[0],
        fit=fit,
        style=SurfaceStyleScorer.fit(["x"]),
        exclude=frozenset(texts),
    )
    assert not set(texts) & {o.text for o in again.options}


def test_an_empty_index_drafts_nothing() -> None:
    empty = ExemplarIndex.build([], EMBEDDER.encode([]))
    result = draft("hello?", ReplyFit.unadapted(toy_weights()), empty)
    assert result.best is None and not result.offered and result.closest is None


def _picks(*texts: str) -> list[_Pick]:
    return [_Pick(t, 0.0, "", str(n), None, t) for n, t in enumerate(texts)]


def test_within_the_fit_band_the_reply_with_more_of_the_owners_words_comes_first() -> None:
    picks = _picks("bob: how?", "bob: that card needs the firmware from linux-firmware")
    style = {0: 100, 1: 40}  # the meter prefers the generic one: it does not decide here
    close = np.array([0.80, 0.80 - (FIT_BAND - 1) / 100])
    assert _voiced(picks, [0, 1], close, style, {}) == [1, 0]
    apart = np.array([0.80, 0.80 - (FIT_BAND + 1) / 100])
    assert _voiced(picks, [0, 1], apart, style, {}) == [0, 1], "fit first outside the band"
    assert _voiced(picks, [0, 1], close, style, {normalise(picks[1].text): 1}) == [0, 1]


def test_the_consensus_discounts_what_the_owner_says_to_every_message() -> None:
    # Every reply of the owner shares a direction (their centroid); the hub is nothing else.
    dim = 6
    hub = np.eye(dim)[0]
    specific = [0.6 * np.eye(dim)[0] + 0.8 * np.eye(dim)[k] for k in range(1, 5)]
    matrix = np.stack([hub, *specific]).astype(np.float32)
    picks = _picks("what version?", *(f"answer {k}" for k in range(4)))
    probability = np.full(len(picks), 0.8)
    _, plain = _order(picks, probability, matrix, {})
    assert plain[0] == 0, "plain agreement favours the reply central to all of them"
    rank_by, discounted = _order(picks, probability, matrix, {}, np.eye(dim)[0])
    assert discounted[0] != 0 and discounted[-1] == 0
    assert rank_by[discounted[0]] == pytest.approx(0.8), "on the fit scale"
