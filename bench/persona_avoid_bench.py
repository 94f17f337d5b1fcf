"""What a persona's "avoid" topics cost: options dropped, messages left without a draft, time.

    .venv/bin/python bench/persona_avoid_bench.py [--embedder default|hashing] [--probes 200] [--topics 3]

A data dir is trained on the shipped real example (``train --example``: #ubuntu IRC, the helper
``actionparsnip``). The avoided topics are the ``--topics`` most frequent content words of the
owner's own replies (the hardest case: the words the clone would use most). The probes are the
last ``--probes`` messages of other people in the example, drafted for as pasted messages, once
without and once with ``persona set … avoid`` (the baseline is the same clone without the gate).

It prints, for each run: options offered per message, the share of options that mention an avoided
topic (must be 0 with the gate), the share of messages still offered a draft (with a 95% bootstrap
interval), and the median drafting time.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.bootstrap import open_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from core.engines.embedding import HashingEmbedder  # noqa: E402
from core.models import CommandInvocation, Message, UserRef, utc_now  # noqa: E402
from core.samples import EXAMPLE_OWNER, EXAMPLE_PATH  # noqa: E402
from core.teams import mentions_topic  # noqa: E402

OWNER = UserRef(platform="local", user_id="bench")
STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "to",
        "of",
        "in",
        "on",
        "for",
        "is",
        "it",
        "you",
        "i",
        "that",
        "this",
        "with",
        "be",
        "are",
        "was",
        "if",
        "your",
        "have",
        "can",
        "do",
        "not",
        "just",
        "but",
        "what",
        "so",
        "use",
        "try",
        "then",
        "there",
        "it's",
        "its",
        "my",
        "me",
        "at",
        "as",
        "from",
        "by",
        "how",
        "get",
        "any",
        "should",
        "would",
        "will",
        "need",
        "no",
        "yes",
        "ok",
        "all",
        "one",
        "out",
        "up",
        "also",
    ]
)


def example_rows() -> list[dict[str, object]]:
    with gzip.open(EXAMPLE_PATH, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def avoided_words(rows: list[dict[str, object]], n: int) -> list[str]:
    words: Counter[str] = Counter()
    for row in rows:
        if row.get("sender") == EXAMPLE_OWNER:
            words.update(
                w for w in re.findall(r"[a-z][a-z']{3,}", str(row["text"]).lower()) if w not in STOP
            )
    return [w for w, _ in words.most_common(n)]


def bootstrap(values: list[int], rounds: int = 2000) -> tuple[float, float]:
    rng = random.Random(17)
    means = sorted(statistics.fmean(rng.choices(values, k=len(values))) for _ in range(rounds))
    return means[int(0.025 * rounds)], means[int(0.975 * rounds)]


async def run(embedder: str, probes: int, topics: int) -> None:
    rows = example_rows()
    avoid = avoided_words(rows, topics)
    others = [r for r in rows if r.get("sender") != EXAMPLE_OWNER and len(str(r["text"])) > 15]
    texts = [str(r["text"]) for r in others[-probes:]]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({}, data_dir=Path(tmp))
        chosen = HashingEmbedder() if embedder == "hashing" else None
        async with open_runtime(settings, embedder=chosen) as rt:

            async def say(text: str) -> None:
                await rt.clone.handle_command(CommandInvocation(user=OWNER, name="", text=text))

            await say("train --example")
            await rt.clone.settle()
            print(
                f"example: {len(rows)} messages; probes: {len(texts)}; avoided: {', '.join(avoid)}"
            )
            account = await rt.clone.account(OWNER)
            persona = await rt.clone.active_persona(account)
            for label in ("without avoid (baseline)", "with avoid"):
                if label == "with avoid":
                    await say(f'persona set "{persona.name}" avoid {", ".join(avoid)}')
                offered, mentioning, total, times = [], 0, 0, []
                for n, text in enumerate(texts):
                    message = Message(
                        id=f"probe-{label[:4]}-{n}",
                        conversation="dm:probe",
                        thread=None,
                        sender="them",
                        text=text,
                        sent_at=utc_now(),
                    )
                    started = time.perf_counter()
                    options = await rt.clone.draft_options(account, persona, message)
                    times.append(time.perf_counter() - started)
                    total += len(options)
                    mentioning += sum(mentions_topic(o.text, avoid) is not None for o in options)
                    offered.append(1 if options else 0)
                low, high = bootstrap(offered)
                print(
                    f"{label:26s} options/msg {total / len(texts):.2f} · mentioning avoided "
                    f"{mentioning}/{total} ({100 * mentioning / max(1, total):.1f}%) · offered a "
                    f"draft {100 * statistics.fmean(offered):.1f}% (95% CI {100 * low:.1f}–"
                    f"{100 * high:.1f}) · median {1000 * statistics.median(times):.0f} ms"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedder", choices=("default", "hashing"), default="default")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--topics", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.embedder, args.probes, args.topics))


if __name__ == "__main__":
    main()
