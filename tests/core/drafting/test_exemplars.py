"""The exemplar index at scale: pairs by column, reply vectors by text, the same answers whether
searched exactly or through the graphs, and exemplars added and removed while running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from core.drafting.columns import PairColumns
from core.drafting.exemplars import ExemplarIndex, tokens
from core.drafting.fit import ReplyFit
from core.drafting.retrieval import RetrievalDrafter
from core.drafting.style import SurfaceStyleScorer
from core.engines.embedding import HashingEmbedder
from core.models import ReplyPair
from tests.core.drafting.test_fit import toy_weights

EMBEDDER = HashingEmbedder(dim=128)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TOPICS = [
    ("is the printer working again?", "printer works, cups needed a restart"),
    ("my wifi keeps dropping", "wifi drops are the broadcom driver, install bcmwl"),
    ("lol that meeting was wild", "haha yes"),
    ("thanks for the help yesterday", "np!"),
    ("can you review my PR today?", "sure, after lunch"),
    ("grub does not boot", "reinstall grub from a live usb"),
    ("how do I see disk usage?", "df -h, or ncdu for a tree"),
    ("sound stopped after the update", "pulseaudio -k then log in again"),
]


def pairs(n: int, *, twins: bool = True) -> list[ReplyPair]:
    """``n`` distinct pairs over a few topics (every incoming text differs, replies repeat by
    topic; with ``twins``, every third reply gets a number, a near-twin of the others)."""
    out = []
    for k in range(n):
        incoming, reply = TOPICS[k % len(TOPICS)]
        out.append(
            ReplyPair(
                persona_id="p",
                incoming_id=f"in{k}",
                incoming_text=f"{incoming} ({k})",
                incoming_sender=f"user{k % 7}",
                reply_id=f"re{k}",
                reply_text=reply if k % 3 or not twins else f"{reply} #{k}",
                replied_at=T0 + timedelta(minutes=k),
                latency_s=float(k) if k % 2 else None,
            )
        )
    return out


def build(items: list[ReplyPair], **options: object) -> ExemplarIndex:
    return ExemplarIndex.build(
        items,
        EMBEDDER.encode([p.incoming_text for p in items]),
        reply_vectors=EMBEDDER.encode([p.reply_text for p in items]),
        **options,  # type: ignore[arg-type]
    )


def test_columns_give_back_the_pairs_they_were_given() -> None:
    items = [
        *pairs(50),
        ReplyPair(
            persona_id="p",
            incoming_id="x",
            incoming_text="日本語のメッセージ？ 🙏 \x00 and a \udcff surrogate",
            incoming_sender="",
            reply_id="y",
            reply_text="",
            replied_at=datetime(2001, 2, 3, 4, 5, 6, 789, tzinfo=UTC),
        ),
    ]
    columns = PairColumns(items)
    assert list(columns) == items and columns[-1] == items[-1] and columns[3:5] == items[3:5]
    assert columns.reply_text(7) == items[7].reply_text and columns.sender(2) == "user2"
    naive = PairColumns([ReplyPair(**{**_fields(items[0]), "replied_at": datetime(2020, 1, 1)})])
    assert naive[0].replied_at == datetime(2020, 1, 1)
    assert columns.nbytes < sum(len(p.incoming_text) + len(p.reply_text) for p in items) + 80 * 51


def _fields(pair: ReplyPair) -> dict[str, object]:
    return {name: getattr(pair, name) for name in ReplyPair.__slots__}


def test_reply_vectors_by_text_once_per_distinct_reply() -> None:
    items = pairs(40)
    index = build(items)
    distinct = {p.reply_text for p in items}
    assert len(index.reply_vectors) == len(distinct)
    text = items[5].reply_text
    assert text in index.reply_vectors and "never said" not in index.reply_vectors
    assert np.allclose(index.reply_vectors[text], EMBEDDER.encode([text])[0])
    assert index.reply_vectors.get("never said") is None
    index.reply_vectors["a stock phrase"] = EMBEDDER.encode(["a stock phrase"])[0]
    assert "a stock phrase" in index.reply_vectors
    many = index.reply_vectors.many([text, "a stock phrase", "never said"])
    assert sorted(many) == sorted([text, "a stock phrase"])
    assert np.allclose(many[text], index.reply_vectors[text])
    texts, matrix, positions = index.replies()
    assert sorted(texts) == sorted(distinct) and matrix.shape == (len(distinct), 128)
    # the newest pair of each text answers for it
    assert all(items[p].reply_text == t for t, p in zip(texts, positions, strict=True))
    assert positions[texts.index(items[1].reply_text)] == max(
        k for k, p in enumerate(items) if p.reply_text == items[1].reply_text
    )
    # the owner's reply centroid: the mean of the distinct replies, stock phrases not counted
    centroid = index.reply_centroid()
    assert centroid is not None
    assert np.allclose(centroid, EMBEDDER.encode(sorted(distinct)).mean(axis=0), atol=1e-6)
    fresh = ReplyPair(**{**_fields(items[0]), "reply_id": "new", "reply_text": "a new answer"})
    index.add(
        fresh, EMBEDDER.encode([fresh.incoming_text])[0], EMBEDDER.encode(["a new answer"])[0]
    )
    grown = EMBEDDER.encode([*sorted(distinct), "a new answer"]).mean(axis=0)
    assert np.allclose(index.reply_centroid(), grown, atol=1e-6), "kept up to date"
    index.remove([len(items)])
    assert np.allclose(index.reply_centroid(), centroid, atol=1e-6), "summed again after removal"
    assert (
        ExemplarIndex.build(
            items, EMBEDDER.encode([p.incoming_text for p in items])
        ).reply_centroid()
        is None
    )


def test_graph_and_exact_search_agree_on_what_they_return() -> None:
    items = pairs(600)
    exact = build(items)
    approximate = build(items, approximate_from=100, background=False)
    assert approximate.vectors.approximate and approximate.reply_vectors.store.approximate
    model = ReplyFit.unadapted(toy_weights())
    for incoming, _ in TOPICS:
        query = EMBEDDER.encode([incoming])[0]
        got = approximate.nearest(query, tokens(incoming), k=5, distinct=True)
        want = exact.nearest(query, tokens(incoming), k=5, distinct=True)
        # The same scores in the same order; which of two near-twins comes first may differ
        # by the int8 rounding (the texts here differ only by a number).
        assert (
            items[got[0][1]].reply_text.split(" #")[0]
            == items[want[0][1]].reply_text.split(" #")[0]
        )
        assert np.allclose([s for s, _ in got], [s for s, _ in want], atol=0.01)
        direction = model.weights.query(query)

        got_fit = fit_scores(items, approximate.by_fit(model, query, 5), direction)
        want_fit = fit_scores(items, exact.by_fit(model, query, 5), direction)
        assert np.allclose(got_fit, want_fit, atol=0.01 * float(np.linalg.norm(direction)))
    assert approximate.nbytes < exact.nbytes


def fit_scores(items: list[ReplyPair], positions: list[int], direction: np.ndarray) -> list[float]:
    texts = [items[p].reply_text for p in positions]
    return [float(v) for v in EMBEDDER.encode(texts) @ direction]


def test_drafts_the_same_through_the_graphs() -> None:
    # No near-twin replies here: which of two twins ranks first may differ by the int8 rounding.
    items = pairs(400, twins=False)
    model_fit = ReplyFit.unadapted(toy_weights())
    style = SurfaceStyleScorer.fit([p.reply_text for p in items])
    drafter = RetrievalDrafter()
    for text in ("wifi keeps dropping again", "can you review it today?", "grub will not boot"):
        cards = []
        for options in ({}, {"approximate_from": 50, "background": False}):
            index = build(items, **options)
            result = drafter.draft_fitted(
                index,
                text=text,
                sender="carol",
                query=EMBEDDER.encode([text])[0],
                fit=model_fit,
                style=style,
                encode=EMBEDDER.encode,
            )
            assert result.best is not None
            cards.append(([o.text for o in result.options], result.best.text, result.best.fit))
        assert cards[0] == cards[1]


def test_exemplars_added_and_removed_while_running() -> None:
    items = pairs(300)
    for options in ({}, {"approximate_from": 100, "background": False}):
        index = build(items, **options)
        new = ReplyPair(
            persona_id="p",
            incoming_id="in-new",
            incoming_text="the bluetooth mouse lags badly",
            incoming_sender="dave",
            reply_id="re-new",
            reply_text="disable usb autosuspend for the dongle",
            replied_at=T0 + timedelta(days=1),
        )
        query = EMBEDDER.encode([new.incoming_text])[0]
        index.add(new, query, EMBEDDER.encode([new.reply_text])[0])
        assert len(index) == 301 and index.pairs[300] == new
        assert index.nearest(query, tokens(new.incoming_text), k=1)[0][1] == 300
        assert new.reply_text in index.reply_vectors
        assert index.precedents(query, [new.reply_text])[0] > 0.99
        index.remove([300])
        assert len(index) == 300
        assert 300 not in [p for _, p in index.nearest(query, tokens(new.incoming_text), k=20)]
        assert index.precedents(query, [new.reply_text])[0] == 0.0
        assert new.reply_text not in index.replies()[0]
        # a reply text still used by a live pair stays, answered for by that pair
        repeated = items[1].reply_text
        users = [k for k, p in enumerate(items) if p.reply_text == repeated]
        index.remove([users[-1]])
        texts, _, positions = index.replies()
        assert positions[texts.index(repeated)] == users[-2]


def test_address_share_counts_as_pairs_arrive() -> None:
    index = build(pairs(10))
    assert index.address_share() == 0.0
    addressed = ReplyPair(**{**_fields(pairs(11)[10]), "reply_text": "bob: sure"})
    index.add(addressed, EMBEDDER.encode(["x"])[0])
    assert index.address_share() == 1 / 11


def test_extends_in_place_only_when_just_new_pairs_came() -> None:
    items = pairs(200)
    grown = [*items, *pairs(203)[200:]]
    incoming = EMBEDDER.encode([p.incoming_text for p in grown])
    replies = EMBEDDER.encode([p.reply_text for p in grown])
    for options in ({}, {"approximate_from": 100, "background": False}):
        index = build(items, **options)
        assert index.extend(grown, incoming, replies)
        assert len(index) == 203 and index.pairs[202] == grown[202]
        query = incoming[202]
        assert index.nearest(query, tokens(grown[202].incoming_text), k=1)[0][1] == 202
        assert index.extend(grown, incoming, replies)  # nothing new: nothing to do
        assert len(index) == 203
        # an edited, removed or back-dated pair: the caller must build anew
        edited = [
            *grown[:5],
            ReplyPair(**{**_fields(grown[5]), "reply_text": "edited"}),
            *grown[6:],
        ]
        assert not index.extend([*edited, *pairs(204)[203:]], *_vectors(edited, 1))
        assert not index.extend(grown[:150], incoming[:150], replies[:150])
        assert len(index) == 203


def _vectors(items: list[ReplyPair], extra: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(items) + extra
    return np.zeros((n, 128), dtype=np.float32), np.zeros((n, 128), dtype=np.float32)


def test_searches_while_the_graphs_build_copy_nothing() -> None:
    items = pairs(300)
    index = build(items, approximate_from=100, background=True)
    model = ReplyFit.unadapted(toy_weights())
    query = EMBEDDER.encode(["wifi keeps dropping"])[0]
    assert index.by_fit(model, query, 5) and index.nearest(query, tokens("wifi"), k=3)
    assert index._replies is None  # no O(replies) copy, exact or not
    index.wait()
    assert index.vectors.approximate and index.reply_vectors.store.approximate
    assert index.by_fit(model, query, 5)
