"""How often drafting would say "this message is not in your language", on real chat.

Data: the Ubuntu IRC dev corpus (Kummerfeld et al. 2019, CC-BY-4.0): an English channel where
people now and then write in other languages (and are sent to #ubuntu-fr, #ubuntu-es…). For each
of the most active writers taken as the owner, their languages are learned from their messages
before the 80th-percentile date; every later message by someone else is then checked. Prints the
owner languages found, the share of messages called foreign, and a random sample of those for a
reader to judge (the precision figure in the report comes from reading that sample).

    nice .venv/bin/python bench/language_eval.py [--owners 5] [--sample 40]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.drafting.language import (  # noqa: E402
    default_detector,
    foreign_language,
    owner_languages,
)

CORPUS = ROOT.parent / "shared/data/ubuntu-irc/messages.jsonl.gz"
BOTS = {"ubottu", "ubotu"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--owners", type=int, default=5)
    parser.add_argument("--sample", type=int, default=40)
    args = parser.parse_args()
    with gzip.open(args.corpus, "rt", encoding="utf-8") as handle:
        messages = [json.loads(line) for line in handle]
    dates = sorted(m["sent_at"][:10] for m in messages)
    cutoff = dates[int(len(dates) * 0.8)]
    writers = Counter(m["sender"] for m in messages if m["sender"] not in BOTS)
    detector = default_detector()
    flagged_all: list[tuple[str, str]] = []
    for owner, _ in writers.most_common(args.owners):
        history = [
            m["text"] for m in messages if m["sender"] == owner and m["sent_at"][:10] <= cutoff
        ]
        languages = owner_languages(history, detector=detector)
        later = [m["text"] for m in messages if m["sender"] != owner and m["sent_at"][:10] > cutoff]
        start = time.perf_counter()
        flagged = [
            (code, t) for t in later if (code := foreign_language(t, languages, detector=detector))
        ]
        per_message = (time.perf_counter() - start) / max(1, len(later)) * 1000
        flagged_all += flagged
        print(
            f"{owner}: {len(history)} own messages → languages {sorted(languages)}; "
            f"{len(flagged)}/{len(later)} later messages ({len(flagged) / max(1, len(later)):.2%}) "
            f"called foreign; {per_message:.2f} ms/message"
        )
    print(f"\nrandom sample of messages called foreign ({len(set(flagged_all))} distinct):")
    distinct = sorted(set(flagged_all))
    random.Random(0).shuffle(distinct)
    for code, text in distinct[: args.sample]:
        print(f"  {code}  {text[:100]!r}")


if __name__ == "__main__":
    main()
