"""Draft quality on a real multi-writer corpus: fit-first drafting vs naive retrieval vs generic.

    nice .venv/bin/python bench/draft_eval.py [--corpus ../shared/data/ubuntu-irc/messages.jsonl.gz]
        [--authors 10] [--max-items 300] [--vectors ../cache] [--fit-judge ../cache/fit_judge.npz]
        [--embedder minilm|minilm-torch|hashing] [--precision int8|fp32] [--no-meters] [--no-judge]
        [--fit-weights FILE] [--owners NAME ...] [--json OUT.json]

For each of the ``--authors`` most active human senders (bots excluded), chronological 80/20 split
per sender (``core.drafting.evaluation.draft_report``), on the same held-out items:

* reply relevance of the top option (MRR, recall@1 of the true reply among itself + 4 of the
  owner's replies to other messages + 4 replies by others, ranked by embedding similarity to the
  draft) for fit-first drafting (``fitted``: its best candidate, offered or not), naive retrieval
  (the owner's reply to the most similar past message) and a generic baseline (other writers'
  reply to the most similar training message); fitted − naive as a paired bootstrap 95% CI over
  all items of all owners;
* the share of shown options that a fit model trained on *other* writers (``bench/train_fit.py``'s
  judge) accepts, next to the same share for the owner's true replies and for the naive drafts;
* the gate: no-draft rate and options offered, and the trade-off at other thresholds;
* style fidelity (10-writer authorship judge) of fitted vs naive top options; the meters' AUCs.

Writers kept apart: the shipped fit weights record the writers whose replies were excluded from
training; every owner scored here must be one of them (checked). Corpus: #ubuntu IRC
disentanglement data (Kummerfeld et al., ACL 2019, CC-BY-4.0).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus_vectors import encoder_tag, load_cached  # noqa: E402
from bot.bootstrap import default_embedder  # noqa: E402
from bot.eval_cli import load_messages  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from core.drafting.evaluation import draft_report, summarise  # noqa: E402
from core.drafting.fit import FitWeights, global_weights  # noqa: E402
from core.engines.embedding import HashingEmbedder  # noqa: E402
from core.evaluation import CachingEmbedder, most_active_senders, train_judge  # noqa: E402
from core.profiling.background import background_texts  # noqa: E402


def preload(embedder: CachingEmbedder, cache: Path, tag: str) -> int:
    """Seed the embedding cache with the corpus vectors of this encoder computed once
    (``bench/corpus_vectors.py``)."""
    known = load_cached(cache, tag)
    embedder._cache.update(known)
    return len(known)


nan = float("nan")


def pooled_share(rows: Sequence[dict], key: str) -> str:  # type: ignore[type-arg]
    parts = [r["acceptance"][key] for r in rows if "acceptance" in r and r["acceptance"][key]["n"]]
    n = sum(p["n"] for p in parts)
    if not n:
        return "n/a"
    share = sum(p["share"] * p["n"] for p in parts) / n
    return f"{share:.3f} (n={n})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared/data/ubuntu-irc/messages.jsonl.gz"
    )
    parser.add_argument("--authors", type=int, default=10)
    parser.add_argument("--max-items", type=int, default=300)
    parser.add_argument(
        "--embedder",
        choices=("minilm", "minilm-torch", "hashing"),
        default="minilm",
        help="minilm: the ONNX encoder the bot uses; minilm-torch: sentence-transformers",
    )
    parser.add_argument("--precision", choices=("int8", "fp32"), default="int8", help="minilm")
    parser.add_argument("--vectors", type=Path, default=ROOT.parent / "cache")
    parser.add_argument(
        "--fit-weights", type=Path, help="the ranker to measure (default: the shipped weights)"
    )
    parser.add_argument("--fit-judge", type=Path, default=ROOT.parent / "cache/fit_judge.npz")
    parser.add_argument("--no-meters", action="store_true")
    parser.add_argument(
        "--no-judge", action="store_true", help="skip the authorship judge (no style fidelity)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--owners", nargs="*", help="only these of the --authors owners")
    args = parser.parse_args()

    started = time.perf_counter()
    messages = load_messages(args.corpus).messages
    authors = most_active_senders(messages, args.authors)
    settings = load_settings(embedder=args.embedder, embedder_precision=args.precision)
    inner = HashingEmbedder() if args.embedder == "hashing" else default_embedder(settings)
    embedder = CachingEmbedder(inner)
    if args.embedder != "hashing":
        tag = encoder_tag(args.embedder, args.precision)
        print(
            f"{preload(embedder, args.vectors, tag)} {tag} corpus vectors read from {args.vectors}"
        )
    weights = FitWeights.from_bytes(args.fit_weights.read_bytes()) if args.fit_weights else None
    if args.embedder != "hashing":
        weights = weights or global_weights()
        kept_apart = set(weights.meta.get("excluded_writers", []))
        trained_on = [a for a in authors if a not in kept_apart]
        if trained_on:
            raise SystemExit(f"these owners' replies trained the fit model: {trained_on}")
    fit_judge = (
        FitWeights.from_bytes(args.fit_judge.read_bytes()) if args.fit_judge.exists() else None
    )
    judge = None
    if not args.no_judge:
        judge = train_judge(
            messages, authors, embedder=embedder, background=background_texts(), seed=args.seed
        )
        print(f"judge: {len(authors)} writers trained in {time.perf_counter() - started:.0f} s")
    rows = []
    for owner in [a for a in authors if not args.owners or a in args.owners]:
        report = draft_report(
            messages, owner, embedder=embedder, judge=judge, fit_judge=fit_judge,
            meters=not args.no_meters, max_items=args.max_items, seed=args.seed,
            fit_weights=weights,
        )  # fmt: skip
        rows.append(report)
        r, b = report["retrieval"], report["baseline"]
        line = (
            f"{owner:<14} ex {report['exemplars']:>4} items {report['items']:>3} | "
            f"naive MRR {r['mrr']:.3f} fid {r.get('fidelity', nan):.2f} | "
            f"generic MRR {b['mrr']:.3f} fid {b.get('fidelity', nan):.2f} | "
            f"ceiling {report.get('ceiling', nan):.2f}"
        )
        if "fitted" in report:
            f, d, g = report["fitted"], report["fitted_vs_naive"], report["gate"]
            line += (
                f" | fitted MRR {f['mrr']:.3f} fid {f.get('fidelity', nan):.2f} "
                f"(diff {d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]) "
                f"no-draft {g['no_draft_rate']:.2f} adapt {report['adapt_seconds']:.1f}s"
            )
        if "meters" in report:
            m = report["meters"]
            fits = m.get("fit_meter_auc")
            line += f" | AUC fits {'n/a' if fits is None else f'{fits:.2f}'}"
            line += f" style {m['style_meter_auc'] or 0:.2f}"
        print(line, flush=True)
    summary = summarise(rows, seed=args.seed)
    chance = rows[0]["chance"]
    print(
        f"\npooled over {summary['owners']} owners, {summary['items']} held-out replies "
        f"(9 candidates: chance MRR {chance['mrr']:.3f}; authorship-judge chance "
        f"{rows[0].get('judge_chance', nan):.2f})"
    )
    for name in ("fitted", "card", "retrieval", "baseline"):
        if name in summary:
            s = summary[name]
            print(
                f"  {name:<9}  MRR {s['mrr']:.3f}  fidelity {s.get('fidelity', float('nan')):.3f}"
            )
    if judge is not None:
        print(f"  ceiling (owner's real held-out replies attributed to them): "
              f"{np.mean([r['ceiling'] for r in rows]):.3f}")  # fmt: skip
    if "fitted_vs_naive" in summary:
        d = summary["fitted_vs_naive"]
        print(
            f"  fitted - naive MRR {d['mean']:+.3f}, paired bootstrap 95% CI "
            f"[{d['low']:+.3f}, {d['high']:+.3f}]; fidelity fitted - naive "
            f"{summary.get('fidelity_fitted_minus_naive', float('nan')):+.3f}"
        )
        if "card_vs_naive" in summary:
            c = summary["card_vs_naive"]
            print(
                f"  card (first option shown; the closest exchange when none) - naive MRR "
                f"{c['mean']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}]; fidelity "
                f"{summary.get('fidelity_card_minus_naive', float('nan')):+.3f}"
            )
        if "card_any_vs_naive_any" in summary:
            c = summary["card_any_vs_naive_any"]
            print(
                f"  best option of the card {summary['card_any']['mrr']:.3f} vs best of naive's "
                f"3 options {summary['naive_any']['mrr']:.3f}: {c['mean']:+.3f} "
                f"[{c['low']:+.3f}, {c['high']:+.3f}]"
            )
        counts: Counter[str] = Counter()
        for r in rows:
            counts.update(r["gate"]["options"])
        total = sum(counts.values())
        print(
            "  gate: no-draft rate "
            f"{counts['0'] / total:.3f}; options offered "
            + ", ".join(f"{k}: {counts[k] / total:.2f}" for k in sorted(counts))
        )
        same_fit = [
            r["gate"]["cards_all_same_fit"]
            for r in rows
            if r["gate"]["cards_all_same_fit"] is not None
        ]
        same_style = [
            r["gate"]["cards_all_same_style"]
            for r in rows
            if r["gate"]["cards_all_same_style"] is not None
        ]
        if same_fit:
            print(f"  cards (2+ options) whose options all read the same: fits {np.mean(same_fit):.3f}, "
                  f"sounds like you {np.mean(same_style):.3f}")  # fmt: skip
        print(f"  owner adaptation: {np.mean([r['adapt_seconds'] for r in rows]):.2f} s per owner")
    if "acceptance" in rows[0]:
        print("  accepted by the judge fit model (trained on other writers):")
        for key in ("shown_options", "fitted_best", "naive_top", "true_replies"):
            print(f"    {key:<14} {pooled_share(rows, key)}")
        print("  the gate's trade-off (all owners; the owner-calibrated gate is used above):")
        for k, level in enumerate(rows[0].get("tradeoff", [])):
            cells = [r["tradeoff"][k] for r in rows if "tradeoff" in r]
            print(
                f"    threshold {level['threshold']:.1f}: no draft "
                f"{np.mean([c['no_draft_rate'] for c in cells]):.3f}, options/card "
                f"{np.mean([c['options_per_card'] for c in cells]):.2f}, judge accepts shown "
                f"{np.nanmean([c['judge_accepts_shown'] for c in cells]):.3f}"
            )
    if "meters" in rows[0]:
        for key in ("fit_meter_auc", "style_meter_auc"):
            values = [r["meters"][key] for r in rows if r["meters"].get(key) is not None]
            if not values:
                continue
            print(
                f"  {key}: mean {np.mean(values):.3f} (min {np.min(values):.3f}, max {np.max(values):.3f})"
            )
    print(
        f"embedder {args.embedder} ({args.precision}); total {time.perf_counter() - started:.0f} s"
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
