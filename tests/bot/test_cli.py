"""The command-line contract of DESIGN.md, through ``bot.cli.main`` on real SQLite storage.

These load the real embedding model once per test session (the CLI's own engine).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from pathlib import Path

import pytest

from bot.cli import main
from core.samples import SAMPLE_OWNER, SAMPLE_PERSONA_PATH

pytestmark = pytest.mark.slow


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def line(
    n: int,
    text: str,
    *,
    sender: str = "alice",
    reply_to: str | None = None,
    conversation: str = "dm:alice",
) -> str:
    return json.dumps(
        {
            "id": f"m{n}",
            "conversation": conversation,
            "thread": None,
            "sender": sender,
            "text": text,
            "sent_at": f"2026-03-01T10:{n:02d}:00+00:00",
            "reply_to": reply_to,
        }
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_prints_the_summary_and_a_second_run_adds_nothing(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    args = ("--data-dir", str(data_dir), "import", str(SAMPLE_PERSONA_PATH), "--user", "u")
    code, out, err = run(capsys, *args, "--me", SAMPLE_OWNER, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert set(summary) == {
        "format",
        "messages",
        "new",
        "owner_messages",
        "owner_replies",
        "conversations",
        "first",
        "last",
    }
    assert summary["format"] == "jsonl"
    assert summary["messages"] == summary["new"] > 400
    assert 0 < summary["owner_replies"] <= summary["owner_messages"] < summary["messages"]
    assert summary["first"] < summary["last"]
    code, out, _ = run(capsys, *args, "--me", SAMPLE_OWNER, "--json")
    assert code == 0 and json.loads(out)["new"] == 0


def test_a_bad_line_is_named_and_nothing_is_written(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(line(1, "hi") + "\n")
    assert (
        run(
            capsys, "--data-dir", str(data_dir), "import", str(good), "--user", "u", "--me", "alice"
        )[0]
        == 0
    )
    db = data_dir / "minime.db"
    before = digest(db)
    bad = tmp_path / "bad.jsonl"
    rows = [line(n, f"message {n}") for n in range(2, 40)]
    rows[20] = rows[20].replace("2026-03-01T10:22:00+00:00", "yesterday")
    bad.write_text("\n".join(rows) + "\n")
    code, out, err = run(
        capsys, "--data-dir", str(data_dir), "import", str(bad), "--user", "u", "--me", "alice"
    )
    assert code != 0 and out == ""
    assert f"{bad}:21:" in err and "sent_at" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert digest(db) == before


def test_draft_and_triage_write_one_line_per_input(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    base = ("--data-dir", str(data_dir))
    assert (
        run(capsys, *base, "import", str(SAMPLE_PERSONA_PATH), "--user", "u", "--me", SAMPLE_OWNER)[
            0
        ]
        == 0
    )
    incoming = tmp_path / "in.jsonl"
    incoming.write_text(
        "\n".join(
            [
                # dm:priya is a direct conversation in the sample persona's history
                line(1, "can you review my PR today?", sender="priya", conversation="dm:priya"),
                line(
                    2, "FYI the office is closed on friday", sender="priya", conversation="dm:priya"
                ),
                line(
                    3, "are you free for lunch tomorrow?", sender="priya", conversation="dm:priya"
                ),
            ]
        )
        + "\n"
    )
    drafts, scores = tmp_path / "drafts.jsonl", tmp_path / "scores.jsonl"
    code, _, err = run(
        capsys, *base, "draft", "--user", "u", "--input", str(incoming), "--output", str(drafts)
    )
    assert code == 0, err
    rows = [json.loads(x) for x in drafts.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["m1", "m2", "m3"]
    for row in rows:
        assert set(row) == {
            "id", "draft", "style_score", "engine", "alternatives", "fit", "offered", "options",
            "notes",
        }  # fmt: skip
        assert isinstance(row["draft"], str) and row["draft"]
        assert 0 <= row["style_score"] <= 100 and row["engine"] == "retrieval"
        assert all(set(a) == {"draft", "style_score", "engine"} for a in row["alternatives"])
        assert isinstance(row["offered"], bool) and len(row["options"]) <= 3
        assert row["offered"] == bool(row["options"])
        for option in row["options"]:
            assert set(option) == {"text", "fit", "style_score", "act"}
            assert option["fit"] is None or 0 <= option["fit"] <= 100
    code, _, err = run(
        capsys, *base, "triage", "--user", "u", "--input", str(incoming), "--output", str(scores)
    )
    assert code == 0, err
    triaged = {r["id"]: r for r in map(json.loads, scores.read_text().splitlines())}
    assert list(triaged) == ["m1", "m2", "m3"]
    assert all(set(r) == {"id", "score", "needs_reply", "reasons"} for r in triaged.values())
    assert triaged["m1"]["needs_reply"] and not triaged["m2"]["needs_reply"]
    assert triaged["m1"]["score"] > triaged["m2"]["score"]
    assert triaged["m1"]["reasons"]


def test_imported_text_is_not_in_the_database_files_or_the_logs(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    canary = "canary-" + secrets.token_hex(8)
    export = tmp_path / "canary.jsonl"
    export.write_text(
        "\n".join(
            [
                line(1, f"is {canary} ready?"),
                line(2, f"yes {canary} shipped", sender="me", reply_to="m1"),
            ]
        )
        + "\n"
    )
    caplog.set_level(logging.DEBUG)
    code, _, err = run(
        capsys,
        "--debug",
        "--data-dir",
        str(data_dir),
        "import",
        str(export),
        "--user",
        "u",
        "--me",
        "me",
    )
    assert code == 0, err
    code, _, err2 = run(capsys, "--data-dir", str(data_dir), "profile", "--user", "u")
    assert code == 0, err2
    files = [p for p in data_dir.iterdir() if p.name.startswith("minime.db")]
    assert any(p.name == "minime.db" for p in files)
    for path in files:  # the database, its WAL and shared-memory file
        assert canary.encode() not in path.read_bytes(), path.name
    assert canary not in caplog.text
    assert canary not in err and canary not in err2


@pytest.mark.parametrize(
    ("setup", "argv", "needle"),
    [
        ("none", ("draft", "--user", "u", "--input", "IN", "--output", "OUT"), "does not exist"),
        ("data", ("import", "EMPTY", "--user", "u", "--me", "x"), "empty"),
        (
            "data",
            ("import", "SAMPLE", "--user", "u", "--me", "nobody-at-all"),
            "most frequent senders",
        ),
        ("data", ("import", "MISSING", "--user", "u"), "no such file"),
        (
            "data",
            ("draft", "--user", "ghost", "--input", "IN", "--output", "OUT"),
            "no account 'ghost'",
        ),
    ],
)
def test_bad_input_gets_one_clear_sentence(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    tmp_path: Path,
    setup: str,
    argv: tuple[str, ...],
    needle: str,
) -> None:
    if setup == "data":
        assert (
            run(
                capsys,
                "--data-dir",
                str(data_dir),
                "import",
                str(SAMPLE_PERSONA_PATH),
                "--user",
                "u",
                "--me",
                SAMPLE_OWNER,
            )[0]
            == 0
        )
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "in.jsonl").write_text(line(1, "hi") + "\n")
    paths = {
        "IN": str(tmp_path / "in.jsonl"),
        "OUT": str(tmp_path / "out.jsonl"),
        "EMPTY": str(tmp_path / "empty.jsonl"),
        "SAMPLE": str(SAMPLE_PERSONA_PATH),
        "MISSING": str(tmp_path / "missing.jsonl"),
    }
    code, out, err = run(capsys, "--data-dir", str(data_dir), *(paths.get(a, a) for a in argv))
    assert code != 0 and out == ""
    assert err.startswith("minime: error: ") and needle in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.jsonl").exists()


def test_wrong_master_key_and_unreachable_database_are_named(
    capsys: pytest.CaptureFixture[str], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.fernet import Fernet

    assert (
        run(
            capsys,
            "--data-dir",
            str(data_dir),
            "import",
            str(SAMPLE_PERSONA_PATH),
            "--user",
            "u",
            "--me",
            SAMPLE_OWNER,
        )[0]
        == 0
    )
    monkeypatch.setenv("MINIME_MASTER_KEY", Fernet.generate_key().decode())
    code, _, err = run(capsys, "--data-dir", str(data_dir), "profile", "--user", "u")
    assert code != 0 and "master key" in err and "MINIME_MASTER_KEY" in err
    monkeypatch.delenv("MINIME_MASTER_KEY")
    monkeypatch.setenv("MINIME_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/test")
    code, _, err = run(capsys, "--data-dir", str(data_dir), "profile", "--user", "u")
    assert code != 0 and "127.0.0.1:1" in err and "Traceback" not in err


def test_keys_rotate_keeps_the_data_readable(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    base = ("--data-dir", str(data_dir))
    assert (
        run(capsys, *base, "import", str(SAMPLE_PERSONA_PATH), "--user", "u", "--me", SAMPLE_OWNER)[
            0
        ]
        == 0
    )
    old = (data_dir / "master.key").read_text()
    code, out, err = run(capsys, *base, "keys", "rotate")
    assert code == 0, err
    assert "Re-wrapped 1 data keys" in out
    assert (data_dir / "master.key").read_text() != old
    assert not (data_dir / "master.key.old").exists()
    code, out, err = run(capsys, *base, "profile", "--user", "u")
    assert code == 0 and "messages" in out.lower(), err


def test_export_then_erase(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    import zipfile

    base = ("--data-dir", str(data_dir))
    assert (
        run(capsys, *base, "import", str(SAMPLE_PERSONA_PATH), "--user", "u", "--me", SAMPLE_OWNER)[
            0
        ]
        == 0
    )
    target = tmp_path / "export.zip"
    code, _, err = run(capsys, *base, "export", "--user", "u", "--output", str(target))
    assert code == 0, err
    with zipfile.ZipFile(target) as archive:
        data = json.loads(archive.read("minime-export.json"))
    assert len(data["messages"]) > 400
    code, _, err = run(capsys, *base, "erase", "--user", "u", "--yes")
    assert code == 0, err
    code, _, err = run(capsys, *base, "profile", "--user", "u")
    assert code != 0 and "no account 'u'" in err


def test_draft_answers_bad_lines_and_reads_earlier_lines_as_context(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    base = ("--data-dir", str(data_dir))
    assert run(capsys, *base, "import", str(SAMPLE_PERSONA_PATH), "--user", "u", "--me",
               SAMPLE_OWNER)[0] == 0  # fmt: skip
    incoming = tmp_path / "in.jsonl"
    lines = [
        line(1, "", sender="priya", conversation="dm:priya"),
        line(2, "   \t ", sender="priya", conversation="dm:priya"),
        line(
            3, "\x00\x01\x02\x03binary\x04\x05\x06\x07\x08", sender="priya", conversation="dm:priya"
        ),
        line(4, "x" * 20_001, sender="priya", conversation="dm:priya"),
        line(
            5, "can you 明日の会議に来られますか? привет", sender="priya", conversation="dm:priya"
        ),
        line(6, "can you review my PR today?", sender="priya", conversation="dm:priya"),
        line(7, "and tomorrow?", sender="priya", conversation="dm:priya"),
        line(8, "and tomorrow?", sender="priya", conversation="dm:other"),
    ]
    incoming.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    code, _, err = run(
        capsys, *base, "draft", "--user", "u", "--input", str(incoming), "--output", str(out)
    )
    assert code == 0, err
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert list(rows) == [f"m{n}" for n in range(1, 9)]
    for n, words in ((1, "no text"), (2, "no text"), (3, "binary data"), (4, "20,001 characters")):
        row = rows[f"m{n}"]
        assert row["draft"] is None and row["options"] == [] and row["offered"] is False
        assert words in row["notes"][0]
    # Mixed languages: a draft, or a note saying why not (a language the owner never writes in).
    assert rows["m5"]["draft"] or rows["m5"]["notes"]
    # The same follow-up is drafted differently after "can you review my PR today?" than alone.
    assert rows["m7"]["draft"] and rows["m8"]["draft"]
    assert [o["text"] for o in rows["m7"]["options"]] != [o["text"] for o in rows["m8"]["options"]]


def test_quality_measures_the_imported_persona(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    base = ("--data-dir", str(data_dir))
    assert run(capsys, *base, "import", str(SAMPLE_PERSONA_PATH), "--user", "u", "--me",
               SAMPLE_OWNER)[0] == 0  # fmt: skip
    png = tmp_path / "q.png"
    code, out, err = run(capsys, *base, "quality", "--user", "u", "--json", "--png", str(png))
    assert code == 0, err
    report = json.loads(out)
    assert report["persona"] == "default" and report["enough"]
    assert report["drafting"]["retrieval"]["mrr"] > report["drafting"]["chance"]["mrr"]
    assert report["advice"] and "quality: style verifier for sam" in err
    assert png.read_bytes().startswith(b"\x89PNG")
    code, out, _ = run(capsys, *base, "quality", "--user", "u", "--persona", "nope")
    assert code != 0
