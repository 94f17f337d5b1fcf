"""The retrieval engine: what the owner actually wrote in answer to similar messages.

An :class:`ExemplarIndex` holds a persona's (incoming → owner's reply) pairs: the embeddings of
the incoming side in a :class:`~core.ports.VectorIndex` (exact numpy top-k by default), an inverted
index of their content words, optionally the embeddings of the replies, and the owner's
:class:`~core.drafting.intents.Phrasebook` (their own wording for accept, decline, defer, thank and
ask-for-details). Drafting embeds the new message once, takes the best pairs by cosine similarity
and by shared rare words, blends both, and offers:

1. the owner's reply to the best match, adapted where that is safe (who is addressed);
2. for a request, *different answers*: another intent than the first (decline or defer after an
   accept, accept after a decline, then ask-for-details), from the retrieved replies when one is
   relevant enough, otherwise the owner's most typical phrasing for that intent;
3. otherwise (or to fill up) the next best replies that are not paraphrases of those chosen.

Replies the owner dismissed for a similar message go after all others (``negatives``), and texts
already shown (``exclude``) are never offered again for the same message.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from core.drafting.acts import Act, classify_act, rule_act
from core.drafting.exemplars import ExemplarIndex as ExemplarIndex
from core.drafting.exemplars import Negative as Negative
from core.drafting.exemplars import _jaccard
from core.drafting.exemplars import tokens as tokens
from core.drafting.fit import FitWeights, OwnerPair, ReplyFit
from core.drafting.intents import ROLES, Phrasebook, Role, is_request, normalise, spread_for
from core.drafting.shaping import Candidate, Shaped, answers, shape
from core.drafting.traits import NICK as _NICK
from core.models import DraftOption, ReplyPair
from core.ports import Vector
from core.profiling.intents import Intent, classify_intent

_WORD = re.compile(r"[a-z0-9']+")
_ADDRESS = re.compile(r"^\s*@?(?P<name>[\w.\-\[\]^`|{}]+)\s*[:,]\s+", re.UNICODE)
# "bob: sure" or "@bob, sure" (not "sure, after lunch": a bare word and a comma is no address)
_GREETING = re.compile(
    r"^(?P<greet>(hi|hey|hello|thanks|thx|ty|morning)\s+)(?P<name>[A-Za-z][\w\-]*)\b", re.I
)
DISMISS_SIMILARITY = 0.6
"""A dismissal counts for a new message at least this similar to the one it was dismissed for."""
SPREAD_RELEVANCE = 0.6
"""A retrieved reply of the wanted intent is used when its similarity is at least this share of
the best one's; otherwise the owner's stock phrase for that intent is offered."""
INTENT_LABEL: dict[Intent, str] = {
    "accept": "say yes",
    "decline": "decline",
    "defer": "put it off",
    "thank": "say thanks",
    "ask_details": "ask for details",
}
ROLE_LABEL: dict[Role, str] = {
    "acknowledge": "acknowledge",
    "react": "react",
    "hold": "say you'll check",
    "greet": "greet back",
}
FILL_UP: frozenset[Act] = frozenset({"open_question", "yes_no_question", "problem"})
"""Messages whose card is filled up with further answers that fit (beyond the act's slots)."""
SOCIAL: frozenset[Act] = frozenset({"thanks", "apology", "greeting"})
"""Messages answered only in kind (an acknowledgement, a greeting), never by a reply of content."""
UNGATED_STOCK_NEVER: frozenset[Act] = frozenset({"information", "acknowledgement"})
"""Messages that ask for no particular kind of answer: a stock phrase is offered for them only
when it passes the fit gate like any reply (otherwise the owner's usual phrase for the slot
completes the card: a "yes", a "not now", a "let me check", a "np" after thanks)."""


class StyleScorer(Protocol):
    """Scores texts 0-100 by how much they sound like the owner."""

    def score(self, texts: Sequence[str]) -> list[int]: ...


ActOf = Callable[[str], str | None]
"""What a reply does, as shown on each option (``DraftOption.act``); by default its dialogue act
(:func:`core.drafting.acts.classify_acts`, with the reply's embedding)."""
FIT_SEARCH = 24
"""Replies found directly by fit (one matrix-vector product over all of the owner's replies)."""
STYLE_SHORTLIST = 5
"""Candidates, best fit first, that the style meter scores to break ties within a fit band."""
CONSENSUS = True
CONSENSUS_SHARPNESS = 0.0
"""How much the agreement term weighs candidates by their fit (``p ** sharpness``). At 0 each
candidate's fit is multiplied by its mean similarity to all the owner's candidates (the answer
most of them agree with), less :data:`GENERAL_AGREEMENT` of its similarity to the mean of all
their replies. Chosen on writers never scored nor trained on (``bench/draft_eval.py --authors 16
--owners`` the 11th-16th most active): best-candidate MRR over naive retrieval +0.017 / +0.021 /
+0.027 / +0.035 / +0.038 / +0.040 at sharpness 8 / 4 / 2 / 1 / 0.5 / 0 (without the discount)."""
AGREEMENT_FLOOR = 1e-3
"""A candidate that agrees less with this message's answers than with the owner's at large
keeps this much agreement (its order among such candidates stays the fit's)."""
ADDRESS_HABIT = 0.5
"""Owners who start at least this share of replies with "name:" get it on every option."""
CODES_FROM = 20_000
"""Above this many distinct replies, direct search by fit runs over compact codes first."""
FIT_BAND = 10
"""Candidates of the shortlist within this many fit points of the best are ordered by how much
of the owner's own words they carry (then style, then fit): a short generic reply ("how?",
"yes") is everyone's, a longer one is the owner's. Chosen on the tuning writers (``--authors 16
--owners`` the 11th-16th), where the "sounds like you" meter as the first key disagreed with an
authorship judge (within a message's shortlist, AUC 0.52 of the meter for the judge's verdict,
0.68 for the number of words)."""
GENERAL_AGREEMENT = 0.8
"""How much of the owner's general agreement the consensus discounts: a candidate's agreement is
its similarity to this message's candidates minus this share of its similarity to the mean of
all the owner's replies (a reply central to everything they write, "what ubuntu version?",
agrees with every message's candidates alike, and is everyone's rather than the owner's). On the
tuning writers (their shortlists replayed, with the word band; best candidate, MRR over naive /
judge style against naive): 0 (plain agreement) +0.048 / -0.006, 0.5 +0.049 / -0.023, 0.7
+0.045 / -0.003, 0.8 +0.049 / +0.012, 0.9 +0.053 / +0.002, 1 +0.038 / -0.006; the shipped
ranking before both changes +0.043 / -0.050."""


@dataclass(frozen=True, slots=True)
class FittedDraft:
    """Fit-first drafting's answer for one message.

    ``options`` are what chat shows (each passed the gate, 0 to ``max_options``); ``best`` is the
    best-fitting candidate whether or not it passed (batch evaluation and ``draft`` output always
    have one); ``offered`` says whether chat would show anything; ``closest`` is the owner's past
    exchange most similar to the message (shown, with Edit prefilled, when nothing fits).
    """

    options: tuple[DraftOption, ...]
    best: DraftOption | None
    offered: bool
    closest: ReplyPair | None
    ranked: tuple[DraftOption, ...] = ()
    """The shortlist in rank order, before the gate (for measuring the gate's trade-off)."""

    @property
    def fallback(self) -> DraftOption | None:
        """What to show when nothing fits: the owner's reply in the closest real exchange (as
        scored), else the best candidate."""
        if self.closest is not None:
            for option in self.ranked:
                if option.source_id == self.closest.reply_id:
                    return option
        return self.best


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


@dataclass(slots=True)
class _Pick:
    text: str
    similarity: float
    reason: str
    source_id: str | None
    intent: Intent | None
    style_text: str = ""
    """What the verifier scores: the reply as the owner wrote it (before re-addressing), whose
    embedding the index already holds; the style of "bob: try X" and "carol: try X" is one."""
    shaping_only: bool = False
    """A stock phrase of a role (acknowledge, react, hold, greet): offered only to fill a slot of
    the card, never ranked as the best candidate nor counted in the consensus."""
    answered: list[str] = field(default_factory=list)
    """For a past reply: the messages it answered among those found (what kind it suits)."""


class RetrievalDrafter:
    """Up to ``max_options`` of the owner's own answers that fit a new message, spanning intents."""

    engine = "retrieval"

    def __init__(
        self, *, max_options: int = 3, diversity: float = 0.6, act_of: ActOf | None = None
    ) -> None:
        self._max_options = max_options
        self._diversity = diversity
        self._act_of: ActOf | None = act_of

    def candidates(
        self,
        index: ExemplarIndex,
        *,
        text: str,
        sender: str,
        query: Vector,
        exclude: frozenset[str] = frozenset(),
        negatives: Sequence[Negative] = (),
        k: int | None = None,
    ) -> list[tuple[float, ReplyPair, str]]:
        """Retrieved replies as ``(similarity, pair, adapted text)``, best first, without
        repeats, excluded texts or (down-ranked) dismissed ones."""
        hits = index.nearest(query, tokens(text), k=k or self._max_options * 8, distinct=True)
        penalised = _penalised(query, negatives)
        out: list[tuple[float, ReplyPair, str]] = []
        seen: set[str] = set()
        for similarity, position in hits:
            pair = index.pairs[position]
            reply = adapt(pair.reply_text, old_sender=pair.incoming_sender, new_sender=sender)
            key = normalise(reply)
            if reply in exclude or not reply.strip() or key in seen:
                continue
            seen.add(key)
            out.append((similarity, pair, reply))
        # Dismissed for a similar message: after every reply that was not (still there when
        # nothing else fits), the more often dismissed the later.
        out.sort(key=lambda item: (penalised.get(normalise(item[2]), 0), -item[0]))
        return out

    def draft(
        self,
        index: ExemplarIndex,
        *,
        text: str,
        sender: str,
        query: Vector,
        style: StyleScorer,
        exclude: frozenset[str] = frozenset(),
        negatives: Sequence[Negative] = (),
    ) -> list[DraftOption]:
        """Draft options for ``text`` from ``sender``; ``query`` is its embedding.

        ``exclude`` holds option texts the owner already rejected for this message; ``negatives``
        are replies dismissed for earlier messages (down-ranked when those were similar).
        """
        found = self.candidates(
            index, text=text, sender=sender, query=query, exclude=exclude, negatives=negatives
        )
        if not found:
            return []
        picks: list[_Pick] = []
        picked_tokens: list[frozenset[str]] = []

        def fits(reply: str) -> bool:
            reply_tokens = tokens(reply) or frozenset(reply.lower().split())
            return not any(
                normalise(reply) == normalise(p.text)
                or _jaccard(reply_tokens, seen) > self._diversity
                for p, seen in zip(picks, picked_tokens, strict=True)
            )

        def take(pick: _Pick) -> None:
            picks.append(pick)
            picked_tokens.append(tokens(pick.text) or frozenset(pick.text.lower().split()))

        def retrieved(similarity: float, pair: ReplyPair, reply: str) -> _Pick:
            return _Pick(
                text=reply,
                similarity=similarity,
                reason=f"you wrote this to {pair.incoming_sender} about a similar message "
                f"({round(max(0.0, similarity) * 100)}% alike)",
                source_id=pair.reply_id,
                intent=classify_intent(reply),
                style_text=pair.reply_text,
            )

        best = found[0]
        take(retrieved(*best))
        if is_request(text):
            penalised = _penalised(query, negatives)
            floor = best[0] * SPREAD_RELEVANCE if best[0] > 0 else best[0] - 1
            for slot in _slots(picks[0].intent):
                if len(picks) >= self._max_options:
                    break
                pick = next(
                    (
                        retrieved(similarity, pair, reply)
                        for similarity, pair, reply in found[1:]
                        if similarity >= floor and classify_intent(reply) in slot and fits(reply)
                    ),
                    None,
                ) or _stock(slot, index.phrasebook, exclude, penalised, fits)
                if pick is not None:
                    take(pick)
        for similarity, pair, reply in found[1:]:
            if len(picks) >= self._max_options:
                break
            if fits(reply):
                take(retrieved(similarity, pair, reply))
        scores = style.score([p.style_text or p.text for p in picks])
        return [
            DraftOption(
                text=p.text,
                engine=self.engine,
                style_score=score,
                reasons=(p.reason,),
                source_id=p.source_id,
            )
            for p, score in zip(picks, scores, strict=True)
        ]

    def draft_fitted(
        self,
        index: ExemplarIndex,
        *,
        text: str,
        sender: str,
        query: Vector,
        fit: ReplyFit,
        style: StyleScorer,
        encode: Callable[[Sequence[str]], Vector] | None = None,
        exclude: frozenset[str] = frozenset(),
        negatives: Sequence[Negative] = (),
    ) -> FittedDraft:
        """Fit-first drafting: the owner's replies and phrases that answer ``text``, ranked by
        fit (within the fit band: the owner's words, then style); only those passing the fit
        gate are offered.

        Candidates are the owner's replies to the most similar past messages, their replies with
        the best fit found directly (one matrix-vector product over all of them), and their stock
        phrases. The spread of different answers (acts) is kept only among options that pass.

        Args:
            index: The persona's exemplars (reply vectors known for direct search).
            text: The incoming message; ``sender`` its author; ``query`` its embedding.
            fit: The owner's calibrated reply-fit model (the gate is its threshold).
            style: The "sounds like you" meter.
            encode: Embeds texts without a known vector (stock phrases); without it they are
                skipped.
            exclude: Texts already rejected for this message.
            negatives: Replies dismissed for earlier messages (down-ranked when similar).
        """
        if not len(index):
            return FittedDraft(options=(), best=None, offered=False, closest=None)
        hits = index.nearest(query, tokens(text), k=self._max_options * 8, distinct=True)
        closest = index.pairs[hits[0][1]] if hits else None
        picks = _candidates(index, hits, query, fit, sender=sender, exclude=exclude)
        penalised = _penalised(query, negatives)
        vectors = _vectors(index, [p.style_text for p in picks], encode)
        picks = [p for p in picks if p.style_text in vectors]
        if not picks:
            return FittedDraft(options=(), best=None, offered=False, closest=closest)
        matrix = np.stack([vectors[p.style_text] for p in picks])
        said = [p.style_text for p in picks]
        # What depends on a reply alone is looked up by its reply row (core.drafting.traits).
        rows = [index.reply_vectors.row(t) for t in said]
        traits = index.traits
        precedents = index.precedents(query, said, traits.answer_keys(rows, said))
        probability = fit.probabilities(
            text, query, said, matrix, precedents, traits.surfaces(rows, said)
        )
        if sender and index.address_share() >= ADDRESS_HABIT:
            for pick in picks:  # the owner addresses people: their stock phrases too
                if not _NICK.match(pick.text):
                    pick.text = f"{sender}: {pick.text}"
        rank_by, order = _order(picks, probability, matrix, penalised, index.reply_centroid())
        if picks[order[0]].shaping_only:  # nothing but stock phrases of roles
            return FittedDraft(options=(), best=None, offered=False, closest=closest)
        shortlist = order[:STYLE_SHORTLIST]
        styles = traits.styles(style, [rows[i] for i in shortlist], [said[i] for i in shortlist])
        style_of = dict(zip(order, styles, strict=False))
        order = _voiced(picks, order, rank_by, style_of, penalised)
        acts = traits.acts([rows[i] for i in order], [said[i] for i in order], matrix[order])
        message_act = classify_act(text, query)
        avoid = frozenset(exclude) | frozenset(penalised)
        chosen = self._shaped(
            message_act,
            text,
            [picks[i] for i in order],
            [float(probability[i]) for i in order],
            acts,
            lambda k: traits.intent(rows[order[k]], said[order[k]]),
            index.phrasebook,
            fit,
            avoid,
        )
        # ``chosen`` holds positions in ``order``; ``style_of`` is keyed by pick.
        missing = [order[i] for i in chosen if order[i] not in style_of]
        if missing:
            scored = traits.styles(style, [rows[i] for i in missing], [said[i] for i in missing])
            style_of.update(zip(missing, scored, strict=True))
        shown = [
            self._option(picks[order[i]], probability[order[i]], style_of[order[i]], acts[i])
            for i in chosen
        ]
        ranked = [
            self._option(picks[i], probability[i], style_of[i], acts[k])
            for k, i in enumerate(order[:STYLE_SHORTLIST])
            if not picks[i].shaping_only
        ]
        return FittedDraft(
            options=tuple(shown),
            best=ranked[0],
            offered=bool(shown),
            closest=closest,
            ranked=tuple(ranked),
        )

    def _shaped(
        self,
        message_act: Act,
        text: str,
        picks: Sequence[_Pick],
        probabilities: Sequence[float],
        acts: Sequence[Act],
        intent_of: Callable[[int], Intent | None],
        phrasebook: Phrasebook,
        fit: ReplyFit,
        avoid: frozenset[str],
    ) -> list[int]:
        """Which of ``picks`` (in rank order) the card offers, by the message's act.

        :func:`~core.drafting.shaping.shape` fills the act's slots (a request: yes / not now /
        ask for details when something is open; thanks: the owner's acknowledgement; a joke: a
        reaction; a question: an answer that passes the gate, else a holding reply) from the
        candidates that pass the gate, in the drafter's rank order (fit band, then words and
        style), or from the owner's stock phrase for the slot. A question or problem is then
        filled up with further answers that pass the gate and are not paraphrases. Returns
        positions in ``picks``, in slot order.
        """
        keys = [normalise(_NICK.sub("", p.text)) for p in picks]
        position = {key: i for i, key in reversed(list(enumerate(keys)))}
        stock = {
            normalise(p.text): p.answers for phrases in phrasebook.phrases.values() for p in phrases
        }
        candidates = [
            Candidate(
                text=_NICK.sub("", pick.text),
                fit=float(len(picks) - i),  # the drafter's order; the gate is applied here
                act=acts[i],
                intent=pick.intent or intent_of(i),  # of the reply without its address
                answered=_answered(pick, stock),
            )
            for i, pick in enumerate(picks)
            if fit.passes(probabilities[i])
        ]
        shaped: list[Shaped] = shape(
            message_act,
            text,
            candidates,
            phrasebook if message_act not in UNGATED_STOCK_NEVER else Phrasebook(),
            threshold=0.0,
            max_options=self._max_options,
            avoid=avoid,
        )
        chosen = [position[k] for k in (normalise(s.text) for s in shaped) if k in position]
        if message_act in FILL_UP or (not chosen and message_act not in SOCIAL):
            # A question can have several answers; and when no slot could be filled, the
            # answers that pass the gate are still better than nothing (most different first),
            # but for thanks, an apology or a greeting: their kind of answer or none (more help
            # after "thanks, that fixed it" is no acknowledgement).
            # A question gets answers only (not a decline sharing its words, "can't this
            # weekend" to "how was your weekend?"), whatever else passes the gate.
            options = [
                c
                for c in candidates
                if (answers(c, message_act, text) if message_act in FILL_UP else not chosen)
            ]
            for candidate in options:
                if len(chosen) >= self._max_options:
                    break
                i = position[normalise(candidate.text)]
                others = [picks[j].text for j in chosen]
                if i not in chosen and _distinct_text(picks[i].text, others, self._diversity):
                    chosen.append(i)
        return chosen

    def _option(
        self, pick: _Pick, probability: float, style_score: int, act: Act | None = None
    ) -> DraftOption:
        fit_score = round(100 * probability)
        return DraftOption(
            text=pick.text,
            engine=self.engine,
            style_score=style_score,
            reasons=(pick.reason,),
            source_id=pick.source_id,
            fit=fit_score,
            act=self._act_of(pick.text) if self._act_of is not None else act,
        )

    def offer(self, ranked: Sequence[DraftOption], fit: ReplyFit) -> list[DraftOption]:
        """Up to ``max_options`` that pass the gate, not paraphrases of each other, preferring
        a different act for each (yes / not now / what exactly?) and keeping fit order."""
        passing = [o for o in ranked if fit.passes((o.fit or 0) / 100)]
        chosen: list[DraftOption] = []
        for new_act_only in (True, False):
            for option in passing:
                if len(chosen) >= self._max_options:
                    break
                if option in chosen or not _distinct(option.text, chosen, self._diversity):
                    continue
                if new_act_only and chosen and option.act in {c.act for c in chosen}:
                    continue
                chosen.append(option)
        return sorted(chosen, key=ranked.index)


def _candidates(
    index: ExemplarIndex,
    hits: Sequence[tuple[float, int]],
    query: Vector,
    fit: ReplyFit,
    *,
    sender: str,
    exclude: frozenset[str],
) -> list[_Pick]:
    """The owner's replies to the most similar past messages, their replies found directly by
    fit, and their stock phrases (of intents and of roles): re-addressed to ``sender``, without
    repeats or texts already rejected for this message."""
    found = _gather(index, hits, index.by_fit(fit, query, FIT_SEARCH, codes_from=CODES_FROM))
    for phrases in index.phrasebook.phrases.values():
        for phrase in phrases:
            times = "once" if phrase.count == 1 else f"{phrase.count} times"
            reason = f"your usual way to {INTENT_LABEL[phrase.intent]} (you wrote it {times})"
            found.append(_Pick(phrase.text, 0.0, reason, None, phrase.intent, phrase.text))
    for role in ROLES:
        for role_phrase in index.phrasebook.roles.get(role, []):
            times = "once" if role_phrase.count == 1 else f"{role_phrase.count} times"
            reason = f"your usual way to {ROLE_LABEL[role]} (you wrote it {times})"
            found.append(_Pick(role_phrase.text, 0.0, reason, None, None, role_phrase.text, True))
    picks: list[_Pick] = []
    seen: dict[str, _Pick] = {}
    for pick in found:
        if pick.source_id is not None:
            position = int(pick.source_id)
            old = index.pairs.sender(position)
            pick.text = adapt(pick.style_text, old_sender=old, new_sender=sender)
            pick.source_id = index.pairs.reply_id(position)
            pick.answered = [index.pairs.incoming_text(position)]
        key = normalise(_NICK.sub("", pick.text))  # "carol: sure" is the phrase "sure"
        if key in seen:
            seen[key].answered.extend(pick.answered)
        elif key and pick.text not in exclude and pick.text.strip():
            seen[key] = pick
            picks.append(pick)
    return picks


def _voiced(
    picks: Sequence[_Pick],
    order: Sequence[int],
    rank_by: npt.NDArray[np.float64],
    style_of: dict[int, int],
    penalised: dict[str, int],
) -> list[int]:
    """The shortlist reordered within the fit band: candidates within :data:`FIT_BAND` points
    of the best first, the one with more of the owner's words (then the better style, then the
    better fit) first among them; the rest of the shortlist and the others in fit order."""
    usable = [
        i
        for i in order[:STYLE_SHORTLIST]
        if not picks[i].shaping_only and not _penalty(penalised, picks[i].text)
    ]
    if not usable:
        return list(order)
    floor = rank_by[usable[0]] - FIT_BAND / 100
    band = [i for i in usable if rank_by[i] >= floor]
    band.sort(key=lambda i: (-_words(picks[i].style_text), -style_of[i], -rank_by[i]))
    first = set(band)
    return band + [i for i in order if i not in first]


def _words(text: str) -> int:
    """Words of a reply as the owner wrote it, without the "nick:" address."""
    return len(_NICK.sub("", text).split())


def _order(
    picks: Sequence[_Pick],
    probability: npt.NDArray[np.float64],
    matrix: Vector,
    penalised: dict[str, int],
    centroid: npt.NDArray[np.float32] | None = None,
) -> tuple[npt.NDArray[np.float64], list[int]]:
    """What to rank by (fit, sharpened by agreement with the other fitting answers beyond the
    owner's general agreement around ``centroid``, the mean of their replies) and the order:
    role phrases last, dismissed ones after the rest, then best first."""
    rank_by = probability
    if CONSENSUS:
        main = np.array([not p.shaping_only for p in picks], dtype=np.float64)
        weights = probability**CONSENSUS_SHARPNESS * main
        consensus = np.asarray(matrix).T @ weights / max(float(weights.sum()), 1e-9)
        agreement = np.asarray(matrix) @ consensus
        if centroid is not None:
            agreement = agreement - GENERAL_AGREEMENT * (np.asarray(matrix) @ centroid)
        rank_by = probability * np.maximum(agreement, AGREEMENT_FLOOR)
        # On the fit scale (the best candidate reads its own fit), so that FIT_BAND means fit
        # points whatever the level of agreement (dev owners: +0.044 vs +0.038 unscaled).
        top = int(np.argmax(np.where(main > 0, rank_by, -np.inf)))
        if rank_by[top] > 0:
            rank_by = rank_by * (probability[top] / rank_by[top])
    order = sorted(
        range(len(picks)),
        key=lambda i: (
            picks[i].shaping_only,
            _penalty(penalised, picks[i].text),
            -rank_by[i],
        ),
    )
    return rank_by, order


def fit_for(index: ExemplarIndex, weights: FitWeights | None = None, *, seed: int = 0) -> ReplyFit:
    """The reply-fit model adapted to the owner of ``index`` (its pairs and their vectors)."""
    known = [p for p in range(len(index.pairs)) if index.pairs[p].reply_text in index.reply_vectors]
    pairs = [
        OwnerPair(
            index.pairs[p].incoming_text, index.pairs[p].reply_text, index.pairs[p].replied_at
        )
        for p in known
    ]
    if not pairs:
        return ReplyFit.unadapted(weights)
    return ReplyFit.adapt(
        pairs,
        index.matrix[known],
        np.stack([index.reply_vectors[index.pairs[p].reply_text] for p in known]),
        weights=weights,
        seed=seed,
    )


def _gather(
    index: ExemplarIndex, hits: Sequence[tuple[float, int]], fitted: Sequence[int]
) -> list[_Pick]:
    """Candidates from similar past messages and from direct search by fit (pair positions;
    ``source_id`` holds the position until the caller re-addresses the reply)."""
    out: list[_Pick] = []
    pairs = index.pairs  # the fields read, not whole pairs
    for similarity, position in hits:
        reply = pairs.reply_text(position)
        reason = (
            f"you wrote this to {pairs.sender(position)} about a similar message "
            f"({round(max(0.0, similarity) * 100)}% alike)"
        )
        out.append(_Pick(reply, similarity, reason, str(position), None, reply))
    for position in fitted:
        reply = pairs.reply_text(position)
        reason = f"you wrote this to {pairs.sender(position)}; it answers what was asked"
        out.append(_Pick(reply, 0.0, reason, str(position), None, reply))
    return out


def _vectors(
    index: ExemplarIndex, texts: Sequence[str], encode: Callable[[Sequence[str]], Vector] | None
) -> dict[str, Vector]:
    """Known reply vectors of ``texts``; the others encoded in one batch (and remembered)."""
    known = index.reply_vectors.many(texts)
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    if missing and encode is not None:
        for text, vector in zip(missing, encode(missing), strict=True):
            index.reply_vectors[text] = vector
            known[text] = vector
    return known


def _distinct(text: str, chosen: Sequence[DraftOption], diversity: float) -> bool:
    return _distinct_text(text, [o.text for o in chosen], diversity)


def _distinct_text(text: str, chosen: Sequence[str], diversity: float) -> bool:
    words = tokens(text) or frozenset(text.lower().split())
    for option in chosen:
        other = tokens(option) or frozenset(option.lower().split())
        if normalise(text) == normalise(option) or _jaccard(words, other) > diversity:
            return False
    return True


def _answered(pick: _Pick, stock: dict[str, tuple[Act, ...]]) -> frozenset[Act]:
    """The acts of the messages a candidate is known to have answered: those it was found
    through, and for one of the owner's stock phrases (``stock``: normalised text → acts) those
    the phrasebook saw."""
    known = stock.get(normalise(_NICK.sub("", pick.style_text)), ())
    return frozenset(known).union(rule_act(text) for text in pick.answered)


def _stock(
    slot: tuple[Intent, ...],
    phrasebook: Phrasebook,
    exclude: frozenset[str],
    penalised: dict[str, int],
    fits: Callable[[str], bool],
) -> _Pick | None:
    """The owner's stock phrasing for a slot: of the intent they use most among the slot's."""
    for intent in sorted(slot, key=lambda i: -phrasebook.usage(i)):
        for phrase in phrasebook.phrases.get(intent, []):
            if phrase.text in exclude or penalised.get(normalise(phrase.text)):
                continue
            if not fits(phrase.text):
                continue
            times = "once" if phrase.count == 1 else f"{phrase.count} times"
            return _Pick(
                text=phrase.text,
                similarity=0.0,
                reason=f"your usual way to {INTENT_LABEL[intent]} (you wrote it {times})",
                source_id=None,
                intent=intent,
            )
    return None


def _slots(first: Intent | None) -> list[tuple[Intent, ...]]:
    """Which answers to add after a first option of intent ``first``: each slot is one answer,
    decline and defer sharing one ("not now or not at all")."""
    slots: list[tuple[Intent, ...]] = []
    for intent in spread_for(first):
        slot: tuple[Intent, ...] = (
            ("decline", "defer") if intent in ("decline", "defer") else (intent,)
        )
        if first in slot or slot in slots:
            continue
        slots.append(slot)
    return slots


def _penalty(penalised: dict[str, int], text: str) -> int:
    """How often ``text`` was dismissed for a similar message (no normalising when none was)."""
    return penalised.get(normalise(text), 0) if penalised else 0


def _penalised(query: Vector, negatives: Sequence[Negative]) -> dict[str, int]:
    """Normalised reply texts dismissed for messages similar to ``query``, with counts."""
    if not negatives:
        return {}
    matrix = np.stack([n.query for n in negatives]).astype(np.float32)
    similar = matrix @ np.asarray(query, dtype=np.float32)
    counts: Counter[str] = Counter()
    for negative, value in zip(negatives, similar.tolist(), strict=True):
        if value >= DISMISS_SIMILARITY:
            counts[normalise(negative.text)] += 1
    return dict(counts)
