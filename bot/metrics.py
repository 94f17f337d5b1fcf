"""Prometheus metrics for ``minime run``: ``GET /metrics`` on the shared HTTP listener.

One :class:`Metrics` per runtime, on its own ``CollectorRegistry`` (nothing is registered at
import time, and tests open several runtimes in one process). What is counted, and where:

- ``minime_events_received_total{platform}``: deliveries POSTed to a platform route (the
  middleware below), retries included.
- ``minime_deliveries_deduplicated_total{platform}``: deliveries recognised as already handled
  (:class:`CountingDeliveryLog`, and the accepted-delivery records: `bot/deliveries.py`).
- ``minime_drafts_made_total`` and ``minime_draft_latency_seconds``: drafts stored, and the time
  from the HTTP delivery's arrival to its draft being stored (:class:`InstrumentedDrafts`).
- ``minime_llm_errors_total{kind}``: failed calls to the LLM endpoint (for the LLM wiring).
- ``minime_queue_depth``: deliveries acknowledged whose work has not finished in this process.
- ``minime_http_responses_total{route,status}`` and ``minime_ack_seconds{platform}``: what the
  platforms saw (a 5xx here is a delivery the platform will retry).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from core.models import Draft

PLATFORM_ROUTES: Mapping[str, str] = {
    "/slack/events": "slack",
    "/telegram/webhook": "telegram",
}
"""Routes that take platform deliveries, and whose deliveries they are."""

_received_at: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "minime_received_at", default=None
)
"""When the HTTP delivery being handled arrived (``perf_counter``); copied into its work task."""

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The counters, histograms and gauges of one process, on their own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events_received = Counter(
            "minime_events_received", "Platform deliveries received", ["platform"], registry=r
        )
        self.deduplicated = Counter(
            "minime_deliveries_deduplicated",
            "Deliveries recognised as already handled (platform retries)",
            ["platform"],
            registry=r,
        )
        self.drafts_made = Counter("minime_drafts_made", "Drafts stored", registry=r)
        self.draft_latency = Histogram(
            "minime_draft_latency_seconds",
            "From an HTTP delivery's arrival to its draft being stored",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.llm_errors = Counter(
            "minime_llm_errors", "Failed calls to the LLM endpoint", ["kind"], registry=r
        )
        self.http_responses = Counter(
            "minime_http_responses",
            "Responses on platform routes",
            ["route", "status"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "minime_ack_seconds",
            "Time to answer a platform delivery (what the platform waits for)",
            ["platform"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self._backlogs: list[Callable[[], int]] = []
        self.queue_depth = Gauge(
            "minime_queue_depth",
            "Deliveries acknowledged whose work has not finished in this process",
            registry=r,
        )
        self.queue_depth.set_function(self._queue_depth)

    def track_backlog(self, backlog: Callable[[], int]) -> None:
        """Add a source of unfinished work (an adapter's ``backlog``) to the queue depth."""
        self._backlogs.append(backlog)

    def _queue_depth(self) -> float:
        return float(sum(source() for source in self._backlogs))

    def render(self) -> bytes:
        """The exposition text of every metric."""
        return generate_latest(self.registry)

    # ------------------------------------------------------------------ HTTP

    async def handler(self, _: web.Request) -> web.Response:
        """``GET /metrics``."""
        response = web.Response(body=self.render())
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    def middleware(self) -> Any:
        """Counts deliveries on platform routes and times their answers."""

        @web.middleware
        async def count(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            platform = PLATFORM_ROUTES.get(request.path)
            if platform is None or request.method != "POST":
                return await handler(request)
            self.events_received.labels(platform).inc()
            started = time.perf_counter()
            token = _received_at.set(started)
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as error:
                status = error.status
                raise
            finally:
                _received_at.reset(token)
                self.ack_seconds.labels(platform).observe(time.perf_counter() - started)
                self.http_responses.labels(request.path, str(status)).inc()

        return count

    def install(self, app: web.Application) -> None:
        """Add ``/metrics`` and the counting middleware to the shared application."""
        app.middlewares.append(self.middleware())
        app.router.add_get("/metrics", self.handler)


# ---------------------------------------------------------------------- store wrappers


class _Drafts(Protocol):
    async def create(self, draft: Draft) -> None: ...


class InstrumentedDrafts:
    """The draft store, counting what it stores; everything else passes through unchanged."""

    def __init__(self, inner: _Drafts, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def create(self, draft: Draft) -> None:
        await self._inner.create(draft)
        self._metrics.drafts_made.inc()
        started = _received_at.get()
        if started is not None:
            self._metrics.draft_latency.observe(time.perf_counter() - started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _FirstSeen(Protocol):
    async def first_seen(self, key: str, *, account_id: str | None = None) -> bool: ...


class CountingDeliveryLog:
    """The delivery log, counting the deliveries it recognises as seen before."""

    def __init__(self, inner: _FirstSeen, metrics: Metrics, platform: str) -> None:
        self._inner = inner
        self._counter = metrics.deduplicated.labels(platform)

    async def first_seen(self, key: str, *, account_id: str | None = None) -> bool:
        fresh = await self._inner.first_seen(key, account_id=account_id)
        if not fresh:
            self._counter.inc()
        return fresh

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
