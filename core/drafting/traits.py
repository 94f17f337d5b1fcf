"""What drafting reads of each of the owner's distinct replies, computed once per reply.

Every candidate a draft ranks is one of the owner's past replies (or a stock phrase), and much of
what the drafter asks of it depends on the reply alone: its dialogue act (the rules, then the act
model over its embedding: :func:`core.drafting.acts.classify_acts`), its intent
(:func:`core.profiling.intents.classify_intent`), the reply side of the fit's surface features
(word count, question, code: :func:`core.drafting.fit.pair_features`) and, for a given style
scorer, how much it sounds like the owner. Classifying ~60 candidates per draft with regexes cost
more than the search itself; :class:`ReplyTraits` keeps those answers in small numpy columns,
one row per distinct reply row of the index's reply store (16 bytes a reply: act, intent, flags
and style as uint8, the word count as uint32, the key its pairs are found by as int64), so a
draft looks them up and computes only what depends on the message (shared words, the message's
own act).

Columns are filled after the reply store's vectors are final (an int8 graph rounds them once it is
in use, and the act model and the style verifier read them), by the index's background thread or
at once (:meth:`ReplyTraits.fill`); a row not filled yet, or filled under other vectors (the store
swapped to its graph since), is computed at draft time instead — the same functions on the same
inputs, so a draft is identical either way. The style column belongs to one scorer: it is used
only for that very object (:meth:`ReplyTraits.follow` computes it for a new one; until then
drafts score with the new scorer directly), so the scores of a replaced verifier are never shown
as current.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final, Protocol, get_args

import numpy as np
import numpy.typing as npt

from core.drafting.acts import ACTS, Act, classify_acts
from core.drafting.fit import reply_key, reply_surface
from core.drafting.vectors import text_key
from core.ports import Vector
from core.profiling.intents import Intent, classify_intent

UNKNOWN: Final = 255
"""A column value not computed (acts, intents and styles all fit below it)."""
NO_INTENT: Final = 254
UNSTORED: Final = 254
"""A style score outside 0-100 (not a scorer's contract, but then it is computed each time)."""
NICK = re.compile(r"^\s*(?:@[\w.\-\[\]^`|{}]+\s*[:,]|[\w.\-\[\]^`|{}]+\s*:)\s+")
"""A leading "nick:" or "@nick," address of a reply."""
INTENTS: Final[tuple[Intent, ...]] = get_args(Intent)
BATCH = 512
"""Replies classified per step while filling (the act model reads them as one matrix)."""
PHRASES_KEPT = 1024
"""Acts (and styles, for the followed scorer) of texts without a reply row (stock phrases, asked
in every draft) kept at most."""
_QUESTION, _CODE = 1, 2


class StyleScorer(Protocol):
    """Scores texts 0-100 by how much they sound like the owner."""

    def score(self, texts: Sequence[str]) -> list[int]: ...


def intent_of(reply: str) -> Intent | None:
    """A reply's intent as drafting reads it: without its leading "nick:" address."""
    return classify_intent(NICK.sub("", reply))


class _Column:
    """A uint column that grows by doubling; new rows read ``fill``."""

    def __init__(self, dtype: type[np.integer], fill: int = UNKNOWN) -> None:
        self.data: npt.NDArray[np.integer] = np.full(16, fill, dtype=dtype)
        self.fill = fill

    def grow(self, size: int) -> None:
        if size > len(self.data):
            grown = np.full(max(size, 2 * len(self.data)), self.fill, dtype=self.data.dtype)
            grown[: len(self.data)] = self.data
            self.data = grown


class ReplyTraits:
    """Per distinct reply row: act, intent, surface flags and word count, and the style of one
    scorer; see the module docstring.

    Args:
        text_of: The reply text of a row.
        vectors_of: The stored vectors of rows, as drafting reads them.
        generation: The state of the stored vectors (it changes when they are rounded).
        keep: Keep what is computed (see :attr:`keep`).
    """

    def __init__(
        self,
        text_of: Callable[[int], str],
        vectors_of: Callable[[Sequence[int]], Vector],
        generation: Callable[[], int],
        *,
        keep: bool = True,
    ) -> None:
        self.keep = keep
        """Whether anything is kept (``False``: every read computes, as drafts did before)."""
        self._text_of = text_of
        self._vectors_of = vectors_of
        self._generation = generation
        self._lock = threading.Lock()
        self._size = 0
        self._act = _Column(np.uint8)
        self._intent = _Column(np.uint8)
        self._flags = _Column(np.uint8, 0)
        self._words = _Column(np.uint32, 0)
        self._answer = _Column(np.int64, 0)
        """``text_key(reply_key(reply))``: how the pairs answered with a reply are found."""
        self._made_at = generation()
        """The generation of the vectors the acts were computed from."""
        self._style: tuple[StyleScorer, _Column, int, dict[str, int]] | None = None
        """The scorer whose scores the style column holds, the column, its vectors' generation
        and its scores of texts without a row (stock phrases)."""
        self._phrase_acts: dict[tuple[str, bytes], Act] = {}
        """Acts of texts without a row (stock phrases), by text and vector."""
        self.seconds = 0.0
        """Time spent computing traits and styles (benchmarks)."""

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        columns = [self._act, self._intent, self._flags, self._words, self._answer]
        if self._style is not None:
            columns.append(self._style[1])
        return sum(int(c.data.nbytes) for c in columns)

    def grow(self, size: int) -> None:
        """Rows up to ``size`` exist (new ones unknown until filled)."""
        with self._lock:
            for column in (self._act, self._intent, self._flags, self._words, self._answer):
                column.grow(size)
            if self._style is not None:
                self._style[1].grow(size)
            self._size = max(self._size, size)

    # ------------------------------------------------------------------ filling

    def missing(self) -> bool:
        """Whether some row's traits are not computed for the current vectors."""
        with self._lock:
            if self._made_at != self._generation():
                return self._size > 0
            if bool((self._act.data[: self._size] == UNKNOWN).any()):
                return True
            style = self._style
            return style is not None and bool((style[1].data[: self._size] == UNKNOWN).any())

    def fill(self) -> None:
        """Compute every row not computed for the current vectors (and its style for the
        current scorer), in batches. Blocking: the index runs it in its background thread."""
        while True:
            with self._lock:
                generation = self._generation()
                if self._made_at != generation:  # the vectors were rounded: start again
                    self._act.data[:] = UNKNOWN
                    self._made_at = generation
                    if self._style is not None:
                        self._style = (self._style[0], _Column(np.uint8), generation, {})
                        self._style[1].grow(self._size)
                rows = np.flatnonzero(self._act.data[: self._size] == UNKNOWN)[:BATCH]
            if not len(rows):
                break
            self._compute(rows.tolist(), generation)
        style = self._style
        if style is not None:
            self._fill_style(style[0], style[1], style[2])

    def _compute(self, rows: list[int], generation: int) -> None:
        started = time.perf_counter()
        texts = [self._text_of(r) for r in rows]
        acts = classify_acts(texts, self._vectors_of(rows))
        intents = [intent_of(t) for t in texts]
        surfaces = [reply_surface(t) for t in texts]
        answers = [text_key(reply_key(t)) for t in texts]
        self.seconds += time.perf_counter() - started
        with self._lock:
            if generation != self._made_at:
                return
            at = np.asarray(rows, dtype=np.int64)
            self._act.data[at] = [ACTS.index(a) for a in acts]
            self._intent.data[at] = [NO_INTENT if i is None else INTENTS.index(i) for i in intents]
            self._words.data[at] = [words for words, _, _ in surfaces]
            self._flags.data[at] = [_QUESTION * q + _CODE * c for _, q, c in surfaces]
            self._answer.data[at] = answers

    def follow(self, scorer: StyleScorer) -> None:
        """Make the style column hold ``scorer``'s scores (computed now, then published; until
        it is, drafts score with ``scorer`` directly). Blocking: callers run it in a thread."""
        column = _Column(np.uint8)
        with self._lock:
            generation = self._generation()
            current = self._style
            if current is not None and current[0] is scorer and current[2] == generation:
                return
        self._fill_style(scorer, column, generation, publish=True)

    def _fill_style(
        self, scorer: StyleScorer, column: _Column, generation: int, *, publish: bool = False
    ) -> None:
        while True:
            with self._lock:
                if generation != self._generation():
                    if not publish:
                        return  # fill() starts again over the new vectors
                    column, generation = _Column(np.uint8), self._generation()
                column.grow(self._size)
                rows = np.flatnonzero(column.data[: self._size] == UNKNOWN)[:BATCH].tolist()
                if not rows:
                    if publish:
                        self._style = (scorer, column, generation, {})
                    return
            started = time.perf_counter()
            scores = scorer.score([self._text_of(r) for r in rows])
            self.seconds += time.perf_counter() - started
            with self._lock:
                column.data[np.asarray(rows, dtype=np.int64)] = [
                    s if 0 <= s <= 100 else UNSTORED for s in scores
                ]

    # ------------------------------------------------------------------ reading

    def _known(self, rows: Sequence[int | None]) -> list[int]:
        """Positions in ``rows`` whose traits are computed for the current vectors."""
        if self._made_at != self._generation():
            return []
        act = self._act.data
        return [
            k for k, r in enumerate(rows) if r is not None and r < len(act) and act[r] != UNKNOWN
        ]

    def acts(self, rows: Sequence[int | None], texts: list[str], vectors: Vector) -> list[Act]:
        """The act of each reply (``rows``: its reply row, None for a text without one);
        :func:`~core.drafting.acts.classify_acts` of the others."""
        known = self._known(rows)
        out: list[Act | None] = [None] * len(texts)
        act = self._act.data
        for k in known:
            out[k] = ACTS[int(act[rows[k]])]
        rest = [k for k in range(len(texts)) if out[k] is None]
        if rest:
            matrix = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
            # texts without a row (stock phrases: the same in every draft), by text and vector
            keys = {k: (texts[k], matrix[k].tobytes()) for k in rest if rows[k] is None}
            for k, key in keys.items():
                out[k] = self._phrase_acts.get(key)
            rest = [k for k in rest if out[k] is None]
        if rest:
            found = classify_acts([texts[k] for k in rest], matrix[rest])
            for k, value in zip(rest, found, strict=True):
                out[k] = value
                if k in keys and self.keep:
                    if len(self._phrase_acts) >= PHRASES_KEPT:
                        self._phrase_acts.clear()
                    self._phrase_acts[keys[k]] = value
        return [a for a in out if a is not None]

    def intent(self, row: int | None, text: str) -> Intent | None:
        """The intent of one reply (its row's when computed)."""
        if row is not None and self._known([row]):
            value = int(self._intent.data[row])
            return None if value == NO_INTENT else INTENTS[value]
        return intent_of(text)

    def surfaces(
        self, rows: Sequence[int | None], texts: Sequence[str]
    ) -> list[tuple[int, bool, bool]]:
        """The reply side of the fit's surface features (:func:`~core.drafting.fit.reply_surface`)."""
        known = set(self._known(rows))
        words, flags = self._words.data, self._flags.data
        out = []
        for k, (row, text) in enumerate(zip(rows, texts, strict=True)):
            if k in known and row is not None:
                flag = int(flags[row])
                out.append((int(words[row]), bool(flag & _QUESTION), bool(flag & _CODE)))
            else:
                out.append(reply_surface(text))
        return out

    def answer_keys(self, rows: Sequence[int | None], texts: Sequence[str]) -> list[int]:
        """``text_key(reply_key(text))`` of each reply (see :meth:`ExemplarIndex.precedents`)."""
        known = set(self._known(rows))
        answer = self._answer.data
        return [
            int(answer[row]) if k in known and row is not None else text_key(reply_key(text))
            for k, (row, text) in enumerate(zip(rows, texts, strict=True))
        ]

    def styles(
        self, scorer: StyleScorer, rows: Sequence[int | None], texts: Sequence[str]
    ) -> list[int]:
        """``scorer.score(texts)``, read from the style column where it holds ``scorer``'s."""
        out: list[int] = [-1] * len(texts)
        style = self._style
        followed = style is not None and style[0] is scorer and style[2] == self._generation()
        if style is not None and followed:
            column, phrases = style[1].data, style[3]
            for k, row in enumerate(rows):
                if row is None:  # a stock phrase: kept once scored for this scorer
                    out[k] = phrases.get(texts[k], -1)
                elif row < len(column) and column[row] <= 100:
                    out[k] = int(column[row])
        rest = [k for k in range(len(texts)) if out[k] < 0]
        if rest:
            for k, value in zip(rest, scorer.score([texts[k] for k in rest]), strict=True):
                out[k] = value
                if style is not None and followed and rows[k] is None and 0 <= value <= 100:
                    if len(style[3]) >= PHRASES_KEPT:
                        style[3].clear()
                    style[3][texts[k]] = value
        return out
