"""``post`` and ``ask``: the owner's voice for something other than a reply to one message.

A :class:`PostCorpus` holds the owner's own posts — their messages that answer nobody (what they
wrote unprompted), newest :data:`MAX_POSTS` — with their embeddings, and the owner's thread
numbering habit. :func:`retrieval_post` composes a post from the owner's own sentences most similar
to a topic (no invented words; the reply says so); with a language model the service prompts it
with the most similar past posts instead (:func:`core.drafting.prompt.build_post_prompt`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.drafting.index import NumpyVectorIndex
from core.drafting.posts import (
    DEFAULT_NUMBERING,
    Numbering,
    PostPlatform,
    compose_from_sentences,
    numbering_habit,
    sentences,
    split_thread,
)
from core.drafting.safety import neutralise
from core.ports import Vector

MAX_POSTS = 5000
MIN_TOPIC_SIMILARITY = 0.2
"""Below this, the owner has written nothing close to the topic: the reply says so."""


@dataclass(slots=True)
class PostCorpus:
    """The owner's standalone messages with their embeddings, and how they number threads."""

    posts: list[str] = field(default_factory=list)
    index: NumpyVectorIndex = field(default_factory=lambda: NumpyVectorIndex(1))
    numbering: Numbering = DEFAULT_NUMBERING
    from_replies: bool = False
    """True when the owner has no standalone messages and their replies stand in."""

    @classmethod
    def build(
        cls,
        posts: Sequence[str],
        vectors: Vector,
        *,
        all_owner_texts: Sequence[str],
        from_replies: bool,
    ) -> PostCorpus:
        return cls(
            posts=list(posts),
            index=NumpyVectorIndex.of(vectors) if len(posts) else NumpyVectorIndex(1),
            numbering=numbering_habit(all_owner_texts),
            from_replies=from_replies,
        )

    def similar(self, query: Vector, k: int) -> list[tuple[str, float]]:
        """The ``k`` posts most similar to ``query``, with their similarity."""
        if not self.posts:
            return []
        return [(self.posts[row], sim) for row, sim in self.index.search(query, k)]


@dataclass(frozen=True, slots=True)
class ComposedPost:
    """A post ready to show: its parts (one unless it is a thread) and how it was made."""

    parts: list[str]
    engine: str
    sources: int
    best_similarity: float


def retrieval_post(
    corpus: PostCorpus,
    *,
    topic_vector: Vector,
    platform: PostPlatform,
    encode: Callable[[Sequence[str]], Vector],
) -> ComposedPost:
    """A post made of the owner's own sentences closest to the topic, split for ``platform``."""
    similar = corpus.similar(topic_vector, 20)
    if not similar:
        return ComposedPost(parts=[], engine="retrieval", sources=0, best_similarity=0.0)
    pool: list[str] = []
    for post, _ in similar:
        pool += sentences(post) or [post.strip()]
    pool = list(dict.fromkeys(s for s in pool if s))
    vectors = encode(pool)
    order = np.argsort(-(vectors @ np.asarray(topic_vector, dtype=np.float32)), kind="stable")
    text = compose_from_sentences([pool[i] for i in order], target=platform.target)
    return ComposedPost(
        parts=finish(text, platform, corpus.numbering),
        engine="retrieval",
        sources=len(similar),
        best_similarity=similar[0][1],
    )


def finish(text: str, platform: PostPlatform, numbering: Numbering) -> list[str]:
    """Neutralise and cut to the platform: a numbered thread where it needs one."""
    clean = neutralise(text)
    if platform.threads:
        return split_thread(clean, limit=platform.limit, numbering=numbering)
    return [clean[: platform.limit]]
