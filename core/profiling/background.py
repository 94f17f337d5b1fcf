"""The shipped background corpus: synthetic writers for the verifier and the "typical" card bars."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from core.models import Message
from core.profiling.samples import ProfileSample

BACKGROUND_FILE = Path(__file__).resolve().parents[1] / "samples" / "background" / "writers.jsonl"


@lru_cache(maxsize=1)
def _load() -> tuple[Message, ...]:
    out = []
    with BACKGROUND_FILE.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            obj = json.loads(line)
            out.append(
                Message(
                    id=obj["id"],
                    conversation=obj["conversation"],
                    thread=obj["thread"],
                    sender=obj["sender"],
                    text=obj["text"],
                    sent_at=datetime.fromisoformat(obj["sent_at"]),
                    reply_to=obj["reply_to"],
                )
            )
    return tuple(out)


def background_messages() -> list[Message]:
    """All messages of the shipped synthetic writers (see its README), read once and cached."""
    return list(_load())


def background_texts() -> list[str]:
    """Just the texts of :func:`background_messages`."""
    return [m.text for m in _load()]


def background_samples() -> list[ProfileSample]:
    """The background as profile samples: build a "typical writers" profile from these."""
    return [
        ProfileSample(text=m.text, sent_at=m.sent_at, conversation=m.conversation) for m in _load()
    ]
