"""The ONNX encoder: its mechanics on a tiny hand-made graph, its fidelity against the torch model.

Fidelity (slow: builds the encoder from the installed weights once into the model cache, then
loads both models). Tolerance, on the 600 texts the package ships (the verifier's background
writers and the sample persona), against sentence-transformers in float32:

- fp32 ONNX: every cosine ≥ 0.9999 (the same computation; only float summation order differs);
- int8 ONNX (the default): mean cosine ≥ 0.985, every cosine ≥ 0.95; and on the distinct texts,
  the torch model's nearest other text is among the int8 encoder's 3 nearest for ≥ 97% of them
  (measured 99.6%; exactly its nearest for 89%: near-ties among short texts swap places).

On 2,000 random #ubuntu IRC messages (bench data, not in tests) int8 gave mean cosine 0.989,
1st percentile 0.965, minimum 0.945; fp32 ONNX 1.0000.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.engines.embedding import _ATTENTION_BUDGET, OnnxEmbedder, _batches

TOKENS = ["[PAD]", "[UNK]", "hello", "world", "good", "morning", "see", "you"]


def _tiny_encoder(directory: Path) -> Path:
    """A word-level tokenizer and a graph whose hidden state is a fixed per-token vector."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, pre_tokenizers

    tokenizer = Tokenizer(models.WordLevel({t: i for i, t in enumerate(TOKENS)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(directory / "tokenizer.json"))
    table = np.random.default_rng(3).standard_normal((len(TOKENS), 384)).astype(np.float32)
    table[0] = 1000.0  # padding must never leak into the mean
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"])],
        "tiny",
        [
            helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
            for name in ("input_ids", "attention_mask", "token_type_ids")
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(table, "table")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(directory / "model.onnx"))
    manifest = {"dim": 384, "max_seq_length": 3, "pooling": "mean", "normalize": True}
    (directory / "encoder.json").write_text(json.dumps(manifest), encoding="utf-8")
    np.save(directory / "table.npy", table)
    return directory


def test_mean_pooled_normalised_and_independent_of_batching(tmp_path: Path) -> None:
    directory = _tiny_encoder(tmp_path)
    table = np.load(directory / "table.npy")
    located: list[int] = []

    def locate() -> Path:
        located.append(1)
        return directory

    embedder = OnnxEmbedder(locate=locate, batch_size=2)
    assert located == []  # nothing loads before first use
    texts = ["good morning world", "hello", "see you hello world", "nope hello"]
    vectors = embedder.encode(texts)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    # mean of the token rows, truncated to max_seq_length tokens, then L2-normalised
    expected = table[[2]].mean(axis=0)
    assert np.allclose(vectors[1], expected / np.linalg.norm(expected), atol=1e-6)
    truncated = table[[6, 7, 2]].mean(axis=0)
    assert np.allclose(vectors[2], truncated / np.linalg.norm(truncated), atol=1e-6)
    unknown = table[[1, 2]].mean(axis=0)
    assert np.allclose(vectors[3], unknown / np.linalg.norm(unknown), atol=1e-6)
    # each text alone gives the same vector as in a padded, length-sorted batch
    for text, vector in zip(texts, vectors, strict=True):
        assert np.allclose(embedder.encode([text])[0], vector, atol=1e-6)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert embedder.encode([]).shape == (0, 384)
    assert located == [1]  # located once, however many calls


def test_batches_keep_padded_tokens_within_the_budget() -> None:
    lengths = [5, 256, 12, 256, 7, 100, 256, 3] * 10
    batches = _batches(lengths, 32, 2048)
    assert sorted(i for rows in batches for i in rows) == list(range(len(lengths)))
    for rows in batches:
        assert len(rows) <= 32
        width = max(lengths[i] for i in rows)
        assert len(rows) * width <= 2048
        # attention scores stay bounded too: long texts go alone, not 8 at a time
        assert len(rows) == 1 or len(rows) * width * width <= _ATTENTION_BUDGET
    assert max(len(rows) for rows in batches if lengths[rows[0]] == 256) == 1
    assert max(len(rows) for rows in batches) == 32  # short messages still go 32 at a time
    assert _batches([4000], 32, 2048) == [[0]]  # one text over the budget goes alone


def test_a_manifest_of_another_shape_is_refused(tmp_path: Path) -> None:
    directory = _tiny_encoder(tmp_path)
    (directory / "encoder.json").write_text(
        json.dumps({"dim": 768, "max_seq_length": 3, "pooling": "mean"}), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="384"):
        OnnxEmbedder(locate=lambda: directory).encode(["hello"])


def _shipped_texts() -> list[str]:
    from core.profiling.background import background_texts
    from core.samples import SAMPLE_PERSONA_PATH

    texts = [t for t in background_texts() if t.strip()][:450]
    with open(SAMPLE_PERSONA_PATH, encoding="utf-8") as lines:
        texts += [json.loads(line)["text"] for line in lines if line.strip()][:150]
    return texts


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_same_embeddings_as_the_torch_model_within_tolerance(precision: str) -> None:
    from core.engines.embedding import SentenceEmbedder
    from core.engines.onnx_export import default_cache_dir, ensure_encoder

    texts = list(dict.fromkeys(_shipped_texts()))
    assert len(texts) >= 500
    reference = SentenceEmbedder().encode(texts)
    onnx = OnnxEmbedder(
        locate=lambda: ensure_encoder(default_cache_dir(), precision)  # type: ignore[arg-type]
    ).encode(texts)
    cosines = np.sum(reference * onnx, axis=1)
    if precision == "fp32":
        assert cosines.min() >= 0.9999
        return
    assert cosines.mean() >= 0.985 and cosines.min() >= 0.95

    def nearest(vectors: np.ndarray, k: int) -> np.ndarray:
        similarity = vectors @ vectors.T
        np.fill_diagonal(similarity, -np.inf)
        return np.argsort(-similarity, axis=1)[:, :k]

    expected = nearest(reference, 1)[:, 0]
    found = nearest(onnx, 3)
    agreement = float(np.mean([e in row for e, row in zip(expected, found, strict=True)]))
    assert agreement >= 0.97
