from __future__ import annotations

import statistics

import numpy as np
import pytest

from core.engines.embedding import HashingEmbedder
from core.verifier import MIN_OWNER_MESSAGES, StyleVerifier
from tests.core.profiling.fixtures import writer_texts


@pytest.fixture(scope="module")
def embedder() -> HashingEmbedder:
    return HashingEmbedder(dim=128)


@pytest.fixture(scope="module")
def verifier(embedder: HashingEmbedder) -> StyleVerifier:
    owner = writer_texts("casual", 80, seed=1)
    background = writer_texts("formal", 60, seed=1) + writer_texts("excited", 60, seed=1)
    return StyleVerifier.fit(owner, background, embedder=embedder)


def test_separates_two_distinct_writers_on_held_out_text(verifier: StyleVerifier) -> None:
    assert verifier.mode == "classifier"
    owner_scores = verifier.score(writer_texts("casual", 30, seed=2))
    other_scores = verifier.score(writer_texts("formal", 30, seed=2))
    assert statistics.median(owner_scores) > 70
    assert statistics.median(other_scores) < 30
    assert all(0 <= s <= 100 for s in owner_scores + other_scores)
    assert sum(s >= 50 for s in owner_scores) >= 27
    assert sum(s >= 50 for s in other_scores) <= 3


def test_serialisation_round_trip_gives_identical_scores(
    verifier: StyleVerifier, embedder: HashingEmbedder
) -> None:
    texts = writer_texts("casual", 5, seed=3) + writer_texts("excited", 5, seed=3)
    data = verifier.to_bytes()
    assert data[:2] == b"PK"  # an npz (zip) archive, not a pickle
    again = StyleVerifier.from_bytes(data, embedder=embedder)
    assert again.score(texts) == verifier.score(texts)
    assert np.array_equal(again.probabilities(texts), verifier.probabilities(texts))
    assert (again.mode, again.owner_messages) == (verifier.mode, verifier.owner_messages)


def test_from_bytes_refuses_junk_and_the_wrong_embedder(verifier: StyleVerifier) -> None:
    with pytest.raises(ValueError):
        StyleVerifier.from_bytes(b"not an archive", embedder=HashingEmbedder(dim=128))
    with pytest.raises(ValueError, match="dimensional"):
        StyleVerifier.from_bytes(verifier.to_bytes(), embedder=HashingEmbedder(dim=64))


def test_few_owner_messages_fall_back_to_profile_distance(embedder: HashingEmbedder) -> None:
    owner = writer_texts("excited", 8, seed=4)
    background = writer_texts("formal", 40, seed=4) + writer_texts("casual", 40, seed=4)
    fallback = StyleVerifier.fit(owner, background, embedder=embedder)
    assert fallback.mode == "profile-distance" and len(owner) < MIN_OWNER_MESSAGES
    mine = fallback.score(writer_texts("excited", 10, seed=5))
    theirs = fallback.score(writer_texts("formal", 10, seed=5))
    assert statistics.median(mine) > 60 > 40 > statistics.median(theirs)
    again = StyleVerifier.from_bytes(fallback.to_bytes(), embedder=embedder)
    assert again.score(["OMG!!! 🎉"]) == fallback.score(["OMG!!! 🎉"])
    single = StyleVerifier.fit(["Best party EVER!! 🙌"], background, embedder=embedder)
    assert single.score(["So excited!!! 🥳"])[0] > single.score(["Please send the report."])[0]


def test_needs_owner_and_background_text(embedder: HashingEmbedder) -> None:
    with pytest.raises(ValueError, match="owner"):
        StyleVerifier.fit(["  "], ["hello"], embedder=embedder)
    with pytest.raises(ValueError, match="someone else"):
        StyleVerifier.fit(["hello"], [], embedder=embedder)


def test_scoring_nothing(verifier: StyleVerifier) -> None:
    assert verifier.score([]) == []


@pytest.mark.slow
def test_with_the_real_embedding_model() -> None:
    from core.engines.embedding import SentenceEmbedder

    embedder = SentenceEmbedder()
    owner = writer_texts("formal", 40, seed=6)
    background = writer_texts("casual", 40, seed=6) + writer_texts("excited", 40, seed=6)
    verifier = StyleVerifier.fit(owner, background, embedder=embedder)
    assert statistics.median(verifier.score(writer_texts("formal", 10, seed=7))) > 70
    assert statistics.median(verifier.score(writer_texts("casual", 10, seed=7))) < 30
