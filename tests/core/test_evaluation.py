from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from core.engines.embedding import HashingEmbedder
from core.evaluation import (
    CachingEmbedder,
    CentroidBaseline,
    attribution_eval,
    chronological_split,
    most_active_senders,
    style_fidelity,
    train_judge,
    verifier_report,
)
from core.models import Message
from core.ports import Vector
from tests.core.profiling.fixtures import writer_texts

T0 = datetime(2024, 1, 1, tzinfo=UTC)
STYLES = {"casey": "casual", "morgan": "formal", "ellie": "excited"}


def corpus(per_writer: int = 50) -> list[Message]:
    """Three invented writers, interleaved in time, plus a chatty bot."""
    out = []
    for w, (name, style) in enumerate(STYLES.items()):
        for i, text in enumerate(writer_texts(style, per_writer, seed=11)):
            out.append(
                Message(id=f"{name}-{i}", conversation="room", thread=None, sender=name,
                        text=text, sent_at=T0 + timedelta(minutes=3 * i + w))
            )  # fmt: skip
    for i in range(per_writer * 2):
        out.append(
            Message(id=f"bot-{i}", conversation="room", thread=None, sender="ubottu",
                    text=f"Factoid {i}: see the wiki", sent_at=T0 + timedelta(minutes=i))
        )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def messages() -> list[Message]:
    return corpus()


@pytest.fixture(scope="module")
def embedder() -> CachingEmbedder:
    return CachingEmbedder(HashingEmbedder(dim=128))


def test_chronological_split_per_sender(messages: list[Message]) -> None:
    train, test = chronological_split(messages)
    for sender in ("casey", "morgan", "ubottu"):
        learn = [m for m in train if m.sender == sender]
        held = [m for m in test if m.sender == sender]
        total = len(learn) + len(held)
        assert len(learn) == int(0.8 * total)
        assert max(m.sent_at for m in learn) <= min(m.sent_at for m in held)
    cutoff = T0 + timedelta(minutes=60)
    before, after = chronological_split(messages, cutoff=cutoff)
    assert all(m.sent_at < cutoff for m in before) and all(m.sent_at >= cutoff for m in after)


def test_most_active_senders_skip_bots(messages: list[Message]) -> None:
    assert most_active_senders(messages, 2) == ["casey", "ellie"]
    assert "ubottu" not in most_active_senders(messages, 10)


def test_verifier_report(messages: list[Message], embedder: CachingEmbedder) -> None:
    report = verifier_report(messages, "morgan", embedder=embedder)
    assert report["mode"] == "classifier"
    assert report["held_out_owner"] == 10 and report["train_owner"] == 40
    assert report["recognition_rate"] >= 0.9
    assert report["false_accept_rate"] <= 0.1
    assert report["held_out_others"] == 20  # the bot is not "another writer"
    json.dumps(report)
    with pytest.raises(ValueError, match="nobody"):
        verifier_report(messages, "nobody", embedder=embedder)


def test_attribution_beats_chance_and_reports_the_baseline(
    messages: list[Message], embedder: CachingEmbedder
) -> None:
    result = attribution_eval(messages, 3, embedder=embedder)
    assert sorted(result["authors"]) == sorted(STYLES)
    assert result["held_out"] == 30 and result["chance"] == pytest.approx(1 / 3)
    assert result["verifier_accuracy"] >= 0.9
    assert 0.0 <= result["baseline_accuracy"] <= 1.0
    assert set(result["per_author"]) == set(STYLES)
    json.dumps(result)


def test_centroid_baseline_on_obvious_writers() -> None:
    baseline = CentroidBaseline().fit({"a": ["aaa aaa", "aaaa aa"], "b": ["bbb bbb", "bb bbbb"]})
    assert baseline.attribute(["aaa", "bbbbb"]) == ["a", "b"]


def test_style_fidelity(messages: list[Message], embedder: CachingEmbedder) -> None:
    judge = train_judge(messages, list(STYLES), embedder=embedder)
    good = style_fidelity(judge, writer_texts("formal", 12, seed=20), "morgan")
    bad = style_fidelity(judge, writer_texts("excited", 12, seed=20), "morgan")
    assert good["fidelity"] >= 0.9 and bad["fidelity"] <= 0.1
    assert good["ceiling"] >= 0.9 and good["relative"] == pytest.approx(
        good["fidelity"] / good["ceiling"]
    )
    assert bad["attributed"].get("ellie", 0) >= 10
    with pytest.raises(ValueError):
        style_fidelity(judge, ["x"], "stranger")


class CountingEmbedder:
    dim = 4

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> Vector:
        self.seen += list(texts)
        return np.ones((len(texts), self.dim), dtype=np.float32)


def test_caching_embedder_encodes_each_text_once() -> None:
    inner = CountingEmbedder()
    cached = CachingEmbedder(inner)
    assert cached.encode(["a", "b", "a"]).shape == (3, 4)
    cached.encode(["b", "c"])
    assert inner.seen == ["a", "b", "c"]
    assert cached.encode([]).shape == (0, 4)


def _write_jsonl(path: Path, messages: list[Message], *, quirk: bool = False) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for m in messages:
            sent = m.sent_at.isoformat()
            if quirk:
                sent = sent.replace("T", "_03T", 1)
            record = {"id": m.id, "conversation": m.conversation, "thread": None,
                      "sender": m.sender, "text": m.text, "sent_at": sent, "reply_to": None}  # fmt: skip
            out.write(json.dumps(record) + "\n")


def _args(path: Path, *extra: str) -> argparse.Namespace:
    from bot import eval_cli

    parser = argparse.ArgumentParser()
    eval_cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(
        ["eval", "--input", str(path), "--embedder", "hashing", "--no-background", *extra]
    )


async def test_eval_command_prints_json(
    tmp_path: Path, messages: list[Message], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "messages.jsonl.gz"
    _write_jsonl(path, messages, quirk=True)
    args = _args(path, "--me", "Morgan", "--authors", "3", "--json")
    assert await args.run(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verifier"]["owner"] == "morgan"
    assert report["timestamps_repaired"] == len(messages)
    assert report["attribution"]["verifier_accuracy"] >= 0.9


async def test_eval_command_readable_report_and_errors(
    tmp_path: Path, messages: list[Message], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "messages.jsonl.gz"
    _write_jsonl(path, messages)
    cutoff = (T0 + timedelta(minutes=100)).isoformat()
    args = _args(path, "--me", "casey", "--authors", "3", "--cutoff", cutoff)
    assert await args.run(args) == 0
    out = capsys.readouterr().out
    assert "recognises" in out and "char-trigram nearest centroid" in out and cutoff in out

    args = _args(path, "--me", "zed")
    assert await args.run(args) == 2
    assert "most frequent senders" in capsys.readouterr().err

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "1"}\nnot json\n', encoding="utf-8")
    args = _args(broken, "--me", "casey")
    assert await args.run(args) == 2
    assert f"{broken}:1" in capsys.readouterr().err
