"""The command line's progress display: one line replaced stage by stage, cleared at the end."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence

import numpy as np

from bot.progress import EMBED_CHUNK, Progress, ProgressEmbedder
from core.engines.embedding import HashingEmbedder
from core.ports import Vector


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def last_frame(stream: io.StringIO) -> str:
    """What the terminal shows now: the text after the last carriage return."""
    return stream.getvalue().split("\r")[-1]


def test_a_pipe_gets_nothing_at_all() -> None:
    pipe = io.StringIO()
    with Progress(pipe) as progress:
        assert not progress.enabled
        update = progress.stage("reading x", total=10)
        update(10)
    assert pipe.getvalue() == ""


def test_a_stage_with_a_total_shows_count_rate_and_time_left_and_is_cleared() -> None:
    term = Terminal()
    with Progress(term) as progress:
        update = progress.stage("reading export.jsonl", total=200)
        update(50)
        progress.refresh()
        frame = last_frame(term)
        assert "reading export.jsonl" in frame and "50/200" in frame and "25%" in frame
        assert "<" in frame and "msg/s" in frame  # elapsed<remaining, rate
    # Cleared: the last frame is blank, nothing of the bar stays on the line.
    assert last_frame(term).strip() == ""


def test_stages_replace_each_other_and_a_stale_update_draws_nothing() -> None:
    term = Terminal()
    with Progress(term) as progress:
        first = progress.stage("reading", total=10)
        progress.stage("training the style verifier", unit="")
        before = term.getvalue()
        first(5)  # the reading stage is over: its updates are ignored
        assert term.getvalue() == before
        progress.refresh()
        assert "training the style verifier…" in last_frame(term)


class Counting:
    dim = 8

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.inner = HashingEmbedder(dim=8)

    def encode(self, texts: Sequence[str]) -> Vector:
        self.calls.append(len(texts))
        return self.inner.encode(texts)


def test_the_progress_embedder_returns_the_same_vectors_in_chunks_with_a_total() -> None:
    inner = Counting()
    term = Terminal()
    texts = [f"message number {i}" for i in range(3 * EMBED_CHUNK + 5)]
    with Progress(term) as progress:
        progress.stage("learning your replies", unit="")
        embedder = ProgressEmbedder(inner, progress, threshold=100)
        assert embedder.dim == 8 and embedder.kind == "Counting"
        vectors = embedder.encode(texts)
        shown = term.getvalue()
        assert "learning your replies: embedding" in shown and f"/{len(texts)}" in shown
        assert progress.label == "learning your replies"  # back to the stage it interrupted
    assert np.array_equal(vectors, inner.inner.encode(texts))
    assert inner.calls == [EMBED_CHUNK, EMBED_CHUNK, EMBED_CHUNK, 5]
    inner.calls.clear()
    embedder.encode(texts[:10])  # small batches pass straight through
    assert inner.calls == [10]


def test_the_progress_embedder_passes_straight_through_off_a_terminal() -> None:
    inner = Counting()
    embedder = ProgressEmbedder(inner, Progress(io.StringIO()), threshold=1)
    embedder.encode(["a"] * 1000)
    assert inner.calls == [1000]


async def test_ticking_keeps_the_elapsed_time_moving() -> None:
    term = Terminal()
    with Progress(term) as progress:
        async with progress.ticking("training the style verifier", every_s=0.01):
            # Nothing reports work meanwhile: only the ticker redraws (waits out a busy machine).
            for _ in range(400):
                await asyncio.sleep(0.025)
                if len([f for f in term.getvalue().split("\r") if "training" in f]) >= 3:
                    break
        frames = [f for f in term.getvalue().split("\r") if "training" in f]
        assert len(frames) >= 3


def test_minime_eval_shows_each_stage_and_its_embedding_on_a_terminal() -> None:
    import argparse

    from bot.eval_cli import _evaluate
    from core.samples import EXAMPLE_OWNER, EXAMPLE_PATH

    args = argparse.Namespace(
        input=EXAMPLE_PATH, me=EXAMPLE_OWNER, cutoff=None, authors=3, train_share=0.8,
        embedder="hashing", no_background=True, no_drafts=False, seed=0, json=False,
    )  # fmt: skip
    term = Terminal()
    with Progress(term) as progress:
        report = _evaluate(args, progress)
    shown = term.getvalue()
    for stage in (
        "[1/4] reading ubuntu-irc.jsonl.gz",
        f"[2/4] style verifier for {EXAMPLE_OWNER}",
        "[3/4] authorship among 3 writers",
        f"[4/4] drafts for {EXAMPLE_OWNER}",
        ": embedding",
    ):
        assert stage in shown, stage
    assert last_frame(term).strip() == ""
    assert report["verifier"]["owner"] == EXAMPLE_OWNER
