"""What a draft knows besides the message: the owner's profile and exemplars (for the LLM prompt)
and the earlier messages of the conversation (for the prompt and the retrieval query)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.drafting.intents import Phrasebook
from core.drafting.prompt import Exemplar, PromptContext
from core.drafting.retrieval import ExemplarIndex, tokens
from core.models import Message
from core.ports import Vector
from core.profiling.profile import StyleProfile

MAX_EXEMPLARS = 6
FOLLOW_UP_WORDS = 3
"""A message with at most this many content words leans on what came before ("and tomorrow?")."""
CONTEXT_WEIGHT = 0.5
"""Weight of the most recent earlier message in a follow-up's query (halved for each older one)."""


def is_follow_up(text: str) -> bool:
    """Whether ``text`` is too short to stand alone: its meaning is in the conversation."""
    return len(tokens(text)) <= FOLLOW_UP_WORDS


def conversation_query(
    query: Vector, text: str, context: Sequence[Message], context_vectors: Vector | None
) -> Vector:
    """The retrieval query of a message in its conversation.

    A message that stands alone keeps its own embedding. A follow-up (:func:`is_follow_up`)
    blends in the earlier messages, the most recent weighing :data:`CONTEXT_WEIGHT` and each
    older one half as much, so "and the docs too?" after "can you review my PR?" finds the
    owner's answers to requests for reviews, not to any short question.

    Args:
        query: The message's own (unit) embedding.
        text: The message.
        context: Earlier messages, oldest first.
        context_vectors: Their embeddings, in the same order (``None`` when there are none).
    """
    if not context or context_vectors is None or not len(context_vectors) or not is_follow_up(text):
        return query
    blended = np.asarray(query, dtype=np.float32).copy()
    for age, vector in enumerate(np.asarray(context_vectors, dtype=np.float32)[::-1]):
        blended += CONTEXT_WEIGHT * 0.5**age * vector
    norm = float(np.linalg.norm(blended))
    return blended / norm if norm > 0 else query


def conversation_lines(context: Sequence[Message]) -> list[tuple[str, str]]:
    """The earlier messages as (sender, text) for the prompt, oldest first, empty ones left out."""
    return [(m.sender, m.text) for m in context if m.text.strip()]


def habits(profile: StyleProfile | None) -> list[str]:
    """Length, case, greeting and sign-off habits, as short instructions."""
    if profile is None or profile.messages == 0:
        return []
    f = profile.features
    out = [
        f"Typical length: about {f.get('len_words_median', 0):.0f} words "
        f"(90% of messages under {f.get('len_words_p90', 0):.0f})."
    ]
    lower = f.get("lowercase_start_rate", 0.0)
    if lower >= 0.6:
        out.append(f"Usually starts in lowercase ({100 * lower:.0f}% of messages).")
    elif lower <= 0.2:
        out.append("Starts sentences with a capital letter.")
    bare = f.get("end_none_rate", 0.0)
    if bare >= 0.6:
        out.append(f"Usually ends without a full stop ({100 * bare:.0f}%).")
    greetings = [g for g, _ in profile.stats.greetings.most_common(2)]
    if f.get("greeting_rate", 0.0) >= 0.05 and greetings:
        out.append(
            f"Opens {100 * f['greeting_rate']:.0f}% of messages with a greeting like "
            + " or ".join(f"'{g}'" for g in greetings)
            + "."
        )
    else:
        out.append("Rarely opens with a greeting.")
    sign_offs = [g for g, _ in profile.stats.sign_offs.most_common(2)]
    if f.get("sign_off_rate", 0.0) >= 0.05 and sign_offs:
        out.append(
            f"Signs off {100 * f['sign_off_rate']:.0f}% of the time with "
            + " or ".join(f"'{g}'" for g in sign_offs)
            + "."
        )
    else:
        out.append("Rarely signs off.")
    return out


def contact_notes(profile: StyleProfile | None, index: ExemplarIndex, sender: str) -> list[str]:
    """How the owner writes to ``sender``: past replies to them and any measured difference."""
    notes: list[str] = []
    answered = [p for p in index.pairs if p.incoming_sender.lower() == sender.lower()]
    if answered:
        notes.append(f"They have answered {sender} {len(answered)} times before.")
    if profile is not None:
        sub = profile.contacts.get(sender)
        if sub:
            notes.append(
                f"To {sender}: about {sub.get('len_words_mean', 0):.0f} words a message, "
                f"formality {sub.get('formality', 0):.0f}/100."
            )
        notes += [d.text for d in profile.differences if d.kind == "contact" and d.name == sender]
    return notes


def stock_phrases(phrasebook: Phrasebook) -> list[str]:
    """One typical phrase per intent the owner has."""
    return [p[0].text for p in phrasebook.phrases.values() if p]


def reply_context(
    *,
    owner: str,
    profile: StyleProfile | None,
    index: ExemplarIndex,
    sender: str,
    nearest: Sequence[int],
    conversation: Sequence[Message] = (),
    candidates: Sequence[tuple[str, str | None]] = (),
) -> PromptContext:
    """The prompt context for a reply to ``sender``; ``nearest`` are exemplar positions,
    ``conversation`` the earlier messages (oldest first) and ``candidates`` the retrieval
    engine's options with their dialogue act when known."""
    exemplars = [
        Exemplar(
            incoming=index.pairs[i].incoming_text,
            sender=index.pairs[i].incoming_sender,
            reply=index.pairs[i].reply_text,
        )
        for i in nearest[:MAX_EXEMPLARS]
    ]
    return PromptContext(
        owner=owner,
        profile=profile.summary() if profile is not None and profile.messages else "",
        habits=habits(profile),
        contact_notes=contact_notes(profile, index, sender),
        exemplars=exemplars,
        stock_phrases=stock_phrases(index.phrasebook),
        conversation=conversation_lines(conversation),
        candidates=tuple(candidates),
    )
