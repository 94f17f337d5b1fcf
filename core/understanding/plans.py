"""A plan, a piece of copy or a sequence of steps, split into the steps the owner would react to
(pure)."""

from __future__ import annotations

import re

MAX_STEPS = 12
"""Steps reacted to at most (the reply says when a plan has more)."""
MAX_STEP_CHARS = 600
_BULLET = re.compile(r"^\s*(?:[-*•▪>]|\d{1,2}[.)]|step\s*\d+\s*[:.)-]?|[a-z][.)])\s+", re.I)
_LEAD = re.compile(r"^\s*(?:plan|copy|steps|draft|proposal)\s*:\s*", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“])")
_INLINE = re.compile(r"(?:^|\s)\d{1,2}[.)]\s+")
_THEN = re.compile(r"\s*(?:;|\bthen\b|→|->)\s*", re.I)


def looks_like_plan(text: str) -> bool:
    """Whether ``ask`` got a plan, copy or steps (to react to step by step), not one question."""
    if _LEAD.match(text):
        return True
    lines = [line for line in text.splitlines() if line.strip()]
    if sum(bool(_BULLET.match(line)) for line in lines) >= 2:
        return True
    # "1. book the room 2. invite the team" on one line. Plain lines are not enough: a pasted
    # message of several lines is a question to answer, not a plan.
    return len(_INLINE.findall(text)) >= 2


def steps(text: str) -> list[str]:
    """The steps of a plan, in order: its bullet or numbered lines; else its lines; else its
    sentences (or ``then``/``;``/``→`` parts of a one-line plan)."""
    body = _LEAD.sub("", text, count=1)
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    bullets = [line for line in lines if _BULLET.match(line)]
    if len(bullets) >= 2:
        found = [_BULLET.sub("", line, count=1) for line in bullets]
    elif len(lines) >= 2:
        found = lines
    elif len(_INLINE.findall(" ".join(lines))) >= 2:
        found = [s for s in _INLINE.split(" ".join(lines)) if s.strip()]
    else:
        flat = " ".join(lines)
        found = [s for s in _SENTENCE.split(flat) if s.strip()]
        if len(found) < 2:
            found = [s for s in _THEN.split(flat) if s.strip()]
    return [_clip(s, MAX_STEP_CHARS) for s in found if any(ch.isalnum() for ch in s)]


def _clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"
