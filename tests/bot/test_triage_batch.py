"""``minime triage`` resolves the account and persona once per file, not once per message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from core.models import UserRef
from core.samples import SAMPLE_OWNER, SAMPLE_PERSONA_PATH
from storage.stores.accounts import SqlAccountStore


def test_triage_of_a_file_resolves_the_account_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MINIME_EMBEDDER", "hashing")  # the scoring path, not the sentence model
    data = ("--data-dir", str(tmp_path / "data"))
    assert (
        main([*data, "import", str(SAMPLE_PERSONA_PATH), "--user", "u", "--me", SAMPLE_OWNER]) == 0
    )
    incoming = tmp_path / "in.jsonl"
    rows = [
        {
            "id": f"m{n}",
            "conversation": "dm:priya",
            "thread": None,
            "sender": "priya",
            "text": f"can you review PR {n} today?" if n % 2 else f"fyi build {n} is green",
            "sent_at": f"2026-09-01T10:{n:02d}:00+00:00",
            "reply_to": None,
        }
        for n in range(40)
    ]
    incoming.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    resolved: list[UserRef] = []
    original = SqlAccountStore.resolve

    async def counting(self: SqlAccountStore, user: UserRef, *, create: bool) -> object:
        resolved.append(user)
        return await original(self, user, create=create)

    monkeypatch.setattr(SqlAccountStore, "resolve", counting)
    scores = tmp_path / "scores.jsonl"
    assert (
        main([*data, "triage", "--user", "u", "--input", str(incoming), "--output", str(scores)])
        == 0
    )
    out = [json.loads(line) for line in scores.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in out] == [r["id"] for r in rows]
    assert all(0 <= r["score"] <= 1 and isinstance(r["reasons"], list) for r in out)
    assert len(resolved) == 1
    capsys.readouterr()
