"""The real example data set that ships with minime, and ``minime import --example``.

The import runs with the hashing embedder (``MINIME_EMBEDDER=hashing``): what is checked here is
the data set and the command's plumbing, not the sentence model.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bot.cli import main
from core.samples import EXAMPLE_OWNER, EXAMPLE_PATH

KEYS = {"id", "conversation", "thread", "sender", "text", "sent_at", "reply_to"}


def rows() -> list[dict[str, object]]:
    with gzip.open(EXAMPLE_PATH, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def test_the_example_is_small_real_canonical_jsonl_with_reply_links_and_its_licence() -> None:
    data = rows()
    assert 2_000 <= len(data) <= 5_000
    assert EXAMPLE_PATH.stat().st_size < 200_000
    assert all(set(r) == KEYS for r in data)
    ids = {r["id"] for r in data}
    assert len(ids) == len(data)
    owner = [r for r in data if r["sender"] == EXAMPLE_OWNER]
    assert len(owner) == 386
    replies = [r for r in owner if r["reply_to"] in ids]
    assert len(replies) >= 300  # the owner answers messages that are in the set
    assert [r["sent_at"] for r in data] == sorted(r["sent_at"] for r in data)
    licence = (EXAMPLE_PATH.parent / "LICENSE.txt").read_text(encoding="utf-8")
    for needed in ("CC-BY-4.0", "Kummerfeld", "ACL 2019", EXAMPLE_OWNER):
        assert needed in licence


def test_import_example_picks_the_owner_and_then_triage_and_draft_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINIME_EMBEDDER", "hashing")
    base = ("--data-dir", str(tmp_path / "data"))
    code = main([*base, "import", "--example", "--user", "me", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["messages"] == summary["new"] == len(rows())
    assert summary["owner_messages"] == 386
    assert summary["owner_replies"] == 321

    incoming = tmp_path / "in.jsonl"
    incoming.write_text(
        json.dumps(
            {
                "id": "q1",
                "conversation": "dm:newbie",
                "thread": None,
                "sender": "newbie",
                "text": "how do I install the nvidia driver on ubuntu?",
                "sent_at": "2026-01-05T10:00:00+00:00",
                "reply_to": None,
            }
        )
        + "\n"
    )
    assert main([*base, "triage", "--user", "me", "--input", str(incoming), "--output", str(tmp_path / "t.jsonl")]) == 0  # fmt: skip
    assert main([*base, "draft", "--user", "me", "--input", str(incoming), "--output", str(tmp_path / "d.jsonl")]) == 0  # fmt: skip
    capsys.readouterr()
    (score,) = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert score["id"] == "q1" and 0.0 <= score["score"] <= 1.0
    assert isinstance(score["needs_reply"], bool) and score["reasons"]
    (draft,) = [json.loads(x) for x in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert draft["id"] == "q1" and draft["draft"]

    code = main([*base, "import", "--example", "--user", "me"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "Imported the example" in out and "CC-BY-4.0" in out and "(0 new)" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("import", "--user", "me"), "needs a FILE"),
        (("import", "SOMEFILE", "--example", "--user", "me"), "not both"),
    ],
)
def test_import_without_a_file_or_with_both_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: tuple[str, ...], needle: str
) -> None:
    code = main(["--data-dir", str(tmp_path / "data"), *argv])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert err.startswith("minime: error: ") and needle in err
    assert len(err.strip().splitlines()) == 1
