"""Posts in the owner's voice: platform limits and thread splitting with the owner's numbering habit.

* :func:`numbering_habit` reads the owner's history for how they number thread parts: ``"1/"``
  (``n/``), ``"1/5"`` (``n/N``) or not at all; the default when they never did is ``n/N``.
* :func:`split_thread` cuts a text into parts that fit the platform (X: 280 characters including
  the number), at sentence boundaries first, then at words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Numbering = Literal["n/", "n/N", "none"]
DEFAULT_NUMBERING: Numbering = "n/N"


@dataclass(frozen=True, slots=True)
class PostPlatform:
    """How long a post may be on a platform, and whether long ones become threads."""

    name: str
    limit: int
    threads: bool
    target: int
    """Characters to aim for when composing."""


PLATFORMS: dict[str, PostPlatform] = {
    "x": PostPlatform(name="X", limit=280, threads=True, target=560),
    "bluesky": PostPlatform(name="Bluesky", limit=300, threads=True, target=560),
    "linkedin": PostPlatform(name="LinkedIn", limit=3000, threads=False, target=900),
}
ALIASES = {"twitter": "x", "bsky": "bluesky", "li": "linkedin"}

_FULL = re.compile(r"(?:^|\s|\()(\d{1,2})\s?/\s?(\d{1,2})(?:\)|\s|$)")
_SHORT = re.compile(r"(?:^\s*(\d{1,2})/(?:\s|$))|(?:\s(\d{1,2})/\s*$)")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")


def platform_named(name: str) -> PostPlatform | None:
    """The platform for ``x``, ``twitter``, ``linkedin``, ``bluesky``…, or ``None``."""
    key = name.strip().lower()
    return PLATFORMS.get(ALIASES.get(key, key))


def numbering_habit(texts: Iterable[str]) -> Numbering:
    """How the owner numbers thread parts, from their messages (``n/N`` if they never did)."""
    seen: Counter[Numbering] = Counter()
    for text in texts:
        full = _FULL.search(text)
        if full and 0 < int(full.group(1)) <= int(full.group(2)) <= 30:
            seen["n/N"] += 1
        elif _SHORT.search(text):
            seen["n/"] += 1
    if not seen:
        return DEFAULT_NUMBERING
    return seen.most_common(1)[0][0]


def _marker(i: int, total: int, numbering: Numbering) -> str:
    if numbering == "n/N":
        return f"{i}/{total}"
    if numbering == "n/":
        return f"{i}/"
    return ""


def _chunks(text: str, width: int) -> list[str]:
    """Greedy packing of sentences (then words) into pieces of at most ``width`` characters."""
    pieces: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE.split(text)):
        if not sentence:
            continue
        if len(sentence) <= width:
            pieces.append(sentence)
            continue
        line = ""
        for word in sentence.split():
            while len(word) > width:
                if line:
                    pieces.append(line)
                    line = ""
                pieces.append(word[:width])
                word = word[width:]
            if line and len(line) + 1 + len(word) > width:
                pieces.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        if line:
            pieces.append(line)
    parts: list[str] = []
    for piece in pieces:
        if parts and len(parts[-1]) + 1 + len(piece) <= width:
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts


def split_thread(
    text: str, *, limit: int = 280, numbering: Numbering = DEFAULT_NUMBERING
) -> list[str]:
    """``text`` as thread parts of at most ``limit`` characters each, numbered the owner's way.

    A text that fits in one part comes back as is (no number).
    """
    text = " ".join(text.split(" ")).strip()
    if len(text) <= limit:
        return [text] if text else []
    total_guess = 9
    while True:
        reserve = len(_marker(total_guess, total_guess, numbering)) + (
            1 if numbering != "none" else 0
        )
        parts = _chunks(text, limit - reserve)
        if len(parts) <= total_guess or total_guess >= 999:
            break
        total_guess = total_guess * 10 + 9
    if numbering == "none":
        return parts
    total = len(parts)
    return [f"{part} {_marker(i, total, numbering)}" for i, part in enumerate(parts, start=1)]


def split_parts(
    text: str, parts: int, *, limit: int, numbering: Numbering = DEFAULT_NUMBERING
) -> list[str] | None:
    """``text`` as exactly ``parts`` thread parts of similar length (fewer when it has fewer
    sentences and words than that), numbered the owner's way; ``None`` when it does not fit
    in ``parts`` parts of ``limit`` characters.
    """
    text = " ".join(text.split(" ")).strip()
    if parts <= 1:
        return [text] if len(text) <= limit else None
    reserve = len(_marker(parts, parts, numbering)) + (1 if numbering != "none" else 0)
    room = limit - reserve
    width = max(len(text) // parts, 1)
    while width <= room:
        chunks = _chunks(text, width)
        if len(chunks) <= parts:
            break
        width += max(room // 50, 1)
    else:
        return None
    total = len(chunks)
    if numbering == "none" or total == 1:
        return chunks
    return [f"{part} {_marker(i, total, numbering)}" for i, part in enumerate(chunks, start=1)]
