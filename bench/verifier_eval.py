"""Figures for the style verifier on the Ubuntu IRC corpus (issue 3 acceptance).

    HF_HUB_OFFLINE=1 python bench/verifier_eval.py [--input ../shared/data/ubuntu-irc/messages.jsonl.gz]
        [--authors 10] [--embedder minilm|hashing] [--seeds 0,1] [--profiles 5] [--card DIR]

Prints, for the N most active human senders (bots excluded) and a chronological 80/20 split per
sender: verifier-based attribution accuracy next to a character-trigram nearest-centroid
baseline, the verifier's recognition and false-accept rates for each writer, and the profile
summary of the most active writers (optionally their PNG cards). Data: Kummerfeld et al., "A
Large-Scale Corpus for Conversation Disentanglement" (ACL 2019), CC-BY-4.0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.eval_cli import load_messages  # noqa: E402
from core import evaluation  # noqa: E402
from core.engines.embedding import HashingEmbedder, SentenceEmbedder  # noqa: E402
from core.profiling import Profiler, render_card, samples_from_messages  # noqa: E402
from core.profiling.background import background_samples, background_texts  # noqa: E402

DEFAULT_INPUT = ROOT.parent / "shared" / "data" / "ubuntu-irc" / "messages.jsonl.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--authors", type=int, default=10)
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--profiles", type=int, default=5)
    parser.add_argument(
        "--card", type=Path, help="write the PNG cards of the profiled senders here"
    )
    parser.add_argument("--skip-verifier-rates", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    loaded = load_messages(args.input)
    messages = loaded.messages
    print(
        f"{args.input.name}: {len(messages):,} messages ({loaded.repaired:,} timestamps repaired) in {time.perf_counter() - t0:.1f} s"
    )
    inner = HashingEmbedder() if args.embedder == "hashing" else SentenceEmbedder()
    embedder = evaluation.CachingEmbedder(inner)
    background = background_texts()
    authors = evaluation.most_active_senders(messages, args.authors)
    print(f"writers: {', '.join(authors)}")

    for seed in [int(s) for s in args.seeds.split(",")]:
        t = time.perf_counter()
        result = evaluation.attribution_eval(
            messages, args.authors, embedder=embedder, background=background, seed=seed
        )
        print(
            f"\n[seed {seed}] attribution over {result['held_out']:,} held-out messages "
            f"(chance {100 * result['chance']:.1f}%): verifier {100 * result['verifier_accuracy']:.1f}% "
            f"(macro {100 * result['verifier_macro']:.1f}%), char-trigram centroid "
            f"{100 * result['baseline_accuracy']:.1f}% (macro {100 * result['baseline_macro']:.1f}%) "
            f"[{time.perf_counter() - t:.0f} s]"
        )
        for author, row in result["per_author"].items():
            print(
                f"  {author:<14} n={int(row['held_out']):>4}  verifier {100 * row['verifier']:5.1f}%  baseline {100 * row['baseline']:5.1f}%"
            )

    if not args.skip_verifier_rates:
        print("\nverifier per writer (trained on the first 80%, threshold 50):")
        rec, fa = [], []
        for author in authors:
            r = evaluation.verifier_report(
                messages, author, embedder=embedder, background=background
            )
            rec.append(r["recognition_rate"])
            fa.append(r["false_accept_rate"])
            print(
                f"  {author:<14} recognises {100 * r['recognition_rate']:5.1f}% of {r['held_out_owner']:>4} own, "
                f"false-accepts {100 * r['false_accept_rate']:5.1f}% of {r['held_out_others']} others "
                f"(median scores {r['owner_score_median']:.0f} / {r['others_score_median']:.0f})"
            )
        print(
            f"  mean: recognition {100 * sum(rec) / len(rec):.1f}%, false accepts {100 * sum(fa) / len(fa):.1f}%"
        )

    if args.profiles:
        profiler = Profiler()
        typical = profiler.build(background_samples())
        for author in authors[: args.profiles]:
            profile = profiler.build(samples_from_messages(messages, author))
            print(f"\n== {author} ({profile.messages} messages)\n{profile.summary()}")
            if args.card:
                args.card.mkdir(parents=True, exist_ok=True)
                (args.card / f"{author}.png").write_bytes(
                    render_card(profile, typical, title=f"How {author} writes")
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
