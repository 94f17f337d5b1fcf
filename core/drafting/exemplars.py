"""A persona's exemplars: its (incoming → owner's reply) pairs, searchable by meaning and by words.

The incoming side's embeddings sit in an exact numpy index, the reply side's by text (so scoring
retrieved options costs no encoder pass), with an inverted index of content words and the owner's
phrasebook. :mod:`core.drafting.retrieval` drafts from it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from core.drafting.fit import STOPWORDS, FitWeights, ReplyCodes, reply_key
from core.drafting.index import NumpyVectorIndex
from core.drafting.intents import Phrasebook
from core.models import ReplyPair
from core.ports import Vector

_WORD = re.compile(r"[a-z0-9']+")
_NICK = re.compile(r"^\s*(?:@[\w.\-\[\]^`|{}]+\s*[:,]|[\w.\-\[\]^`|{}]+\s*:)\s+")
LEXICAL_WEIGHT = 0.2
"""Share of word overlap in the blended similarity (the rest is cosine of embeddings)."""
SHORTLIST = 48
MAX_POSTING = 400
"""Words in more exemplars than this (or 2% of them) are too common to find candidates by."""


def tokens(text: str) -> frozenset[str]:
    """Content words, lowercased: the lexical side of similarity."""
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in STOPWORDS)


@dataclass(frozen=True, slots=True)
class Negative:
    """A reply text the owner rejected for a message with this embedding."""

    query: Vector
    text: str


@dataclass(slots=True)
class ExemplarIndex:
    """A persona's reply pairs, searchable by meaning and by words (exact top-k)."""

    pairs: list[ReplyPair] = field(default_factory=list)
    vectors: NumpyVectorIndex = field(default_factory=lambda: NumpyVectorIndex(1))
    token_sets: list[frozenset[str]] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=dict)
    reply_vectors: dict[str, Vector] = field(default_factory=dict)
    """Embeddings of reply texts (by text), when known: the verifier and reranking reuse them."""
    phrasebook: Phrasebook = field(default_factory=Phrasebook)
    _replies: tuple[list[str], Vector, list[int]] | None = None
    """Distinct reply texts with known vectors, their matrix, and a pair of each (built lazily)."""
    _answered: dict[str, list[int]] | None = None
    """Pair positions by reply (:func:`core.drafting.fit.reply_key`), built lazily."""
    _addressing: tuple[int, float] | None = None
    _codes: tuple[FitWeights, ReplyCodes] | None = None

    @classmethod
    def build(
        cls,
        pairs: Sequence[ReplyPair],
        vectors: Vector,
        *,
        reply_vectors: Vector | None = None,
        owner_replies: Iterable[str] | None = None,
    ) -> ExemplarIndex:
        """Index ``pairs`` with one incoming-side vector each (rows in order).

        Args:
            pairs: The persona's reply pairs.
            vectors: Embedding of each pair's incoming text.
            reply_vectors: Embedding of each pair's reply text, if computed.
            owner_replies: Texts to mine the phrasebook from (default: the pairs' replies).
        """
        if len(pairs) != vectors.shape[0]:
            raise ValueError("one vector per pair is required")
        dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 1
        index = cls(vectors=NumpyVectorIndex(dim, capacity=max(1, len(pairs))))
        if len(pairs):
            index.vectors.add(vectors)
        for row, pair in enumerate(pairs):
            index._remember(row, pair)
        if reply_vectors is not None:
            for pair, vector in zip(pairs, reply_vectors, strict=True):
                index.reply_vectors[pair.reply_text] = vector
        index.phrasebook = Phrasebook.mine(
            owner_replies if owner_replies is not None else (p.reply_text for p in pairs),
            pairs=[(p.incoming_text, p.reply_text) for p in pairs],
        )
        return index

    def _remember(self, row: int, pair: ReplyPair) -> None:
        self.pairs.append(pair)
        words = tokens(pair.incoming_text)
        self.token_sets.append(words)
        for word in words:
            self.postings.setdefault(word, []).append(row)

    def add(self, pair: ReplyPair, vector: Vector, reply_vector: Vector | None = None) -> None:
        """Add one exemplar (a sent draft) without rebuilding."""
        if not self.pairs and self.vectors.dim != vector.shape[-1]:
            self.vectors = NumpyVectorIndex(vector.shape[-1])
        row = self.vectors.add(vector.reshape(1, -1))
        self._remember(row, pair)
        self._answered = None
        if reply_vector is not None:
            self.reply_vectors[pair.reply_text] = reply_vector
            self._replies = None

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def matrix(self) -> Vector:
        """The incoming-side embeddings, one row per pair."""
        return self.vectors.matrix

    def precedents(self, query: Vector, replies: Sequence[str]) -> npt.NDArray[np.float64]:
        """Per reply, the highest similarity of ``query`` to a past message the owner answered
        with that reply (whatever the address), 0 when they never used it."""
        if self._answered is None:
            self._answered = {}
            for position, pair in enumerate(self.pairs):
                self._answered.setdefault(reply_key(pair.reply_text), []).append(position)
        out = np.zeros(len(replies), dtype=np.float64)
        for k, reply in enumerate(replies):
            rows = self._answered.get(reply_key(reply))
            if rows:
                out[k] = max(self.vectors.similarity(query, rows))
        return out

    def address_share(self) -> float:
        """How many of the owner's replies start by addressing someone ("bob: …")."""
        if not self.pairs:
            return 0.0
        if self._addressing is None or self._addressing[0] != len(self.pairs):
            count = sum(1 for p in self.pairs if _NICK.match(p.reply_text))
            self._addressing = (len(self.pairs), count / len(self.pairs))
        return self._addressing[1]

    def codes(self, weights: FitWeights) -> ReplyCodes:
        """Compact codes of :meth:`replies` for searching by fit (built once per weights)."""
        matrix = self.replies()[1]
        cached = self._codes
        if cached is None or cached[0] is not weights or cached[1].matrix.shape[0] != len(matrix):
            cached = (weights, ReplyCodes.of(weights, matrix))
            self._codes = cached
        return cached[1]

    def replies(self) -> tuple[list[str], Vector, list[int]]:
        """The distinct reply texts whose embedding is known, as ``(texts, matrix, pair
        position of each)``: what direct search by fit runs over (built once, kept)."""
        if self._replies is None:
            texts: list[str] = []
            positions: list[int] = []
            seen: set[str] = set()
            for position in range(len(self.pairs) - 1, -1, -1):  # newest pair of each text
                reply = self.pairs[position].reply_text
                if reply in seen or reply not in self.reply_vectors or not reply.strip():
                    continue
                seen.add(reply)
                texts.append(reply)
                positions.append(position)
            dim = self.vectors.dim
            matrix = (
                np.stack([self.reply_vectors[t] for t in texts]).astype(np.float32)
                if texts
                else np.zeros((0, dim), dtype=np.float32)
            )
            self._replies = (texts, matrix, positions)
        return self._replies

    def _lexical(self, query_tokens: frozenset[str], width: int) -> list[int]:
        """Rows sharing the query's rarer words, by summed idf (common words are skipped)."""
        n = len(self.pairs)
        limit = min(MAX_POSTING, max(50, n // 50))
        weights: dict[int, float] = {}
        for word in query_tokens:
            rows = self.postings.get(word)
            if not rows or len(rows) > limit:
                continue
            idf = math.log(1 + n / len(rows))
            for row in rows:
                weights[row] = weights.get(row, 0.0) + idf
        return sorted(weights, key=lambda row: -weights[row])[:width]

    def nearest(
        self, query: Vector, query_tokens: frozenset[str], k: int, *, distinct: bool = False
    ) -> list[tuple[float, int]]:
        """The ``k`` best pairs as ``(blended similarity, position)``, best first.

        Candidates come from both the cosine top list and the word index; each is scored
        ``(1 - LEXICAL_WEIGHT) * cosine + LEXICAL_WEIGHT * jaccard(words)``. With ``distinct``,
        only the most similar pair of each reply text competes (owners repeat themselves:
        "thanks!" answers hundreds of messages), found in a deeper but still exact cosine list.
        """
        if not self.pairs:
            return []
        width = max(k * 4, SHORTLIST)
        if distinct:
            semantic, replies = [], set()
            for row, value in self.vectors.search(query, width * 8):
                reply = self.pairs[row].reply_text
                if reply not in replies:
                    replies.add(reply)
                    semantic.append((row, value))
                    if len(semantic) == width:
                        break
        else:
            semantic = self.vectors.search(query, width)
        cosine = dict(semantic)
        extra = [row for row in self._lexical(query_tokens, width) if row not in cosine]
        for row, value in zip(extra, self.vectors.similarity(query, extra), strict=True):
            cosine[row] = value
        scored = [
            (
                (1 - LEXICAL_WEIGHT) * value
                + LEXICAL_WEIGHT * _jaccard(query_tokens, self.token_sets[row]),
                row,
            )
            for row, value in cosine.items()
        ]
        scored.sort(key=lambda item: (-item[0], item[1]))
        return scored[:k]


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
