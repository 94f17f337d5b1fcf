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
    assert texts[0] == "yep, will look after lunch"
    assert "carol: on it" in texts, "re-addressed to carol"
    assert "bob: on it" not in texts
    assert len(texts) == len(set(texts)) <= 3
    # a request gets a "not now" too: the owner's decline to a similar enough message
    assert texts[1] == "can't today, swamped"
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


# -- intents: different answers, not paraphrases -------------------------------------------

from core.drafting.intents import Phrasebook, is_request  # noqa: E402
from core.drafting.retrieval import Negative  # noqa: E402
from core.profiling import classify_intent  # noqa: E402

HISTORY = [
    pair(10, "can you cover my on-call shift on friday?", "sure, happy to"),
    pair(11, "could you join the planning call at 3?", "sure, happy to"),
    pair(12, "can you present at the all-hands?", "sorry, I can't this time"),
    pair(13, "could you help with the migration tonight?", "sorry, I can't this time"),
    pair(14, "can you look at the invoice bug?", "let me check and get back to you"),
    pair(15, "can you send the report?", "what format do you need?"),
    pair(16, "can you send the deck?", "which version do you mean?"),
    pair(17, "can you review the design doc?", "sure, happy to"),
    pair(18, "the build is green again", "nice"),
]


def history_index() -> tuple[ExemplarIndex, HashingEmbedder]:
    embedder = HashingEmbedder()
    return (
        ExemplarIndex.build(HISTORY, embedder.encode([p.incoming_text for p in HISTORY])),
        embedder,
    )


def test_phrasebook_keeps_the_owners_most_used_wording_per_intent() -> None:
    book = Phrasebook.mine([p.reply_text for p in HISTORY] + ["bob: sure, happy to"])
    assert book.phrases["accept"][0].text == "sure, happy to"
    assert book.phrases["accept"][0].count == 4, "an addressed reply counts without the address"
    assert book.phrases["decline"][0].text == "sorry, I can't this time"
    assert book.best("accept", avoid=["Sure, happy to!"]) is None


def test_a_request_gets_yes_no_and_what_exactly_not_three_paraphrases() -> None:
    index, embedder = history_index()
    text = "can you review my pull request tomorrow?"
    assert is_request(text)
    options = RetrievalDrafter().draft(
        index, text=text, sender="dana", query=embedder.encode([text])[0],
        style=SurfaceStyleScorer.fit([p.reply_text for p in HISTORY]),
    )  # fmt: skip
    intents = [classify_intent(o.text) for o in options]
    assert len(options) == 3
    assert intents[0] == "accept"
    assert intents[1] in ("decline", "defer")
    assert intents[2] == "ask_details"
    assert all(o.reasons and 0 <= o.style_score <= 100 for o in options)


def test_a_statement_gets_the_nearest_real_replies_without_the_spread() -> None:
    index, embedder = history_index()
    text = "the build is green now"
    assert not is_request(text)
    options = RetrievalDrafter().draft(
        index, text=text, sender="dana", query=embedder.encode([text])[0],
        style=SurfaceStyleScorer.fit(["nice"]),
    )  # fmt: skip
    assert options[0].text == "nice"


def test_a_reply_dismissed_for_a_similar_message_is_pushed_down() -> None:
    index, embedder = history_index()
    text = "can you cover my shift on friday?"
    query = embedder.encode([text])[0]
    style = SurfaceStyleScorer.fit(["sure"])
    before = RetrievalDrafter().draft(index, text=text, sender="x", query=query, style=style)
    assert before[0].text == "sure, happy to"
    dismissed = [
        Negative(
            query=embedder.encode(["can you cover my on-call shift friday?"])[0],
            text="sure, happy to",
        )
    ]
    after = RetrievalDrafter().draft(
        index, text=text, sender="x", query=query, style=style, negatives=dismissed
    )
    assert after[0].text != "sure, happy to"
    unrelated = [Negative(query=embedder.encode(["what's for lunch"])[0], text="sure, happy to")]
    same = RetrievalDrafter().draft(
        index, text=text, sender="x", query=query, style=style, negatives=unrelated
    )
    assert same[0].text == "sure, happy to", "a dismissal counts only for similar messages"


def test_rare_shared_words_bring_candidates_the_embedding_missed() -> None:
    embedder = HashingEmbedder()
    pairs = [
        pair(i, f"filler message number {i} about lunch plans", f"reply {i}") for i in range(300)
    ]
    pairs.append(pair(999, "kubelet crashloop again", "restart the kubelet"))
    vectors = embedder.encode([p.incoming_text for p in pairs])
    vectors[-1] = embedder.encode(["zz"])[0]  # an embedding that misses the topic
    index = ExemplarIndex.build(pairs, vectors)
    query = embedder.encode(["kubelet crashloop on node 3"])[0]
    hits = index.nearest(query, frozenset({"kubelet", "crashloop", "node"}), k=3)
    assert 300 in [position for _, position in hits]


# -- the phrasebook per dialogue act ---------------------------------------------------------

from core.drafting.acts import slots_for  # noqa: E402
from core.drafting.intents import asks_about, role_of  # noqa: E402

OWNER_REPLIES = [
    "np!",
    "np!",
    "anytime",
    "haha true",
    "let me check and get back to you",
    "let me check and get back to you",
    "hey!",
    "sure, happy to",
    "sure, happy to",
    "sorry, I can't this time",
    "where?",
    "which pr?",
    "what format do you need?",
]


def stock(act: str, text: str, book: Phrasebook) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for slot in slots_for(act, text):  # type: ignore[arg-type]
        found = book.for_slot(slot)
        out[slot.kind] = found.text if found else None
    return out


def test_the_phrasebook_keeps_the_owners_wording_per_role() -> None:
    book = Phrasebook.mine(OWNER_REPLIES)
    assert [p.text for p in book.roles["acknowledge"]] == ["np!", "anytime"]
    assert book.roles["acknowledge"][0].count == 2
    assert [p.text for p in book.roles["hold"]] == ["let me check and get back to you"]
    assert [p.text for p in book.roles["react"]] == ["haha true"]
    assert [p.text for p in book.roles["greet"]] == ["hey!"]
    assert book.phrases["accept"][0].text == "sure, happy to"  # the intents are unchanged


def test_a_stock_question_back_only_where_the_message_leaves_that_open() -> None:
    book = Phrasebook.mine(OWNER_REPLIES)
    review = stock("request", "can you review my PR today?", book)
    assert review == {
        "yes": "sure, happy to",
        "not_now": "sorry, I can't this time",
        "ask_details": "which pr?",
    }
    assert stock("invitation", "lunch?", book)["ask_details"] == "where?"
    budget = stock(
        "request", "need the Q3 budget numbers by Friday 5pm, can you send them over?", book
    )
    assert "ask_details" not in budget
    # Nothing the owner asks fits "by when?": no question back rather than "where?".
    only_where = Phrasebook.mine(["where?", "sure"])
    assert stock("request", "can you send the numbers?", only_where) == {
        "yes": "sure",
        "not_now": None,
        "ask_details": None,
    }


def test_acts_that_need_no_yes_get_the_owners_acknowledgement_reaction_or_hold() -> None:
    book = Phrasebook.mine(OWNER_REPLIES)
    assert stock("thanks", "thanks for your help yesterday 🙏", book) == {"acknowledge": "np!"}
    assert stock("opinion", "lol that meeting was wild today", book) == {"react": "haha true"}
    assert stock("open_question", "what is the command to see disk usage?", book) == {
        "answer": None,
        "hold": "let me check and get back to you",
    }
    assert stock("greeting", "morning!", book) == {"greet": "hey!"}
    assert book.for_slot(slots_for("thanks")[0], avoid=["NP"]) is not None
    assert Phrasebook.mine(["sure"]).for_slot(slots_for("thanks")[0]) is None


def test_roles_read_from_what_a_reply_answered() -> None:
    assert role_of("haha true") == "react"
    assert role_of("np") == "acknowledge"
    assert role_of("let me look into it") == "hold"
    assert role_of("the build is green") is None
    assert role_of("yeah", "thanks so much for the help!") == "acknowledge"
    assert role_of("right??", "lol that meeting was wild") is None
    book = Phrasebook.mine([], pairs=[("lol that meeting was wild", "ikr"), ("thank you!", "sure")])
    assert [p.text for p in book.roles["react"]] == ["ikr"]
    assert [p.text for p in book.roles["acknowledge"]] == ["sure"]
    assert asks_about("where?") == frozenset({"place"})
    assert asks_about("which pr?") == frozenset({"which"})
    assert asks_about("by when?") == frozenset({"time"})
    assert asks_about("what exactly?") == frozenset({"what"})
