"""The retrieval engine: what the owner actually wrote in answer to similar messages.

An :class:`ExemplarIndex` holds a persona's (incoming → owner's reply) pairs with the embeddings of
the incoming side. Drafting embeds the new message once, ranks past incoming messages by cosine
similarity blended with word overlap, and offers the owner's own replies to the best matches —
different answers, not paraphrases — adapted where that is safe (who is addressed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from core.models import DraftOption, ReplyPair
from core.ports import Vector

_WORD = re.compile(r"[a-z0-9']+")
_ADDRESS = re.compile(r"^\s*@?(?P<name>[\w.\-\[\]^`|{}]+)\s*[:,]\s+", re.UNICODE)
_GREETING = re.compile(
    r"^(?P<greet>(hi|hey|hello|thanks|thx|ty|morning)\s+)(?P<name>[A-Za-z][\w\-]*)\b", re.I
)
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "and",
        "or",
        "is",
        "are",
        "be",
        "it",
        "this",
        "that",
        "i",
        "you",
        "we",
        "in",
        "on",
        "for",
        "with",
        "at",
        "by",
        "me",
        "my",
        "your",
        "can",
        "could",
        "would",
        "will",
        "do",
        "does",
        "did",
        "so",
        "just",
    ]
)


class StyleScorer(Protocol):
    """Scores texts 0-100 by how much they sound like the owner."""

    def score(self, texts: Sequence[str]) -> list[int]: ...


def tokens(text: str) -> frozenset[str]:
    """Content words, lowercased: the lexical side of similarity."""
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


@dataclass(slots=True)
class ExemplarIndex:
    """A persona's reply pairs and the unit vectors of their incoming messages (exact top-k)."""

    pairs: list[ReplyPair] = field(default_factory=list)
    matrix: Vector = field(default_factory=lambda: np.zeros((0, 1), dtype=np.float32))
    token_sets: list[frozenset[str]] = field(default_factory=list)

    @classmethod
    def build(cls, pairs: Sequence[ReplyPair], vectors: Vector) -> ExemplarIndex:
        if len(pairs) != vectors.shape[0]:
            raise ValueError("one vector per pair is required")
        return cls(
            pairs=list(pairs),
            matrix=np.ascontiguousarray(vectors, dtype=np.float32),
            token_sets=[tokens(p.incoming_text) for p in pairs],
        )

    def __len__(self) -> int:
        return len(self.pairs)

    def nearest(
        self, query: Vector, query_tokens: frozenset[str], k: int
    ) -> list[tuple[float, int]]:
        """The ``k`` best pairs as ``(similarity, position)``, best first."""
        if not self.pairs:
            return []
        cosine = self.matrix @ query.astype(np.float32)
        # Pre-select on the cosine alone (cheap), then blend in word overlap on the short list.
        width = min(len(self.pairs), max(k * 4, 32))
        shortlist = np.argpartition(-cosine, width - 1)[:width]
        scored = []
        for position in shortlist.tolist():
            overlap = _jaccard(query_tokens, self.token_sets[position])
            scored.append((0.8 * float(cosine[position]) + 0.2 * overlap, position))
        scored.sort(reverse=True)
        return scored[:k]


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def adapt(reply: str, *, old_sender: str, new_sender: str) -> str:
    """Re-address a past reply to the new sender, only where the reply named the old one."""
    if not new_sender or old_sender.lower() == new_sender.lower():
        return reply
    match = _ADDRESS.match(reply)
    if match and match.group("name").lower() == old_sender.lower():
        return reply[: match.start("name")] + new_sender + reply[match.end("name") :]
    match = _GREETING.match(reply)
    if match and match.group("name").lower() == old_sender.lower():
        return reply[: match.start("name")] + new_sender + reply[match.end("name") :]
    return reply


class RetrievalDrafter:
    """Up to ``max_options`` of the owner's own past replies that fit a new message."""

    engine = "retrieval"

    def __init__(self, *, max_options: int = 3, diversity: float = 0.6) -> None:
        self._max_options = max_options
        self._diversity = diversity

    def draft(
        self,
        index: ExemplarIndex,
        *,
        text: str,
        sender: str,
        query: Vector,
        style: StyleScorer,
        exclude: frozenset[str] = frozenset(),
    ) -> list[DraftOption]:
        """Draft options for ``text`` from ``sender``; ``query`` is its embedding.

        ``exclude`` holds option texts the owner already rejected for this message.
        """
        hits = index.nearest(query, tokens(text), k=self._max_options * 8)
        chosen: list[tuple[float, ReplyPair, str]] = []
        chosen_tokens: list[frozenset[str]] = []
        for similarity, position in hits:
            pair = index.pairs[position]
            reply = adapt(pair.reply_text, old_sender=pair.incoming_sender, new_sender=sender)
            if reply in exclude or not reply.strip():
                continue
            reply_tokens = tokens(reply) or frozenset(reply.lower().split())
            if any(
                reply == other or _jaccard(reply_tokens, seen) > self._diversity
                for (_, _, other), seen in zip(chosen, chosen_tokens, strict=True)
            ):
                continue
            chosen.append((similarity, pair, reply))
            chosen_tokens.append(reply_tokens)
            if len(chosen) == self._max_options:
                break
        if not chosen:
            return []
        scores = style.score([reply for _, _, reply in chosen])
        return [
            DraftOption(
                text=reply,
                engine=self.engine,
                style_score=score,
                reasons=(
                    f"you wrote this to {pair.incoming_sender} about a similar message "
                    f"({round(similarity * 100)}% alike)",
                ),
                source_id=pair.reply_id,
            )
            for (similarity, pair, reply), score in zip(chosen, scores, strict=True)
        ]
