"""The LanguageModel port over any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM,
llama.cpp's server), with the ``openai`` SDK's ``AsyncOpenAI``.

What this adds to the SDK:

* **Bounded retries, our way**: the SDK's own retries are off (``max_retries=0``) so the policy is
  visible and tested. 429 and 5xx answers and connection errors are retried up to
  ``max_retries`` times with exponential backoff (``backoff_s × 2^attempt``, plus a little jitter),
  honouring ``Retry-After`` (seconds or an HTTP date) when the server sends it; a ``Retry-After``
  longer than ``max_wait_s`` fails at once instead of holding a draft for minutes. A timeout
  (``timeout_s`` per request) is not retried: a server that is slow now will be slow again, and
  the retrieval engine answers meanwhile. Other 4xx (bad key, unknown model) are not retried.
* **Candidates**: ``n`` completions are asked for in one request; servers that ignore ``n``
  (llama.cpp, Ollama) are asked again for the rest, at most ``n`` requests in all.
* **Token accounting**: before each request the account's :class:`~core.drafting.llm.TokenBudget`
  must allow the prompt (estimated at 4 characters a token); afterwards the tokens the server
  reports in ``usage`` (or the estimate, if it reports none) are charged.
* **Only real completions**: the body of a 200 answer is parsed and checked here (an object with
  a ``choices`` list of messages with text), not left to the SDK, which hands back a bare string
  for a non-JSON page and a half-built object for a list. Anything else (a proxy's HTML page, a
  list, truncated JSON, an empty body, an error object) is
  :class:`~core.drafting.llm.NotACompletion`, not retried (like a timeout): the retrieval engine
  answers meanwhile.
* **Nothing leaks**: failures become :class:`~core.drafting.llm.ModelError` with a message fit for
  the owner (status, never the prompt or the key); logs carry status codes and timings only.

The model has no tools: no ``tools``/``functions`` are ever sent, so whatever it returns is text
that the core neutralises and the owner approves or not.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import openai
from openai import AsyncOpenAI

from core.drafting.llm import BudgetExceeded, ModelError, NotACompletion, TokenBudget
from core.models import AccountId

log = logging.getLogger(__name__)


def _retry_after(error: openai.APIStatusError) -> float | None:
    headers = getattr(error.response, "headers", None) or {}
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())


def estimate_tokens(*texts: str) -> int:
    """A rough token count (4 characters a token) for servers that report no usage."""
    return max(1, sum(len(t) for t in texts) // 4)


class OpenAICompatModel:
    """Chat completions from an OpenAI-compatible endpoint, behind :class:`core.ports.LanguageModel`.

    Args:
        base_url: The endpoint (``https://api.openai.com/v1``, ``http://localhost:11434/v1``…).
        model: The model name the endpoint knows.
        api_key: The key (``None`` for local servers that need none).
        budget: Daily tokens per account, shared with the service that persists it.
        timeout_s: Per request.
        max_retries: Retries after the first attempt, for 429/5xx/connection errors.
        backoff_s: First backoff delay (doubles each retry).
        max_wait_s: The longest ``Retry-After`` honoured; longer fails at once.
        temperature: Sampling temperature (candidates should differ).
        client: An ``AsyncOpenAI`` to use instead of building one (tests).
        sleep: Awaitable sleep (tests pass a recorder).
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        budget: TokenBudget,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_wait_s: float = 20.0,
        temperature: float = 0.8,
        client: AsyncOpenAI | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.model = model
        self.budget = budget
        self.timeout_s = timeout_s
        self.max_retries = max(0, max_retries)
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.temperature = temperature
        self._sleep = sleep
        self._client = client or AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout_s,
            max_retries=0,
        )

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    async def __aenter__(self) -> OpenAICompatModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def complete(
        self, system: str, user: str, *, n: int, max_tokens: int, account_id: AccountId
    ) -> list[str]:
        """Up to ``n`` completions of one prompt.

        Raises:
            BudgetExceeded: the account's tokens for today are spent.
            ModelError: the endpoint failed after the allowed retries, or timed out.
        """
        out: list[str] = []
        requests = 0
        while len(out) < n and requests < n:
            requests += 1
            texts = await self._request(
                system, user, n=n - len(out), max_tokens=max_tokens, account_id=account_id
            )
            if not texts:
                break
            out += texts
        return out[:n]

    async def _request(
        self, system: str, user: str, *, n: int, max_tokens: int, account_id: AccountId
    ) -> list[str]:
        prompt_tokens = estimate_tokens(system, user)
        if not self.budget.allows(account_id, prompt_tokens):
            raise BudgetExceeded(
                f"today's language-model budget ({self.budget.daily_tokens:,} tokens) is used up"
            )
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                response: Any = await self._client.chat.completions.with_raw_response.create(
                    model=self.model,
                    messages=[
                        {"role": "system", "content": system},
                        {"role": "user", "content": user},
                    ],
                    n=n,
                    max_tokens=max_tokens,
                    temperature=self.temperature,
                    timeout=self.timeout_s,
                )
            except openai.APITimeoutError:
                log.warning("language model timed out after %.1f s", self.timeout_s)
                raise ModelError(
                    f"the language model did not answer within {self.timeout_s:g} s"
                ) from None
            except openai.APIStatusError as error:
                status = error.status_code
                retryable = status == 429 or status >= 500
                wait = _retry_after(error)
                if not retryable or attempt >= self.max_retries:
                    log.warning("language model answered HTTP %s (attempt %d)", status, attempt + 1)
                    raise ModelError(_status_message(status, attempt + 1)) from None
                if wait is not None and wait > self.max_wait_s:
                    log.warning("language model asked to wait %.0f s", wait)
                    raise ModelError(
                        f"the language model is rate-limited for {wait:.0f} s more"
                    ) from None
                delay = wait if wait is not None else self._backoff(attempt)
                log.info("language model HTTP %s, retrying in %.2f s", status, delay)
                await self._sleep(delay)
                attempt += 1
                continue
            except openai.APIConnectionError:
                if attempt >= self.max_retries:
                    log.warning("language model unreachable (attempt %d)", attempt + 1)
                    raise ModelError("the language model is unreachable") from None
                await self._sleep(self._backoff(attempt))
                attempt += 1
                continue
            except openai.OpenAIError as error:
                log.warning("language model error: %s", type(error).__name__)
                raise ModelError("the language model failed") from None
            break
        texts, total = read_completion(response.content, response.headers.get("content-type"))
        self.budget.spend(
            account_id, int(total) if total else prompt_tokens + estimate_tokens(*texts)
        )
        log.debug("language model: %d choices in %.2f s", len(texts), time.perf_counter() - started)
        return [t for t in texts if t.strip()]

    def _backoff(self, attempt: int) -> float:
        return float(self.backoff_s * (2**attempt) * (1 + 0.1 * random.random()))


def read_completion(body: bytes, content_type: str | None) -> tuple[list[str], int | None]:
    """The texts of the choices and the ``usage.total_tokens`` of a chat completion body.

    Raises:
        NotACompletion: the body is not a chat completion; the message says what it was (an
            HTML page, a list, truncated JSON…), never what it said.
    """

    size = len(body)  # only the size and the kind are logged, never the body

    def refuse(what: str) -> NotACompletion:
        log.warning(
            "language model answered HTTP 200 with %s (content type %s, %d bytes)",
            what,
            (content_type or "none").split(";")[0],
            size,
        )
        return NotACompletion(f"the language model answered with {what} instead of a completion")

    if not body.strip():
        raise refuse("an empty body")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        if body.lstrip()[:1] == b"<":
            raise refuse("an HTML page (a proxy or login page at MINIME_LLM__BASE_URL?)") from None
        raise refuse("truncated or malformed JSON") from None
    if not isinstance(payload, dict):
        kinds = {list: "list", str: "string", type(None): "null", bool: "boolean"}
        raise refuse(f"a JSON {kinds.get(type(payload), 'number')}")
    choices = payload.get("choices")
    if not isinstance(choices, list):
        raise refuse("an error object" if "error" in payload else "no list of choices")
    texts: list[str] = []
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(message, dict) or not isinstance(content, str | None):
            raise refuse("choices that hold no message text")
        texts.append(content or "")
    usage = payload.get("usage")
    total = usage.get("total_tokens") if isinstance(usage, dict) else None
    valid = isinstance(total, int) and not isinstance(total, bool) and total > 0
    return texts, total if valid else None


def _status_message(status: int, attempts: int) -> str:
    if status == 429:
        return f"the language model is rate-limiting us (HTTP 429, {attempts} attempts)"
    if status >= 500:
        return f"the language model's server failed (HTTP {status}, {attempts} attempts)"
    if status in (401, 403):
        return f"the language model refused our key (HTTP {status}); check MINIME_LLM__API_KEY"
    if status == 404:
        return "the language model endpoint or model name is unknown (HTTP 404); check MINIME_LLM__MODEL"
    return f"the language model refused the request (HTTP {status})"
