"""Priority quality on the Ubuntu IRC corpus, on owners held out from any tuning.

Every human sender who answered others at least ``--min-replies`` times plays the owner in
turn. Owners are split once, by a hash of their nick, into *tuning* owners (the global prior and
the simple baseline are fitted on them; features and settings were chosen on them by
cross-validation across owners, ``--cv``) and *held-out* owners (scored once, never tuned on).

For each held-out owner: every message they received (named, or while present), chronological
70/30 split, the model = the shipped-style global prior adapted on the owner's first 70 %,
against a global simple-feature logistic regression and the heuristic on the same rows;
per-owner ROC-AUC and NDCG@10 of "did the owner reply" with bootstrap CIs, and the means over
owners with two-stage bootstrap CIs (protocol: ``core/prioritising/evaluation.py``).

    python bench/priority_eval.py                  # fit on tuning owners, score held-out owners
    python bench/priority_eval.py --cv             # 5-fold cross-validation over tuning owners
    python bench/priority_eval.py --write-prior    # also write core/prioritising/global_prior.json
    python bench/priority_eval.py --json

Data: Kummerfeld et al., "A Large-Scale Corpus for Conversation Disentanglement" (ACL 2019),
CC-BY-4.0; ``reply_to`` links are human-annotated.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import pickle
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.models import Message
from core.prioritising.evaluation import (
    METHODS,
    OwnerResult,
    Summary,
    evaluate_rows,
    fit_prior,
    summarise,
)
from core.prioritising.prior import PRIOR_FILE
from core.prioritising.rows import OwnerRows, owner_rows

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared/data/ubuntu-irc/messages.jsonl.gz"
BOTS = ("ubottu", "ubotu")
ATTRIBUTION = (
    "Fitted on the #ubuntu IRC disentanglement corpus: Jonathan K. Kummerfeld et al., "
    '"A Large-Scale Corpus for Conversation Disentanglement", ACL 2019. Data licence: CC-BY-4.0 '
    "(https://creativecommons.org/licenses/by/4.0/). Only coefficients are derived; no text ships."
)
# Some lines of the corpus carry the log file's suffix in the date ("2004-11-15_03T02:15:00");
# the date before the suffix is the real one.
_FILE_SUFFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})_\d+T")


def load_messages(path: Path) -> list[Message]:
    """The corpus as canonical messages, in file order (chronological within each log)."""
    opener = gzip.open if path.suffix == ".gz" else open
    out: list[Message] = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            sent_at = datetime.fromisoformat(_FILE_SUFFIX.sub(r"\1T", d["sent_at"]))
            out.append(
                Message(
                    id=d["id"],
                    conversation=d["conversation"],
                    # The corpus's "thread" is the annotators' after-the-fact disentanglement,
                    # partly derived from the very replies being predicted; a live system never
                    # sees it, so it is dropped here.
                    thread=None,
                    sender=d["sender"],
                    text=d["text"],
                    sent_at=sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=UTC),
                    reply_to=d.get("reply_to"),
                )
            )
    return out


def eligible_owners(messages: Sequence[Message], min_replies: int) -> list[str]:
    """Human senders who replied to someone else at least ``min_replies`` times."""
    by_id = {m.id: m for m in messages}
    replies = Counter(
        m.sender.lower()
        for m in messages
        if m.reply_to in by_id and by_id[m.reply_to].sender.lower() != m.sender.lower()
    )
    return sorted(s for s, n in replies.items() if n >= min_replies and s not in BOTS)


def is_held_out(owner: str, share: int = 4) -> bool:
    """One owner in ``share`` is held out, chosen by a hash of the nick (fixed, reproducible)."""
    return int(hashlib.sha256(owner.encode()).hexdigest(), 16) % share == 0


def build_rows(
    messages: Sequence[Message], owners: Sequence[str], cache: Path | None
) -> dict[str, OwnerRows]:
    """Every owner's rows, from ``cache`` when it holds them (written when given and missing)."""
    if cache is not None and cache.exists():
        with cache.open("rb") as fh:
            stored: dict[str, OwnerRows] = pickle.load(fh)
        if all(o in stored for o in owners):
            return {o: stored[o] for o in owners}
    start = time.perf_counter()
    out = {}
    for i, owner in enumerate(owners, 1):
        out[owner] = owner_rows(messages, owner, exclude=BOTS)
        if i % 25 == 0:
            print(
                f"  rows for {i}/{len(owners)} owners ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    if cache is not None:
        with cache.open("wb") as fh:
            pickle.dump(out, fh)
    return out


def usable(rows: OwnerRows, train_share: float) -> bool:
    """At least 3 replies in the owner's history and 3 in the held-out part (else AUC is noise)."""
    n_train = int(len(rows) * train_share)
    return int(rows.y[:n_train].sum()) >= 3 and int(rows.y[n_train:].sum()) >= 3


def _fmt(x: float) -> str:
    return "  n/a" if math.isnan(x) else f"{x:.3f}"


def _ci(ci: tuple[float, float]) -> str:
    return f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"


def print_owners(results: Sequence[OwnerResult]) -> None:
    """Per-owner figures: AUC with its 95% CI (inbox lists resampled), then NDCG@10 points."""
    print(
        f"{'owner':<16} {'test':>5} {'repl':>4} {'lists':>5}"
        + "".join(f" {'AUC ' + m + ' [95% CI]':>22}" for m in METHODS)
        + "".join(f" {'NDCG ' + m:>14}" for m in METHODS)
    )
    for r in results:
        print(
            f"{r.owner:<16} {r.test_rows:>5} {r.test_replies:>4} {r.lists:>5}"
            + "".join(
                f" {_fmt(r.auc[m]):>6} [{r.auc_ci[m][0]:.2f}, {r.auc_ci[m][1]:.2f}]".rjust(23)
                for m in METHODS
            )
            + "".join(f" {_fmt(r.ndcg[m]):>14}" for m in METHODS)
        )


def print_summary(summary: Summary, title: str) -> None:
    print(f"\n== {title}: mean over {summary.owners} owners (95% two-stage bootstrap CI)")
    for m in METHODS:
        print(
            f"  {m:<10} AUC {_fmt(summary.auc[m])} {_ci(summary.auc_ci[m])}"
            f"   NDCG@10 {_fmt(summary.ndcg[m])} {_ci(summary.ndcg_ci[m])}"
        )
    for name, value in summary.gain.items():
        print(
            f"  model - {name.replace('_vs_', ' vs '):<16} {value:+.3f} {_ci(summary.gain_ci[name])}"
        )


def cross_validate(
    rows: dict[str, OwnerRows], owners: Sequence[str], args: argparse.Namespace
) -> Summary:
    """5 folds over the tuning owners: fit on four, score the fifth (owners kept apart)."""
    results: list[OwnerResult] = []
    folds = 5
    for fold in range(folds):
        test = [o for i, o in enumerate(owners) if i % folds == fold]
        train = [o for o in owners if o not in test]
        prior = fit_prior([rows[o] for o in train], c=args.c, precision=args.precision)
        results += [
            evaluate_rows(rows[o], prior, train_share=args.train_share, bootstrap=args.bootstrap)
            for o in test
            if usable(rows[o], args.train_share)
        ]
    return summarise(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", "--data", dest="data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--min-replies", type=int, default=30)
    parser.add_argument("--train-share", type=float, default=0.7)
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of both LRs")
    parser.add_argument("--precision", type=float, default=20.0, help="prior precision per feature")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument(
        "--cache", type=Path, help="a pickle of the owners' rows (written if missing)"
    )
    parser.add_argument("--cv", action="store_true", help="cross-validate over tuning owners only")
    parser.add_argument(
        "--write-prior", action="store_true", help=f"write core/prioritising/{PRIOR_FILE}"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    args = parser.parse_args(argv)

    messages = load_messages(args.data)
    owners = eligible_owners(messages, args.min_replies)
    tuning = [o for o in owners if not is_held_out(o)]
    held_out = [o for o in owners if is_held_out(o)]
    print(
        f"{len(messages)} messages; {len(owners)} owners with {args.min_replies}+ replies:"
        f" {len(tuning)} tuning, {len(held_out)} held out"
    )
    start = time.perf_counter()
    rows = build_rows(messages, owners, args.cache)
    total = sum(len(r) for r in rows.values())
    print(f"{total} received messages featurised ({time.perf_counter() - start:.0f} s)")

    if args.cv:
        summary = cross_validate(rows, tuning, args)
        print_summary(summary, "cross-validation over tuning owners")
        if args.json:
            print(json.dumps({"cv": summary.as_json()}))
        return 0

    prior = fit_prior([rows[o] for o in tuning], c=args.c, precision=args.precision)
    scored = [o for o in held_out if usable(rows[o], args.train_share)]
    results = [
        evaluate_rows(rows[o], prior, train_share=args.train_share, bootstrap=args.bootstrap)
        for o in scored
    ]
    print_owners(results)
    summary = summarise(results)
    print_summary(summary, "held-out owners")
    coverage = np.nanmean([r.coverage for r in results])
    print(f"  replies whose target is among the received rows: {100 * coverage:.1f}%")

    if args.write_prior:
        meta = {
            "source": ATTRIBUTION,
            "rows": int(sum(len(rows[o]) for o in tuning)),
            "owners": len(tuning),
            "held_out_owners": len(scored),
            "c": args.c,
            "held_out": summary.as_json(),
            "command": "python bench/priority_eval.py --write-prior",
        }
        prior = fit_prior([rows[o] for o in tuning], c=args.c, precision=args.precision, meta=meta)
        path = ROOT / "core/prioritising" / PRIOR_FILE
        path.write_text(json.dumps(prior.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    if args.json:
        print(json.dumps({"held_out": summary.as_json(), "owners": [r.as_json() for r in results]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
