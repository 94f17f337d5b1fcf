"""``minime``: the command line (the contract in DESIGN.md; scripts and benchmarks depend on it).

Every failure a user can cause ends in one sentence on stderr and a non-zero exit, never a
traceback (``--debug`` shows one), and never a partial write.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from bot.logs import configure_logging
from bot.memory import return_freed_buffers
from bot.progress import Progress, ProgressEmbedder
from bot.settings import Settings, load_settings

log = logging.getLogger("minime")

EXIT_USAGE = 2
EXIT_FAILED = 1


class UsageError(Exception):
    """A problem with what the user asked for; ``str()`` is the sentence to show."""


def _default_user() -> str:
    try:
        return getpass.getuser() or "me"
    except Exception:
        return "me"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minime",
        description="Your clone in Slack, Telegram, Discord and the terminal: it triages and drafts "
        "in your voice; nothing is sent without your click.",
    )
    parser.add_argument(
        "--data-dir", type=Path, help="where minime keeps its database and key (MINIME_DATA_DIR)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser(
        "run", help="start every configured adapter; the console chat when none is"
    )
    run.add_argument("--user", default=None, help="console user (default: your login name)")
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        help="HTTP worker processes on one port (SO_REUSEPORT) and one PostgreSQL (default 1)",
    )
    chat = sub.add_parser("chat", help="talk to your clone in the terminal")
    chat.add_argument("--user", default=None, help="who you are (default: your login name)")

    _add_import(sub)

    for name, what in (
        ("draft", "draft replies to messages"),
        ("triage", "score messages for priority"),
    ):
        p = sub.add_parser(name, help=f"{what} (canonical JSONL in, JSONL out)")
        p.add_argument("--user", required=True)
        p.add_argument("--input", type=Path, required=True)
        p.add_argument("--output", type=Path, required=True)

    prof = sub.add_parser("profile", help="your style card")
    prof.add_argument("--user", required=True)
    prof.add_argument("--json", action="store_true")
    prof.add_argument("--png", type=Path, help="also write the card's picture here")
    prof.add_argument("--force", action="store_true", help="replace an existing --png file")

    qual = sub.add_parser(
        "quality", help="how close the clone is to you, measured on your own held-out messages"
    )
    qual.add_argument("--user", required=True)
    qual.add_argument("--persona", help="which persona (default: the active one)")
    qual.add_argument("--json", action="store_true", help="print one JSON object")
    qual.add_argument("--png", type=Path, help="also write the picture here")
    qual.add_argument("--force", action="store_true", help="replace an existing --png file")

    exp = sub.add_parser("export", help="everything held for an account, as a zip of JSON")
    exp.add_argument("--user", required=True)
    exp.add_argument(
        "--output",
        type=Path,
        help="default: <data dir>/files/<account>/minime-export-<user>.zip (mode 0600; erase "
        "deletes it there, and names a copy written elsewhere)",
    )
    exp.add_argument("--force", action="store_true", help="replace an existing --output file")
    era = sub.add_parser("erase", help="destroy everything held for an account")
    era.add_argument("--user", required=True)
    era.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    keys = sub.add_parser("keys", help="master key management")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION")
    keys_sub.required = True
    keys_sub.add_parser("rotate", help="re-wrap every data key under a new master key")

    try:
        from bot import eval_cli
    except ImportError:  # the evaluation module is optional at this stage of a checkout
        pass
    else:
        eval_cli.register(sub)
    return parser


def _add_import(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``import`` subcommand: every export format the readers know."""
    imp = sub.add_parser("import", help="import an export of your messages")
    imp.add_argument("file", type=Path, nargs="?", help="the export (omit with --example)")
    imp.add_argument(
        "--example",
        action="store_true",
        help="import the real example that ships with minime (3,033 #ubuntu IRC messages, "
        "CC-BY-4.0) as its most active helper, 'actionparsnip'",
    )
    imp.add_argument("--user", required=True, help="the account to import into")
    imp.add_argument(
        "--me", help="which sender is you (name, user name or id as the export writes it)"
    )
    imp.add_argument(
        "--format",
        default="auto",
        choices=(
            "auto",
            "jsonl",
            "slack",
            "telegram",
            "discord",
            "whatsapp",
            "mbox",
            "eml",
            "twitter",
            "text",
            "minime",
        ),
    )
    imp.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``minime`` console script."""
    return_freed_buffers()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(data_dir=args.data_dir)
    except Exception as error:
        print(f"minime: error: invalid settings: {_first_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    secrets = [
        s.get_secret_value()
        for s in (
            settings.master_key,
            settings.llm.api_key,
            settings.slack.bot_token,
            settings.slack.signing_secret,
            settings.slack.app_token,
            settings.slack.user_token,
            settings.telegram.bot_token,
            settings.telegram.webhook_secret,
            settings.discord.bot_token,
        )
        if s is not None
    ]
    configure_logging("DEBUG" if args.debug else settings.log_level, secrets=secrets)
    handler = COMMANDS.get(args.command)
    try:
        if handler is None:  # registered by a plug-in module (eval)
            return int(asyncio.run(args.run(args)))
        return int(asyncio.run(handler(args, settings)))
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if args.debug:
            raise
        message = _user_message(error)
        if message is None:
            log.error("internal error", exc_info=error)
            message = f"internal error ({type(error).__name__}); run again with --debug for details"
        print(f"minime: error: {message}", file=sys.stderr)
        return EXIT_FAILED


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _user_message(error: BaseException) -> str | None:
    """The one sentence for errors a user can cause; ``None`` for bugs."""
    from adapters.importers import ImportFormatError, UnknownOwner
    from bot.account_files import FileExists
    from storage.errors import StorageError

    if isinstance(error, UsageError | ImportFormatError | UnknownOwner | StorageError | FileExists):
        return str(error)
    from adapters.telegram.transport import PollingConflict

    if isinstance(error, PollingConflict):
        return str(error)
    if isinstance(error, FileNotFoundError):
        return f"no such file: {error.filename}"
    if isinstance(error, IsADirectoryError | PermissionError):
        return f"cannot read {error.filename}: {error.strerror}"
    return None


def _data_dir(settings: Settings, *, create: bool) -> Path:
    """The data dir; created for commands that start fresh, required for those that read."""
    data_dir = settings.data_dir
    if data_dir.is_dir():
        return data_dir
    if data_dir.exists():
        raise UsageError(f"the data dir {data_dir} is not a directory")
    if not create:
        raise UsageError(
            f"the data dir {data_dir} does not exist: nothing has been imported there yet"
        )
    data_dir.mkdir(parents=True, mode=0o700)
    return data_dir


def _count_messages(path: Path, fmt: str) -> int | None:
    """How many messages a canonical JSONL file holds (its non-blank lines), for the progress
    display's total and time left; ``None`` for other formats (their count is not knowable
    before parsing)."""
    import gzip

    name = path.name.lower()
    if fmt not in ("auto", "jsonl") or not name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return None
    try:
        with path.open("rb") as probe:
            gz = probe.read(2) == b"\x1f\x8b"
        with gzip.open(path, "rb") if gz else path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    except (OSError, EOFError):
        return None  # the importer reports the problem in its own words


# ------------------------------------------------------------------------------ commands


async def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import configured_embedder, open_runtime
    from core.models import UserRef
    from core.service import describe_summary

    if args.example:
        from core.samples import EXAMPLE_OWNER, EXAMPLE_PATH

        if args.file is not None:
            raise UsageError("give either a FILE or --example, not both")
        args.file = EXAMPLE_PATH
        args.me = args.me or EXAMPLE_OWNER
    elif args.file is None:
        raise UsageError("import needs a FILE to read (or --example for the shipped example)")
    if not args.file.exists():
        raise UsageError(f"no such file: {args.file}")
    _data_dir(settings, create=True)
    started = time.perf_counter()
    progress = Progress()
    embedder = ProgressEmbedder(configured_embedder(settings), progress)
    async with open_runtime(settings, embedder=embedder) as runtime:
        with progress:
            total = await asyncio.to_thread(_count_messages, args.file, args.format)
            read = progress.stage(f"reading {args.file.name}", total=total)
            embedder.label = "learning your replies"
            seen = 0

            def report(n: int) -> None:
                nonlocal seen
                read(n)
                seen += n
                if total is not None and seen >= total:  # read: the exemplars come next
                    progress.stage(embedder.label, unit="")

            async with progress.ticking():
                summary = await runtime.clone.import_file(
                    UserRef(platform="local", user_id=args.user),
                    args.file,
                    fmt=args.format,
                    me=args.me,
                    progress=report if progress.enabled else None,
                )
            # A one-shot run: let the style verifier finish training so it is stored for `draft`.
            embedder.label = "training the style verifier"
            async with progress.ticking(embedder.label):
                await runtime.clone.settle()
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps(summary.as_json()))
    else:
        what = (
            f"the example (#ubuntu IRC, CC-BY-4.0, Kummerfeld et al. 2019; you are '{args.me}')"
            if args.example
            else f"{args.file} ({summary.format})"
        )
        print(f"Imported {what} in {elapsed:.1f}s: {describe_summary(summary)}")
    return 0


def _read_canonical(path: Path) -> Iterator[Any]:
    from adapters.importers import open_import

    if not path.exists():
        raise UsageError(f"no such file: {path}")
    return open_import(path, "jsonl").messages()


async def _open_existing(settings: Settings, user: str) -> Any:
    from bot.bootstrap import open_runtime

    _data_dir(settings, create=False)
    return open_runtime(settings)


async def _account_and_persona(runtime: Any, user: str) -> tuple[Any, Any]:
    from core.models import UserRef

    account = await runtime.storage.accounts.resolve(
        UserRef(platform="local", user_id=user), create=False
    )
    if account is None:
        raise UsageError(
            f"no account '{user}' in {runtime.settings.data_dir}: import something for it first"
        )
    persona = await runtime.clone.active_persona(account)
    return account, persona


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _earlier_in_conversation(messages: Sequence[Any], limit: int) -> list[tuple[Any, ...]]:
    """Per input line, the earlier lines of the same conversation (and thread), oldest first, at
    most ``limit``: the context a reply to that line is drafted in."""
    seen: dict[tuple[str, str | None], list[Any]] = {}
    out: list[tuple[Any, ...]] = []
    for message in messages:
        key = (message.conversation, message.thread)
        earlier = [m for m in seen.get(key, []) if m.sent_at <= message.sent_at]
        out.append(tuple(earlier[-limit:]))
        seen.setdefault(key, []).append(message)
    return out


def _draft_row(message: Any, result: Any, note: str | None) -> dict[str, Any]:
    """One line of ``minime draft``'s output (the command-line contract): ``draft`` is always the
    best candidate (batch evaluation stays comparable); ``offered`` whether chat would show
    options, ``options`` what it would show (nothing when no candidate passes the fit gate)."""
    shown = list(result.options) if result is not None and result.offered else []
    best = (result.best if result is not None else None) or (shown[0] if shown else None)
    notes = [note] if note else list(result.notes) if result is not None else []
    return {
        "id": message.id,
        "draft": best.text if best else None,
        "style_score": best.style_score if best else None,
        "engine": best.engine if best else None,
        "alternatives": [
            {"draft": o.text, "style_score": o.style_score, "engine": o.engine}
            for o in shown
            if best is None or o.text != best.text
        ],
        "fit": best.fit if best else None,
        "offered": bool(shown),
        "options": [
            {"text": o.text, "fit": o.fit, "style_score": o.style_score, "act": o.act}
            for o in shown
        ],
        "notes": notes,
    }


async def cmd_draft(args: argparse.Namespace, settings: Settings) -> int:
    from core.models import CONTEXT_LIMIT
    from core.privacy import (
        BINARY_NOTICE,
        EMPTY_NOTICE,
        clean_message,
        looks_binary,
        size_notice,
        too_long,
    )

    _data_dir(settings, create=False)
    messages = [clean_message(m) for m in _read_canonical(args.input)]
    contexts = _earlier_in_conversation(messages, CONTEXT_LIMIT)
    cap = settings.max_message_chars
    async with await _open_existing(settings, args.user) as runtime:
        account, persona = await _account_and_persona(runtime, args.user)
        rows = []
        for message, context in zip(messages, contexts, strict=True):
            note = (
                size_notice(len(message.text), cap)
                if too_long(message.text, cap)
                else BINARY_NOTICE
                if looks_binary(message.text)
                else EMPTY_NOTICE
                if not message.text.strip()
                else None
            )
            result = None
            if note is None:
                usable = [
                    m for m in context if not too_long(m.text, cap) and not looks_binary(m.text)
                ]
                result = await runtime.clone.app.drafting.drafts(
                    account, persona, message, context=usable
                )
                if result.options or result.best:
                    caveat = await runtime.clone.app.drafting.best_effort(account, persona)
                    result = replace(result, notes=[*caveat, *result.notes])
            rows.append(_draft_row(message, result, note))
    _write_jsonl(args.output, rows)
    print(f"Wrote {len(rows)} drafts to {args.output}", file=sys.stderr)
    return 0


async def cmd_triage(args: argparse.Namespace, settings: Settings) -> int:
    from core.models import IncomingMessage, UserRef

    _data_dir(settings, create=False)
    messages = list(_read_canonical(args.input))
    async with await _open_existing(settings, args.user) as runtime:
        account, persona = await _account_and_persona(runtime, args.user)
        owner = UserRef(platform="local", user_id=args.user)
        # The account and persona are resolved once for the whole file, not once per message.
        priorities = await runtime.clone.triage_batch(
            account,
            persona,
            [
                IncomingMessage(owner=owner, message=message, sender_name=message.sender)
                for message in messages
            ],
        )
        rows = [
            {
                "id": message.id,
                "score": round(priority.score, 4),
                "needs_reply": priority.needs_reply,
                "reasons": list(priority.reasons),
            }
            for message, priority in zip(messages, priorities, strict=True)
        ]
    _write_jsonl(args.output, rows)
    print(f"Wrote {len(rows)} scores to {args.output}", file=sys.stderr)
    return 0


async def cmd_profile(args: argparse.Namespace, settings: Settings) -> int:
    from core.models import CommandInvocation, UserRef

    async with await _open_existing(settings, args.user) as runtime:
        account, _ = await _account_and_persona(runtime, args.user)
        if args.json:
            data = await runtime.clone.profile_json(UserRef(platform="local", user_id=args.user))
            print(json.dumps(data, ensure_ascii=False, indent=1))
            return 0
        replies = await runtime.clone.handle_command(
            CommandInvocation(user=UserRef(platform="local", user_id=args.user), name="profile")
        )
    for reply in replies:
        print(reply.text)
        if reply.image is not None:
            target = _account_files(settings).write(
                account.id,
                reply.image,
                name=f"style-card-{args.user}.png",
                target=args.png,
                replace=args.force,
            )
            print(f"(style card picture: {target})")
    return 0


async def cmd_quality(args: argparse.Namespace, settings: Settings) -> int:
    from core import quality

    started = time.perf_counter()

    def progress(step: str) -> None:
        print(f"quality: {step}... ({time.perf_counter() - started:.0f}s)", file=sys.stderr)

    async with await _open_existing(settings, args.user) as runtime:
        account, _ = await _account_and_persona(runtime, args.user)
        persona = await runtime.clone.app.quality.persona_named(account, args.persona)
        if persona is None:
            raise UsageError(f"no persona '{args.persona}' for '{args.user}'")
        report = await runtime.clone.app.quality.report(account, persona, progress=progress)
        # Kept in the persona's quality history, like a run asked for in chat.
        await runtime.clone.app.quality_history.record(
            account, persona, report, trigger="on demand"
        )
    report["seconds"] = round(time.perf_counter() - started, 1)
    png = quality.picture(report)
    target = None
    if png is not None:  # private, recorded for erase, like the style card's picture
        target = _account_files(settings).write(
            account.id, png, name=f"quality-{args.user}.png", target=args.png, replace=args.force
        )
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1, default=str))
        return 0
    print(f"Persona '{report['persona']}'. {quality.summary(report)}")
    if png is not None:
        print(f"(picture: {target}; measured in {report['seconds']:.0f}s)")
    return 0


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    import io
    import zipfile

    async with await _open_existing(settings, args.user) as runtime:
        account, _ = await _account_and_persona(runtime, args.user)
        data = await runtime.clone.export_data(account)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("minime-export.json", json.dumps(data, ensure_ascii=False, indent=1))
    target = _account_files(settings).write(
        account.id,
        buffer.getvalue(),
        name=f"minime-export-{args.user}.zip",
        target=args.output,
        replace=args.force,
    )
    kept = "`minime erase` deletes it" if args.output is None else "it is yours to keep"
    print(f"Exported everything held for '{args.user}' to {target} (readable only by you; {kept})")
    unreadable = data.get("unreadable")
    if isinstance(unreadable, dict) and unreadable:
        counts = ", ".join(f"{n} {kind}" for kind, n in unreadable.items())
        print(f"Left out, because they could not be read (altered or damaged): {counts}")
    return 0


def _account_files(settings: Settings) -> Any:
    from bot.account_files import AccountFiles

    return AccountFiles(settings.data_dir)


async def cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("erase needs --yes when not run from a terminal")
        answer = await asyncio.to_thread(
            input, f"Destroy everything held for '{args.user}'? Type the user name to confirm: "
        )
        if answer.strip() != args.user:
            print("Not erased.")
            return EXIT_FAILED
    async with await _open_existing(settings, args.user) as runtime:
        account, _ = await _account_and_persona(runtime, args.user)
        await runtime.storage.vault.erase(account.id)
        files = _account_files(settings).erase(account.id)
    print(f"Erased every record of '{args.user}' and destroyed its key.")
    for path in files.removed:
        print(f"Deleted {path}")
    for path in files.kept:
        print(f"Not deleted: {path}, the copy you asked for there; delete it if you want it gone")
    return 0


async def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from storage import open_storage

    _data_dir(settings, create=False)
    master_key = settings.master_key.get_secret_value() if settings.master_key else None
    async with open_storage(
        settings.effective_database_url,
        data_dir=settings.data_dir,
        master_key=master_key,
        owner_url=settings.database_owner_url,
    ) as storage:
        rotation = await storage.rotate_master_key(hand_over=_hand_over_master_key)
    if rotation.resumed:
        print(
            f"Finished an interrupted rotation: re-wrapped {rotation.rewrapped} data keys under "
            f"the key in {rotation.key_file}; the previous key is destroyed."
        )
    elif rotation.key_file is not None:
        print(
            f"Re-wrapped {rotation.rewrapped} data keys; the new master key is in {rotation.key_file}."
        )
    else:
        print(
            f"Re-wrapped {rotation.rewrapped} data keys under the new master key printed above. "
            "Remove the old key from MINIME_MASTER_KEY once every worker runs with the new one."
        )
    return 0


def _hand_over_master_key(key: str) -> None:
    """Print a new environment master key and make sure it left the process, before any re-wrap.

    Written straight to the file descriptor (nothing stays in Python's buffer to fail later) and
    fsynced when standard output is a regular file, so a redirect survives a crash.

    Raises:
        UsageError: standard output could not take it (``> /dev/full``, a closed pipe); the
            rotation then stops before the database changes.
    """
    text = (
        "New master key. Put it first in MINIME_MASTER_KEY, keeping the current key after a comma "
        f"until this command reports success and every worker has restarted:\n{key}\n"
    )
    stream = sys.stdout
    try:
        stream.flush()
        try:
            fd: int | None = stream.fileno()
        except (AttributeError, ValueError, OSError):  # io.UnsupportedOperation is an OSError
            fd = None
        if fd is None:
            stream.write(text)
            stream.flush()
        else:
            data = text.encode("ascii")
            while data:
                data = data[os.write(fd, data) :]
            if stat.S_ISREG(os.fstat(fd).st_mode):
                os.fsync(fd)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UsageError(
            f"could not print the new master key ({reason.lower()}); nothing was rotated, "
            "the current key still opens every account"
        ) from None


async def cmd_chat(
    args: argparse.Namespace, settings: Settings, *, stdin: TextIO | None = None
) -> int:
    from adapters.console.adapter import ConsoleAdapter
    from adapters.console.convert import PLATFORM as CONSOLE
    from bot.bootstrap import open_runtime, warm_in_background
    from bot.scheduler import open_scheduler
    from core.models import UserRef

    data_dir = _data_dir(settings, create=True)
    terminal = stdin is None and sys.stdin.isatty() and sys.stdout.isatty()
    reader = None
    if terminal:  # line editing, history, paste and completion; a pipe reads plain lines
        from adapters.console.terminal import HISTORY_FILE, TerminalReader

        reader = TerminalReader(history_path=data_dir / HISTORY_FILE)
    user = args.user or _default_user()
    async with (
        open_runtime(settings) as runtime,
        # The encoder and this owner's persona load while the prompt waits for the first line.
        warm_in_background(runtime, [UserRef(platform=CONSOLE, user_id=user)]),
    ):
        adapter = ConsoleAdapter(
            clone=runtime.clone,
            user=user,
            out_dir=data_dir / "out",
            files=_account_files(settings),
            stdin=stdin or sys.stdin,
            stdout=None if terminal else sys.stdout,
            reader=reader,
        )
        # Digests, reminders and slow results print in this console (its own notifier).
        runtime.clone.use_notifier(adapter)
        async with open_scheduler(
            clone=runtime.clone,
            notifier=adapter,
            engine=runtime.storage.engine,
            # The job table (ids only, no account's data) belongs to the owner, like the schema.
            database_url=settings.database_owner_url or settings.effective_database_url,
            data_dir=data_dir,
        ):
            await adapter.run()
    return 0


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    configured = [
        name
        for name, platform in (
            ("slack", settings.slack),
            ("telegram", settings.telegram),
            ("discord", settings.discord),
        )
        if platform.enabled
    ]
    if not configured:
        if getattr(args, "workers", 1) > 1:
            raise UsageError("--workers needs a platform configured (Slack, Telegram, Discord)")
        return await cmd_chat(args, settings)
    if getattr(args, "workers", 1) > 1:
        from bot.workers import WorkersUnavailable, supervise

        try:
            return await supervise(settings, args.workers, data_dir=args.data_dir)
        except WorkersUnavailable as error:
            raise UsageError(str(error)) from None
    from bot.runner import run_adapters

    return await run_adapters(settings, configured)


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], Any]] = {
    "run": cmd_run,
    "chat": cmd_chat,
    "import": cmd_import,
    "draft": cmd_draft,
    "triage": cmd_triage,
    "profile": cmd_profile,
    "quality": cmd_quality,
    "export": cmd_export,
    "erase": cmd_erase,
    "keys": cmd_keys,
}


if __name__ == "__main__":
    raise SystemExit(main())
