"""Fit-first drafting: ranked by fit, offered only above the gate, spread over different acts."""

from __future__ import annotations

from core.drafting.fit import ReplyFit
from core.drafting.retrieval import ExemplarIndex, RetrievalDrafter
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
