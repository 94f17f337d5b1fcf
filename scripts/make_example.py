#!/usr/bin/env python3
"""Cut the shipped example data set from the #ubuntu IRC disentanglement corpus.

The example (``core/samples/example/ubuntu-irc.jsonl.gz``) is real public chat: the #ubuntu
channel of the IRC disentanglement corpus (Jonathan K. Kummerfeld et al., "A Large-Scale Corpus
for Conversation Disentanglement", ACL 2019), CC-BY-4.0, with its human-annotated reply links.
It keeps the whole of the days on which one active helper, ``actionparsnip``, wrote most, so
``minime import --example`` has a real voice to learn and real questions to triage.

The corpus itself does not ship with minime; this script documents (and reproduces, given the
corpus in canonical JSONL) how the slice was made. Deterministic: same input, same bytes.

    python3 scripts/make_example.py CORPUS.jsonl.gz            # rewrites the committed file
"""

from __future__ import annotations

import argparse
import collections
import gzip
import io
import json
from pathlib import Path

OWNER = "actionparsnip"
DAYS = 6  # the days (conversation files) with the most messages by OWNER
DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent.parent / "core" / "samples" / "example" / "ubuntu-irc.jsonl.gz"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="the corpus in canonical JSONL (.gz)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    with gzip.open(args.corpus, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    by_owner = collections.Counter(r["conversation"] for r in rows if r["sender"] == OWNER)
    days = {name for name, _ in sorted(by_owner.items(), key=lambda kv: (-kv[1], kv[0]))[:DAYS]}
    kept = [r for r in rows if r["conversation"] in days]
    kept.sort(key=lambda r: (r["sent_at"], r["id"]))
    buffer = io.BytesIO()
    # mtime=0 and no file name: the gzip bytes depend on the content only.
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as out:
        for row in kept:
            out.write((json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
    args.output.write_bytes(buffer.getvalue())
    owner = sum(r["sender"] == OWNER for r in kept)
    replies = sum(r["sender"] == OWNER and r["reply_to"] is not None for r in kept)
    print(
        f"{args.output}: {len(kept)} messages, {len({r['sender'] for r in kept})} senders, "
        f"{owner} by {OWNER} ({replies} replies), {len(days)} days"
    )


if __name__ == "__main__":
    main()
