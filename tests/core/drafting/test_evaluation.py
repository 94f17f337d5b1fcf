"""The drafting evaluation on a small synthetic multi-writer corpus (hashing embedder)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.eval_cli import _evaluate, format_report
from core.drafting.evaluation import draft_report
from core.engines.embedding import HashingEmbedder
from core.evaluation import CachingEmbedder, train_judge
from core.models import Message

TOPICS = ["printer", "wifi", "sound", "disk", "kernel", "bootloader", "grub", "nvidia"]


def corpus() -> list[Message]:
    out: list[Message] = []
    t = datetime(2026, 1, 1, tzinfo=UTC)
    n = 0
    for round_ in range(8):
        for topic in TOPICS:
            n += 1
            t += timedelta(minutes=5)
            asker = ["ann", "ben", "cy"][n % 3]
            q = Message(id=f"q{n}", conversation="c", thread=None, sender=asker,
                        text=f"my {topic} stopped working after the upgrade, any idea? ({round_})",
                        sent_at=t)  # fmt: skip
            own = Message(id=f"o{n}", conversation="c", thread=None, sender="sam",
                          text=f"{asker}: {topic} again lol, sudo apt install --reinstall {topic}-fix",
                          sent_at=t + timedelta(seconds=30), reply_to=q.id)  # fmt: skip
            gen = Message(id=f"g{n}", conversation="c", thread=None, sender="dora",
                          text=f"Hello! Have you checked the {topic} settings? Kind regards.",
                          sent_at=t + timedelta(seconds=40), reply_to=q.id)  # fmt: skip
            out += [q, own, gen]
    return out


def test_drafts_are_more_relevant_and_more_like_the_owner_than_a_generic_reply() -> None:
    messages = corpus()
    embedder = CachingEmbedder(HashingEmbedder())
    judge = train_judge(messages, ["sam", "dora"], embedder=embedder)
    report = draft_report(messages, "sam", embedder=embedder, judge=judge)
    r, b = report["retrieval"], report["baseline"]
    assert report["items"] > 10 and report["candidates"] == 9
    assert r["mrr"] > report["chance"]["mrr"] and r["recall_at_1"] > 0.5
    assert r["mrr"] >= b["mrr"]
    assert r["fidelity"] > b["fidelity"] and report["ceiling"] > 0.5


def test_minime_eval_reports_drafting_next_to_the_verifier(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    keys = ("id", "conversation", "thread", "sender", "text", "reply_to")
    rows = [
        {**{k: getattr(m, k) for k in keys}, "sent_at": m.sent_at.isoformat()} for m in corpus()
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    args = argparse.Namespace(
        input=path, me="sam", cutoff=None, authors=2, train_share=0.8, embedder="hashing",
        no_background=True, no_drafts=False, seed=0, json=False,
    )  # fmt: skip
    report = _evaluate(args)
    drafting = report["drafting"]
    assert drafting["owner"] == "sam" and drafting["retrieval"]["mrr"] > drafting["chance"]["mrr"]
    assert "fidelity" in drafting["baseline"]
    text = format_report(report)
    assert "Drafts of the retrieval engine for sam" in text and "generic baseline" in text


def test_the_shaped_card_is_scored_beside_the_best_candidate_and_naive_retrieval() -> None:
    from core.drafting.evaluation import summarise
    from tests.core.drafting.test_fit import toy_weights

    messages = corpus()
    embedder = CachingEmbedder(HashingEmbedder())
    report = draft_report(messages, "sam", embedder=embedder, fit_weights=toy_weights(256))
    n = report["items"]
    for name in ("fitted", "card", "card_any", "naive_any"):
        assert len(report[name]["reciprocal_ranks"]) == n
    # the best option of a card is at least as relevant as its first one, item by item
    for first, best in zip(
        report["card"]["reciprocal_ranks"], report["card_any"]["reciprocal_ranks"], strict=True
    ):
        assert best >= first
    assert 1 <= report["card_any"]["options"] <= 3
    assert report["card"]["mrr"] > report["chance"]["mrr"]
    pooled = summarise([report])
    assert pooled["card_vs_naive"]["low"] <= pooled["card_vs_naive"]["mean"]
    assert pooled["card_vs_naive"]["mean"] <= pooled["card_vs_naive"]["high"]
    assert "card_any_vs_naive_any" in pooled
