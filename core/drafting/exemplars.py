"""A persona's exemplars: its (incoming → owner's reply) pairs, searchable by meaning and by words.

The pairs sit by column (:class:`~core.drafting.columns.PairColumns`: texts in one buffer, no
object per pair); the incoming side's embeddings in :class:`~core.drafting.vectors.ExemplarVectors`
(exact float32 below 20k pairs, an int8 HNSW graph with exact re-scoring above); the reply side's
once per distinct reply text in a second such store, found by text through
:class:`ReplyVectors` (so scoring retrieved options costs no encoder pass, and searching all
replies by fit is one graph search); an inverted index of content words; the owner's phrasebook.
:mod:`core.drafting.retrieval` drafts from it.
"""

from __future__ import annotations

import math
import re
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from core.drafting.columns import PairColumns
from core.drafting.fit import STOPWORDS, FitWeights, ReplyCodes, ReplyFit, reply_key
from core.drafting.intents import Phrasebook
from core.drafting.traits import NICK as _NICK
from core.drafting.traits import ReplyTraits, StyleScorer
from core.drafting.vectors import APPROXIMATE_FROM, ExemplarVectors, HashLookup, text_key
from core.models import ReplyPair
from core.ports import Vector

_WORD = re.compile(r"[a-z0-9']+")
LEXICAL_WEIGHT = 0.2
"""Share of word overlap in the blended similarity (the rest is cosine of embeddings)."""
SHORTLIST = 48
MAX_POSTING = 400
"""Words in more exemplars than this (or 2% of them) are too common to find candidates by."""
CENTROID_CHUNK = 4096
"""Reply rows read at a time when the replies' mean is summed (a graph's rows are copied out)."""
GROUP_KEPT_FROM = 8
GROUP_ROWS_KEPT = 8192
"""Above the graph's size, the incoming vectors of the pairs answered with one reply are kept
(at most this many rows, ~12 MB, the most recently used replies) when the reply answered at least
``GROUP_KEPT_FROM`` messages: the owner's habits ("np", "let me check") are candidates of nearly
every draft, and their precedents read hundreds of rows from the graph each time."""
MINE_PAIRS = 50_000
"""The owner's phrasebook is mined from their newest pairs of this many (its phrases are habits:
a bigger history adds minutes of mining, at 1M pairs, and no habit a recent 50k does not show)."""


def tokens(text: str) -> frozenset[str]:
    """Content words, lowercased: the lexical side of similarity."""
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in STOPWORDS)


@dataclass(frozen=True, slots=True)
class Negative:
    """A reply text the owner rejected for a message with this embedding."""

    query: Vector
    text: str


class ReplyVectors(Mapping[str, Vector]):
    """Embeddings of the owner's distinct reply texts, by text.

    One row per distinct text in an :class:`~core.drafting.vectors.ExemplarVectors` (searchable by
    fit), found through a hash of the text checked against the stored text; texts embedded later
    (stock phrases at draft time) are kept beside them, at most ``EXTRA`` of them.
    """

    EXTRA = 4096
    RECENT = 8192

    def __init__(self, *, text_of: Callable[[int], str], **options: Any) -> None:
        self.store = ExemplarVectors(**options)
        self._text_of = text_of
        """The reply text of a reply row (through the newest pair answered with it)."""
        self._by_text = HashLookup()
        self._extra: dict[str, Vector] = {}
        self._recent: dict[str, int] = {}
        """Rows of texts looked up lately (-1: none), forgotten when rows are added."""

    def row(self, text: str) -> int | None:
        """The reply row holding ``text``'s vector, if any."""
        cached = self._recent.get(text, -2)
        if cached != -2:
            return None if cached < 0 else cached
        found = -1
        for row in self._by_text.find(text_key(text)):
            if self._text_of(row) == text:
                found = row
                break
        if len(self._recent) >= self.RECENT:
            self._recent.clear()  # drafts look the same few texts up again and again
        self._recent[text] = found
        return None if found < 0 else found

    def add(self, texts: Sequence[str], vectors: Vector) -> int:
        """New rows for ``texts`` (not yet held); return the first row's number."""
        first = self.store.add(vectors)
        keys = [text_key(t) for t in texts]
        if len(texts) == 1:
            self._by_text.add(keys[0], first)
        else:
            self._by_text.extend(keys, range(first, first + len(texts)))
        self._recent.clear()
        return first

    def many(self, texts: Sequence[str]) -> dict[str, Vector]:
        """The vectors of those ``texts`` that have one, read in one go."""
        rows: dict[str, int] = {}
        out: dict[str, Vector] = {}
        for text in texts:
            row = self.row(text)
            if row is not None:
                rows[text] = row
            elif text in self._extra:
                out[text] = self._extra[text]
        if rows:
            out.update(zip(rows, self.store.rows(list(rows.values())), strict=True))
        return out

    def __getitem__(self, text: str) -> Vector:
        row = self.row(text)
        if row is not None:
            vector: Vector = self.store.rows([row])[0]
            return vector
        return self._extra[text]

    def __setitem__(self, text: str, vector: Vector) -> None:
        if self.row(text) is None:
            if len(self._extra) >= self.EXTRA:
                self._extra.pop(next(iter(self._extra)))
            self._extra[text] = np.asarray(vector, dtype=np.float32)

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and (text in self._extra or self.row(text) is not None)

    def __len__(self) -> int:
        return len(self.store) + len(self._extra)

    def __iter__(self) -> Iterator[str]:
        for row in range(len(self.store)):
            yield self._text_of(row)
        yield from self._extra

    @property
    def nbytes(self) -> int:
        return self.store.nbytes + self._by_text.nbytes


class GroupRows:
    """Stored incoming vectors of the pairs answered with a frequent reply, by its answer key
    (least recently used out first, at most :data:`GROUP_ROWS_KEPT` rows)."""

    def __init__(self) -> None:
        self._cache: OrderedDict[int, tuple[list[int], Vector]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0

    def rows(
        self, vectors: ExemplarVectors, keys: Sequence[int], groups: list[list[int]]
    ) -> Vector:
        """The stored incoming vectors of the pairs of every group, in order (what
        ``vectors.rows`` reads): the owner's frequent replies, candidates of most drafts, keep
        theirs while the graph is in use (reading rows from it costs microseconds each)."""
        if not vectors.approximate:
            return vectors.rows([p for group in groups for p in group])
        hits: dict[int, Vector] = {}
        with self._lock:
            if self._generation != vectors.generation:
                self._cache.clear()
                self._generation = vectors.generation
            for k, group in enumerate(groups):
                held = self._cache.get(keys[k]) if len(group) >= GROUP_KEPT_FROM else None
                if held is not None and held[0] == group:
                    hits[k] = held[1]
                    self._cache.move_to_end(keys[k])
        wanted = [p for k, group in enumerate(groups) if k not in hits for p in group]
        fetched = vectors.rows(wanted)
        blocks: list[Vector] = []
        at = 0
        for k, group in enumerate(groups):
            if k in hits:
                blocks.append(hits[k])
            elif group:
                blocks.append(fetched[at : at + len(group)])
                at += len(group)
                if len(group) >= GROUP_KEPT_FROM:
                    self._keep(keys[k], group, blocks[-1])
        return np.concatenate(blocks)

    def _keep(self, key: int, group: list[int], rows: Vector) -> None:
        with self._lock:
            if len(group) > GROUP_ROWS_KEPT:
                return
            self._cache[key] = (list(group), np.array(rows))
            self._cache.move_to_end(key)
            while sum(len(g) for g, _ in self._cache.values()) > GROUP_ROWS_KEPT:
                self._cache.popitem(last=False)

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()


class ReplyMean:
    """The sum of the live distinct replies' vectors and their count: summed once in bounded
    chunks (no copy of a graph's matrix), kept up to date as replies arrive, summed again after
    a removal."""

    def __init__(self) -> None:
        self._sum: npt.NDArray[np.float64] | None = None
        self._count = 0

    def forget(self) -> None:
        self._sum = None

    def add(self, vector: Vector) -> None:
        if self._sum is not None:
            self._sum += np.asarray(vector, dtype=np.float64).reshape(-1)
            self._count += 1

    def mean(
        self, store: ExemplarVectors, live: Callable[[], list[int]]
    ) -> npt.NDArray[np.float32] | None:
        """The mean of the rows ``live()`` names in ``store``, ``None`` when there are none."""
        if self._sum is None:
            rows = live()
            total = np.zeros(store.dim, dtype=np.float64)
            for start in range(0, len(rows), CENTROID_CHUNK):
                total += store.rows(rows[start : start + CENTROID_CHUNK]).sum(axis=0)
            self._sum, self._count = total, len(rows)
        if not self._count:
            return None
        mean: npt.NDArray[np.float32] = (self._sum / self._count).astype(np.float32)
        return mean


class ExemplarIndex:
    """A persona's reply pairs, searchable by meaning and by words.

    Args:
        dim: Embedding dimension.
        approximate_from: Pairs (and distinct replies) from which searches go through an HNSW
            graph instead of an exact scan (:data:`core.drafting.vectors.APPROXIMATE_FROM`).
        background: Build graphs in a background thread (exact searches meanwhile).
        threads: Threads a graph is built with (0: all cores; one leaves a core to drafting).
        precompute: Keep each distinct reply's traits (act, intent, surface, style: see
            :mod:`core.drafting.traits`) once its vector is final, in the background thread
            with the graphs (False: drafts compute them each time, as they did).
        saved: Graphs saved by :meth:`graph_to_save` (by name), used instead of building them
            when they were built from the same rows (checked; ignored otherwise).
    """

    GRAPHS = ("messages", "replies")
    """The names of the index's graphs: similar messages, replies by fit."""

    def __init__(
        self,
        dim: int = 1,
        *,
        approximate_from: int = APPROXIMATE_FROM,
        background: bool = True,
        threads: int = 1,
        precompute: bool = True,
        saved: Mapping[str, bytes] | None = None,
    ) -> None:
        self._options: dict[str, Any] = {
            "dim": dim,
            "approximate_from": approximate_from,
            "background": background,
            "threads": threads,
        }
        saved = saved or {}
        self.pairs = PairColumns()
        self.vectors = ExemplarVectors(**self._options, saved=saved.get("messages"))
        self.reply_vectors = ReplyVectors(
            text_of=self._reply_text_of, **self._options, saved=saved.get("replies")
        )
        """Embeddings of reply texts (by text), when known: the verifier and reranking reuse them."""
        self.postings: dict[str, array[int]] = {}
        self._word_ids: dict[str, int] = {}
        """A number for each word of the postings."""
        self._token_ids = array("I")
        self._token_ends = array("I")
        """Each pair's incoming content words as word numbers: ``_token_ids`` from the end of
        the previous pair's to ``_token_ends[position]`` (the lexical similarity of a candidate
        without decoding and splitting its text again)."""
        self.phrasebook = Phrasebook()
        self._reply_row = array("i")
        """Per pair, the reply row of its text (-1: no vector known)."""
        self._reply_pair = array("i")
        """Per reply row, the newest pair answered with that text."""
        self._removed: set[int] = set()
        self._addressed = 0
        self._answered: HashLookup | None = None
        """Pair positions by reply (:func:`core.drafting.fit.reply_key`), built lazily."""
        self._codes: tuple[FitWeights, ReplyCodes] | None = None
        self._replies: tuple[list[str], Vector, list[int]] | None = None
        self._reply_mean = ReplyMean()
        self._groups = GroupRows()
        self.traits = ReplyTraits(
            self._reply_text_of,
            lambda rows: self.reply_vectors.store.rows(rows),
            lambda: self.reply_vectors.store.generation,
            keep=precompute,
        )
        """What drafting reads of each distinct reply, by reply row (filled when
        ``precompute``)."""
        self._precompute = precompute
        self._fill_lock = threading.Lock()
        self._filling: threading.Thread | None = None
        self._fill_again = False

    @classmethod
    def build(
        cls,
        pairs: Iterable[ReplyPair],
        vectors: Vector,
        *,
        reply_vectors: Vector | None = None,
        owner_replies: Iterable[str] | None = None,
        approximate_from: int = APPROXIMATE_FROM,
        background: bool = True,
        threads: int = 1,
        precompute: bool = True,
        saved: Mapping[str, bytes] | None = None,
    ) -> ExemplarIndex:
        """Index ``pairs`` with one incoming-side vector each (rows in order).

        Args:
            pairs: The persona's reply pairs (any iterable: they are stored by column).
            vectors: Embedding of each pair's incoming text.
            reply_vectors: Embedding of each pair's reply text, if computed.
            owner_replies: Texts to mine the phrasebook from (default: the pairs' replies).
            approximate_from, background, threads, precompute, saved: See :class:`ExemplarIndex`.
        """
        dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 1
        index = cls(
            dim,
            approximate_from=approximate_from,
            background=background,
            threads=threads,
            precompute=precompute,
            saved=saved,
        )
        fresh_texts: list[str] = []
        fresh_rows: list[int] = []
        row_of: dict[str, int] = {}
        for position, pair in enumerate(pairs):
            index._remember(position, pair)
            reply = pair.reply_text
            if reply_vectors is None or not reply.strip():
                index._reply_row.append(-1)
                continue
            row = row_of.get(reply)
            if row is None:
                row = row_of[reply] = len(fresh_texts)
                fresh_texts.append(reply)
                fresh_rows.append(position)
                index._reply_pair.append(position)
            else:
                index._reply_pair[row] = position
            index._reply_row.append(row)
        del row_of
        if len(index.pairs) != vectors.shape[0]:
            raise ValueError("one vector per pair is required")
        if len(index.pairs):
            index.vectors.add(vectors)
        if reply_vectors is not None and fresh_rows:
            index.reply_vectors.add(fresh_texts, np.asarray(reply_vectors)[fresh_rows])
            index.traits.grow(len(fresh_rows))
            index._fill_traits()
        index.vectors.drop_saved()  # a saved graph too big for these rows is not kept
        index.reply_vectors.store.drop_saved()
        newest = range(max(0, len(index.pairs) - MINE_PAIRS), len(index.pairs))
        index.phrasebook = Phrasebook.mine(
            owner_replies
            if owner_replies is not None
            else (index.pairs.reply_text(p) for p in newest),
            pairs=((index.pairs.incoming_text(p), index.pairs.reply_text(p)) for p in newest),
        )
        return index

    def _reply_text_of(self, row: int) -> str:
        return self.pairs.reply_text(self._reply_pair[row])

    def _remember(self, position: int, pair: ReplyPair) -> None:
        self.pairs.append(pair)
        for word in tokens(pair.incoming_text):
            rows = self.postings.get(word)
            if rows is None:
                rows = self.postings[word] = array("I")
                self._word_ids[word] = len(self._word_ids)
            rows.append(position)
            self._token_ids.append(self._word_ids[word])
        self._token_ends.append(len(self._token_ids))
        if _NICK.match(pair.reply_text):
            self._addressed += 1

    def add(self, pair: ReplyPair, vector: Vector, reply_vector: Vector | None = None) -> None:
        """Add one exemplar (a new reply of the owner's) without rebuilding."""
        if not len(self.pairs) and self.vectors.dim != vector.shape[-1]:
            self._options["dim"] = vector.shape[-1]
            self.vectors = ExemplarVectors(**self._options)
            self.reply_vectors = ReplyVectors(text_of=self._reply_text_of, **self._options)
            self._reply_mean.forget()
        position = len(self.pairs)
        self._remember(position, pair)
        self.vectors.add(np.asarray(vector).reshape(1, -1))
        row = -1
        if reply_vector is not None and pair.reply_text.strip():
            known = self.reply_vectors.row(pair.reply_text)
            if known is None:
                row = self.reply_vectors.add([pair.reply_text], reply_vector.reshape(1, -1))
                self._reply_pair.append(position)
                self._reply_mean.add(reply_vector)
                self.traits.grow(row + 1)
                self._fill_traits()
            else:
                row = known
                self._reply_pair[row] = position
            self._codes = self._replies = None
        self._reply_row.append(row)
        if self._answered is not None:
            self._answered.add(text_key(reply_key(pair.reply_text)), position)
        self._groups.forget()  # the new pair may answer with a kept reply

    def extend(
        self, pairs: Sequence[ReplyPair], vectors: Vector, reply_vectors: Vector | None = None
    ) -> bool:
        """Catch up with the persona's pairs as the store now lists them (oldest first): when
        they start with exactly the pairs held, add the rest (new replies of the owner's) and
        return True; otherwise (pairs removed, edited or imported in between) change nothing and
        return False, and the caller builds a new index."""
        held = len(self.pairs)
        if self._removed or len(pairs) < held or len(vectors) != len(pairs):
            return False
        if reply_vectors is None and held and len(self.reply_vectors.store):
            return False
        if any(self.pairs[p] != pairs[p] for p in range(held - 1, -1, -1)):
            return False
        for position in range(held, len(pairs)):
            reply = reply_vectors[position] if reply_vectors is not None else None
            self.add(pairs[position], vectors[position], reply)
        return True

    def remove(self, positions: Iterable[int]) -> None:
        """Leave the pairs at ``positions`` out of every search (an erased or retracted
        exemplar); a reply text stays searchable while a live pair still answers with it."""
        gone = {int(p) for p in positions if 0 <= p < len(self.pairs)} - self._removed
        if not gone:
            return
        self._removed |= gone
        self.vectors.remove(sorted(gone))
        orphaned = []
        for position in gone:
            row = self._reply_row[position]
            if row >= 0 and self._reply_pair[row] == position:
                alive = [
                    p
                    for p in self._pairs_answered(self.pairs.reply_text(position))
                    if p not in self._removed and self._reply_row[p] == row
                ]
                if alive:
                    self._reply_pair[row] = alive[-1]
                else:
                    orphaned.append(row)
        if orphaned:
            self.reply_vectors.store.remove(orphaned)
            self._reply_mean.forget()
        self._codes = self._replies = None
        self._groups.forget()

    def _pairs_answered(self, reply: str) -> list[int]:
        return self._answers().find(text_key(reply_key(reply)))

    def _answers(self) -> HashLookup:
        """Pair positions by the key of their reply (``text_key(reply_key(reply))``)."""
        if self._answered is None:
            lookup = HashLookup()
            lookup.extend(
                [text_key(reply_key(t)) for t in self.pairs.reply_texts()], range(len(self.pairs))
            )
            self._answered = lookup
        return self._answered

    def __len__(self) -> int:
        return len(self.pairs) - len(self._removed)

    @property
    def matrix(self) -> Vector:
        """The incoming-side embeddings, one row per pair (float32; a copy above the size where
        they are stored as int8)."""
        return self.vectors.matrix

    @property
    def nbytes(self) -> int:
        """Memory held by the pairs, vectors, graphs and postings (not the phrasebook)."""
        postings = sum(56 + 4 * len(rows) for rows in self.postings.values())
        return (
            self.pairs.nbytes
            + self.vectors.nbytes
            + self.reply_vectors.nbytes
            + postings
            + 4 * (len(self._reply_row) + len(self._reply_pair))
            + 4 * (len(self._token_ids) + len(self._token_ends))
            + 64 * len(self._word_ids)
            + self.traits.nbytes
        )

    def wait(self) -> None:
        """Block until graphs being built in the background are in use and the replies' traits
        are computed (benchmarks, tests)."""
        self.vectors.wait()
        self.reply_vectors.store.wait()
        while True:
            with self._fill_lock:
                filling = self._filling
            if filling is None:
                return
            filling.join()

    def follow_style(self, scorer: StyleScorer) -> None:
        """Keep ``scorer``'s score of every distinct reply (computed now: blocking, seconds for
        100k replies), for drafts that score with that very scorer (:mod:`core.drafting.traits`)."""
        if self._precompute:
            self.reply_vectors.store.wait()
            self.traits.follow(scorer)

    def _fill_traits(self) -> None:
        """Compute the traits of replies that lack them: once their vectors are final, in a
        background thread (at once without ``background``)."""
        if not self._precompute:
            return
        if not self._options["background"]:
            self.traits.fill()
            return
        with self._fill_lock:
            self._fill_again = True
            if self._filling is None:
                self._filling = threading.Thread(
                    target=self._fill_loop, name="reply-traits", daemon=True
                )
                self._filling.start()

    def _fill_loop(self) -> None:
        try:
            while True:
                with self._fill_lock:
                    if not self._fill_again:
                        self._filling = None
                        return
                    self._fill_again = False
                self.reply_vectors.store.wait()
                self.traits.fill()
        except BaseException:
            with self._fill_lock:
                self._filling = None
            raise

    @property
    def building(self) -> bool:
        """Whether a graph is being built (or restored) in the background."""
        return self.vectors.building or self.reply_vectors.store.building

    @property
    def approximate_from(self) -> int:
        """Pairs from which searches go through graphs (0: never)."""
        return int(self._options["approximate_from"])

    def graph_to_save(self, name: str, *, grown: float = 0.1) -> bytes | None:
        """The graph ``name`` (of :data:`GRAPHS`) as a blob for ``saved``, when it is in use and
        was neither saved nor restored yet, or grew by more than ``grown`` since; else None."""
        store = self.vectors if name == "messages" else self.reply_vectors.store
        if store.approximate and len(store) > store.saved_rows * (1 + grown):
            return store.saved_graph()
        return None

    def precedents(
        self, query: Vector, replies: Sequence[str], keys: Sequence[int] | None = None
    ) -> npt.NDArray[np.float64]:
        """Per reply, the highest similarity of ``query`` to a past message the owner answered
        with that reply (whatever the address), 0 when they never used it; ``keys`` are the
        replies' ``text_key(reply_key(reply))`` when known."""
        out = np.zeros(len(replies), dtype=np.float64)
        if keys is None:
            keys = [text_key(reply_key(reply)) for reply in replies]
        removed = self._removed
        groups = [
            [p for p in found if p not in removed] if removed else found
            for found in self._answers().find_many(keys)
        ]
        if not any(groups):
            return out
        q = np.asarray(query, dtype=np.float32).reshape(self.vectors.dim)
        values = (
            self._groups.rows(self.vectors, keys, groups) @ q
        ).tolist()  # one product, as similarity
        start = 0
        for k, group in enumerate(groups):
            if group:
                out[k] = max(values[start : start + len(group)])
                start += len(group)
        return out

    def address_share(self) -> float:
        """How many of the owner's replies start by addressing someone ("bob: …")."""
        return self._addressed / len(self.pairs) if len(self.pairs) else 0.0

    def codes(self, weights: FitWeights) -> ReplyCodes:
        """Compact codes of :meth:`replies` for searching by fit (built once per weights)."""
        cached = self._codes
        if cached is None or cached[0] is not weights:
            cached = (weights, ReplyCodes.of(weights, self.replies()[1]))
            self._codes = cached
        return cached[1]

    def replies(self) -> tuple[list[str], Vector, list[int]]:
        """The distinct reply texts whose embedding is known, as ``(texts, matrix, pair
        position of each)``: built once (O(replies)), for exact search by fit and training."""
        if self._replies is None:
            store = self.reply_vectors.store
            live = [r for r in range(len(store)) if self._reply_pair[r] not in self._removed]
            texts = [self._reply_text_of(row) for row in live]
            # all rows live: the stored matrix itself (a view while exact), not a copy
            matrix = store.matrix if len(live) == len(store) else store.rows(live)
            self._replies = (texts, matrix, [self._reply_pair[r] for r in live])
        return self._replies

    def reply_centroid(self) -> npt.NDArray[np.float32] | None:
        """The mean of the distinct replies' vectors (what the owner's replies have in common
        whatever the message), ``None`` when none is known."""
        store = self.reply_vectors.store
        return self._reply_mean.mean(
            store,
            lambda: [r for r in range(len(store)) if self._reply_pair[r] not in self._removed],
        )

    def by_fit(
        self, fit: ReplyFit, query: Vector, k: int, *, codes_from: int = 20_000
    ) -> list[int]:
        """Pair positions of the ``k`` distinct replies with the best embedding part of the
        fit to the message embedded as ``query``, best first (the newest pair of each text).

        Exact (one matrix-vector product, over compact codes above ``codes_from`` replies) while
        the replies are few; through the reply graph above that (exactly over the stored rows
        while it builds, without copying them). The graph searches by cosine with
        ``B Aᵀ m + α m + u`` normalised: for unit reply vectors that is the fit's order.
        """
        store = self.reply_vectors.store
        if len(store) < self._options["approximate_from"] or not self._options["approximate_from"]:
            texts, matrix, positions = self.replies()
            codes = self.codes(fit.weights) if len(texts) > codes_from else None
            return [positions[row] for row in fit.search(query, matrix, k, codes)]
        direction = fit.weights.query(query)
        norm = float(np.linalg.norm(direction))
        if not norm:
            return []
        return [self._reply_pair[row] for row, _ in store.search(direction / norm, k)]

    def _lexical(self, query_tokens: frozenset[str], width: int) -> list[int]:
        """Rows sharing the query's rarer words, by summed idf (common words are skipped)."""
        n = len(self.pairs)
        limit = min(MAX_POSTING, max(50, n // 50))
        weights: dict[int, float] = {}
        for word in query_tokens:
            rows = self.postings.get(word)
            if not rows or len(rows) > limit:
                continue
            idf = math.log(1 + n / len(rows))
            for row in rows:
                weights[row] = weights.get(row, 0.0) + idf
        ranked = sorted(weights, key=lambda row: -weights[row])
        return [row for row in ranked if row not in self._removed][:width]

    def _overlap(self, n_query: int, query_ids: set[int], row: int) -> float:
        """:func:`_jaccard` of the query's content words (``n_query`` of them, ``query_ids``
        the numbers of those the postings know) with the incoming words of pair ``row``."""
        start = self._token_ends[row - 1] if row else 0
        end = self._token_ends[row]
        if not n_query or end == start:
            return 0.0
        shared = len(query_ids.intersection(self._token_ids[start:end]))
        return shared / (n_query + (end - start) - shared)

    def nearest(
        self, query: Vector, query_tokens: frozenset[str], k: int, *, distinct: bool = False
    ) -> list[tuple[float, int]]:
        """The ``k`` best pairs as ``(blended similarity, position)``, best first.

        Candidates come from both the cosine top list and the word index; each is scored
        ``(1 - LEXICAL_WEIGHT) * cosine + LEXICAL_WEIGHT * jaccard(words)``. With ``distinct``,
        only the most similar pair of each reply text competes (owners repeat themselves:
        "thanks!" answers hundreds of messages), found in a deeper cosine list.
        """
        if not len(self):
            return []
        width = max(k * 4, SHORTLIST)
        if distinct:
            for depth in (width * 2, width * 8):  # deeper only when replies repeat a lot
                semantic, replies = [], set[int | str]()
                found = self.vectors.search(query, depth)
                for row, value in found:
                    # the reply's row among distinct texts when known (no text to decode)
                    known = self._reply_row[row]
                    reply = known if known >= 0 else self.pairs.reply_text(row)
                    if reply not in replies:
                        replies.add(reply)
                        semantic.append((row, value))
                        if len(semantic) == width:
                            break
                if len(semantic) == width or len(found) < depth:
                    break
        else:
            semantic = self.vectors.search(query, width)
        cosine = dict(semantic)
        extra = [row for row in self._lexical(query_tokens, width) if row not in cosine]
        for row, value in zip(extra, self.vectors.similarity(query, extra), strict=True):
            cosine[row] = value
        word_ids = self._word_ids
        query_ids = {word_ids[w] for w in query_tokens if w in word_ids}
        scored = [
            (
                (1 - LEXICAL_WEIGHT) * value
                + LEXICAL_WEIGHT * self._overlap(len(query_tokens), query_ids, row),
                row,
            )
            for row, value in cosine.items()
        ]
        scored.sort(key=lambda item: (-item[0], item[1]))
        return scored[:k]


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """The Jaccard similarity of two word sets (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
