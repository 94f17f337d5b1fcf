"""An echo model over 1,000 interleaved drafts for two accounts seeded with canaries: no canary of
one account reaches the other's prompts, drafts or the logs.

The echo model is the worst case for a leak: whatever the prompt holds comes straight back as a
draft. Each account's history carries its own canary (in what others wrote and in what the owner
answered), and so does each incoming message.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pytest

from adapters.importers import open_import
from bot.bootstrap import Runtime, build_priority_model
from core.drafting.retrieval import RetrievalDrafter
from core.engines.embedding import HashingEmbedder
from core.models import UserRef
from core.privacy import RateLimiter
from core.samples import SAMPLE_OWNER, SAMPLE_PERSONA_PATH
from core.service import Clone, Stores
from tests.privacy.conftest import incoming

ALICE = UserRef(platform="slack", user_id="U-ALICE")
BOB = UserRef(platform="telegram", user_id="5150")
DRAFTS = 1_000


@dataclass
class EchoModel:
    """A language model that answers with its prompt, recording every call."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)

    async def complete(
        self, system: str, user: str, *, n: int, max_tokens: int, account_id: str
    ) -> list[str]:
        self.calls.append((account_id, system, user))
        await asyncio.sleep(0)
        return [user[-1200:], f"{system[-300:]}\n{user[:300]}"][:n]


def history(secret: str, owner: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    topics = ["deploy", "invoice", "review", "offsite", "budget", "hiring", "roadmap", "bug"]
    for n, topic in enumerate(topics * 3):
        rows.append(
            {
                "id": f"q{n}",
                "conversation": "dm:kim",
                "thread": None,
                "sender": "kim",
                "text": f"can you look at the {topic} {secret} today?",
                "sent_at": f"2026-01-{1 + n:02d}T09:00:00+00:00",
                "reply_to": None,
            }
        )
        rows.append(
            {
                "id": f"a{n}",
                "conversation": "dm:kim",
                "thread": None,
                "sender": owner,
                "text": f"yes, the {topic} {secret} is on my list",
                "sent_at": f"2026-01-{1 + n:02d}T09:10:00+00:00",
                "reply_to": f"q{n}",
            }
        )
    return rows


def echo_clone(runtime: Runtime, model: EchoModel) -> Clone:
    """The clone on the runtime's stores with the echo model as its LLM engine (when this
    checkout's clone has one) and rate caps out of the way of a deliberate 1,000-draft run."""
    stores = Stores(**{f.name: getattr(runtime.storage, f.name) for f in fields(Stores)})
    options: dict[str, Any] = {}
    if "llm" in inspect.signature(Clone).parameters:
        from core.drafting.llm import LLMDrafter

        options["llm"] = LLMDrafter(model, n=2)
    return Clone(
        stores=stores,
        embedder=HashingEmbedder(),
        drafter=RetrievalDrafter(),
        priority_factory=build_priority_model,
        read_export=open_import,
        sample_path=Path(SAMPLE_PERSONA_PATH),
        sample_owner=SAMPLE_OWNER,
        sender_limiter=RateLimiter(per_minute=1e9, burst=1_000_000),
        owner_limiter=RateLimiter(per_minute=1e9, burst=1_000_000),
        **options,
    )


async def test_no_canary_crosses_accounts_over_1000_interleaved_drafts(
    runtime: Runtime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    model = EchoModel()
    clone = echo_clone(runtime, model)
    secret = {ALICE: f"CANARY{secrets.token_hex(8)}", BOB: f"CANARY{secrets.token_hex(8)}"}
    account_of = {}
    for user, owner in ((ALICE, "ana"), (BOB, "bo")):
        path = tmp_path / f"{owner}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in history(secret[user], owner)))
        await clone.import_file(user, path, me=owner)
        account_of[user] = (await clone.account(user)).id
    other = {ALICE: BOB, BOB: ALICE}

    async def one(n: int) -> tuple[UserRef, str]:
        user = ALICE if n % 2 == 0 else BOB
        topic = ["deploy", "invoice", "review", "budget"][n % 4]
        reply = await clone.handle_incoming(
            incoming(user, f"could you check the {topic} {secret[user]} again? #{n}", n=n),
            explicit=True,
        )
        assert reply is not None and reply.draft is not None, n
        return user, reply.text + "\n" + "\n".join(o.text for o in reply.draft.options)

    shown: list[tuple[UserRef, str]] = []
    for start in range(0, DRAFTS, 8):  # eight at a time: the accounts' work interleaves
        shown += await asyncio.gather(*(one(n) for n in range(start, start + 8)))

    assert len(shown) == DRAFTS
    for user, text in shown:
        assert secret[other[user]] not in text
    assert sum(secret[user] in text for user, text in shown) > DRAFTS // 2  # the echo echoes
    for user in (ALICE, BOB):
        for draft in await runtime.storage.drafts.pending(account_of[user]):
            stored = draft.incoming.text + " ".join(o.text for o in draft.options)
            assert secret[other[user]] not in stored
    if "llm" in inspect.signature(Clone).parameters:
        assert len(model.calls) == DRAFTS
        for account_id, system, user_prompt in model.calls:
            owner = ALICE if account_id == account_of[ALICE] else BOB
            assert account_id == account_of[owner]
            prompt = system + user_prompt
            assert secret[owner] in prompt and secret[other[owner]] not in prompt
    for user in (ALICE, BOB):
        assert secret[user] not in caplog.text
