"""Corpus text embeddings computed once per encoder and kept on disk for the benchmarks.

    nice .venv/bin/python bench/corpus_vectors.py [--corpus ../shared/data/ubuntu-irc/messages.jsonl.gz]
        [--embedder minilm|minilm-torch] [--precision int8|fp32] [--cache ../cache]

Writes ``<cache>/ubuntu_<tag>_texts.npy`` (float16, one row per distinct text) and
``ubuntu_<tag>_texts.json`` (the texts, in row order), where ``tag`` names the encoder
(``minilm-int8``, ``minilm-fp32``, ``minilm-torch``). ``bench/train_fit.py`` and
``bench/draft_eval.py`` read them, so the fit model is trained and measured on the vectors of
the encoder the bot runs. Progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.bootstrap import default_embedder  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from core.ports import Embedder  # noqa: E402


def encoder_tag(embedder: str, precision: str) -> str:
    """The cache name of an encoder configuration."""
    return "minilm-torch" if embedder == "minilm-torch" else f"minilm-{precision}"


def cache_paths(cache: Path, tag: str) -> tuple[Path, Path]:
    return cache / f"ubuntu_{tag}_texts.npy", cache / f"ubuntu_{tag}_texts.json"


def load_cached(cache: Path, tag: str) -> dict[str, np.ndarray]:
    """Text → vector from the cache of ``tag`` (empty when there is none)."""
    table, names = cache_paths(cache, tag)
    if not table.exists() or not names.exists():
        return {}
    texts = json.loads(names.read_text())
    matrix = np.load(table).astype(np.float32)
    return dict(zip(texts, matrix, strict=True))


def encode_with_progress(embedder: Embedder, texts: Sequence[str], chunk: int = 2048) -> np.ndarray:
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    started = time.perf_counter()
    for start in range(0, len(texts), chunk):
        out[start : start + chunk] = embedder.encode(texts[start : start + chunk])
        done = min(len(texts), start + chunk)
        rate = done / max(time.perf_counter() - started, 1e-9)
        print(
            f"\r  encoded {done}/{len(texts)} ({rate:.0f}/s, ETA {(len(texts) - done) / rate:.0f} s)",
            end="",
            file=sys.stderr,
            flush=True,
        )
    print(file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared/data/ubuntu-irc/messages.jsonl.gz"
    )
    parser.add_argument("--embedder", choices=("minilm", "minilm-torch"), default="minilm")
    parser.add_argument("--precision", choices=("int8", "fp32"), default="int8")
    parser.add_argument("--cache", type=Path, default=ROOT.parent / "cache")
    args = parser.parse_args()
    from bot.eval_cli import load_messages

    texts = list(dict.fromkeys(m.text for m in load_messages(args.corpus).messages))
    settings = load_settings(embedder=args.embedder, embedder_precision=args.precision)
    matrix = encode_with_progress(default_embedder(settings), texts)
    tag = encoder_tag(args.embedder, args.precision)
    table, names = cache_paths(args.cache, tag)
    args.cache.mkdir(parents=True, exist_ok=True)
    np.save(table, matrix.astype(np.float16))
    names.write_text(json.dumps(texts, ensure_ascii=False))
    print(f"wrote {table} ({len(texts)} texts)")


if __name__ == "__main__":
    main()
