"""Draft quality of the retrieval engine on a real multi-writer corpus, with a generic baseline.

    .venv/bin/python bench/draft_eval.py [--corpus ../shared/data/ubuntu-irc/messages.jsonl.gz]
        [--authors 10] [--max-items 300] [--embedder minilm|hashing] [--json OUT.json]

For each of the ``--authors`` most active human senders (bots excluded), chronological 80/20 split
per sender (``core.drafting.evaluation.draft_report``): reply relevance (MRR, recall@1 of the true
reply among itself + 4 of the owner's replies to other messages + 4 replies by others, ranked by
embedding similarity to the draft) and style fidelity (share of drafts the 10-writer judge
attributes to the owner, vs the share of the owner's real held-out replies), next to a generic
baseline (other writers' reply to the most similar training message). One judge (one verifier per
writer, trained on the training side plus the shipped background) serves all owners.
Corpus: #ubuntu IRC disentanglement data (Kummerfeld et al., ACL 2019, CC-BY-4.0).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.eval_cli import load_messages  # noqa: E402
from core.drafting.evaluation import draft_report  # noqa: E402
from core.engines.embedding import HashingEmbedder, SentenceEmbedder  # noqa: E402
from core.evaluation import CachingEmbedder, most_active_senders, train_judge  # noqa: E402
from core.profiling.background import background_texts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared/data/ubuntu-irc/messages.jsonl.gz"
    )
    parser.add_argument("--authors", type=int, default=10)
    parser.add_argument("--max-items", type=int, default=300)
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    started = time.perf_counter()
    messages = load_messages(args.corpus).messages
    authors = most_active_senders(messages, args.authors)
    inner = HashingEmbedder() if args.embedder == "hashing" else SentenceEmbedder()
    embedder = CachingEmbedder(inner)
    judge = train_judge(
        messages, authors, embedder=embedder, background=background_texts(), seed=args.seed
    )
    print(f"judge: {len(authors)} writers trained in {time.perf_counter() - started:.0f} s")
    rows = []
    for owner in authors:
        report = draft_report(
            messages,
            owner,
            embedder=embedder,
            judge=judge,
            max_items=args.max_items,
            seed=args.seed,
        )
        rows.append(report)
        r, b = report["retrieval"], report["baseline"]
        print(
            f"{owner:<14} ex {report['exemplars']:>4} items {report['items']:>3} | "
            f"MRR {r['mrr']:.3f} R@1 {r['recall_at_1']:.3f} fid {r['fidelity']:.2f} | "
            f"base MRR {b['mrr']:.3f} R@1 {b['recall_at_1']:.3f} fid {b['fidelity']:.2f} | "
            f"ceiling {report['ceiling']:.2f}",
            flush=True,
        )

    def mean(path: tuple[str, str]) -> float:
        return float(np.mean([row[path[0]][path[1]] for row in rows]))

    chance = rows[0]["chance"]
    print()
    print(
        f"mean over {len(rows)} owners ({sum(r['items'] for r in rows)} held-out replies; "
        f"9 candidates: chance MRR {chance['mrr']:.3f}, R@1 {chance['recall_at_1']:.3f}; "
        f"judge chance {rows[0]['judge_chance']:.2f})"
    )
    for name in ("retrieval", "baseline"):
        print(
            f"  {name:<9}  MRR {mean((name, 'mrr')):.3f}  recall@1 {mean((name, 'recall_at_1')):.3f}  "
            f"fidelity {mean((name, 'fidelity')):.3f}"
        )
    ceiling = float(np.mean([row["ceiling"] for row in rows]))
    print(f"  ceiling (owner's real held-out replies attributed to them): {ceiling:.3f}")
    print(
        "  MRR standard error per owner ~"
        f"{np.mean([row['retrieval']['mrr_stderr'] for row in rows]):.3f}"
    )
    print(f"embedder {args.embedder}; total {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
