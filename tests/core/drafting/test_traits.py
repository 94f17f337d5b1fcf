"""Replies' traits computed once per reply: drafts are identical with and without them.

Each case drafts the same messages from two indexes over the same pairs: one keeps every distinct
reply's act, intent, surface features and style (:mod:`core.drafting.traits`), the other computes
them in each draft as drafting always did. The act model is a random one of the hashing
embedder's dimension (so the learned path runs, not only the rules), the style meter a trained
verifier placed among the owner's replies, as the persona model builds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from core.drafting import acts
from core.drafting.acts import ACTS, SURFACE_FEATURES, ActModel
from core.drafting.fit import ReplyFit, reply_key
from core.drafting.meters import StyleMeter
from core.drafting.retrieval import ExemplarIndex, FittedDraft, RetrievalDrafter
from core.drafting.style import KnownVectors, SurfaceStyleScorer
from core.models import ReplyPair
from core.verifier import StyleVerifier
from tests.core.drafting.test_fit import toy_weights
from tests.core.drafting.test_shaped_drafting import EMBEDDER, T0
from tests.core.drafting.test_shaped_drafting import EXCHANGES as SHAPED

EXCHANGES = [
    *SHAPED,
    ("my wifi keeps dropping", "wifi drops are the broadcom driver: sudo apt install bcmwl"),
    ("grub does not boot", "reinstall grub from a live usb, see /boot/grub/grub.cfg"),
    ("can you review my PR today?", "bob: sure, after lunch"),
    ("is the build green?", "carol: not yet, tests are still running"),
    ("where do I find the config?", "in ~/.config/app/settings.conf"),
    ("any idea why apt fails?", "what does the error say?"),
    ("lunch at noon?", "yes! see you there"),
    ("sorry I missed the meeting", "no worries, I'll send notes"),
    ("morning all", "morning!"),
    ("the update broke my sound", "same here, rolling back the kernel fixed it"),
]
MESSAGES = [
    "can you send me the report by friday?",
    "what is the password for the guest wifi?",
    "thanks, that fixed it",
    "my sound is broken since the update",
    "lol the demo crashed again",
    "is the deploy done?",
    "morning!",
    "the printer keeps jamming, any idea?",
]


def pairs(n: int = len(EXCHANGES), offset: int = 0) -> list[ReplyPair]:
    return [
        ReplyPair(
            persona_id="p",
            incoming_id=f"in{k + offset}",
            incoming_text=incoming,
            incoming_sender="bob" if k % 3 == 0 else "alice",
            reply_id=f"re{k + offset}",
            reply_text=reply,
            replied_at=T0 + timedelta(minutes=k + offset),
        )
        for k, (incoming, reply) in enumerate(EXCHANGES[:n])
    ]


def build(held: Sequence[ReplyPair], *, precompute: bool, **options: int) -> ExemplarIndex:
    return ExemplarIndex.build(
        held,
        EMBEDDER.encode([p.incoming_text for p in held]),
        reply_vectors=EMBEDDER.encode([p.reply_text for p in held]),
        background=False,
        precompute=precompute,
        **options,
    )


@pytest.fixture(autouse=True)
def act_model(monkeypatch: pytest.MonkeyPatch) -> ActModel:
    """A random act model of the hashing embedder's dimension, as if shipped."""
    rng = np.random.default_rng(3)
    width = EMBEDDER.dim + len(SURFACE_FEATURES)
    model = ActModel(
        labels=ACTS,
        coef=rng.standard_normal((len(ACTS), width)).astype(np.float32),
        intercept=np.zeros(len(ACTS), dtype=np.float32),
        mean=np.zeros(len(SURFACE_FEATURES), dtype=np.float32),
        scale=np.ones(len(SURFACE_FEATURES), dtype=np.float32),
        dim=EMBEDDER.dim,
    )
    monkeypatch.setitem(acts._model_cache, "shipped", model)
    return model


def meter(index: ExemplarIndex, seed: int = 0) -> StyleMeter:
    """A trained verifier placed among the owner's replies (as core.app.models builds it)."""
    owner = [reply for _, reply in EXCHANGES] + [f"ok, {w} done" for w in ("that", "this", "it")]
    others = [f"Greetings. The {w} has been processed." for w in ("file", "job", "task", "run")]
    others += ["Please find attached.", "Kind regards, the team.", "I Will Review It Tomorrow."]
    verifier = StyleVerifier.fit(
        owner, others, embedder=KnownVectors(EMBEDDER, index.reply_vectors), seed=seed
    )
    return StyleMeter.calibrate(verifier, [p.reply_text for p in index.pairs])


def drafts(index: ExemplarIndex, style: object, threshold: float = 0.0) -> list[FittedDraft]:
    # every surface feature counts (the toy model reads shared words only)
    weights = replace(toy_weights(), w=np.array([2.0, 1.0, -0.3, 0.1, 0.2, 0.4, 0.5, 0.6]))
    fit = ReplyFit(weights=weights, coef=ReplyFit.unadapted(weights).coef, threshold=threshold)
    return [
        RetrievalDrafter(max_options=4).draft_fitted(
            index,
            text=text,
            sender="dave",
            query=EMBEDDER.encode([text])[0],
            fit=fit,
            style=style,  # type: ignore[arg-type]
            encode=EMBEDDER.encode,
        )
        for text in MESSAGES
    ]


class Counting:
    """A style scorer that records which texts it was asked to score."""

    def __init__(self, inner: StyleMeter | SurfaceStyleScorer) -> None:
        self.inner = inner
        self.asked: list[str] = []

    def score(self, texts: Sequence[str]) -> list[int]:
        self.asked += texts
        return self.inner.score(texts)


def test_drafts_are_identical_with_and_without_the_replies_traits() -> None:
    kept, computed = build(pairs(), precompute=True), build(pairs(), precompute=False)
    style = Counting(meter(kept))
    kept.follow_style(style)
    assert len(kept.traits) == len(kept.reply_vectors.store) and not kept.traits.missing()
    assert computed.traits.missing(), "the other index computes everything in each draft"
    for threshold in (0.0, 0.55):
        with_traits, without = drafts(kept, style, threshold), drafts(computed, style, threshold)
        assert with_traits == without
        assert any(r.offered for r in with_traits) and any(
            o.act for r in with_traits for o in r.ranked
        )
    style.asked.clear()
    drafts(kept, style)
    assert not style.asked, "the owner's replies and stock phrases are scored once, not per draft"


def test_live_replies_get_their_traits_and_drafts_stay_identical() -> None:
    kept, computed = build(pairs(20), precompute=True), build(pairs(20), precompute=False)
    style = Counting(meter(kept))
    kept.follow_style(style)
    for index in (kept, computed):
        assert index.extend(
            pairs(),
            EMBEDDER.encode([p.incoming_text for p in pairs()]),
            EMBEDDER.encode([p.reply_text for p in pairs()]),
        )
    assert len(kept.traits) == len(kept.reply_vectors.store) and not kept.traits.missing()
    assert drafts(kept, style) == drafts(computed, style)


def test_a_new_scorer_is_used_at_once_and_its_column_only_once_computed_for_it() -> None:
    kept, computed = build(pairs(), precompute=True), build(pairs(), precompute=False)
    old = Counting(meter(kept, seed=0))
    kept.follow_style(old)
    new = Counting(SurfaceStyleScorer.fit(["Hello there.", "Good morning, everyone."]))
    replies = {p.reply_text for p in kept.pairs}
    # Not followed yet: the new scorer scores each draft itself (never the old one's column).
    first = drafts(kept, new)
    assert replies & set(new.asked)
    assert first == drafts(computed, new)
    kept.follow_style(new)
    new.asked.clear()
    again = drafts(kept, new)
    assert not replies & set(new.asked)
    assert again == first
    # and the old scorer, should a draft still hold it, is scored as itself
    assert drafts(kept, old) == drafts(computed, old)


def test_traits_follow_the_vectors_when_the_store_rounds_them_to_int8() -> None:
    held = pairs(18)
    options = {"approximate_from": 18}
    kept = build(held, precompute=True, **options)
    computed = build(held, precompute=False, **options)
    assert kept.reply_vectors.store.generation == 0, "distinct replies below the graph's size"
    style = SurfaceStyleScorer.fit([r for _, r in EXCHANGES])
    kept.follow_style(style)
    for index in (kept, computed):  # the 18th distinct reply: the graph replaces the rows
        assert index.extend(
            pairs(),
            EMBEDDER.encode([p.incoming_text for p in pairs()]),
            EMBEDDER.encode([p.reply_text for p in pairs()]),
        )
    assert kept.reply_vectors.store.generation == 1 and not kept.traits.missing()
    assert drafts(kept, style) == drafts(computed, style)


def test_traits_add_a_few_bytes_per_distinct_reply() -> None:
    index = build(pairs(), precompute=True)
    index.follow_style(SurfaceStyleScorer.fit(["x"]))
    assert index.traits.nbytes <= 16 * max(16, 2 * len(index.reply_vectors.store))


def test_precedents_of_frequent_replies_read_from_kept_rows_are_the_same() -> None:
    thanks = [f"thanks for the help with the {w}" for w in "abcdefghijkl"]
    held = pairs() + [
        ReplyPair(
            persona_id="p",
            incoming_id=f"t{k}",
            incoming_text=text,
            incoming_sender="alice",
            reply_id=f"rt{k}",
            reply_text="np!",
            replied_at=T0 + timedelta(hours=k),
        )
        for k, text in enumerate(thanks)
    ]
    index = build(held, precompute=True, approximate_from=8)
    assert index.vectors.approximate, "the incoming side is in a graph"
    query = EMBEDDER.encode(["thanks a lot for the help"])[0]
    replies = ["np!", "carol: NP!", "let me check", "never said"]

    def direct() -> list[float]:
        """As precedents read them before: every group's rows in one similarity (one product:
        a row's value may differ in its last bits when the rows around it differ)."""
        keys = [reply_key(index.pairs.reply_text(p)) for p in range(len(index.pairs))]
        groups = [[p for p, key in enumerate(keys) if key == reply_key(r)] for r in replies]
        values = index.vectors.similarity(query, [p for group in groups for p in group])
        out, start = [], 0
        for group in groups:
            out.append(max(values[start : start + len(group)]) if group else 0.0)
            start += len(group)
        return out

    first = index.precedents(query, replies)
    assert index._groups._cache, "the rows of the frequent reply are kept"
    assert first.tolist() == index.precedents(query, replies).tolist() == direct()
    index.add(  # the owner answers this very message with "np!": its rows are read again
        replace(held[-1], incoming_id="t-new", incoming_text="thanks a lot for the help"),
        query,
        EMBEDDER.encode(["np!"])[0],
    )
    assert index.precedents(query, replies).tolist() == direct()
    assert index.precedents(query, replies)[0] > first[0]


def test_stock_phrases_are_scored_once_for_the_followed_scorer_only() -> None:
    index = build(pairs(), precompute=True)
    followed = Counting(SurfaceStyleScorer.fit([r for _, r in EXCHANGES]))
    other = Counting(SurfaceStyleScorer.fit(["Hello there.", "Good morning, everyone."]))
    index.follow_style(followed)
    followed.asked.clear()
    phrase = ["see you at the thing"]  # no reply row: a stock phrase
    first = index.traits.styles(followed, [None], phrase)
    assert index.traits.styles(followed, [None], phrase) == first == followed.inner.score(phrase)
    assert followed.asked == phrase
    for _ in range(2):
        assert index.traits.styles(other, [None], phrase) == other.inner.score(phrase)
    assert other.asked == phrase * 2, "a scorer not followed scores each time"
