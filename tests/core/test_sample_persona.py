"""The synthetic sample persona: valid canonical JSONL, consistent, and exactly what its generator writes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.samples import SAMPLE_OWNER, SAMPLE_PERSONA_PATH

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "scripts" / "make_sample_persona.py"
KEYS = ["id", "conversation", "thread", "sender", "text", "sent_at", "reply_to"]


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return SAMPLE_PERSONA_PATH.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def records(lines: list[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in lines]


def _owner_texts(records: list[dict[str, object]], replies_only: bool = True) -> list[str]:
    return [
        str(r["text"])
        for r in records
        if r["sender"] == SAMPLE_OWNER and (r["reply_to"] is not None or not replies_only)
    ]


def test_path_and_owner() -> None:
    assert SAMPLE_PERSONA_PATH.name == "sample_persona.jsonl"
    assert SAMPLE_PERSONA_PATH.is_file()
    assert SAMPLE_OWNER == "sam"


def test_every_line_is_canonical(lines: list[str]) -> None:
    assert 300 <= len(lines) <= 500
    for n, line in enumerate(lines, start=1):
        record = json.loads(line)
        assert isinstance(record, dict), n
        assert list(record) == KEYS, n
        for key in ("id", "conversation", "sender", "text", "sent_at"):
            assert isinstance(record[key], str) and record[key].strip(), (n, key)
        for key in ("thread", "reply_to"):
            assert record[key] is None or isinstance(record[key], str), (n, key)
        sent = datetime.fromisoformat(record["sent_at"])
        assert sent.tzinfo is not None and sent.utcoffset() == timedelta(0), n


def test_ids_unique_and_time_ordered(records: list[dict[str, object]]) -> None:
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    times = [datetime.fromisoformat(str(r["sent_at"])) for r in records]
    assert times == sorted(times)
    span = times[-1] - times[0]
    assert timedelta(days=75) <= span <= timedelta(days=100)


def test_replies_and_threads_point_backwards_in_the_same_conversation(
    records: list[dict[str, object]],
) -> None:
    by_id = {r["id"]: r for r in records}
    for r in records:
        for key in ("reply_to", "thread"):
            target = r[key]
            if target is None:
                continue
            assert target in by_id, (r["id"], key, target)
            parent = by_id[target]
            assert parent["conversation"] == r["conversation"], r["id"]
            assert parent["sent_at"] <= r["sent_at"], r["id"]
        if r["reply_to"] is not None:
            assert by_id[r["reply_to"]]["id"] != r["id"]
        if r["thread"] is not None:
            assert str(r["conversation"]).startswith("#"), r["id"]


def test_shape_of_the_persona(records: list[dict[str, object]]) -> None:
    senders = Counter(r["sender"] for r in records)
    others = [s for s in senders if s != SAMPLE_OWNER]
    assert 6 <= len(others) <= 10
    conversations = {r["conversation"] for r in records}
    assert 15 <= len(conversations) <= 25
    assert any(str(c).startswith("dm:") for c in conversations)
    assert sum(str(c).startswith("#") for c in conversations) >= 3
    by_id = {r["id"]: r for r in records}
    owner_replies = [r for r in records if r["sender"] == SAMPLE_OWNER and r["reply_to"]]
    assert len(owner_replies) >= 150
    # Sam answers other people (not only himself), starts conversations, and leaves some unanswered.
    assert sum(by_id[r["reply_to"]]["sender"] != SAMPLE_OWNER for r in owner_replies) >= 150
    assert any(r["sender"] == SAMPLE_OWNER and r["reply_to"] is None for r in records)
    answered = {r["reply_to"] for r in owner_replies}
    unanswered = [r for r in records if r["sender"] != SAMPLE_OWNER and r["id"] not in answered]
    assert len(unanswered) >= 30
    assert any(r["thread"] is not None for r in records)


@pytest.mark.parametrize(
    ("intent", "pattern"),
    [
        ("accept", r"\b(yep|sgtm|will do)\b"),
        ("decline", r"\bcan't\b"),
        ("defer", r"get back to you"),
        ("thank", r"\bty\b"),
        ("ask for details", r"^(which|what|how|who|where)\b.*\?"),
    ],
)
def test_each_intent_family_appears_many_times(
    records: list[dict[str, object]], intent: str, pattern: str
) -> None:
    hits = [t for t in _owner_texts(records) if re.search(pattern, t)]
    assert len(hits) >= 10, intent


def test_sams_voice_is_distinctive(records: list[dict[str, object]]) -> None:
    texts = _owner_texts(records, replies_only=False)
    lower = sum(t == t.lower() for t in texts)
    assert lower / len(texts) >= 0.9
    assert sum(t.endswith(".") for t in texts) / len(texts) <= 0.05
    assert any("🙏" in t for t in texts)
    assert any("tbh" in t for t in texts)
    signed = [t for t in texts if t.endswith("\n- s")]
    assert signed and all(len(t) > 70 for t in signed)
    assert sum(re.search(r"\bby \d{1,2}(:\d\d)?(am|pm)\b", t) is not None for t in texts) >= 10


def test_pr_review_requests_are_answered(records: list[dict[str, object]]) -> None:
    answered = {r["reply_to"] for r in records if r["sender"] == SAMPLE_OWNER}
    for phrase in ("review my pr", "pull request"):
        asks = [
            r for r in records if r["sender"] != SAMPLE_OWNER and phrase in str(r["text"]).lower()
        ]
        assert len(asks) >= 5, phrase
        assert sum(r["id"] in answered for r in asks) >= 5, phrase


def test_file_is_exactly_what_the_generator_writes(tmp_path: Path) -> None:
    out = tmp_path / "sample.jsonl"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--output", str(out)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    assert out.read_bytes() == SAMPLE_PERSONA_PATH.read_bytes(), (
        "core/samples/sample_persona.jsonl is stale: run python3 scripts/make_sample_persona.py"
    )
