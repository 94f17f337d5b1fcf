"""The drafting use case with a reply-fit model: the gate, and the closest exchange when nothing fits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from core.app.drafting import NOTHING_FITS, Drafting
from core.app.models import PersonaModel
from core.drafting.fit import ReplyFit
from core.drafting.retrieval import ExemplarIndex, RetrievalDrafter
from core.drafting.style import SurfaceStyleScorer
from core.engines.embedding import HashingEmbedder
from core.models import Message
from tests.core.drafting.test_fit import toy_weights
from tests.core.drafting.test_fitted import PAIRS

EMBEDDER = HashingEmbedder(dim=128)


class Vault:
    """No stored row was found unreadable."""

    async def unreadable(self, account_id: str) -> dict[str, int]:
        return {}


class Identity:
    """The persona has no attributes (nothing to avoid)."""

    async def attributes(self, account_id: str, persona_id: str) -> dict[str, str]:
        return {}


@dataclass
class Stores:
    vault: Vault
    identity: Identity = field(default_factory=Identity)


@dataclass
class Ctx:
    embedder: HashingEmbedder
    stores: Stores


ACCOUNT = SimpleNamespace(id="a1")
PERSONA = SimpleNamespace(id="p1", name="default")


class Models:
    """The one persona model the use case asks for."""

    def __init__(self, model: PersonaModel) -> None:
        self.model = model

    async def get(self, account: Any, persona: Any) -> PersonaModel:
        return self.model


def drafting(threshold: float) -> Drafting:
    weights = toy_weights()
    fit = ReplyFit(weights=weights, coef=ReplyFit.unadapted(weights).coef, threshold=threshold)
    index = ExemplarIndex.build(
        PAIRS,
        EMBEDDER.encode([p.incoming_text for p in PAIRS]),
        reply_vectors=EMBEDDER.encode([p.reply_text for p in PAIRS]),
    )
    model = PersonaModel(
        index=index,
        style=SurfaceStyleScorer.fit([p.reply_text for p in PAIRS]),
        priority=None,  # type: ignore[arg-type]
        owner_names=("sam",),
        fit=fit,
    )
    return Drafting(
        Ctx(EMBEDDER, Stores(Vault())), Models(model), drafter=RetrievalDrafter(), llm=None
    )  # type: ignore[arg-type]


def message(text: str) -> Message:
    return Message(
        id="m1", conversation="dm:dan", thread=None, sender="dan", text=text,
        sent_at=datetime(2026, 1, 6, tzinfo=UTC),
    )  # fmt: skip


async def test_options_that_fit_are_offered_with_their_fit() -> None:
    result = await drafting(0.3).drafts(
        ACCOUNT, PERSONA, message("my wifi keeps dropping, any fix?")
    )  # type: ignore[arg-type]
    assert result.offered and result.options and result.notes == []
    assert result.best is not None and "bcmwl" in result.best.text
    assert all(o.fit is not None and o.fit >= 30 for o in result.options)


async def test_when_nothing_fits_the_closest_real_exchange_is_shown_as_such() -> None:
    text = "my wifi keeps dropping, any fix?"
    result = await drafting(1.01).drafts(ACCOUNT, PERSONA, message(text))  # type: ignore[arg-type]
    assert not result.offered and result.notes == [NOTHING_FITS]
    assert len(result.options) == 1 and result.options[0].reasons[0].startswith("closest real")
    assert "my wifi keeps dropping" in result.options[0].reasons[0]
    assert result.best is not None, "the best candidate is still known (batch drafting)"


def test_the_card_shows_both_meters() -> None:
    from core.app.rendering import render_draft
    from core.models import Draft, DraftOption, DraftStatus, UserRef

    options = (
        DraftOption(text="np, glad it helped", engine="retrieval", style_score=71, fit=88),
        DraftOption(text="ty!", engine="retrieval", style_score=40, fit=61),
    )
    draft = Draft(
        id="d", account_id="a", persona_id="p", incoming=message("thanks for the help"),
        options=options, status=DraftStatus.PENDING, created_at=datetime(2026, 1, 6, tzinfo=UTC),
        owner=UserRef(platform="console", user_id="u"),
    )  # fmt: skip
    text = render_draft(draft, None).text
    assert "fits 88/100 · sounds like you 71/100" in text
    assert "fits 61/100 · sounds like you 40/100" in text


async def test_thanks_get_no_unsolicited_draft_but_one_when_the_owner_asks() -> None:
    text = "thanks for the help yesterday, really appreciated it"
    unasked = await drafting(0.0).drafts(ACCOUNT, PERSONA, message(text), solicited=False)  # type: ignore[arg-type]
    assert unasked.unasked == "thanks" and unasked.options == []
    asked = await drafting(0.0).drafts(ACCOUNT, PERSONA, message(text))  # type: ignore[arg-type]
    assert asked.unasked is None and [o.text for o in asked.options] == ["np!"]
    question = await drafting(0.0).drafts(  # type: ignore[arg-type]
        ACCOUNT, PERSONA, message("my wifi keeps dropping, any fix?"), solicited=False
    )
    assert question.unasked is None and question.options, "a question is still drafted unasked"
