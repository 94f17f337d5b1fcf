"""What the workers of ``minime run --workers N`` share: loaded once, before any worker forks.

The supervisor of ``bot/workers.py`` imports this module before it forks the workers: the
libraries (aiohttp, SQLAlchemy, the platform SDKs, numpy, scikit-learn, ONNX Runtime), the
sentence encoder (its int8 weights, tokenizer and the precomputed background vectors), the
language detector's model and the shipped model weights are loaded here, once, and each worker
forked afterwards reads them from the same physical pages (copy-on-write; ``gc.freeze`` keeps
the garbage collector from writing to every object it would otherwise scan; it stays off while
loading, so no collection frees objects amid the pages the workers will share). So is what a
worker imports as it starts, such as the publishing networks' SDKs (``atproto`` alone is
~25 MiB of Python objects, which each worker imported after the fork, on pages of its own).
Nothing here may start a thread that a forked worker would need: ONNX Runtime runs on the
calling thread (``intra_op_num_threads=1``), the tokenizer without its thread pool.

Importing this module does the loading; a failure is logged and the workers then load what
they need themselves.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def preload() -> list[str]:
    """Load what every worker needs, then freeze it; the names of what was loaded."""
    gc.disable()
    try:
        return _load()
    finally:
        gc.freeze()
        gc.enable()


def _load() -> list[str]:
    import bot.runner  # aiohttp, SQLAlchemy, the core and its use cases
    from bot.bootstrap import configured_embedder, limit_blas_threads, publishing_networks
    from bot.settings import load_settings
    from core.drafting.fit import global_weights
    from core.drafting.language import default_detector
    from core.engines.embedding import precomputed
    from core.prioritising.prior import load_global_prior
    from core.profiling.background import background_texts

    loaded = ["libraries"]
    settings = load_settings()
    limit_blas_threads(settings.blas_threads)
    if publishing_networks(settings):  # what each worker's runtime builds (and imports) at start
        loaded.append("networks")
    if settings.llm.enabled:
        import adapters.llm  # noqa: F401
    for name, platform in (
        ("slack", settings.slack),
        ("telegram", settings.telegram),
        ("discord", settings.discord),
    ):
        if platform.enabled:
            bot.runner._wiring(name)
            loaded.append(name)
    embedder = configured_embedder(settings)
    embedder.encode(["warm up"])
    precomputed(embedder, "background", background_texts())
    loaded.append(f"encoder ({type(embedder).__name__})")
    default_detector().detect("warm up the language detector")
    global_weights()
    load_global_prior()
    # The style verifier scores with these; the workers' database drivers (asyncpg for the
    # stores, psycopg for the scheduler's job store) with their SQLAlchemy dialects.
    import sklearn.feature_extraction.text
    import sklearn.linear_model  # noqa: F401

    if settings.effective_database_url.startswith("postgresql"):
        import asyncpg  # noqa: F401
        import psycopg  # noqa: F401
        import sqlalchemy.dialects.postgresql.asyncpg
        import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401

    loaded.append("models")
    return loaded


try:
    LOADED = preload()
except Exception as error:  # a fork server must start whatever happens: workers load lazily
    log.warning("preloading for the workers failed (%s); each worker loads its own", error)
    LOADED = []
