"""How good the drafts are, measured the DESIGN.md way on a multi-writer corpus.

For one owner, with the chronological per-sender split of :func:`core.evaluation.chronological_split`:

* **Exemplars**: the owner's training replies whose parent message is known (``reply_to``), as
  (parent → reply) pairs; only messages before the split are ever seen.
* **Test items**: the owner's held-out replies with a known parent. Each engine drafts a reply to
  each parent; its first option is "the draft".
* **Engines compared on the same items**: ``retrieval`` (naive: the owner's reply to the most similar
  past message), ``fitted`` (fit-first drafting with the owner-adapted reply-fit model and the
  gate; its best candidate is the draft, whether or not chat would offer it) and ``baseline`` (a
  generic reply: what *other* writers answered to the training message most similar to the parent).
* **Reply relevance**: the true reply is ranked among itself and 8 distractors — 4 replies by the
  owner to other messages and 4 replies by other writers — by cosine similarity of their
  embeddings to the draft's; mean reciprocal rank and recall@1 (chance: MRR ≈ 0.31, recall@1 ≈
  0.11). Fitted vs naive: the paired difference of reciprocal ranks, with a bootstrap 95% CI.
* **Judge of fit**: a reply-fit model trained on *other* writers than the ranker's (``fit_judge``)
  says which shown options answer the message (calibrated probability ≥ 0.5), next to the share of
  the owner's true replies it accepts (the ceiling) and of the naive drafts.
* **Style fidelity**: the share of drafts a multi-writer authorship judge attributes to the owner,
  next to the share of the owner's own held-out real replies it attributes to them (the ceiling).
* **Meters** (``meters=True``): ROC-AUC on the test side of the "fits" meter (true reply vs the
  owner's replies to other messages) and of the "sounds like you" meter (the owner's held-out
  messages vs other writers'), the no-draft rate, how many options are offered, and how often all
  options of a card read the same value.

Writers whose pairs trained the ranker must not be scored here: the benchmark checks the owners
against the writers the shipped weights record as excluded.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from core.drafting.fit import FitWeights, OwnerPair, ReplyFit, global_weights, roc_auc
from core.drafting.meters import StyleMeter
from core.drafting.retrieval import ExemplarIndex, RetrievalDrafter, StyleScorer
from core.drafting.style import train_style
from core.evaluation import AuthorshipJudge, chronological_split, style_fidelity
from core.models import DraftOption, Message, ReplyPair
from core.ports import Embedder
from core.verifier import StyleVerifier

DISTRACTORS_SAME = 4
DISTRACTORS_OTHER = 4
BOOTSTRAP = 2000
TRADEOFF = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
MAX_STYLE_OTHERS = 2000


class _FlatScore:
    """Style scores do not change which option comes first in naive retrieval; skipped."""

    def score(self, texts: Sequence[str]) -> list[int]:
        return [50] * len(texts)


@dataclass(frozen=True, slots=True)
class _Item:
    parent: Message
    reply: Message


@dataclass(slots=True)
class _Split:
    own_train: list[_Item]
    own_test: list[_Item]
    others_train: list[_Item]
    train: list[Message]
    test: list[Message]


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


def _split(
    messages: Sequence[Message],
    owner: str,
    cutoff: datetime | None,
    train_share: float,
    max_items: int,
    rng: np.random.Generator,
) -> _Split:
    by_id = {m.id: m for m in messages}
    train, test = chronological_split(messages, cutoff=cutoff, train_share=train_share)
    train_ids = {m.id for m in train}
    own_train = _pairs([m for m in train if m.sender == owner], by_id, train_ids)
    own_test = _pairs([m for m in test if m.sender == owner], by_id, None)
    if not own_train or not own_test:
        raise ValueError(f"{owner!r} has no replies with a known parent on one side of the split")
    if len(own_test) > max_items:
        picked = sorted(rng.choice(len(own_test), size=max_items, replace=False))
        own_test = [own_test[i] for i in picked]
    others_train = _pairs([m for m in train if m.sender != owner], by_id, train_ids)
    return _Split(own_train, own_test, others_train, train, test)


def _index(
    items: Sequence[_Item], embedder: Embedder, persona: str, *, replies: bool = False
) -> ExemplarIndex:
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
    empty = np.zeros((0, embedder.dim), dtype=np.float32)
    vectors = embedder.encode([p.incoming_text for p in pairs]) if pairs else empty
    reply_vectors = embedder.encode([p.reply_text for p in pairs]) if replies and pairs else None
    return ExemplarIndex.build(pairs, vectors, reply_vectors=reply_vectors)


def _rank(draft_vec: npt.NDArray[np.float32], candidate_vecs: npt.NDArray[np.float32]) -> int:
    """1-based rank of candidate 0 (the true reply) by similarity to the draft (ties count
    against it)."""
    sims = candidate_vecs @ draft_vec
    return int(1 + np.sum(sims[1:] >= sims[0]))


def _candidate_sets(
    messages: Sequence[Message], owner: str, items: Sequence[_Item], rng: np.random.Generator
) -> list[list[str]]:
    """The true reply and its distractors: the owner's replies to other messages, and other
    writers' replies to other messages."""
    own_pool = [m for m in messages if m.sender == owner and m.reply_to and m.text.strip()]
    other_pool = [m for m in messages if m.sender != owner and m.reply_to and m.text.strip()]
    out = []
    for item in items:
        size = min(len(own_pool), 3 * DISTRACTORS_SAME)
        same = [
            own_pool[i].text
            for i in rng.choice(len(own_pool), size=size, replace=False)
            if own_pool[i].id != item.reply.id and own_pool[i].reply_to != item.parent.id
        ][:DISTRACTORS_SAME]
        size = min(len(other_pool), 3 * DISTRACTORS_OTHER)
        other = [
            other_pool[i].text
            for i in rng.choice(len(other_pool), size=size, replace=False)
            if other_pool[i].reply_to != item.parent.id
        ][:DISTRACTORS_OTHER]
        out.append([item.reply.text, *same, *other])
    return out


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], *, rounds: int = BOOTSTRAP, seed: int = 0
) -> dict[str, float]:
    """Mean of ``a - b`` over paired items with a percentile bootstrap 95% CI."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if not len(diff):
        return {"mean": 0.0, "low": 0.0, "high": 0.0}
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(rounds, len(diff)))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return {"mean": float(diff.mean()), "low": float(low), "high": float(high)}


def _relevance(ranks: Sequence[int]) -> dict[str, Any]:
    r = np.asarray(ranks, dtype=np.float64)
    return {
        "mrr": float(np.mean(1.0 / r)),
        "recall_at_1": float(np.mean(r == 1)),
        "mrr_stderr": float(np.std(1.0 / r) / math.sqrt(len(r))),
        "reciprocal_ranks": [float(x) for x in 1.0 / r],
    }


def _style_meter(
    split: _Split, owner: str, embedder: Embedder, seed: int
) -> tuple[StyleMeter, dict[str, Any]]:
    """The owner's verifier trained on the oldest 80% of their training messages, the meter
    calibrated on the newest 20%, its AUC measured on the test side against other writers."""
    own = [m.text for m in split.train if m.sender == owner and m.text.strip()]
    cut = max(1, int(0.8 * len(own)))
    rng = np.random.default_rng(seed)
    others = [m.text for m in split.train if m.sender != owner and m.text.strip()]
    others = [
        others[i] for i in rng.choice(len(others), size=min(len(others), 3000), replace=False)
    ]
    verifier = train_style(own[:cut], others, (), embedder=embedder, seed=seed)
    if not isinstance(verifier, StyleVerifier):
        raise ValueError(f"{owner!r} has too few messages for a style verifier")
    meter = StyleMeter.calibrate(verifier, own[cut:])
    test_own = [m.text for m in split.test if m.sender == owner and m.text.strip()]
    test_others = [m.text for m in split.test if m.sender != owner and m.text.strip()]
    picked = rng.choice(
        len(test_others), size=min(len(test_others), MAX_STYLE_OTHERS), replace=False
    )
    test_others = [test_others[i] for i in picked]
    raw = verifier.probabilities
    info = {
        "style_meter_auc": roc_auc(
            verifier.decision_values(test_own), verifier.decision_values(test_others)
        ),
        "style_raw_owner_median": float(np.median(100 * raw(test_own))),
        "style_meter_owner_median": float(np.median(meter.score(test_own))),
    }
    return meter, info


def _fitted(
    split: _Split,
    own_index: ExemplarIndex,
    queries: npt.NDArray[np.float32],
    embedder: Embedder,
    weights: FitWeights,
    style: StyleScorer,
    seed: int,
) -> dict[str, Any]:
    """Adapt the fit model to the owner's training pairs and draft every test item with it."""
    started = time.perf_counter()
    pairs = [OwnerPair(i.parent.text, i.reply.text, i.reply.sent_at) for i in split.own_train]
    fit = ReplyFit.adapt(
        pairs,
        embedder.encode([p.message for p in pairs]),
        embedder.encode([p.reply for p in pairs]),
        weights=weights,
        seed=seed,
    )
    adapt_s = time.perf_counter() - started
    drafter = RetrievalDrafter()
    best: list[str] = []
    card: list[str] = []
    shown: list[list[str]] = []
    ranked: list[tuple[DraftOption, ...]] = []
    cards: list[tuple[list[int], list[int]]] = []
    for item, query in zip(split.own_test, queries, strict=True):
        result = drafter.draft_fitted(
            own_index,
            text=item.parent.text,
            sender=item.parent.sender,
            query=query,
            fit=fit,
            style=style,
            encode=embedder.encode,
        )
        best.append(result.best.text if result.best else "")
        # What chat shows first: the card's first option, else the closest real exchange.
        top = result.options[0] if result.options else result.fallback
        card.append(top.text if top else "")
        ranked.append(result.ranked)
        shown.append([o.text for o in result.options])
        cards.append(
            ([o.fit or 0 for o in result.options], [o.style_score for o in result.options])
        )
    counts = Counter(len(s) for s in shown)
    multi = [c for c in cards if len(c[0]) >= 2]
    return {
        "fit": fit,
        "best": best,
        "card": card,
        "shown": shown,
        "ranked": ranked,
        "adapt_seconds": adapt_s,
        "gate": {
            "threshold": fit.threshold,
            "calibration": fit.stats,
            "no_draft_rate": counts.get(0, 0) / len(shown),
            "options": {str(k): counts.get(k, 0) for k in range(4)},
            "cards_all_same_fit": (
                float(np.mean([len(set(f)) == 1 for f, _ in multi])) if multi else None
            ),
            "cards_all_same_style": (
                float(np.mean([len(set(s)) == 1 for _, s in multi])) if multi else None
            ),
        },
    }


def _accepted(
    judge: ReplyFit, embedder: Embedder, items: Sequence[_Item], texts: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """Share of ``texts`` (per item) the judge fit model accepts (probability ≥ 0.5)."""
    flat = [(i, t) for i, ts in enumerate(texts) for t in ts if t.strip()]
    if not flat:
        return {"share": None, "n": 0}
    parents = embedder.encode([items[i].parent.text for i, _ in flat])
    replies = embedder.encode([t for _, t in flat])
    accepted = [
        float(judge.probabilities(items[i].parent.text, p, [t], r.reshape(1, -1))[0]) >= 0.5
        for (i, t), p, r in zip(flat, parents, replies, strict=True)
    ]
    return {"share": float(np.mean(accepted)), "n": len(accepted)}


def _tradeoff(
    judge: ReplyFit,
    fit: ReplyFit,
    embedder: Embedder,
    items: Sequence[_Item],
    ranked: Sequence[Sequence[DraftOption]],
) -> list[dict[str, float]]:
    """The gate at other thresholds: no-draft rate, options per card, and the share of shown
    options the judge accepts."""
    drafter = RetrievalDrafter()
    texts = [[o.text for o in options] for options in ranked]
    flat = [(i, t) for i, ts in enumerate(texts) for t in ts]
    parents = embedder.encode([items[i].parent.text for i, _ in flat])
    replies = embedder.encode([t for _, t in flat])
    ok = {
        (i, t): float(judge.probabilities(items[i].parent.text, p, [t], r.reshape(1, -1))[0]) >= 0.5
        for (i, t), p, r in zip(flat, parents, replies, strict=True)
    }
    out = []
    for threshold in TRADEOFF:
        gate = replace(fit, threshold=threshold)
        shown = [drafter.offer(options, gate) for options in ranked]
        accepted = [ok[(i, o.text)] for i, options in enumerate(shown) for o in options]
        out.append(
            {
                "threshold": threshold,
                "no_draft_rate": float(np.mean([not o for o in shown])),
                "options_per_card": float(np.mean([len(o) for o in shown])),
                "judge_accepts_shown": float(np.mean(accepted)) if accepted else float("nan"),
            }
        )
    return out


def _fit_meter_auc(
    fit: ReplyFit,
    index: ExemplarIndex,
    embedder: Embedder,
    items: Sequence[_Item],
    sets: Sequence[Sequence[str]],
) -> float | None:
    """AUC of "fits" on the test side: the true reply vs the owner's replies to other messages."""
    pos: list[float] = []
    neg: list[float] = []
    parents = embedder.encode([i.parent.text for i in items])
    for item, vec, candidates in zip(items, parents, sets, strict=True):
        own = list(candidates[: 1 + DISTRACTORS_SAME])
        p = fit.probabilities(
            item.parent.text, vec, own, embedder.encode(own), index.precedents(vec, own)
        )
        pos.append(float(p[0]))
        neg += [float(x) for x in p[1:]]
    return roc_auc(pos, neg)


def draft_report(
    messages: Sequence[Message],
    owner: str,
    *,
    embedder: Embedder,
    judge: AuthorshipJudge | None = None,
    fit_judge: FitWeights | None = None,
    fit_weights: FitWeights | None = None,
    meters: bool = False,
    cutoff: datetime | None = None,
    train_share: float = 0.8,
    max_items: int = 300,
    seed: int = 0,
) -> dict[str, Any]:
    """Reply relevance, fit and style of the drafts for ``owner``, with baselines.

    Args:
        messages: A multi-writer corpus with ``reply_to`` links (the owner's and others').
        owner: The writer whose replies are drafted.
        embedder: Sentence embeddings (wrap in :class:`core.evaluation.CachingEmbedder`).
        judge: A multi-writer authorship judge including ``owner`` (without one, no fidelity).
        fit_judge: A fit model trained on writers disjoint from the ranker's (without one, no
            acceptance shares).
        fit_weights: The ranker (default: the shipped weights when the embedder matches them;
            otherwise fit-first drafting is not measured).
        meters: Also train and calibrate the style meter and report both meters' AUCs.
        cutoff: Learn only from messages before it (default: the per-sender split).
        train_share: The chronological split per sender.
        max_items: Held-out replies evaluated at most (a seeded sample).
        seed: Reproducible sampling.

    Returns:
        ``owner``, ``exemplars``, ``items``, ``candidates``, ``chance``; ``retrieval`` (naive),
        ``baseline`` (generic) and, when measured, ``fitted`` (each with ``mrr``,
        ``recall_at_1``, ``reciprocal_ranks`` and, with a judge, ``fidelity``); ``fitted_vs_naive``
        (paired MRR difference with its CI), ``gate``, ``acceptance``, ``meters``, ``examples``.

    Raises:
        ValueError: The owner has no exemplars or no held-out replies with a known parent.
    """
    rng = np.random.default_rng(seed)
    split = _split(messages, owner, cutoff, train_share, max_items, rng)
    weights = fit_weights or _default_weights(embedder)
    own_index = _index(split.own_train, embedder, "owner", replies=weights is not None)
    generic_index = _index(split.others_train, embedder, "others")
    queries = embedder.encode([i.parent.text for i in split.own_test])
    drafts: dict[str, list[str]] = {"retrieval": [], "baseline": []}
    naive_cards: list[list[str]] = []
    for item, query in zip(split.own_test, queries, strict=True):
        options = RetrievalDrafter().draft(
            own_index, text=item.parent.text, sender=item.parent.sender, query=query,
            style=_FlatScore(),
        )  # fmt: skip
        drafts["retrieval"].append(options[0].text if options else "")
        naive_cards.append([o.text for o in options])
        hits = generic_index.nearest(query, frozenset(), k=1) if len(generic_index) else []
        drafts["baseline"].append(generic_index.pairs[hits[0][1]].reply_text if hits else "")
    report: dict[str, Any] = {"owner": owner, "exemplars": len(split.own_train)}
    style: StyleScorer = _FlatScore()
    if meters:
        style, report["meters"] = _style_meter(split, owner, embedder, seed)
    fitted: dict[str, Any] | None = None
    if weights is not None:
        fitted = _fitted(split, own_index, queries, embedder, weights, style, seed)
        drafts["fitted"] = fitted["best"]
        drafts["card"] = fitted["card"]
        report["gate"] = fitted["gate"]
        report["adapt_seconds"] = fitted["adapt_seconds"]
    sets = _candidate_sets(messages, owner, split.own_test, rng)
    _score(report, split, drafts, sets, embedder, judge, seed)
    if fitted is not None:
        cards = [s or [c] for s, c in zip(fitted["shown"], fitted["card"], strict=True)]
        _score_cards(report, {"card_any": cards, "naive_any": naive_cards}, sets, embedder, seed)
        if meters:
            report["meters"]["fit_meter_auc"] = _fit_meter_auc(
                fitted["fit"], own_index, embedder, split.own_test, sets
            )
        if fit_judge is not None:
            referee = ReplyFit.unadapted(fit_judge)
            report["tradeoff"] = _tradeoff(
                referee, fitted["fit"], embedder, split.own_test, fitted["ranked"]
            )
            report["acceptance"] = {
                name: _accepted(referee, embedder, split.own_test, texts)
                for name, texts in (
                    ("shown_options", fitted["shown"]),
                    ("fitted_best", [[t] for t in fitted["best"]]),
                    ("naive_top", [[t] for t in drafts["retrieval"]]),
                    ("true_replies", [[i.reply.text] for i in split.own_test]),
                )
            }
    report["examples"] = [
        {"incoming": i.parent.text, "true": i.reply.text, **{k: v[n] for k, v in drafts.items()}}
        for n, i in enumerate(split.own_test[:3])
    ]
    return report


def _default_weights(embedder: Embedder) -> FitWeights | None:
    try:
        weights = global_weights()
    except FileNotFoundError:
        return None
    return weights if weights.dim == embedder.dim else None


def _score(
    report: dict[str, Any],
    split: _Split,
    drafts: dict[str, list[str]],
    sets: list[list[str]],
    embedder: Embedder,
    judge: AuthorshipJudge | None,
    seed: int,
) -> None:
    """Relevance (and fidelity) of each engine's drafts, and fitted vs naive with its CI."""
    flat_texts = list(dict.fromkeys(t for c in sets for t in c))
    vec_of = dict(zip(flat_texts, embedder.encode(flat_texts), strict=True))
    matrices = [np.stack([vec_of[c] for c in candidates]) for candidates in sets]
    held_out = [i.reply.text for i in split.own_test]
    report["items"] = len(split.own_test)
    report["candidates"] = 1 + DISTRACTORS_SAME + DISTRACTORS_OTHER
    report["chance"] = {"mrr": float(np.mean([1 / r for r in range(1, 10)])), "recall_at_1": 1 / 9}
    for name, texts in drafts.items():
        vecs = embedder.encode([t or " " for t in texts])
        entry = _relevance([_rank(v, m) for v, m in zip(vecs, matrices, strict=True)])
        if judge is not None:
            fid = style_fidelity(judge, [t for t in texts if t.strip()], report["owner"],
                                 held_out=held_out)  # fmt: skip
            entry["fidelity"] = fid["fidelity"]
            report["ceiling"] = fid["ceiling"]
            report["judge_chance"] = fid["chance"]
        report[name] = entry
    for name in ("fitted", "card"):
        if name in report:
            report[f"{name}_vs_naive"] = paired_bootstrap(
                report[name]["reciprocal_ranks"], report["retrieval"]["reciprocal_ranks"], seed=seed
            )


def _score_cards(
    report: dict[str, Any],
    cards: dict[str, list[list[str]]],
    sets: list[list[str]],
    embedder: Embedder,
    seed: int,
) -> None:
    """Relevance of a whole card: per item, the best reciprocal rank among its options (the
    owner picks one); fit-first's shown card against naive retrieval's three options."""
    for name, per_item in cards.items():
        rr = []
        for options, candidates in zip(per_item, sets, strict=True):
            texts = [t for t in options if t.strip()] or [" "]
            matrix = embedder.encode(candidates)
            rr.append(max(1 / _rank(v, matrix) for v in embedder.encode(texts)))
        report[name] = {
            "mrr": float(np.mean(rr)),
            "options": float(np.mean([len([t for t in o if t.strip()]) for o in per_item])),
            "reciprocal_ranks": rr,
        }
    report["card_any_vs_naive_any"] = paired_bootstrap(
        report["card_any"]["reciprocal_ranks"], report["naive_any"]["reciprocal_ranks"], seed=seed
    )


def summarise(reports: Sequence[dict[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    """Pool per-owner reports: MRR of each engine over all items, fitted vs naive with a paired
    bootstrap 95% CI over items, acceptance shares and gate figures over all items."""
    out: dict[str, Any] = {"owners": len(reports), "items": sum(r["items"] for r in reports)}
    for name in ("retrieval", "fitted", "card", "card_any", "naive_any", "baseline"):
        rr = [x for r in reports if name in r for x in r[name]["reciprocal_ranks"]]
        if rr:
            out[name] = {"mrr": float(np.mean(rr))}
            fid = [r[name]["fidelity"] for r in reports if "fidelity" in r.get(name, {})]
            if fid:
                out[name]["fidelity"] = float(np.mean(fid))
    if all("fitted" in r for r in reports):
        fitted = [x for r in reports for x in r["fitted"]["reciprocal_ranks"]]
        naive = [x for r in reports for x in r["retrieval"]["reciprocal_ranks"]]
        out["fitted_vs_naive"] = paired_bootstrap(fitted, naive, seed=seed)
        style = [r["fitted"]["fidelity"] - r["retrieval"]["fidelity"] for r in reports
                 if "fidelity" in r["fitted"]]  # fmt: skip
        if style:
            out["fidelity_fitted_minus_naive"] = float(np.mean(style))
    for name, base in (("card", "retrieval"), ("card_any", "naive_any")):
        if all(name in r for r in reports):
            out[f"{name}_vs_{'naive' if base == 'retrieval' else base}"] = paired_bootstrap(
                [x for r in reports for x in r[name]["reciprocal_ranks"]],
                [x for r in reports for x in r[base]["reciprocal_ranks"]],
                seed=seed,
            )
        style = [r[name]["fidelity"] - r[base]["fidelity"] for r in reports
                 if "fidelity" in r.get(name, {}) and "fidelity" in r.get(base, {})]  # fmt: skip
        if style:
            out[f"fidelity_{name}_minus_naive"] = float(np.mean(style))
    return out
