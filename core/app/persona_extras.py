"""The ``persona`` subcommands of issue 17, as one table: identity, places, teams, shares, stats.

:class:`core.app.personas.Personas` keeps ``list | new | use | delete`` and hands every other verb
(and ``use <name> here``) to :class:`PersonaExtras`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from core.app.consult import Consults
from core.app.persona_identity import PersonaIdentity
from core.app.persona_stats import PersonaStatsView
from core.app.teams import Teams
from core.models import Account, CommandInvocation, Reply, UserRef
from core.teams import ATTRIBUTES, TEMPLATES, label

Handler = Callable[[Account, CommandInvocation, Sequence[str]], Awaitable[Reply]]

USAGE: tuple[tuple[str, str], ...] = (
    ("list", "your personas, where each is used, and team personas shared with you"),
    ("new <name> | use <name> | delete <name>", "create, switch to, delete a persona"),
    ("use <name> here", "drafts in this channel / chat / server come from <name> (`none` undoes)"),
    (f"set <name> {'|'.join(ATTRIBUTES)} <text>", "what the persona is; `-` clears one"),
    (f"template <name> {'|'.join(TEMPLATES)}", "starting attributes (never fake history)"),
    ("sample <name> <message> => <reply>", "teach an example exchange (editors may too)"),
    ("show [name]", "a persona's attributes, places, team and shares"),
    ("rename <old> <new>", "rename a persona"),
    ("clone <from> <to> [--with-models] [--with-messages]", "copy a persona's settings (and more)"),
    ("invite <name> [@someone] viewer|reviewer|editor", "share with a team (a mention or a code)"),
    ("join <code> | role <name> @someone <role> | remove <name> @someone", "team roles"),
    ("team", "who holds roles on your personas, and yours on others'"),
    ("review <name>", "the next draft of a team persona to approve, edit or dismiss"),
    (
        "share ask <name> with @someone|anyone-in-workspace [topics …] [quota N/day] [auto]",
        "let others ask your clone (`ask @you <question>`)",
    ),
    ("shares | unshare <name> [@someone]", "who may ask, how much they asked; revoke"),
    ("stats [name]", "drafts offered / sent / edited / dismissed, meters, reply time, a picture"),
    ("schedule <name> mon-fri 08:00-18:00 | off", "when the persona's scheduled posts go out"),
)


def persona_help() -> str:
    """``persona help``: every subcommand, one a line."""
    return "\n".join(["persona subcommands:", *(f"  persona {u}  — {s}" for u, s in USAGE)])


class PersonaExtras:
    """Dispatches the issue-17 ``persona`` verbs to their use cases."""

    def __init__(
        self,
        identity: PersonaIdentity,
        teams: Teams,
        consults: Consults,
        stats: PersonaStatsView,
    ) -> None:
        self.identity = identity
        self.teams = teams
        self.consults = consults
        self.stats = stats
        self._table: dict[str, Handler] = {
            "set": lambda a, c, w: identity.set(a, c, w),
            "show": lambda a, c, w: identity.show(a, c, w),
            "rename": lambda a, c, w: identity.rename(a, w),
            "clone": lambda a, c, w: identity.clone(a, w),
            "template": lambda a, c, w: identity.template(a, w),
            "sample": lambda a, c, w: identity.sample(a, c, w),
            "use": lambda a, c, w: identity.use_here(a, c, " ".join(w[:-1])),
            "invite": lambda a, c, w: teams.invite(a, c, w),
            "join": lambda a, c, w: teams.join(a, c, w),
            "role": lambda a, c, w: teams.role(a, c, w),
            "remove": lambda a, c, w: teams.remove(a, c, w),
            "team": lambda a, c, w: teams.team(a, c.user),
            "review": lambda a, c, w: teams.review(a, c, w),
            "share": lambda a, c, w: consults.share(a, c, w),
            "unshare": lambda a, c, w: consults.unshare(a, w),
            "shares": lambda a, c, w: consults.shares_reply(a),
            "stats": lambda a, c, w: stats.command(a, c, w),
            "help": lambda a, c, w: _help(),
        }

    def handles(self, verb: str, args: Sequence[str]) -> bool:
        """Whether ``verb`` is one of these (``use`` only as ``use <name> here``)."""
        if verb == "use":
            return len(args) >= 3 and args[-1].lower() == "here"
        return verb in self._table

    async def command(
        self, account: Account, command: CommandInvocation, verb: str, args: Sequence[str]
    ) -> Reply:
        return await self._table[verb](account, command, args)

    async def list_lines(self, account: Account, user: UserRef) -> list[str]:
        """Bindings and personas shared with ``user``, for ``persona list``."""
        lines = await self.identity.list_lines(account)
        shared = await self.teams.shared_with_me(account, user)
        if shared:
            lines.append("Shared with you:")
            lines += [f"  {label(m)} ({m.role})" for m in shared]
        return lines


async def _help() -> Reply:
    return Reply(text=persona_help())
