"""``minime eval``: measure the style verifier and authorship attribution on an export.

    minime eval --input MESSAGES.jsonl[.gz] --me SENDER [--cutoff ISO] [--authors N] [--json]

Learns only from messages before the cut-off (default: the oldest 80% of each sender's messages)
and reports, on the held-out rest: how often the owner's verifier recognises the owner's real
messages, how often it accepts other writers' messages, and the accuracy of verifier-based
attribution among the N most active human senders next to a character-trigram baseline.
The procedure is ``core.evaluation``'s; this module only reads the file and prints.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.progress import Progress, ProgressEmbedder
from core.models import Message

# Some corpora (the Ubuntu IRC dev set) name the source log's hour in the date:
# "2004-11-15_03T02:15:00+00:00". The time after "T" is the real one; the suffix is dropped.
_DATE_SUFFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})_\d{1,2}T")


class EvalInputError(ValueError):
    """The input file cannot be evaluated; the message says where and why."""


@dataclass
class LoadedMessages:
    """Messages read for evaluation, with how many timestamps needed the known repair."""

    messages: list[Message]
    repaired: int
    format: str


def register(subparsers: Any) -> None:
    """Add the ``eval`` subcommand to the main CLI's subparsers."""
    parser = subparsers.add_parser(
        "eval",
        help="measure the style verifier and authorship attribution on held-out messages",
        description=__doc__.split("\n\n")[2] if __doc__ else None,
    )
    parser.add_argument(
        "--input",
        required=True,
        type=Path,
        help="canonical JSONL (.jsonl/.gz) or any importable export",
    )
    parser.add_argument("--me", required=True, help="the owner's sender name")
    parser.add_argument(
        "--cutoff",
        help="learn only from messages before this ISO time (default: per-sender 80/20 split)",
    )
    parser.add_argument(
        "--authors", type=int, default=10, help="writers in the attribution test (default 10)"
    )
    parser.add_argument(
        "--train-share",
        type=float,
        default=0.8,
        help="share of each sender's oldest messages to learn from (default 0.8)",
    )
    parser.add_argument(
        "--embedder",
        choices=("minilm", "hashing"),
        default="minilm",
        help="sentence embeddings (hashing: fast, lexical only)",
    )
    parser.add_argument(
        "--no-background",
        action="store_true",
        help="do not add the shipped synthetic background writers",
    )
    parser.add_argument(
        "--no-drafts",
        action="store_true",
        help="skip the drafting metrics (reply relevance and style fidelity of drafts)",
    )
    parser.add_argument(
        "--triage",
        action="store_true",
        help="also measure the triage (ROC-AUC of 'did they reply' on held-out messages)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def _parse_time(value: object, where: str) -> tuple[datetime, bool]:
    if not isinstance(value, str):
        raise EvalInputError(f"{where}: 'sent_at' is not an ISO 8601 time: {value!r}")
    text = value.strip()
    repaired = False
    if _DATE_SUFFIX.match(text):
        text = _DATE_SUFFIX.sub(r"\1T", text)
        repaired = True
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise EvalInputError(f"{where}: 'sent_at' is not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC), repaired


def _lines(path: Path) -> Iterator[str]:
    with path.open("rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    if gz:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            yield from handle
    else:
        with path.open(encoding="utf-8") as handle:
            yield from handle


def read_jsonl(path: Path) -> LoadedMessages:
    """Canonical message JSONL (plain or gzip), validated line by line.

    Raises:
        EvalInputError: A line is not a message object (the error names ``file:line``).
    """
    messages: list[Message] = []
    repaired = 0
    try:
        for number, line in enumerate(_lines(path), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                from adapters.importers._common import json_reason

                reason = json_reason(exc, line=False)
                raise EvalInputError(f"{where}: not valid JSON ({reason})") from None
            if not isinstance(obj, dict):
                raise EvalInputError(f"{where}: expected a JSON object")
            missing = [
                k for k in ("id", "conversation", "sender", "text", "sent_at") if k not in obj
            ]
            if missing:
                raise EvalInputError(f"{where}: missing {', '.join(missing)}")
            sent_at, fixed = _parse_time(obj["sent_at"], where)
            repaired += fixed
            messages.append(
                Message(
                    id=str(obj["id"]),
                    conversation=str(obj["conversation"]),
                    thread=None if obj.get("thread") is None else str(obj["thread"]),
                    sender=str(obj["sender"]),
                    text=str(obj["text"] or ""),
                    sent_at=sent_at,
                    reply_to=None if obj.get("reply_to") is None else str(obj["reply_to"]),
                )
            )
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        raise EvalInputError(f"{path}: cannot read ({exc})") from None
    return LoadedMessages(messages=messages, repaired=repaired, format="jsonl")


def load_messages(path: Path) -> LoadedMessages:
    """Read canonical JSONL ourselves (tolerating the known date quirk); other formats through
    the project's importers."""
    if not path.exists():
        raise EvalInputError(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return read_jsonl(path)
    try:
        from adapters.importers import open_import
    except ImportError:
        return read_jsonl(path)
    source = open_import(path)
    if source.format == "jsonl":
        return read_jsonl(path)
    return LoadedMessages(messages=list(source.messages()), repaired=0, format=source.format)


def resolve_me(messages: list[Message], me: str) -> str:
    """The exact sender name for ``--me`` (case-insensitive), or an error listing likely ones."""
    counts = Counter(m.sender for m in messages)
    if me in counts:
        return me
    folded = {s.casefold(): s for s in counts}
    if me.casefold() in folded:
        return folded[me.casefold()]
    top = ", ".join(f"{s} ({n})" for s, n in counts.most_common(8))
    raise EvalInputError(
        f"--me {me!r} is not a sender in the input; the most frequent senders are: {top}"
    )


def _evaluate(args: argparse.Namespace, progress: Progress | None = None) -> dict[str, Any]:
    """The ``quality`` measurement (:func:`core.quality.measure`) of ``--me`` on the input file."""
    from core import quality
    from core.engines.embedding import HashingEmbedder, SentenceEmbedder
    from core.profiling.background import background_texts

    progress = progress or Progress(enabled=False)
    steps = 3 + (not getattr(args, "no_drafts", False)) + bool(getattr(args, "triage", False))
    done = [1]

    def step(what: str) -> None:
        progress.stage(f"[{done[0]}/{steps}] {what}", unit="")
        done[0] += 1

    step(f"reading {args.input.name}")
    loaded = load_messages(args.input)
    if not loaded.messages:
        raise EvalInputError(f"{args.input}: no messages")
    owner = resolve_me(loaded.messages, args.me)
    cutoff = None
    if args.cutoff:
        cutoff, _ = _parse_time(args.cutoff, "--cutoff")
    inner = HashingEmbedder() if args.embedder == "hashing" else SentenceEmbedder()
    options = quality.QualityOptions(
        cutoff=cutoff,
        train_share=args.train_share,
        authors=args.authors,
        drafts=not getattr(args, "no_drafts", False),
        triage=bool(getattr(args, "triage", False)),
        seed=args.seed,
        min_owner_messages=2,
    )
    # Every text is embedded once (measure's cache), and large batches show a count and time left.
    measured = quality.measure(
        loaded.messages,
        owner,
        embedder=ProgressEmbedder(inner, progress),
        background=[] if args.no_background else background_texts(),
        options=options,
        progress=step,
    )
    verifier = measured["verifier"]
    if verifier is None or "error" in verifier:
        raise EvalInputError(verifier["error"] if verifier else f"{owner!r}: too few messages")
    attribution = measured["attribution"]
    return {
        "input": str(args.input),
        "format": loaded.format,
        "messages": len(loaded.messages),
        "senders": len({m.sender for m in loaded.messages}),
        "timestamps_repaired": loaded.repaired,
        "embedder": args.embedder,
        **measured,
        "attribution": None if attribution and "error" in attribution else attribution,
    }


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def format_report(report: dict[str, Any]) -> str:
    """The human-readable form of :func:`_evaluate`'s result."""
    lines = [
        f"minime eval — {report['input']}: {report['messages']:,} messages by {report['senders']:,} senders"
    ]
    if report["timestamps_repaired"]:
        lines.append(
            f"  ({report['timestamps_repaired']:,} timestamps of the form 'YYYY-MM-DD_HHT…' read as 'YYYY-MM-DDT…')"
        )
    split = report["split"]
    if split["cutoff"]:
        lines.append(f"Split: learn from messages before {split['cutoff']}, evaluate on the rest.")
    else:
        lines.append(
            f"Split: per sender, the oldest {100 * split['train_share']:.0f}% to learn from, the newest {100 - 100 * split['train_share']:.0f}% held out."
        )
    v = report["verifier"]
    lines += [
        "",
        f"Style verifier for {v['owner']} ({v['mode']}; {v['train_owner']:,} of their messages vs {v['train_background']:,} by others)",
        f"  recognises {_pct(v['recognition_rate'])} of {v['held_out_owner']:,} held-out messages by {v['owner']} (score >= {v['threshold']}; median score {v['owner_score_median']:.0f})",
        f"  false accepts {_pct(v['false_accept_rate'])} of {v['held_out_others']:,} held-out messages by other senders (median score {v['others_score_median'] or 0:.0f})",
    ]
    a = report["attribution"]
    if a:
        lines += [
            "",
            f"Attribution among {len(a['authors'])} writers ({a['held_out']:,} held-out messages; chance {_pct(a['chance'])})",
            f"  verifier-based judge:          {_pct(a['verifier_accuracy'])} (macro {_pct(a['verifier_macro'])})",
            f"  char-trigram nearest centroid: {_pct(a['baseline_accuracy'])} (macro {_pct(a['baseline_macro'])})",
            "  per writer (held out: verifier / baseline):",
        ]
        for author, row in a["per_author"].items():
            lines.append(
                f"    {author:<16} {int(row['held_out']):>5}: {_pct(row['verifier']):>6} / {_pct(row['baseline']):>6}"
            )
    d = report.get("drafting")
    if d and "error" in d:
        lines += ["", f"Drafts: not measured ({d['error']})."]
    elif d:
        r, b = d["retrieval"], d["baseline"]
        lines += [
            "",
            f"Drafts of the retrieval engine for {d['owner']} ({d['items']:,} held-out replies, {d['exemplars']:,} exemplars)",
            f"  reply relevance (true reply among {d['candidates']}; chance MRR {d['chance']['mrr']:.2f}, recall@1 {_pct(d['chance']['recall_at_1'])}):",
            f"    drafts:              MRR {r['mrr']:.3f}  recall@1 {_pct(r['recall_at_1'])}",
            f"    generic baseline:    MRR {b['mrr']:.3f}  recall@1 {_pct(b['recall_at_1'])}",
        ]
        if "fidelity" in r:
            lines += [
                f"  style fidelity (attributed to {d['owner']} by the multi-writer judge):",
                f"    drafts {_pct(r['fidelity'])}, generic baseline {_pct(b['fidelity'])}, their real replies {_pct(d['ceiling'])}",
            ]
    from core.quality import drafting_lines, triage_lines

    extra = [line for line in drafting_lines(d) if "Reply fit" in line or "Meters" in line]
    extra += triage_lines(report.get("triage"))
    if extra:
        lines += ["", *extra]
    if report.get("advice"):
        lines += ["", f"What would help most: {report['advice']}"]
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    """Run the evaluation (off the event loop) and print the report; 0 on success, 2 on bad input."""
    try:
        with Progress() as progress:
            async with progress.ticking():
                report = await asyncio.to_thread(_evaluate, args, progress)
    except EvalInputError as error:
        print(f"minime eval: error: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"minime eval: error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(format_report(report))
    return 0
