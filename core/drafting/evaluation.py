"""How good the retrieval engine's drafts are, measured the DESIGN.md way on a real corpus.

For one owner, with the chronological per-sender split of :func:`core.evaluation.chronological_split`:

* **Exemplars**: the owner's training replies whose parent message is known (``reply_to``), as
  (parent → reply) pairs; only messages before the split are ever seen.
* **Test items**: the owner's held-out replies with a known parent. The retrieval engine drafts a
  reply to each parent; the first option is "the draft".
* **Reply relevance**: the true reply is ranked among itself and 8 distractors — 4 replies by the
  owner to other messages and 4 replies by other writers — by cosine similarity of their
  embeddings to the draft's; reported as mean reciprocal rank and recall@1 (chance: MRR ≈ 0.31,
  recall@1 ≈ 0.11).
* **Style fidelity**: the share of drafts a multi-writer authorship judge attributes to the owner,
  next to the share of the owner's own held-out real replies it attributes to them (the ceiling).
* **Baseline**: a generic reply chosen the same way — what *other* writers answered to the
  training message most similar to the parent — measured with the same distractors and judge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from core.drafting.retrieval import ExemplarIndex, RetrievalDrafter
from core.evaluation import AuthorshipJudge, chronological_split, style_fidelity
from core.models import Message, ReplyPair
from core.ports import Embedder

DISTRACTORS_SAME = 4
DISTRACTORS_OTHER = 4


class _FlatScore:
    """Style scores do not change which option comes first; the evaluation skips them."""

    def score(self, texts: Sequence[str]) -> list[int]:
        return [50] * len(texts)


@dataclass(frozen=True, slots=True)
class _Item:
    parent: Message
    reply: Message


def _pairs(
    messages: Sequence[Message], by_id: dict[str, Message], keep: set[str] | None
) -> list[_Item]:
    out = []
    for m in messages:
        if not m.reply_to or not m.text.strip():
            continue
        parent = by_id.get(m.reply_to)
        if parent is None or parent.sender == m.sender or not parent.text.strip():
            continue
        if keep is not None and parent.id not in keep:
            continue
        out.append(_Item(parent=parent, reply=m))
    return out


def _index(items: Sequence[_Item], embedder: Embedder, persona: str) -> ExemplarIndex:
    pairs = [
        ReplyPair(
            persona_id=persona,
            incoming_id=i.parent.id,
            incoming_text=i.parent.text,
            incoming_sender=i.parent.sender,
            reply_id=i.reply.id,
            reply_text=i.reply.text,
            replied_at=i.reply.sent_at,
        )
        for i in items
    ]
    vectors = (
        embedder.encode([p.incoming_text for p in pairs])
        if pairs
        else np.zeros((0, embedder.dim), dtype=np.float32)
    )
    return ExemplarIndex.build(pairs, vectors)


def _rank(draft_vec: np.ndarray, candidate_vecs: np.ndarray) -> int:
    """1-based rank of candidate 0 (the true reply) by similarity to the draft (ties count
    against it)."""
    sims = candidate_vecs @ draft_vec
    return int(1 + np.sum(sims[1:] >= sims[0]))


def draft_report(
    messages: Sequence[Message],
    owner: str,
    *,
    embedder: Embedder,
    judge: AuthorshipJudge | None = None,
    cutoff: datetime | None = None,
    train_share: float = 0.8,
    max_items: int = 300,
    seed: int = 0,
) -> dict[str, Any]:
    """Reply relevance and style fidelity of the retrieval engine for ``owner``, with a baseline.

    Args:
        messages: A multi-writer corpus with ``reply_to`` links.
        owner: The writer whose replies are drafted.
        embedder: Sentence embeddings (wrap in :class:`core.evaluation.CachingEmbedder`).
        judge: A multi-writer judge including ``owner`` (without one, fidelity is skipped).
        cutoff: Learn only from messages before it (default: the per-sender split).
        train_share: The chronological split per sender.
        max_items: Held-out replies evaluated at most (a seeded sample).
        seed: Reproducible sampling.

    Returns:
        ``owner``, ``exemplars``, ``items``, ``retrieval`` and ``baseline`` (each with ``mrr``,
        ``recall_at_1`` and, with a judge, ``fidelity``), ``ceiling`` and ``chance``.

    Raises:
        ValueError: The owner has no exemplars or no held-out replies with a known parent.
    """
    rng = np.random.default_rng(seed)
    by_id = {m.id: m for m in messages}
    train, test = chronological_split(messages, cutoff=cutoff, train_share=train_share)
    train_ids = {m.id for m in train}
    own_train = _pairs([m for m in train if m.sender == owner], by_id, train_ids)
    others_train = _pairs([m for m in train if m.sender != owner], by_id, train_ids)
    own_test = _pairs([m for m in test if m.sender == owner], by_id, None)
    if not own_train or not own_test:
        raise ValueError(f"{owner!r} has no replies with a known parent on one side of the split")
    if len(own_test) > max_items:
        picked = sorted(rng.choice(len(own_test), size=max_items, replace=False))
        own_test = [own_test[i] for i in picked]
    own_index = _index(own_train, embedder, "owner")
    generic_index = _index(others_train, embedder, "others")
    drafter = RetrievalDrafter()
    flat = _FlatScore()
    parents = [i.parent.text for i in own_test]
    queries = embedder.encode(parents)
    drafts: list[str] = []
    generic: list[str] = []
    for item, query in zip(own_test, queries, strict=True):
        options = drafter.draft(
            own_index, text=item.parent.text, sender=item.parent.sender, query=query, style=flat
        )
        drafts.append(options[0].text if options else "")
        hits = generic_index.nearest(query, frozenset(), k=1) if len(generic_index) else []
        generic.append(generic_index.pairs[hits[0][1]].reply_text if hits else "")
    # Distractors: the owner's replies to other messages, other writers' replies to others.
    own_pool = [m for m in messages if m.sender == owner and m.reply_to and m.text.strip()]
    other_pool = [m for m in messages if m.sender != owner and m.reply_to and m.text.strip()]
    ranks: dict[str, list[int]] = {"retrieval": [], "baseline": []}
    candidate_sets: list[list[str]] = []
    for item in own_test:
        same = [
            own_pool[i].text
            for i in rng.choice(
                len(own_pool), size=min(len(own_pool), 3 * DISTRACTORS_SAME), replace=False
            )
            if own_pool[i].id != item.reply.id and own_pool[i].reply_to != item.parent.id
        ][:DISTRACTORS_SAME]
        other = [
            other_pool[i].text
            for i in rng.choice(
                len(other_pool), size=min(len(other_pool), 3 * DISTRACTORS_OTHER), replace=False
            )
            if other_pool[i].reply_to != item.parent.id
        ][:DISTRACTORS_OTHER]
        candidate_sets.append([item.reply.text, *same, *other])
    flat_texts = list(dict.fromkeys(t for c in candidate_sets for t in c))
    vec_of = dict(zip(flat_texts, embedder.encode(flat_texts), strict=True))
    draft_vecs = embedder.encode([d or " " for d in drafts])
    generic_vecs = embedder.encode([g or " " for g in generic])
    for candidates, d_vec, g_vec in zip(candidate_sets, draft_vecs, generic_vecs, strict=True):
        matrix = np.stack([vec_of[c] for c in candidates])
        ranks["retrieval"].append(_rank(d_vec, matrix))
        ranks["baseline"].append(_rank(g_vec, matrix))
    report: dict[str, Any] = {
        "owner": owner,
        "exemplars": len(own_train),
        "items": len(own_test),
        "candidates": 1 + DISTRACTORS_SAME + DISTRACTORS_OTHER,
        "chance": {
            "mrr": float(np.mean([1 / r for r in range(1, 10)])),
            "recall_at_1": 1 / 9,
        },
    }
    for name, texts in (("retrieval", drafts), ("baseline", generic)):
        r = np.asarray(ranks[name], dtype=np.float64)
        entry: dict[str, Any] = {
            "mrr": float(np.mean(1.0 / r)),
            "recall_at_1": float(np.mean(r == 1)),
            "mrr_stderr": float(np.std(1.0 / r) / math.sqrt(len(r))),
        }
        if judge is not None:
            fid = style_fidelity(
                judge,
                [t for t in texts if t.strip()],
                owner,
                held_out=[i.reply.text for i in own_test],
            )
            entry["fidelity"] = fid["fidelity"]
            report["ceiling"] = fid["ceiling"]
            report["judge_chance"] = fid["chance"]
        report[name] = entry
    report["examples"] = [
        {"incoming": i.parent.text, "true": i.reply.text, "draft": d, "generic": g}
        for i, d, g in list(zip(own_test, drafts, generic, strict=True))[:3]
    ]
    return report
