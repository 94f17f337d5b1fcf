from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import timedelta

import pytest

from core.models import Message, ReplyPair, StoredMessage
from core.profiling import (
    Profiler,
    ProfileSample,
    StyleProfile,
    render_card,
    samples_from_messages,
    samples_from_stored,
)
from core.profiling.background import background_samples
from core.profiling.features import analyse

from .fixtures import CASUAL, FORMAL, START, samples


@pytest.fixture(scope="module")
def profiler() -> Profiler:
    # No spaCy: surface features only, instant. The real pipeline is covered by a slow test.
    return Profiler(nlp_loader=lambda: None)


@pytest.fixture(scope="module")
def casual(profiler: Profiler) -> StyleProfile:
    return profiler.build(samples(CASUAL))


@pytest.fixture(scope="module")
def formal(profiler: Profiler) -> StyleProfile:
    return profiler.build(samples(FORMAL))


def test_measures_at_least_25_features(casual: StyleProfile) -> None:
    assert len(casual.features) >= 25
    assert casual.messages == len(CASUAL)


def test_casual_and_formal_writers_differ_in_the_expected_directions(
    casual: StyleProfile, formal: StyleProfile
) -> None:
    c, f = casual.features, formal.features
    assert c["lowercase_start_rate"] > 0.9 > 0.1 > f["lowercase_start_rate"]
    assert c["end_none_rate"] > 0.8 and f["end_none_rate"] < 0.2
    assert f["end_period_rate"] > c["end_period_rate"]
    assert c["slang_rate"] > 0.4 > f["slang_rate"]
    assert c["lowercase_i_rate"] == 1.0 and f["lowercase_i_rate"] == 0.0
    assert f["formality"] > c["formality"] + 20
    assert f["len_words_median"] > c["len_words_median"]
    assert f["words_per_sentence"] > c["words_per_sentence"]
    assert f["sign_off_rate"] > 0.1 and c["sign_off_rate"] == 0.0
    assert f["greeting_rate"] > 0 and c["greeting_rate"] > 0
    assert f["commas_per_100_words"] > c["commas_per_100_words"]
    assert 0.0 < c["lexical_diversity"] <= 1.0


def test_message_level_habits() -> None:
    f = analyse("Anna: THIS is GREAT!!! :) see you at 5\n-- M")
    assert f.addresses and f.allcaps_words == 2 and f.has_exclaim
    assert f.emoticons == [":)"] and f.sign_off == "-- M"
    assert analyse("is it done?").ending == "question"
    assert analyse("hmm maybe...").ending == "ellipsis"
    assert analyse("nice 🎉").ending == "emoji"
    assert analyse("see https://example.org").has_link
    assert analyse("run `sudo apt update` first").has_code
    assert analyse("Hi there, how are you").greeting == "hi there"


def test_incremental_update_equals_full_build(profiler: Profiler) -> None:
    texts = CASUAL + FORMAL
    everything = samples(texts, step_s=40, counterpart="sam", latency_s=30.0)
    first, rest = everything[:17], everything[17:]
    full = profiler.build(everything)
    step = profiler.update(profiler.build(first), rest)
    assert step.features.keys() == full.features.keys()
    for name, value in full.features.items():
        assert step.features[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name
    assert step.to_json()["state"] == full.to_json()["state"]


def test_update_leaves_the_old_profile_unchanged(profiler: Profiler, casual: StyleProfile) -> None:
    before = json.dumps(casual.to_json(), sort_keys=True)
    later = START + timedelta(days=30)
    profiler.update(casual, samples(FORMAL, start=later))
    assert json.dumps(casual.to_json(), sort_keys=True) == before


def test_json_round_trip(formal: StyleProfile) -> None:
    data = json.loads(json.dumps(formal.to_json()))
    again = StyleProfile.from_json(data)
    assert again.features == formal.features
    assert again.to_json() == formal.to_json()
    assert again.summary() == formal.summary()


def test_from_json_rejects_other_data() -> None:
    with pytest.raises(ValueError):
        StyleProfile.from_json({"features": {}})
    with pytest.raises(ValueError):
        StyleProfile.from_json({"version": 1, "state": {"sums": {}}})


def test_summary_mentions_distinctive_habits(casual: StyleProfile, formal: StyleProfile) -> None:
    text = casual.summary()
    assert 3 <= len(text.splitlines()) <= 7
    assert "lowercase" in text and "'lol'" in text and "never ends with punctuation" in text
    assert "Short messages" in text and "informal" in text.lower()
    formal_text = formal.summary()
    assert "best regards" in formal_text and "full stop" in formal_text
    assert "capitalises" in formal_text.lower()


def test_signature_sign_off_appears_in_summary(profiler: Profiler) -> None:
    texts = [f"{t}\n-- M" for t in ["ok will look at it", "done, pushed the fix", "see u at 5"]]
    profile = profiler.build(samples(texts * 4))
    assert "signs off with '-- m'" in profile.summary().lower()


def test_per_contact_variation_and_fast_contacts(profiler: Profiler) -> None:
    boss = samples(FORMAL, counterpart="boss", latency_s=3 * 3600, conversation="work")
    friend = samples(
        CASUAL,
        start=START + timedelta(minutes=7),
        counterpart="kim",
        latency_s=20,
        conversation="dm",
    )
    profile = profiler.build(boss + friend)
    assert set(profile.contacts) == {"boss", "kim"}
    assert profile.contacts["boss"]["lowercase_start_rate"] < 0.1
    assert profile.contacts["kim"]["latency_median_s"] < 60
    assert profile.fast_contacts()[0][0] == "kim"
    assert profile.differences, "two very different contacts must produce a difference"
    last = profile.summary().splitlines()[-1]
    assert last.startswith(("With boss", "With kim", "In work", "In dm"))
    assert "quickest with kim" in profile.summary()


def test_decision_patterns_from_replies(profiler: Profiler) -> None:
    replies = [
        "sure, sounds good",
        "yes I'm in",
        "sorry, I can't make it",
        "let me check",
        "ok will do",
        "thanks!",
    ]
    profile = profiler.build(samples(replies, counterpart="sam", latency_s=120))
    f = profile.features
    assert f["accept_share_of_decisions"] == pytest.approx(3 / 5)
    assert f["decline_share_of_decisions"] == pytest.approx(1 / 5)
    assert f["defer_share_of_decisions"] == pytest.approx(1 / 5)
    assert f["thank_rate"] == pytest.approx(1 / 6)
    assert "accepts 60%" in profile.summary()
    assert profile.decision_latency()["accept"] == pytest.approx(120, rel=0.2)


def test_empty_profile_is_usable(profiler: Profiler) -> None:
    profile = profiler.build([])
    assert profile.messages == 0
    assert "No messages" in profile.summary()
    assert StyleProfile.from_json(profile.to_json()).messages == 0


def test_samples_from_messages_resolve_replies() -> None:
    msgs = [
        Message(id="1", conversation="c", thread=None, sender="sam", text="lunch?", sent_at=START),
        Message(
            id="2",
            conversation="c",
            thread=None,
            sender="me",
            text="sure",
            sent_at=START + timedelta(seconds=45),
            reply_to="1",
        ),
        Message(
            id="3",
            conversation="c",
            thread=None,
            sender="me",
            text="at 1?",
            sent_at=START + timedelta(seconds=50),
        ),
    ]
    out = samples_from_messages(msgs, "me")
    assert [s.text for s in out] == ["sure", "at 1?"]
    assert out[0].counterpart == "sam" and out[0].latency_s == 45 and out[0].is_reply
    assert out[1].counterpart is None and not out[1].is_reply
    stored = [StoredMessage(message=m, persona_id="p", from_owner=m.sender == "me") for m in msgs]
    pair = ReplyPair(
        persona_id="p",
        incoming_id="1",
        incoming_text="lunch?",
        incoming_sender="Sam",
        reply_id="2",
        reply_text="sure",
        replied_at=msgs[1].sent_at,
        latency_s=44.0,
    )
    from_store = samples_from_stored(stored, [pair])
    assert from_store[0].counterpart == "Sam" and from_store[0].latency_s == 44.0


def test_card_is_a_png(casual: StyleProfile, profiler: Profiler) -> None:
    import matplotlib.image

    typical = profiler.build(background_samples())
    png = render_card(casual, typical)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert image.shape[0] > 400 and image.shape[1] > 800
    assert render_card(profiler.build([]))[:4] == b"\x89PNG"


def test_importing_the_package_loads_no_model_or_plotting() -> None:
    code = (
        "import sys, core.profiling, core.verifier, core.evaluation\n"
        "heavy = [m for m in ('spacy', 'matplotlib', 'torch', 'sklearn', 'sentence_transformers')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_real_pipeline_finds_topics_and_parts_of_speech() -> None:
    profiler = Profiler()
    texts = [
        f"The {w} report needs another review before the meeting."
        for w in ("budget", "sales", "travel", "budget", "hiring")
    ]
    profile = profiler.build(samples(texts))
    topics = [t for t, _ in profile.topics()]
    assert "report" in topics[:2] and "budget" in topics
    assert "pos_formality" in profile.features


def test_samples_are_frozen() -> None:
    sample = ProfileSample(text="x", sent_at=START)
    with pytest.raises(AttributeError):
        sample.text = "y"  # type: ignore[misc]
