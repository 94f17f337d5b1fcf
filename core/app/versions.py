"""``models``: a persona's model versions, and ``models rollback`` to the previous one."""

from __future__ import annotations

from core.app.context import AppContext
from core.app.model_versions import VERSIONS_STATE, VersionedState, load_log
from core.app.models import ModelCache
from core.app.quality import Quality
from core.models import Account, Reply

USAGE = "Usage: models [list | rollback] [persona]"
_NAMES = {"verifier": "style verifier", "reply-fit": "reply fit", "prioritiser": "prioritiser"}


class ModelVersions:
    """``models [list]`` and ``models rollback [persona]``."""

    def __init__(self, ctx: AppContext, models: ModelCache, quality: Quality) -> None:
        self._ctx = ctx
        self._models = models
        self._quality = quality

    async def command(self, account: Account, args: tuple[str, ...]) -> Reply:
        verb = args[0].lower() if args else "list"
        if verb not in ("list", "rollback"):
            return Reply(text=USAGE)
        name = " ".join(args[1:]).strip()
        persona = await self._quality.persona_named(account, name)
        if persona is None:
            return Reply(text=f"No persona called '{name}'. `persona list` shows yours.")
        state = self._ctx.stores.state
        if verb == "rollback":
            if not isinstance(state, VersionedState):
                return Reply(text="Model versions are not kept in this setup.")
            restored = await state.rollback(account.id, persona.id)
            if not restored:
                return Reply(
                    text=f"There is no earlier model version of persona '{persona.name}' to go "
                    "back to: nothing has been retrained since its first models (or you rolled "
                    "back already)."
                )
            self._models.forget(account.id)
            data = load_log(await self._ctx.derived_state(account.id, persona.id, VERSIONS_STATE))
            return Reply(
                text=f"Rolled back persona '{persona.name}' to model v{data['current']}: "
                + ", ".join(_NAMES[k] for k in restored)
                + " restored. Drafts and triage use them from now on; `quality` measures again."
            )
        data = load_log(await self._ctx.derived_state(account.id, persona.id, VERSIONS_STATE))
        log = data["log"]
        assert isinstance(log, list)
        lines = [f"Persona '{persona.name}' uses model v{data['current']}."]
        for entry in log[-8:]:
            kinds = ", ".join(_NAMES.get(k, k) for k in entry.get("kinds", []))
            lines.append(f"• v{entry['version']}: {entry['event']} {entry['at'][:16]} ({kinds})")
        lines.append(
            "`models rollback` restores the previous version."
            if data.get("previous")
            else "No earlier version to roll back to."
        )
        return Reply(text="\n".join(lines))
