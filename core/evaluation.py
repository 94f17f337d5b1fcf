"""How quality is measured (DESIGN.md): chronological splits, an authorship judge, plain-dict reports.

The procedure is the same in ``quality``, ``minime eval`` and the benchmarks:

* **Chronological split per sender**: each sender's messages are ordered by time and the first
  ``train_share`` (default 80%) are for learning, the rest held out; or, with ``cutoff``, learning
  uses only messages sent before it. Nothing after the cut-off is ever seen in training.
* **Verifier report**: the owner's verifier, trained on the owner's training messages against
  everyone else's training messages plus the shipped background writers, scores the owner's
  held-out messages (recognition rate: share scoring at least the threshold, 50) and other
  senders' held-out messages (false-accept rate: share of those scoring at least the threshold).
* **Attribution**: an :class:`AuthorshipJudge` — one verifier per candidate writer, each trained
  against the others (and the background) — attributes each held-out message to the writer whose
  verifier gives the highest calibrated probability. Its accuracy is reported next to a
  character-trigram nearest-centroid baseline on the same split.
* **Style fidelity**: the share of drafts the judge attributes to the owner, next to the share of
  the owner's own held-out real messages it attributes to the owner (the ceiling).

Known bots (``ubottu``, ``ubotu``) are never picked as "human" senders.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from core.models import Message
from core.ports import Embedder, Vector
from core.verifier import StyleVerifier

KNOWN_BOTS: frozenset[str] = frozenset({"ubottu", "ubotu"})
"""Senders that are programs, excluded when picking the most active human writers."""
DEFAULT_THRESHOLD = 50
MAX_OTHER_BACKGROUND = 4000
"""Messages by senders outside the candidates, sampled into each verifier's background."""


class CachingEmbedder:
    """Wraps an Embedder so each distinct text is encoded once (evaluation trains many verifiers)."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.dim = inner.dim
        self._cache: dict[str, npt.NDArray[np.float32]] = {}

    def encode(self, texts: Sequence[str]) -> Vector:
        """Embeddings of ``texts``, computing only those not seen before."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, row in zip(missing, self._inner.encode(missing), strict=True):
                self._cache[text] = row
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts]).astype(np.float32)


def chronological_split(
    messages: Iterable[Message], *, cutoff: datetime | None = None, train_share: float = 0.8
) -> tuple[list[Message], list[Message]]:
    """Split messages into (learn, held-out), per sender and by time.

    Args:
        messages: Any messages.
        cutoff: When given, learn from messages sent strictly before it and hold out the rest.
        train_share: Without ``cutoff``: the oldest share of each sender's messages to learn from.

    Returns:
        ``(train, test)``, each ordered by time.
    """
    by_sender: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        by_sender[message.sender].append(message)
    train: list[Message] = []
    test: list[Message] = []
    for own in by_sender.values():
        own.sort(key=lambda m: (m.sent_at, m.id))
        if cutoff is not None:
            train += [m for m in own if m.sent_at < cutoff]
            test += [m for m in own if m.sent_at >= cutoff]
        else:
            k = math.floor(train_share * len(own))
            train += own[:k]
            test += own[k:]
    train.sort(key=lambda m: (m.sent_at, m.id))
    test.sort(key=lambda m: (m.sent_at, m.id))
    return train, test


def most_active_senders(
    messages: Iterable[Message], n: int, *, exclude: Iterable[str] = KNOWN_BOTS
) -> list[str]:
    """The ``n`` senders with the most (non-empty) messages, bots excluded, most active first."""
    skip = set(exclude)
    counts = Counter(m.sender for m in messages if m.text.strip() and m.sender not in skip)
    return [sender for sender, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def candidate_authors(
    messages: Iterable[Message], n: int, *, include: Sequence[str] = ()
) -> list[str]:
    """The writers of an attribution test: ``include`` first, then the most active humans, ``n``
    in all (more only if ``include`` alone is longer)."""
    candidates = list(dict.fromkeys(list(include) + most_active_senders(messages, n)))
    return candidates[: max(n, len(include))]


def _texts(messages: Iterable[Message]) -> list[str]:
    return [m.text for m in messages if m.text.strip()]


def _sample(texts: Sequence[str], k: int, seed: int) -> list[str]:
    if len(texts) <= k:
        return list(texts)
    rng = np.random.default_rng(seed)
    return [texts[i] for i in sorted(rng.choice(len(texts), size=k, replace=False))]


class AuthorshipJudge:
    """Attributes texts to one of several writers, using one style verifier per writer.

    Each writer's verifier is trained on that writer's messages against the other candidates'
    messages (and any extra background); a text goes to the writer whose verifier gives the highest
    calibrated probability.

    Attributes:
        authors: The candidate writers, in a fixed order.
        held_out: Real held-out messages per writer, when the judge was built by
            :func:`train_judge` (the ceiling of :func:`style_fidelity`).
    """

    def __init__(
        self,
        verifiers: Mapping[str, StyleVerifier],
        *,
        held_out: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.authors: list[str] = list(verifiers)
        self._verifiers = dict(verifiers)
        self.held_out: dict[str, list[str]] = {k: list(v) for k, v in (held_out or {}).items()}

    @classmethod
    def fit(
        cls,
        texts_by_author: Mapping[str, Sequence[str]],
        *,
        embedder: Embedder,
        background: Sequence[str] = (),
        seed: int = 0,
    ) -> AuthorshipJudge:
        """Train one verifier per writer.

        Args:
            texts_by_author: Training messages of each candidate (at least two candidates).
            embedder: Shared by all verifiers (wrap it in :class:`CachingEmbedder`).
            background: Messages by other writers, added to every verifier's background.
            seed: Reproducible sampling.

        Raises:
            ValueError: Fewer than two candidates.
        """
        if len(texts_by_author) < 2:
            raise ValueError("attribution needs at least two writers")
        verifiers = {}
        for i, (author, own) in enumerate(texts_by_author.items()):
            others = [t for other, ts in texts_by_author.items() if other != author for t in ts]
            verifiers[author] = StyleVerifier.fit(
                own, others + list(background), embedder=embedder, seed=seed + i
            )
        return cls(verifiers)

    def verifier(self, author: str) -> StyleVerifier:
        """The verifier of one candidate."""
        return self._verifiers[author]

    def probabilities(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Matrix ``(len(texts), len(authors))`` of each verifier's calibrated probability."""
        if not texts:
            return np.zeros((0, len(self.authors)))
        columns = [self._verifiers[a].probabilities(texts) for a in self.authors]
        return np.stack(columns, axis=1)

    def attribute(self, texts: Sequence[str]) -> list[str]:
        """The most likely writer of each text."""
        if not texts:
            return []
        best = self.probabilities(texts).argmax(axis=1)
        return [self.authors[i] for i in best]


class CentroidBaseline:
    """Character-trigram nearest centroid: the classic baseline attribution is compared with."""

    def __init__(self) -> None:
        self.authors: list[str] = []
        self._vectorizer: Any = None
        self._centroids: Any = None

    def fit(self, texts_by_author: Mapping[str, Sequence[str]]) -> CentroidBaseline:
        """One L2-normalised mean trigram-frequency vector per writer."""
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.preprocessing import normalize

        self.authors = list(texts_by_author)
        self._vectorizer = CountVectorizer(analyzer="char", ngram_range=(3, 3), lowercase=False)
        everything = [t for ts in texts_by_author.values() for t in ts]
        self._vectorizer.fit(everything)
        rows = []
        for author in self.authors:
            counts = self._vectorizer.transform(list(texts_by_author[author]))
            rows.append(np.asarray(normalize(counts, norm="l2").mean(axis=0)).ravel())
        self._centroids = normalize(np.vstack(rows), norm="l2")
        return self

    def attribute(self, texts: Sequence[str]) -> list[str]:
        """The writer whose centroid is most cosine-similar to each text."""
        from sklearn.preprocessing import normalize

        if not texts:
            return []
        x = normalize(self._vectorizer.transform(list(texts)), norm="l2")
        best = np.asarray(x @ self._centroids.T).argmax(axis=1)
        return [self.authors[i] for i in best]


def _split_for(
    messages: Sequence[Message], cutoff: datetime | None, train_share: float
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    train, test = chronological_split(messages, cutoff=cutoff, train_share=train_share)
    train_by: dict[str, list[str]] = defaultdict(list)
    test_by: dict[str, list[str]] = defaultdict(list)
    for m in train:
        if m.text.strip():
            train_by[m.sender].append(m.text)
    for m in test:
        if m.text.strip():
            test_by[m.sender].append(m.text)
    return train_by, test_by


def _others_background(
    train_by: Mapping[str, Sequence[str]], skip: Iterable[str], seed: int
) -> list[str]:
    excluded = set(skip) | KNOWN_BOTS
    pool = [t for sender, ts in train_by.items() if sender not in excluded for t in ts]
    return _sample(pool, MAX_OTHER_BACKGROUND, seed)


def verifier_report(
    messages: Sequence[Message],
    owner: str,
    *,
    embedder: Embedder,
    cutoff: datetime | None = None,
    train_share: float = 0.8,
    background: Sequence[str] = (),
    threshold: int = DEFAULT_THRESHOLD,
    max_others: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """How well the owner's verifier recognises the owner and rejects everyone else.

    Args:
        messages: Everything imported (the owner's and other senders' messages).
        owner: The owner's sender name.
        embedder: Sentence embeddings for the verifier.
        cutoff: Learn only from before this time (default: per-sender ``train_share`` split).
        train_share: See :func:`chronological_split`.
        background: Extra background writers (e.g. the shipped synthetic set).
        threshold: Score from which a message counts as "sounds like the owner".
        max_others: Held-out messages of other senders scored at most (a seeded sample).
        seed: Reproducible sampling.

    Returns:
        ``owner``, ``mode``, ``threshold``, ``train_owner``, ``train_background``,
        ``held_out_owner``, ``recognition_rate``, ``owner_score_median``, ``held_out_others``,
        ``false_accept_rate``, ``others_score_median``.

    Raises:
        ValueError: The owner has no training or no held-out messages.
    """
    train_by, test_by = _split_for(messages, cutoff, train_share)
    own_train = train_by.get(owner, [])
    own_test = test_by.get(owner, [])
    if not own_train:
        raise ValueError(f"{owner!r} has no messages before the cut-off to learn from")
    if not own_test:
        raise ValueError(f"{owner!r} has no held-out messages after the cut-off")
    others_train = [
        t for s, ts in train_by.items() if s != owner and s not in KNOWN_BOTS for t in ts
    ]
    verifier = StyleVerifier.fit(
        own_train,
        _sample(others_train, MAX_OTHER_BACKGROUND, seed) + list(background),
        embedder=embedder,
        seed=seed,
    )
    others_test = _sample(
        [t for s, ts in test_by.items() if s != owner and s not in KNOWN_BOTS for t in ts],
        max_others,
        seed + 1,
    )
    own_scores = verifier.score(own_test)
    other_scores = verifier.score(others_test)
    return {
        "owner": owner,
        "mode": verifier.mode,
        "threshold": threshold,
        "train_owner": len(own_train),
        "train_background": verifier.background_messages,
        "held_out_owner": len(own_test),
        "recognition_rate": float(np.mean([s >= threshold for s in own_scores])),
        "owner_score_median": float(np.median(own_scores)),
        "held_out_others": len(others_test),
        "false_accept_rate": (
            float(np.mean([s >= threshold for s in other_scores])) if other_scores else 0.0
        ),
        "others_score_median": float(np.median(other_scores)) if other_scores else None,
    }


def train_judge(
    messages: Sequence[Message],
    authors: Sequence[str],
    *,
    embedder: Embedder,
    cutoff: datetime | None = None,
    train_share: float = 0.8,
    background: Sequence[str] = (),
    seed: int = 0,
) -> AuthorshipJudge:
    """An authorship judge for ``authors``, trained on their messages before the cut-off.

    The other senders' training messages (sampled) and ``background`` join every verifier's
    background; each author's held-out messages are kept on the judge for
    :func:`style_fidelity`.
    """
    train_by, test_by = _split_for(messages, cutoff, train_share)
    missing = [a for a in authors if not train_by.get(a)]
    if missing:
        raise ValueError(f"no messages to learn from before the cut-off for: {', '.join(missing)}")
    extra = _others_background(train_by, authors, seed) + list(background)
    judge = AuthorshipJudge.fit(
        {a: train_by[a] for a in authors}, embedder=embedder, background=extra, seed=seed
    )
    judge.held_out = {a: list(test_by.get(a, [])) for a in authors}
    return judge


def attribution_eval(
    messages: Sequence[Message],
    authors: int = 10,
    *,
    embedder: Embedder,
    cutoff: datetime | None = None,
    train_share: float = 0.8,
    background: Sequence[str] = (),
    include: Sequence[str] = (),
    seed: int = 0,
    judge: AuthorshipJudge | None = None,
) -> dict[str, Any]:
    """Multi-writer attribution on held-out real messages: verifiers vs a trigram baseline.

    Args:
        messages: A multi-writer corpus.
        authors: How many of the most active human senders compete.
        embedder: Sentence embeddings for the verifiers.
        cutoff: Learn only from before this time (default: per-sender ``train_share`` split).
        train_share: See :func:`chronological_split`.
        background: Extra background writers for the verifiers.
        include: Senders that must be among the candidates (e.g. the owner).
        seed: Reproducible sampling.
        judge: A judge already trained by :func:`train_judge` on the same messages and split
            (its writers are the candidates); trained here when omitted.

    Returns:
        ``authors``, ``train``/``test`` counts per author, ``held_out`` total, ``chance``,
        ``verifier_accuracy``, ``baseline_accuracy``, ``verifier_macro``, ``baseline_macro`` and
        ``per_author`` accuracies.
    """
    if judge is None:
        judge = train_judge(
            messages,
            candidate_authors(messages, authors, include=include),
            embedder=embedder,
            cutoff=cutoff,
            train_share=train_share,
            background=background,
            seed=seed,
        )
    candidates = judge.authors
    train_by, _ = _split_for(messages, cutoff, train_share)
    baseline = CentroidBaseline().fit({a: train_by[a] for a in candidates})
    texts: list[str] = []
    truth: list[str] = []
    for author in candidates:
        texts += judge.held_out[author]
        truth += [author] * len(judge.held_out[author])
    if not texts:
        raise ValueError("no held-out messages after the cut-off")
    by_verifier = judge.attribute(texts)
    by_baseline = baseline.attribute(texts)
    per_author: dict[str, dict[str, float]] = {}
    for author in candidates:
        idx = [i for i, t in enumerate(truth) if t == author]
        if idx:
            per_author[author] = {
                "held_out": len(idx),
                "verifier": float(np.mean([by_verifier[i] == author for i in idx])),
                "baseline": float(np.mean([by_baseline[i] == author for i in idx])),
            }
    return {
        "authors": candidates,
        "train": {a: len(train_by[a]) for a in candidates},
        "test": {a: len(judge.held_out[a]) for a in candidates},
        "held_out": len(texts),
        "chance": 1.0 / len(candidates),
        "verifier_accuracy": float(
            np.mean([p == t for p, t in zip(by_verifier, truth, strict=True)])
        ),
        "baseline_accuracy": float(
            np.mean([p == t for p, t in zip(by_baseline, truth, strict=True)])
        ),
        "verifier_macro": float(np.mean([v["verifier"] for v in per_author.values()])),
        "baseline_macro": float(np.mean([v["baseline"] for v in per_author.values()])),
        "per_author": per_author,
    }


def style_fidelity(
    judge: AuthorshipJudge,
    drafts: Sequence[str],
    owner: str,
    *,
    held_out: Sequence[str] | None = None,
) -> dict[str, Any]:
    """How often drafts pass for the owner, next to how often the owner's real messages do.

    Args:
        judge: An authorship judge whose candidates include ``owner``.
        drafts: Generated replies to evaluate.
        owner: The owner among the judge's authors.
        held_out: The owner's real held-out messages (default: those kept by :func:`train_judge`).

    Returns:
        ``owner``, ``drafts``, ``fidelity`` (share of drafts attributed to the owner),
        ``ceiling`` (share of the owner's held-out messages attributed to the owner),
        ``relative`` (fidelity / ceiling), ``chance`` and ``attributed`` (draft counts per writer).

    Raises:
        ValueError: ``owner`` is not one of the judge's authors.
    """
    if owner not in judge.authors:
        raise ValueError(f"{owner!r} is not one of the judge's writers")
    real = list(held_out) if held_out is not None else judge.held_out.get(owner, [])
    attributed = judge.attribute(list(drafts))
    fidelity = float(np.mean([a == owner for a in attributed])) if attributed else 0.0
    ceiling_hits = judge.attribute(real)
    ceiling = float(np.mean([a == owner for a in ceiling_hits])) if ceiling_hits else None
    return {
        "owner": owner,
        "drafts": len(attributed),
        "fidelity": fidelity,
        "ceiling": ceiling,
        "relative": (fidelity / ceiling) if ceiling else None,
        "chance": 1.0 / len(judge.authors),
        "attributed": dict(Counter(attributed)),
    }
