"""Training embeds each text once: import, verifier and retraining share the stored vectors.

Real SQLite storage, the sample persona and the hashing embedder behind a recorder that also
keeps "precomputed" vectors of fixed texts (as the ONNX encoder does beside its model file).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.bootstrap import open_runtime
from bot.settings import load_settings
from core.app.models import VERIFIER_STATE
from core.engines.embedding import HashingEmbedder
from core.models import UserRef
from core.profiling.background import background_texts

OWNER = UserRef(platform="local", user_id="owner")


class Recorder:
    """The hashing embedder, counting every text it encodes and every precomputed set asked."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder()
        self.dim = self.inner.dim
        self.encoded: Counter[str] = Counter()
        self.precomputed_sets: list[tuple[str, int]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded.update(texts)
        return self.inner.encode(texts)

    def precomputed(self, name: str, texts: Sequence[str]) -> np.ndarray:
        self.precomputed_sets.append((name, len(texts)))
        return self.inner.encode(texts)


async def test_import_and_retraining_embed_each_text_once(tmp_path: Path) -> None:
    settings = load_settings({}, data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    first = Recorder()
    async with open_runtime(settings, embedder=first) as rt:
        await rt.clone.import_sample(OWNER)
        await rt.clone.settle()
        account = await rt.clone.account(OWNER)
        persona = await rt.clone.active_persona(account)
        ids, _ = await rt.storage.vectors.load(account.id, persona.id)
        verifier = await rt.storage.state.get(account.id, persona.id, VERIFIER_STATE)
    assert verifier  # the verifier trained and was kept
    # Everything embedded was kept for reuse: the exemplars' both sides and the verifier's
    # texts, each once (the same text twice only when two messages say it).
    assert 0 < sum(first.encoded.values()) <= len(ids)
    # The shipped background's vectors come precomputed, not from the encoder: every text
    # encoded is one of the imported messages.
    background = background_texts()
    assert first.precomputed_sets == [("background", len(background))]
    assert set(first.encoded) <= _sample_texts()

    # A restart whose verifier must train again (its state is gone): no text is embedded again.
    again = Recorder()
    async with open_runtime(settings, embedder=again) as rt:
        account = await rt.clone.account(OWNER)
        persona = await rt.clone.active_persona(account)
        await rt.storage.state.put(account.id, persona.id, VERIFIER_STATE, b"")
        await rt.clone.models.get(account, persona)
        await rt.clone.settle()
        retrained = await rt.storage.state.get(account.id, persona.id, VERIFIER_STATE)
    assert retrained  # trained again and kept
    assert sum(again.encoded.values()) == 0
    assert again.precomputed_sets == [("background", len(background))]


def _sample_texts() -> set[str]:
    from adapters.importers import open_import
    from core.samples import SAMPLE_PERSONA_PATH

    return {m.text for m in open_import(Path(SAMPLE_PERSONA_PATH), "jsonl").messages()}
