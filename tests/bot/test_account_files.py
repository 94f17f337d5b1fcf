"""Files written for an account: private from the first byte, never clobbered, erased with it."""

from __future__ import annotations

import json
import secrets
import stat
import zipfile
from pathlib import Path

import pytest

from bot.account_files import AccountFiles, FileExists
from bot.cli import main
from tests.canary_scan import canary_files


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_private_recorded_and_erased(tmp_path: Path) -> None:
    files = AccountFiles(tmp_path / "data")
    inside = files.write("acct1", b"secret card", name="card.png")
    assert inside == (tmp_path / "data" / "files" / "acct1" / "card.png").absolute()
    assert mode(inside) == 0o600 and mode(inside.parent) == 0o700
    assert files.write("acct1", b"newer card", name="card.png") == inside  # minime's own: replaced
    outside = files.write("acct1", b"the export", name="x.zip", target=tmp_path / "mine.zip")
    assert mode(outside) == 0o600
    with pytest.raises(FileExists, match="--force"):
        files.write("acct1", b"again", name="x.zip", target=outside)
    assert outside.read_bytes() == b"the export"
    files.write("acct1", b"again", name="x.zip", target=outside, replace=True)
    changed = files.write("acct1", b"old", name="y.zip", target=tmp_path / "theirs.zip")
    changed.write_bytes(b"the owner put something else here")
    other = files.write("acct2", b"bob's", name="card.png")

    erased = files.erase("acct1")
    assert not inside.parent.exists() and erased.removed == (inside.parent,)
    # The owner's copies elsewhere stay (an export is for taking away), and are named.
    assert outside.exists() and erased.kept == (outside,)
    assert changed.exists()  # replaced by the owner since: not ours, not named
    assert other.read_bytes() == b"bob's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "mine.zip", "theirs.zip"]


def history(path: Path, canary: str) -> None:
    rows = []
    for n in range(12):
        at = f"2026-01-{n + 1:02d}T10:00:00+00:00"
        question = {"id": f"q{n}", "conversation": "dm:kim", "thread": None, "sender": "kim"}
        rows.append({**question, "text": f"can you check the {canary} report {n}?", "sent_at": at})
        rows.append(
            {
                **question,
                "id": f"a{n}",
                "sender": "ana",
                "text": f"sure, the {canary} report is fine {n}",
                "sent_at": at.replace("10:00", "10:05"),
                "reply_to": f"q{n}",
            }
        )
    path.write_text("".join(json.dumps({"reply_to": None, **r}) + "\n" for r in rows))


def test_cli_export_and_style_card_stay_private_and_go_with_erase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MINIME_EMBEDDER", "hashing")
    monkeypatch.chdir(tmp_path)  # nothing may land in the current directory
    canary = f"CANARY{secrets.token_hex(8)}"
    data = tmp_path / "data"
    source = tmp_path / "upload" / "history.jsonl"
    source.parent.mkdir()
    history(source, canary)
    base = ["--data-dir", str(data)]
    assert main([*base, "import", str(source), "--user", "u", "--me", "ana"]) == 0
    source.unlink()
    capsys.readouterr()

    assert main([*base, "export", "--user", "u"]) == 0
    said = capsys.readouterr().out
    [export] = [Path(w) for w in said.split() if w.endswith(".zip")]
    assert export.is_relative_to(data) and mode(export) == 0o600
    with zipfile.ZipFile(export) as archive:
        assert canary in archive.read("minime-export.json").decode()
    chosen = tmp_path / "elsewhere" / "mine.zip"
    assert main([*base, "export", "--user", "u", "--output", str(chosen)]) == 0
    assert mode(chosen) == 0o600 and str(chosen) in capsys.readouterr().out
    assert main([*base, "export", "--user", "u", "--output", str(chosen)]) == 1
    assert "exists already" in capsys.readouterr().err  # not overwritten silently
    assert main([*base, "profile", "--user", "u"]) == 0
    [card] = [p for p in data.rglob("style-card-u.png")]
    assert mode(card) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "elsewhere", "upload"]
    assert canary_files(data, canary) and canary_files(chosen.parent, canary)

    assert main([*base, "erase", "--user", "u", "--yes"]) == 0
    said = capsys.readouterr().out
    assert f"Not deleted: {chosen}" in said  # the copy the owner asked for, named
    assert canary_files(data, canary) == []  # the data dir, and the export it wrote there
    assert not card.exists() and not export.exists()
    assert canary_files(chosen.parent, canary) == [chosen]
