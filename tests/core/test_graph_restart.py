"""A persona's search graphs survive a restart: saved once built, read back by the next process,
and built again (never loaded) when what is stored is damaged. Real SQLite storage, hashing
embedder, graphs from a few dozen pairs on (the production switch is 20,000)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bootstrap import open_runtime
from bot.settings import Settings, load_settings
from core.app import indexes
from core.app.models import PersonaModel
from core.drafting.graphs import unpack
from core.drafting.retrieval import ExemplarIndex
from core.engines.embedding import HashingEmbedder
from core.models import UserRef

OWNER = UserRef(platform="local", user_id="owner")
SWITCH = 20


async def model_of(rt: object) -> tuple[PersonaModel, tuple[str, str]]:
    clone = rt.clone  # type: ignore[attr-defined]
    account = await rt.storage.accounts.resolve(OWNER, create=False)  # type: ignore[attr-defined]
    assert account is not None
    persona = await clone.active_persona(account)
    return await clone.models.get(account, persona), (account.id, persona.id)


async def saved_graphs(rt: object, key: tuple[str, str]) -> None:
    task = rt.clone.models.graphs.tasks.get(key)  # type: ignore[attr-defined]
    if task is not None:
        await task


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr(indexes, "APPROXIMATE_FROM", SWITCH)
    settings = load_settings({}, data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    return settings


async def test_graphs_are_saved_then_read_back_after_a_restart(settings: Settings) -> None:
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        await rt.clone.import_sample(OWNER)
        await rt.clone.settle()
        model, key = await model_of(rt)
        assert len(model.index) >= SWITCH and model.index.approximate_from == SWITCH
        await saved_graphs(rt, key)
        assert not model.index.vectors.restored
        for name in ExemplarIndex.GRAPHS:
            assert await rt.storage.state.get(*key, indexes.GRAPH_STATE + name)
        probe = model.index.matrix[3]
        before = model.index.vectors.search(probe, 5)

    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:  # a restart
        model, key = await model_of(rt)
        model.index.wait()
        assert model.index.vectors.restored and model.index.reply_vectors.store.restored
        assert model.index.vectors.search(probe, 5) == before
        await saved_graphs(rt, key)  # nothing new to save
        assert all(model.index.graph_to_save(name) is None for name in ExemplarIndex.GRAPHS)


async def test_a_damaged_saved_graph_is_built_again_and_replaced(settings: Settings) -> None:
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        await rt.clone.import_sample(OWNER)
        await rt.clone.settle()
        model, key = await model_of(rt)
        await saved_graphs(rt, key)
        good = await rt.storage.state.get(*key, indexes.GRAPH_STATE + "messages")
        assert good
        damaged = bytearray(good)
        damaged[len(damaged) // 2] ^= 0xFF
        await rt.storage.state.put(*key, indexes.GRAPH_STATE + "messages", bytes(damaged))

    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        model, key = await model_of(rt)
        model.index.wait()
        assert model.index.vectors.approximate and not model.index.vectors.restored
        assert model.index.reply_vectors.store.restored  # the other one was whole
        await saved_graphs(rt, key)
        replaced = await rt.storage.state.get(*key, indexes.GRAPH_STATE + "messages")
        assert replaced and replaced != bytes(damaged)
        assert unpack(replaced, model.index.vectors._settings()) is not None
