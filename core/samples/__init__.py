"""The sample persona shipped with minime, so that a first run is useful (`/clone train --sample`).

SYNTHETIC DATA: every message in ``sample_persona.jsonl`` was written by the minime project's
generator (``scripts/make_sample_persona.py``, seeded and deterministic). "Sam Rivera" (sender
``sam``), a software engineer, and the colleagues and friends he talks to are invented; no real
person's messages are used. The file is canonical message JSONL (see DESIGN.md), to be imported
with ``SAMPLE_OWNER`` as the owner.
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_PERSONA_PATH: Path = Path(__file__).resolve().parent / "sample_persona.jsonl"
"""Canonical JSONL of the synthetic persona, one message per line."""

SAMPLE_OWNER = "sam"
"""The sender whose voice the sample teaches (pass as ``--me``)."""

SAMPLE_PERSONA_NAME = "Sam Rivera (synthetic sample)"
"""How to name the persona created from the sample, so nobody mistakes it for real data."""

EXAMPLE_PATH: Path = Path(__file__).resolve().parent / "example" / "ubuntu-irc.jsonl.gz"
"""REAL DATA: 3,033 messages of the #ubuntu IRC channel with annotated reply links (CC-BY-4.0,
Kummerfeld et al., ACL 2019; licence and attribution in ``example/LICENSE.txt``)."""

EXAMPLE_OWNER = "actionparsnip"
"""The example's owner: an active helper of the channel, 386 of its messages."""

__all__ = [
    "EXAMPLE_OWNER",
    "EXAMPLE_PATH",
    "SAMPLE_OWNER",
    "SAMPLE_PERSONA_NAME",
    "SAMPLE_PERSONA_PATH",
]
