from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from core.drafting.retrieval import ExemplarIndex, RetrievalDrafter, adapt
from core.drafting.style import SurfaceStyleScorer
from core.engines.embedding import HashingEmbedder
from core.models import ReplyPair

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def pair(n: int, incoming: str, reply: str, sender: str = "alice") -> ReplyPair:
    return ReplyPair(
        persona_id="p",
        incoming_id=f"in{n}",
        incoming_text=incoming,
        incoming_sender=sender,
        reply_id=f"re{n}",
        reply_text=reply,
        replied_at=T0,
    )


PAIRS = [
    pair(1, "can you review my PR today?", "yep, will look after lunch"),
    pair(2, "could you take a look at my pull request", "sure, send me the link"),
    pair(3, "are you coming to lunch?", "can't today, swamped"),
    pair(4, "can you review the PR for the login fix", "yep, will look after lunch"),
    pair(5, "can you review my PR? it is small", "bob: on it", sender="bob"),
    pair(6, "the deploy failed again", "ugh, looking"),
]


def build() -> tuple[ExemplarIndex, HashingEmbedder]:
    embedder = HashingEmbedder()
    index = ExemplarIndex.build(PAIRS, embedder.encode([p.incoming_text for p in PAIRS]))
    return index, embedder


def test_drafts_are_the_owners_replies_to_similar_messages_without_repeats() -> None:
    index, embedder = build()
    text = "can you review my PR please?"
    options = RetrievalDrafter().draft(
        index,
        text=text,
        sender="carol",
        query=embedder.encode([text])[0],
        style=SurfaceStyleScorer.fit([p.reply_text for p in PAIRS]),
    )
    texts = [o.text for o in options]
    assert set(texts[:2]) == {"yep, will look after lunch", "carol: on it"}, "re-addressed to carol"
    assert len(texts) == len(set(texts)) <= 3
    assert "can't today, swamped" not in texts[:1]
    assert all(0 <= o.style_score <= 100 and o.engine == "retrieval" for o in options)
    assert options[0].source_id in {"re1", "re4"}


def test_rejected_options_are_not_offered_again() -> None:
    index, embedder = build()
    text = "can you review my PR?"
    query = embedder.encode([text])[0]
    style = SurfaceStyleScorer.fit(["yep"])
    first = RetrievalDrafter().draft(index, text=text, sender="x", query=query, style=style)
    again = RetrievalDrafter().draft(
        index,
        text=text,
        sender="x",
        query=query,
        style=style,
        exclude=frozenset(o.text for o in first),
    )
    assert not {o.text for o in first} & {o.text for o in again}


def test_empty_index_drafts_nothing() -> None:
    index = ExemplarIndex.build([], np.zeros((0, 8), dtype=np.float32))
    assert (
        RetrievalDrafter().draft(
            index,
            text="hi",
            sender="x",
            query=np.zeros(8, dtype=np.float32),
            style=SurfaceStyleScorer.fit([]),
        )
        == []
    )


def test_adapt_readdresses_only_the_person_answered() -> None:
    assert adapt("bob: on it", old_sender="bob", new_sender="carol") == "carol: on it"
    assert adapt("hey Bob, sure", old_sender="bob", new_sender="carol") == "hey carol, sure"
    assert adapt("ask bob: he knows", old_sender="bob", new_sender="carol") == "ask bob: he knows"
    assert adapt("dave: on it", old_sender="bob", new_sender="carol") == "dave: on it"


def test_style_scorer_prefers_the_owners_habits() -> None:
    scorer = SurfaceStyleScorer.fit(["yep on it", "sure thing", "lol ok", "will do", "np"])
    mine, formal = scorer.score(
        ["yep will do", "Dear colleague, I shall review the document promptly."]
    )
    assert mine > formal
