"""Progress on a terminal for the long jobs of the command line (import, eval).

One display per job: a single line on stderr that each stage replaces (reading, embedding,
training), with the total, rate and time left where they are knowable, and the elapsed time
where they are not. It is cleared when the job ends, so only the job's own result line stays.
When stderr is not a terminal (a pipe, a test, a log file) nothing is drawn at all.

The embedding stage is reported by :class:`ProgressEmbedder`, which wraps the job's embedder
and encodes large batches in chunks, so a stage that is mostly encoder passes (exemplars after
an import, the style verifier's training set) shows a real count and time left.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, TextIO

import numpy as np

from core.ports import Embedder, Precomputing, Vector

Update = Callable[[int], None]

EMBED_CHUNK = 128
"""Texts per encoder call when a large batch is reported (the model batches 64 at a time)."""

_BAR = "{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt}{unit} [{elapsed}<{remaining}, {rate_fmt}]"
_COUNT = "{desc}: {n_fmt}{unit} [{elapsed}, {rate_fmt}]"
_TICK = "{desc}… {elapsed}"


class Progress:
    """One progress line on a terminal, replaced stage by stage (thread-safe).

    Args:
        stream: Where to draw (default: stderr).
        enabled: Draw at all; default: only when ``stream`` is a terminal.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        self.enabled = self._stream.isatty() if enabled is None else enabled
        self._lock = threading.RLock()
        self._bar: Any = None
        self._label = ""

    def stage(self, label: str, *, total: int | None = None, unit: str = " msg") -> Update:
        """Start a stage (replacing the one shown); returns the function to report work done.

        With ``total`` the line shows percent, count, time left and rate; without it, the count
        and rate; with ``unit=""`` and no total only the label and elapsed time (a stage whose
        work cannot be counted).
        """
        with self._lock:
            self._close_bar()
            self._label = label
            if not self.enabled:
                return _ignore
            from tqdm import tqdm

            if total is not None:
                fmt = _BAR
            elif unit:
                fmt = _COUNT
            else:
                fmt = _TICK
            self._bar = tqdm(
                desc=label,
                total=total,
                unit=unit,
                file=self._stream,
                leave=False,
                dynamic_ncols=True,
                bar_format=fmt,
                mininterval=0.2,
            )
            bar = self._bar

        def update(n: int) -> None:
            with self._lock:
                if self._bar is bar:
                    bar.update(n)

        return update

    @property
    def label(self) -> str:
        """The stage shown now (``""`` before the first)."""
        return self._label

    def refresh(self) -> None:
        """Redraw the line (its elapsed time) without new work to report."""
        with self._lock:
            if self._bar is not None:
                self._bar.refresh()

    @asynccontextmanager
    async def ticking(
        self, label: str | None = None, *, every_s: float = 0.5
    ) -> AsyncIterator[None]:
        """Keep the line's elapsed time moving while the block runs (the event loop is free
        while the work runs in threads); with ``label``, first start a stage without a count."""
        if label is not None:
            self.stage(label, unit="")
        if not self.enabled:
            yield
            return

        async def tick() -> None:
            while True:
                await asyncio.sleep(every_s)
                self.refresh()

        task = asyncio.get_running_loop().create_task(tick())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    def close(self) -> None:
        """Clear the line: nothing of the display stays on the terminal."""
        with self._lock:
            self._close_bar()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ignore(n: int) -> None:
    return None


class ProgressEmbedder:
    """An :class:`~core.ports.Embedder` that reports large batches as an embedding stage.

    Batches of ``threshold`` texts or more are encoded ``EMBED_CHUNK`` at a time under a stage
    named after the one shown (``"training the style verifier: embedding"``); when they are done
    the stage's label comes back, counting time only. Smaller batches (a single draft) pass straight through.
    The vectors are the inner embedder's, unchanged.
    """

    def __init__(self, inner: Embedder, progress: Progress, *, threshold: int = 512) -> None:
        self._inner = inner
        self._progress = progress
        self._threshold = threshold
        self.label = ""
        """What the embeddings are for (``"learning your replies"``); default: the stage shown."""
        self.dim = inner.dim
        # Trained verifiers are cached by the embedder's kind: the wrapper is the inner one.
        self.kind = getattr(inner, "kind", type(inner).__name__)

    def precomputed(self, name: str, texts: Sequence[str]) -> Vector:
        """The inner embedder's kept vectors of fixed texts (encoded with progress if none)."""
        if isinstance(self._inner, Precomputing):
            return self._inner.precomputed(name, texts)
        return self.encode(texts)

    def encode(self, texts: Sequence[str]) -> Vector:
        """Embeddings of ``texts`` (shape ``(len(texts), dim)``)."""
        if not self._progress.enabled or len(texts) < self._threshold:
            return self._inner.encode(texts)
        before = self.label or self._progress.label
        if getattr(self._inner, "loaded", True) is False:
            self._progress.stage("loading the sentence model", unit="")
            self._inner.load()  # type: ignore[attr-defined]
        update = self._progress.stage(
            f"{before}: embedding" if before else "embedding", total=len(texts), unit=" texts"
        )
        parts = []
        for start in range(0, len(texts), EMBED_CHUNK):
            chunk = texts[start : start + EMBED_CHUNK]
            parts.append(np.asarray(self._inner.encode(chunk), dtype=np.float32))
            update(len(chunk))
        if before:
            self._progress.stage(before, unit="")
        return np.concatenate(parts, axis=0)
