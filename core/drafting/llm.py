"""The LLM engine: several candidates from a chat model, made inert, reranked in the owner's voice.

:class:`LLMDrafter` asks a :class:`~core.ports.LanguageModel` for ``n`` completions of the prompt
:mod:`core.drafting.prompt` builds, drops the ones that are tool calls or template debris,
defangs the rest (:func:`~core.drafting.safety.neutralise`) and reranks them by
``STYLE_WEIGHT × verifier score + (1 − STYLE_WEIGHT) × relevance``, where relevance is the mean of
the candidate's cosine similarity to the incoming message and its best similarity to what the owner
actually answered to the most similar messages.

:class:`TokenBudget` is the daily token allowance per account that the model adapter enforces
(``BudgetExceeded`` before a call that would overrun it) and charges (the tokens the endpoint
reports). The service persists each account's counter through its ``StateStore`` (kind
``llm-budget`` on the account's first persona) so restarts and other workers on the same database
continue the same day's count; the object itself only holds what this process has seen.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from core.drafting.prompt import PromptContext, build_reply_prompt, clean_completion
from core.drafting.retrieval import StyleScorer
from core.drafting.safety import looks_like_control, neutralise, new_nonce
from core.models import AccountId, DraftOption, utc_now
from core.ports import LanguageModel, Vector

STYLE_WEIGHT = 0.6
MAX_DRAFT_CHARS = 1500


class ModelError(RuntimeError):
    """The language model could not answer (timeouts, refusals, retries exhausted); the message
    is safe to show the owner (no prompt, no key)."""


class BudgetExceeded(ModelError):
    """The account's daily token budget is spent."""


class NotACompletion(ModelError):
    """The endpoint answered (HTTP 200) with something that is not a chat completion: a proxy's
    HTML page, a JSON list, truncated JSON, an empty body. Drafting falls back to retrieval, as
    for a timeout."""


class TokenBudget:
    """Tokens an account may spend on the LLM per UTC day.

    Args:
        daily_tokens: The allowance per account per day (``0`` or less: unlimited).
        clock: Gives the current day.
    """

    def __init__(self, daily_tokens: int, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.daily_tokens = daily_tokens
        self._clock = clock
        self._used: dict[AccountId, tuple[str, int]] = {}

    def _today(self) -> str:
        return self._clock().date().isoformat()

    def used(self, account_id: AccountId) -> int:
        """Tokens spent today."""
        day, tokens = self._used.get(account_id, ("", 0))
        return tokens if day == self._today() else 0

    def allows(self, account_id: AccountId, tokens: int = 1) -> bool:
        """Whether ``tokens`` more fit in today's allowance."""
        return self.daily_tokens <= 0 or self.used(account_id) + tokens <= self.daily_tokens

    def spend(self, account_id: AccountId, tokens: int) -> None:
        """Charge ``tokens`` to today's count."""
        self._used[account_id] = (self._today(), self.used(account_id) + max(0, tokens))

    def dump(self, account_id: AccountId) -> bytes:
        """Today's count as JSON bytes (for the ``StateStore``)."""
        return json.dumps({"day": self._today(), "tokens": self.used(account_id)}).encode()

    def restore(self, account_id: AccountId, data: bytes | None) -> None:
        """Take the persisted count when it is today's and larger than what we saw."""
        if not data:
            return
        try:
            obj = json.loads(data)
            day, tokens = str(obj["day"]), int(obj["tokens"])
        except (ValueError, KeyError, TypeError):
            return
        if day == self._today() and tokens > self.used(account_id):
            self._used[account_id] = (day, tokens)


@dataclass(frozen=True, slots=True)
class Ranked:
    """A generated candidate with its scores."""

    text: str
    style_score: int
    relevance: float

    @property
    def combined(self) -> float:
        return STYLE_WEIGHT * self.style_score / 100 + (1 - STYLE_WEIGHT) * self.relevance


def rerank(
    texts: Sequence[str],
    *,
    style_scores: Sequence[int],
    vectors: Vector,
    query: Vector,
    exemplar_replies: Vector | None,
) -> list[Ranked]:
    """Candidates ordered by verifier score and relevance (see the module docstring)."""
    to_incoming = vectors @ query
    if exemplar_replies is not None and len(exemplar_replies):
        to_owner = (vectors @ exemplar_replies.T).max(axis=1)
    else:
        to_owner = to_incoming
    relevance = np.clip(0.5 * to_incoming + 0.5 * to_owner, 0.0, 1.0)
    ranked = [
        Ranked(text=t, style_score=int(s), relevance=float(r))
        for t, s, r in zip(texts, style_scores, relevance.tolist(), strict=True)
    ]
    ranked.sort(key=lambda c: -c.combined)
    return ranked


class LLMDrafter:
    """Drafts replies with a language model, reranked by the persona's verifier.

    Args:
        model: Any OpenAI-compatible chat model behind the port.
        n: Candidates asked for per draft.
        max_tokens: Length cap of each candidate.
    """

    engine = "llm"

    def __init__(self, model: LanguageModel, *, n: int = 4, max_tokens: int = 200) -> None:
        self.model = model
        self.n = n
        self.max_tokens = max_tokens

    async def generate(
        self,
        *,
        account_id: AccountId,
        system: str,
        user: str,
        nonce: str,
        allowed_hosts: frozenset[str],
        n: int | None = None,
        max_tokens: int | None = None,
    ) -> list[str]:
        """Completions, cleaned, control-like ones dropped, the rest neutralised, deduplicated.

        Raises:
            ModelError: the model failed (after the adapter's own retries) or the budget is spent.
        """
        raw = await self.model.complete(
            system,
            user,
            n=n or self.n,
            max_tokens=max_tokens or self.max_tokens,
            account_id=account_id,
        )
        out: list[str] = []
        for completion in raw:
            text = clean_completion(completion, nonce)
            if not text or looks_like_control(text):
                continue
            text = neutralise(text[:MAX_DRAFT_CHARS], allowed_hosts=allowed_hosts)
            if text and text not in out:
                out.append(text)
        return out

    async def draft(
        self,
        *,
        account_id: AccountId,
        context: PromptContext,
        incoming: str,
        sender: str,
        query: Vector,
        style: StyleScorer,
        encode: Callable[[Sequence[str]], Vector],
        exemplar_replies: Vector | None = None,
        allowed_hosts: frozenset[str] = frozenset(),
        exclude: frozenset[str] = frozenset(),
        limit: int = 2,
    ) -> list[DraftOption]:
        """Up to ``limit`` options, best first.

        Raises:
            ModelError: see :meth:`generate`.
        """
        nonce = new_nonce()
        system, user = build_reply_prompt(context, incoming=incoming, sender=sender, nonce=nonce)
        texts = [
            t
            for t in await self.generate(
                account_id=account_id,
                system=system,
                user=user,
                nonce=nonce,
                allowed_hosts=allowed_hosts,
            )
            if t not in exclude
        ]
        if not texts:
            return []

        def score() -> tuple[list[int], Vector]:
            return style.score(texts), encode(texts)

        scores, vectors = await asyncio.to_thread(score)
        ranked = rerank(
            texts,
            style_scores=scores,
            vectors=vectors,
            query=query,
            exemplar_replies=exemplar_replies,
        )
        return [
            DraftOption(
                text=c.text,
                engine=self.engine,
                style_score=c.style_score,
                reasons=(
                    f"written by the language model from {len(context.exemplars)} of your real "
                    f"replies; relevance {round(100 * c.relevance)}%",
                ),
            )
            for c in ranked[:limit]
        ]


def merge_options(
    generated: Sequence[DraftOption], retrieved: Sequence[DraftOption], *, limit: int = 3
) -> list[DraftOption]:
    """The LLM's best, then the owner's own best reply, then the rest alternately (no repeats).

    Keeping a real reply among the options means the owner can always pick something they
    actually wrote, and the intent spread of the retrieval engine survives the merge.
    """
    order: list[DraftOption] = []
    for i in range(max(len(generated), len(retrieved))):
        order += [*generated[i : i + 1], *retrieved[i : i + 1]]
    out: list[DraftOption] = []
    seen: set[str] = set()
    for option in order:
        key = " ".join(option.text.lower().split())
        if key in seen:
            continue
        seen.add(key)
        out.append(option)
        if len(out) == limit:
            break
    return out
