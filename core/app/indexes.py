"""A persona's exemplar index from the stores, with its graphs kept across restarts.

The index is built from the persona's reply pairs and their stored vectors (texts embedded once,
on first use). Above :data:`~core.drafting.vectors.APPROXIMATE_FROM` pairs its searches go
through HNSW graphs that take minutes to build (18-21 at a million pairs on two cores); once
built they are saved in the StateStore (kinds ``graph-messages`` and ``graph-replies``:
encrypted at rest like every derived state, erased with the persona), and the next build of the
same persona (after a restart) reads them back instead of building them: a saved graph is keyed
by a digest of the rows it was built from, so a stale one (the pairs changed) or a damaged one
is ignored and built again (:mod:`core.drafting.graphs`).
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from core.app.context import AppContext
from core.drafting.retrieval import ExemplarIndex
from core.drafting.vectors import APPROXIMATE_FROM
from core.models import Account, AccountId, Persona, PersonaId

log = logging.getLogger(__name__)

GRAPH_STATE = "graph-"
"""StateStore kinds of saved graphs: this prefix and the graph's name."""
POLL_SECONDS = 2.0
"""How often the saver looks whether the graphs in the background are built."""

Key = tuple[AccountId, PersonaId]


async def build_index(
    ctx: AppContext, account: Account, persona: Persona, previous: ExemplarIndex | None
) -> ExemplarIndex:
    """The persona's exemplar index: ``previous`` extended in place when the stored pairs still
    start with the ones it holds (only new replies came), else built, with the saved graphs."""
    stores = ctx.stores
    pairs = await stores.messages.reply_pairs(account.id, persona.id)
    ids, vectors = await stores.vectors.load(account.id, persona.id)
    row_of = {message_id: row for row, message_id in enumerate(ids)}
    # Both sides of every exemplar are embedded once and kept: the incoming side to search,
    # the reply side so that scoring and reranking retrieved options costs no encoder pass.
    wanted = {p.incoming_id: p.incoming_text for p in pairs}
    wanted.update({p.reply_id: p.reply_text for p in pairs})
    missing = sorted((mid, text) for mid, text in wanted.items() if mid not in row_of)
    if missing:
        fresh = await asyncio.to_thread(ctx.embedder.encode, [text for _, text in missing])
        await stores.vectors.put(account.id, persona.id, [mid for mid, _ in missing], fresh)
        ids, vectors = await stores.vectors.load(account.id, persona.id)
        row_of = {message_id: row for row, message_id in enumerate(ids)}
    rows = [row_of[p.incoming_id] for p in pairs]
    matrix = vectors[rows] if rows else vectors[:0]
    replies = vectors[[row_of[p.reply_id] for p in pairs]] if rows else None
    del vectors
    if previous is not None and await asyncio.to_thread(previous.extend, pairs, matrix, replies):
        return previous
    saved = {}
    if len(pairs) >= APPROXIMATE_FROM:
        for name in ExemplarIndex.GRAPHS:
            blob = await ctx.derived_state(account.id, persona.id, GRAPH_STATE + name)
            if blob:
                saved[name] = blob
    return await asyncio.to_thread(
        partial(ExemplarIndex.build, approximate_from=APPROXIMATE_FROM, saved=saved),
        pairs,
        matrix,
        reply_vectors=replies,
    )


class GraphSaver:
    """Saves a persona's graphs once they are built in the background (one task per persona)."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self.tasks: dict[Key, asyncio.Task[None]] = {}

    def watch(self, key: Key, index: ExemplarIndex) -> None:
        """Save ``index``'s graphs when they are in use and not saved yet (or grew since)."""
        self.cancel(key)
        if index.approximate_from and len(index) >= index.approximate_from:
            self.tasks[key] = asyncio.create_task(self._save(key, index))

    def cancel(self, key: Key) -> None:
        task = self.tasks.pop(key, None)
        if task is not None:
            task.cancel()

    async def aclose(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        self.tasks.clear()

    async def _save(self, key: Key, index: ExemplarIndex) -> None:
        while index.building:  # noqa: ASYNC110 - a builder thread signals no event loop
            await asyncio.sleep(POLL_SECONDS)
        for name in ExemplarIndex.GRAPHS:  # one blob in memory at a time
            blob = await asyncio.to_thread(index.graph_to_save, name)
            if blob is None:
                continue
            try:
                await self._ctx.stores.state.put(*key, GRAPH_STATE + name, blob)
            except Exception as error:  # a graph not saved is only built again
                log.warning(
                    "graph %s not saved (%s, %d bytes)", name, type(error).__name__, len(blob)
                )
            else:
                log.info("graph %s saved (%d bytes)", name, len(blob))
        if self.tasks.get(key) is asyncio.current_task():
            del self.tasks[key]
