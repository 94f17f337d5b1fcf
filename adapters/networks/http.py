"""What the X and LinkedIn clients share: an ``httpx`` client with the owner's bearer token,
and HTTP failures as :class:`core.publishing.NetworkError` (never echoing the request)."""

from __future__ import annotations

import time

import httpx

from core.publishing import NetworkError


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` or X's ``x-rate-limit-reset`` (an epoch second)."""
    value = response.headers.get("retry-after")
    if value and value.isdigit():
        return float(value)
    reset = response.headers.get("x-rate-limit-reset")
    if reset and reset.isdigit():
        return max(0.0, float(reset) - time.time())
    return None


def check(response: httpx.Response, network: str) -> httpx.Response:
    """``response`` if it succeeded, else the :class:`NetworkError` it means."""
    if response.is_success:
        return response
    status = response.status_code
    detail = f"{network} answered HTTP {status}"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        title = body.get("title") or body.get("message") or body.get("detail")
        if isinstance(title, str):
            detail += f": {title[:120]}"
    if status in (401, 403):
        raise NetworkError("auth", detail)
    if status == 429:
        raise NetworkError("rate", detail, retry_after_s=retry_after(response))
    if status >= 500:
        raise NetworkError("server", detail)
    raise NetworkError("refused", detail)


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    network: str,
    *,
    json: object = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    """One request; a transport failure (timeout, refused connection) is a ``server`` error."""
    try:
        response = await client.request(method, url, json=json, params=params)
    except httpx.HTTPError as error:
        raise NetworkError(
            "server", f"{network} could not be reached ({type(error).__name__})"
        ) from None
    return check(response, network)
