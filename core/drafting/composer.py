"""``post`` and ``ask``: the owner's voice for something other than a reply to one message.

A :class:`PostCorpus` holds the owner's own posts — their messages that answer nobody (what they
wrote unprompted), newest :data:`MAX_POSTS` — with their embeddings, and the owner's thread
numbering habit. With a language model the service prompts it with the most similar past posts
(:func:`core.drafting.prompt.build_post_prompt`); without one it offers those posts themselves,
labelled as the owner's own, as a starting point (never sentences stitched together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.drafting.index import NumpyVectorIndex
from core.drafting.posts import (
    DEFAULT_NUMBERING,
    Numbering,
    PostPlatform,
    numbering_habit,
    split_thread,
)
from core.drafting.safety import neutralise
from core.ports import Vector

MAX_POSTS = 5000
MIN_TOPIC_SIMILARITY = 0.25
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


def finish(text: str, platform: PostPlatform, numbering: Numbering) -> list[str]:
    """Neutralise and cut to the platform: a numbered thread where it needs one."""
    clean = neutralise(text)
    if platform.threads:
        return split_thread(clean, limit=platform.limit, numbering=numbering)
    return [clean[: platform.limit]]
