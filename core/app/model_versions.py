"""Model versions: every retrained verifier, reply-fit model and prioritiser of a persona is a new
version, the previous one is kept, and ``models rollback`` restores it.

:class:`VersionedState` wraps the StateStore the model cache writes to. When a model of
:data:`VERSIONED` kinds is stored again *retrained* (built from a different number of messages —
not the prioritiser's online updates from one-tap labels), the value it replaces is kept under
``<kind>@previous`` and the persona's version number goes up (``model-versions``, a small JSON
document: number, time, what was retrained). Rollback puts each ``@previous`` back, stamped with
the newer model's message count so it is not retrained at once on the next build (the owner chose
it), and empties ``@previous``: there is one earlier version to go back to, not a chain.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from core.models import AccountId, PersonaId
from core.ports import StateStore, Unreadable

VERSIONED: tuple[str, ...] = ("verifier", "reply-fit", "prioritiser")
VERSIONS_STATE = "model-versions"
PREVIOUS = "@previous"
_HEADER = 12
"""Each versioned value starts with a 4-byte magic and an 8-byte message count."""
_FORMAT = "minime.model-versions/1"
MAX_LOG = 50
TOGETHER = timedelta(minutes=30)
"""Models retrained within this of each other (and not twice) make one version."""


def _within(earlier: str, later: str, span: timedelta) -> bool:
    try:
        return datetime.fromisoformat(later) - datetime.fromisoformat(earlier) <= span
    except ValueError:
        return False


def _count(value: bytes) -> bytes | None:
    return value[4:_HEADER] if len(value) >= _HEADER else None


def retrained(old: bytes, new: bytes) -> bool:
    """Whether ``new`` is a retrain of ``old`` (built from another number of messages), not the
    same model updated online or stored again."""
    return old != new and (_count(old) != _count(new) or old[:4] != new[:4])


def restamp(previous: bytes, current: bytes) -> bytes:
    """``previous`` with ``current``'s message count, so it counts as fresh."""
    if len(previous) < _HEADER or len(current) < _HEADER:
        return previous
    return previous[:4] + current[4:_HEADER] + previous[_HEADER:]


def load_log(raw: bytes | None) -> dict[str, object]:
    """The persona's version log: ``{"current": n, "previous": n|None, "log": [...]}``."""
    empty: dict[str, object] = {"format": _FORMAT, "current": 1, "previous": None, "log": []}
    if not raw:
        return empty
    try:
        data = json.loads(raw)
    except ValueError:
        return empty
    return data if isinstance(data, dict) and data.get("format") == _FORMAT else empty


class VersionedState:
    """A StateStore that keeps the previous version of each retrained model.

    Args:
        inner: the real store.
        clock: when a version was made.
    """

    def __init__(self, inner: StateStore, clock: object) -> None:
        self._inner = inner
        self._clock = clock

    async def get(self, account_id: AccountId, persona_id: PersonaId, kind: str) -> bytes | None:
        return await self._inner.get(account_id, persona_id, kind)

    async def _read(self, account_id: AccountId, persona_id: PersonaId, kind: str) -> bytes | None:
        """A stored value, or ``None`` when it is missing or unreadable (quarantined by the
        store): a damaged old version is not worth keeping."""
        try:
            return await self._inner.get(account_id, persona_id, kind)
        except Unreadable:
            return None

    async def put(
        self, account_id: AccountId, persona_id: PersonaId, kind: str, value: bytes
    ) -> None:
        if kind in VERSIONED:
            old = await self._read(account_id, persona_id, kind)
            if old and retrained(old, value):
                await self._inner.put(account_id, persona_id, kind + PREVIOUS, old)
                await self._bump(account_id, persona_id, kind)
        await self._inner.put(account_id, persona_id, kind, value)

    async def _bump(self, account_id: AccountId, persona_id: PersonaId, kind: str) -> None:
        data = load_log(await self._read(account_id, persona_id, VERSIONS_STATE))
        now = self._now()
        log = data["log"]
        assert isinstance(log, list)
        current = int(str(data["current"]))
        # Models retrained after one import make one version: the prioritiser at once, the
        # verifier when its background training ends (minutes later).
        last = log[-1] if log else None
        if (
            last is not None
            and last.get("event") == "retrained"
            and kind not in last["kinds"]
            and _within(last.get("at", ""), now, TOGETHER)
        ):
            last["kinds"].append(kind)
        else:
            data["previous"] = current
            data["current"] = current + 1
            log.append({"version": current + 1, "event": "retrained", "at": now, "kinds": [kind]})
        data["log"] = log[-MAX_LOG:]
        await self._inner.put(account_id, persona_id, VERSIONS_STATE, json.dumps(data).encode())

    def _now(self) -> str:
        clock = self._clock
        at = clock() if callable(clock) else None
        return at.isoformat() if isinstance(at, datetime) else ""

    async def rollback(self, account_id: AccountId, persona_id: PersonaId) -> list[str]:
        """Put each model's previous version back; the kinds restored (none: no earlier one)."""
        restored = []
        for kind in VERSIONED:
            previous = await self._read(account_id, persona_id, kind + PREVIOUS)
            if not previous:
                continue
            current = await self._read(account_id, persona_id, kind)
            back = restamp(previous, current) if current else previous
            await self._inner.put(account_id, persona_id, kind, back)
            await self._inner.put(account_id, persona_id, kind + PREVIOUS, b"")
            restored.append(kind)
        if restored:
            data = load_log(await self._read(account_id, persona_id, VERSIONS_STATE))
            log = data["log"]
            assert isinstance(log, list)
            back_to = data.get("previous") or 1
            log.append(
                {"version": back_to, "event": "rolled back", "at": self._now(), "kinds": restored}
            )
            data.update(current=back_to, previous=None, log=log[-MAX_LOG:])
            await self._inner.put(account_id, persona_id, VERSIONS_STATE, json.dumps(data).encode())
        return restored
