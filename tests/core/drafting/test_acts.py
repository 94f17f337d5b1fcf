from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.drafting.acts import (
    ACTS,
    SURFACE_FEATURES,
    ActModel,
    classify_act,
    classify_acts,
    ends_with_question,
    is_question,
    needs_reply_by_act,
    open_details,
    rule_act,
    shipped_model,
    slots_for,
)
from core.drafting.intents import is_request
from core.engines.embedding import HashingEmbedder


@pytest.mark.parametrize(
    ("text", "act"),
    [
        ("need the Q3 budget numbers by Friday 5pm, can you send them over?", "request"),
        ("can you review my PR today?", "request"),
        ("please send me the deck", "request"),
        ("thanks for your help yesterday 🙏", "thanks"),
        ("ty!", "thanks"),
        ("lol that meeting was wild today", "opinion"),
        ("haha", "opinion"),
        ("what is the command to see disk usage?", "open_question"),
        ("how do i install the nvidia driver on ubuntu 16.04?", "open_question"),
        ("is the server down?", "yes_no_question"),
        ("is there a help channel", "yes_no_question"),
        ("lunch at 12?", "invitation"),
        ("want me to take a look?", "invitation"),
        ("morning all", "greeting"),
        ("cya", "greeting"),
        ("sorry, my bad", "apology"),
        ("my wifi keeps dropping since the update", "problem"),
        ("ok", "acknowledgement"),
        ("got it", "acknowledgement"),
        ("the build is green now", "information"),
        ("bob: the build is green now", "information"),
        # an opening "sorry," / "ok," / "thanks," is a word of the message, not a nick
        ("sorry, can't today", "apology"),
        ("gina: sorry, can't today", "apology"),
        ("ok, will do", "acknowledgement"),
        ("thanks, that fixed it", "thanks"),
        ("bob, try sudo apt update", "request"),
    ],
)
def test_rules_tell_the_acts_apart(text: str, act: str) -> None:
    assert rule_act(text) == act


@pytest.mark.parametrize(
    ("text", "act"),
    [
        ("明日の会議に参加できますか？", "yes_no_question"),
        ("会議は何時に始まりますか？", "open_question"),
        ("¿Dónde está la reunión?", "open_question"),
        ("هل الاجتماع غدا؟", "yes_no_question"),
        ("Что случилось с сервером?", "open_question"),
    ],
)
def test_questions_in_other_scripts(text: str, act: str) -> None:
    assert is_question(text)
    assert rule_act(text) == act


def test_question_marks_of_any_script() -> None:
    assert ends_with_question("参加できますか？")
    assert ends_with_question("really?!")
    assert ends_with_question("ok? 🙂")
    assert ends_with_question("هل انت هنا؟")
    assert not ends_with_question("see you; then we talk")
    assert not ends_with_question("fine.")
    assert is_request("明日来られますか？")
    assert is_request("¿Puedes revisar mi PR")


def test_without_a_model_sized_vector_the_rules_decide() -> None:
    texts = ["thanks a lot!", "what time is it?"]
    vectors = HashingEmbedder().encode(texts)  # 256 dimensions: not the model's
    assert classify_acts(texts, vectors) == ["thanks", "open_question"]
    assert classify_acts(texts) == ["thanks", "open_question"]
    assert classify_act("lol") == "opinion"
    assert classify_acts([]) == []


def _toy_model(dim: int = 4) -> ActModel:
    """A model that reads only the first embedding dimension: high → opinion, else information."""
    coef = np.zeros((2, dim + len(SURFACE_FEATURES)), dtype=np.float32)
    coef[0, 0] = 10.0
    coef[1, 0] = -10.0
    return ActModel(
        labels=("opinion", "information"),
        coef=coef,
        intercept=np.zeros(2, dtype=np.float32),
        mean=np.zeros(len(SURFACE_FEATURES), dtype=np.float32),
        scale=np.ones(len(SURFACE_FEATURES), dtype=np.float32),
        dim=dim,
    )


def test_a_model_sized_vector_uses_the_learned_model() -> None:
    model = _toy_model()
    vectors = np.array(
        [[1, 0, 0, 0], [-1, 0, 0, 0], [-1, 0, 0, 0], [-1, 0, 0, 0]], dtype=np.float32
    )
    texts = ["the release went out", "that's wild", "thanks!", "明日の会議に参加できますか？"]
    acts = classify_acts(texts, vectors, model=model)
    # The model decides English text without a clear cue; a clear cue ("thanks!") and other
    # scripts keep the rules.
    assert [rule_act(t) for t in texts[:2]] == ["information", "opinion"]
    assert acts == ["opinion", "information", "thanks", "yes_no_question"]
    probs = model.probabilities(texts[:2], vectors[:2])
    assert probs.shape == (2, 2)
    assert np.allclose(probs.sum(axis=1), 1.0)


def test_weights_round_trip_and_refuse_other_features(tmp_path: Path) -> None:
    model = _toy_model()
    path = tmp_path / "acts.npz"
    np.savez(
        path,
        labels=np.array(model.labels),
        features=np.array(SURFACE_FEATURES),
        coef=model.coef,
        intercept=model.intercept,
        mean=model.mean,
        scale=model.scale,
        dim=np.array(model.dim),
    )
    loaded = ActModel.from_npz(str(path))
    assert loaded.labels == model.labels and loaded.dim == 4
    np.savez(
        path,
        labels=np.array(model.labels),
        features=np.array(SURFACE_FEATURES[:-1]),
        coef=model.coef,
        intercept=model.intercept,
        mean=model.mean,
        scale=model.scale,
        dim=np.array(model.dim),
    )
    with pytest.raises(ValueError, match="surface features"):
        ActModel.from_npz(str(path))


def test_the_shipped_model_is_loaded_once_and_reads_minilm() -> None:
    model = shipped_model()
    assert model is not None
    assert shipped_model() is model
    assert model.dim == 384
    assert set(model.labels) <= set(ACTS)
    assert model.coef.shape == (len(model.labels), 384 + len(SURFACE_FEATURES))


def test_needs_reply_by_act() -> None:
    assert needs_reply_by_act("request")
    assert needs_reply_by_act("open_question")
    assert needs_reply_by_act("yes_no_question")
    assert needs_reply_by_act("invitation")
    assert needs_reply_by_act("problem")
    for act in ("thanks", "opinion", "information", "acknowledgement", "greeting", "apology"):
        assert not needs_reply_by_act(act)  # type: ignore[arg-type]


def kinds(act: str, text: str = "") -> list[str]:
    return [slot.kind for slot in slots_for(act, text)]  # type: ignore[arg-type]


def test_a_request_that_says_it_all_gets_no_question_back() -> None:
    text = "need the Q3 budget numbers by Friday 5pm, can you send them over?"
    assert open_details(text) == frozenset()
    assert kinds("request", text) == ["yes", "not_now"]


def test_a_request_that_leaves_something_open_may_ask_only_about_that() -> None:
    slots = slots_for("request", "can you review my PR today?")
    assert [s.kind for s in slots] == ["yes", "not_now", "ask_details"]
    assert slots[2].details == frozenset({"which"})  # which PR, not where
    lunch = slots_for("invitation", "lunch?")[-1]
    assert lunch.kind == "ask_details"
    assert lunch.details == frozenset({"place", "time"})
    assert open_details("lunch at 12 downstairs?") == frozenset()
    # a day is not an hour: "lunch tomorrow?" may get "what time?"; a deadline day is enough
    assert open_details("lunch tomorrow?") == frozenset({"place", "time"})
    assert "time" not in open_details("can you send the numbers by friday?")
    # "deck" is no December
    assert open_details("can you send the deck?") == frozenset({"which", "time"})
    assert "which" in open_details("could you check my pull request today?")
    assert kinds("invitation", "want me to take a look?") == ["yes", "not_now"]


def test_slots_for_other_acts() -> None:
    assert kinds("thanks") == ["acknowledge"]
    assert kinds("apology") == ["acknowledge"]
    assert kinds("opinion") == ["react"]
    assert kinds("greeting") == ["greet"]
    assert kinds("open_question") == ["answer", "hold"]
    assert kinds("yes_no_question") == ["answer", "hold"]
    assert kinds("problem", "my wifi keeps dropping") == ["answer", "hold", "ask_details"]
    assert kinds("information") == ["acknowledge", "react"]
    for act in ACTS:
        assert slots_for(act, "x"), act
    yes = slots_for("request")[0]
    assert yes.intents == ("accept",) and yes.role == "accept"


@pytest.mark.slow
def test_the_shipped_model_on_minilm_embeddings() -> None:
    from core.engines.embedding import SentenceEmbedder

    cases = {
        "need the Q3 budget numbers by Friday 5pm, can you send them over?": "request",
        "thanks for your help yesterday 🙏": "thanks",
        "lol that meeting was wild today": "opinion",
        "can you review my PR today?": "request",
        "what is the command to see disk usage?": "open_question",
        "明日の会議に参加できますか？": "yes_no_question",
        # Not in any rule list or the issue:
        "could you pastebin the output of dmesg": "request",
        "cheers mate, that did it": "thanks",
        "where can i find the grub config file?": "open_question",
        "hello everyone": "greeting",
    }
    texts = list(cases)
    vectors = SentenceEmbedder().encode(texts)
    assert classify_acts(texts, vectors) == list(cases.values())


def test_empty_huge_and_binary_messages_get_an_act_in_bounded_time() -> None:
    import time

    texts = [
        "",
        "   \n\t",
        "\x00\x01\xff\ufffd" * 5000,
        "need " * 5000,  # once quadratic: a minute of regex backtracking
        "join " * 5000,
        "?" * 20000,
        "Hola, can you send the 報告書 before Friday? merci " * 300,
    ]
    start = time.perf_counter()
    vectors = np.zeros((len(texts), 384), dtype=np.float32)
    acts = classify_acts(texts, vectors)
    for text in texts:
        assert rule_act(text) in ACTS
        assert open_details(text) <= {"time", "place", "which", "what"}
        is_request(text)
    assert all(act in ACTS for act in acts)
    assert acts[:2] == ["information", "information"]
    assert time.perf_counter() - start < 20  # seconds; about 0.5 on a laptop
