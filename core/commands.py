"""The command grammar shared by every platform: one parser, one help text.

Slack and Discord spell a command ``/clone draft <text>``; Telegram spells it ``/draft <text>``;
the console accepts both. Adapters hand the text after the slash command (or the whole line) to
:func:`parse`, and get a :class:`ParsedCommand` or a :class:`CommandError` whose message is meant
for the user.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandSpec:
    """One command of the grammar."""

    name: str
    usage: str
    summary: str
    subcommands: tuple[str, ...] = ()
    free_text: bool = False
    """Whether the arguments are free text (``draft``, ``ask``) rather than words."""


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(name="help", usage="help", summary="what the clone can do, in one screen"),
    CommandSpec(
        name="train",
        usage='train [--sample | --example | <file> [--me "Your Name"] | on | off [platform|all]]',
        summary="import an export (attach or name it) or the sample persona; learn from messages you send here on/off",
    ),
    CommandSpec(
        name="draft",
        usage="draft <message>",
        summary="drafts a reply to a pasted or forwarded message",
        free_text=True,
    ),
    CommandSpec(
        name="profile",
        usage="profile [correct <n> <text|wrong>]",
        summary="your style card: how you write, value and decide",
    ),
    CommandSpec(
        name="inbox",
        usage="inbox [undo | <conversation>]",
        summary="what is waiting, by conversation, with reasons",
    ),
    CommandSpec(
        name="filter",
        usage="filter [add <topic|sender|kind> <pattern> | remove <n>]",
        summary="collapse kinds of messages in inbox and digest",
        subcommands=("add", "list", "remove"),
    ),
    CommandSpec(
        name="persona",
        usage="persona list | new | use <name> [here] | set | show | stats | share | help",
        summary="voices with an identity, per place, shared with a team or to ask (`persona help`)",
        subcommands=(
            "list",
            "new",
            "use",
            "delete",
            "set",
            "show",
            "rename",
            "clone",
            "template",
            "sample",
            "invite",
            "join",
            "role",
            "remove",
            "team",
            "review",
            "share",
            "unshare",
            "shares",
            "stats",
            "help",
            "schedule",
        ),
    ),
    CommandSpec(
        name="post",
        usage="post <x|linkedin|bluesky> <topic> [options]",
        summary="a post in your voice to publish or schedule",
        free_text=True,
    ),
    CommandSpec(
        name="posts",
        usage="posts [words|scheduled|cancel <n>|export csv|stats]",
        summary="your posts, scheduled ones, export, stats",
        free_text=True,
    ),
    CommandSpec(
        name="connect",
        usage="connect [<network> <credentials>]",
        summary="a network to publish to (encrypted)",
        free_text=True,
    ),
    CommandSpec(
        name="disconnect",
        usage="disconnect <network>",
        summary="forget its credentials",
    ),
    CommandSpec(
        name="ask",
        usage="ask [@someone] <question | plan: steps>",
        summary='"how would I answer this?" (@someone: their clone), or a plan',
        free_text=True,
    ),
    CommandSpec(
        name="quality",
        usage="quality [persona] | history",
        summary="how close the clone is to you, and its trend",
    ),
    CommandSpec(
        name="models",
        usage="models [rollback] [persona]",
        summary="model versions; roll back to the previous",
    ),
    CommandSpec(
        name="digest",
        usage="digest [HH:MM [zone] | off | followup <4h|off>]",
        summary="a daily summary of what matters, in your time zone; reminders for what waits",
    ),
    CommandSpec(
        name="onboard",
        usage="onboard [vips|hours|topics|wait|tz <answer>]",
        summary="a few questions (VIPs, working hours, what matters) that teach the triage",
    ),
    CommandSpec(
        name="privacy",
        usage="privacy [export | erase | pause | resume | disclosure <mode>]",
        summary="your data: take it, destroy it, pause the clone; disclosure none|line|signature",
        subcommands=("status", "export", "erase", "pause", "resume", "disclosure"),
    ),
    CommandSpec(
        name="link",
        usage="link [code]",
        summary="link this account to your clone on another platform",
    ),
)

HELP_COLUMN = 40
"""Usages up to this wide are aligned in ``help``; longer ones are not padded for."""

SPECS: dict[str, CommandSpec] = {spec.name: spec for spec in COMMANDS}
ALIASES: dict[str, str] = {"start": "help", "?": "help", "h": "help"}
ROOT = "clone"


class CommandError(ValueError):
    """A command the user typed that cannot be understood; ``str()`` is meant for the user."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedCommand:
    """A command name with its words and its raw argument text."""

    name: str
    args: tuple[str, ...]
    text: str


def parse(text: str) -> ParsedCommand:
    """Parse ``/clone draft hi``, ``clone draft hi``, ``/draft hi`` or ``draft hi``.

    Raises:
        CommandError: for an empty or unknown command, or a missing/unknown subcommand.
    """
    stripped = text.strip()
    if stripped.startswith("/"):
        stripped = stripped[1:]
    head, _, rest = stripped.partition(" ")
    # Telegram appends the bot's name in groups: /draft@minime_bot
    head = head.split("@", 1)[0].lower()
    if head == ROOT:
        head, _, rest = rest.strip().partition(" ")
        head = head.lower()
    if not head:
        head = "help"
    name = ALIASES.get(head, head)
    spec = SPECS.get(name)
    if spec is None:
        raise CommandError(f"I don't know the command '{head}'. Try 'help'.")
    rest = rest.strip()
    args: tuple[str, ...] = tuple(rest.split()) if spec.free_text else shell_words(rest)
    if spec.subcommands:
        if not args:
            if name in ("persona", "filter"):
                args = ("list",)
            elif name == "privacy":
                args = ("status",)  # what is shared, and the controls
            else:
                raise CommandError(f"Usage: {spec.usage}")
        if args[0].lower() not in spec.subcommands:
            raise CommandError(f"Usage: {spec.usage}")
        args = (args[0].lower(), *args[1:])
    if spec.free_text and not rest and name in ("draft", "ask", "post"):
        raise CommandError(f"Usage: {spec.usage}")
    return ParsedCommand(name=name, args=args, text=rest)


_CURLY_DOUBLE = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'}
)


def shell_words(text: str) -> tuple[str, ...]:
    """Words split like a shell: ``--me "Your Name"`` gives ``("--me", "Your Name")``.

    Typographic double quotes (“…”, which Slack, iOS and macOS type for ") count as quotes;
    apostrophes stay letters (``O’Brien``). An unbalanced quote falls back to plain words.
    """
    normalised = text.translate(_CURLY_DOUBLE)
    try:
        return tuple(shlex.split(normalised))
    except ValueError:
        return tuple(normalised.split())


def split_options(
    words: Sequence[str], names: Iterable[str]
) -> tuple[tuple[str, ...], dict[str, str]]:
    """Separate ``--name value`` and ``--name=value`` options from the other words.

    Args:
        words: Shell words (:func:`shell_words`, or a parsed command's ``args``).
        names: The options that take a value (``--me``); other ``--flags`` stay words.

    Returns:
        The remaining words in order, and each option's value (the last one given wins; an
        option with no value left is ``""``).
    """
    wanted = set(names)
    rest: list[str] = []
    values: dict[str, str] = {}
    iterator = iter(words)
    for word in iterator:
        name, eq, value = word.partition("=")
        if name in wanted:
            values[name] = value if eq else next(iterator, "")
        else:
            rest.append(word)
    return tuple(rest), values


def option(text: str, name: str, *, rest_of_line: bool = False) -> str | None:
    """The value of one option in a line of text (a file's caption or comment, a DM).

    ``--me "Your Name"``, ``--me 'Your Name'``, ``--me=Name`` and ``--me Name`` all work, as in a
    shell. With ``rest_of_line`` an unquoted value runs to the end of the line (``--me Your
    Name`` in a caption, where nothing else follows). ``None`` when the option is absent or empty.
    """
    words = shell_words(text)
    _, values = split_options(words, (name,))
    value = values.get(name)
    if value is None:
        return None
    if rest_of_line:
        flat = text.translate(_CURLY_DOUBLE)
        start = flat.find(name)
        tail = flat[start + len(name) :].lstrip("= \t")
        if tail and tail[0] not in "\"'":
            value = " ".join(tail.split())
    return value.strip() or None


def help_text(*, prefix: str = "/clone ", specs: Sequence[CommandSpec] = COMMANDS) -> str:
    """The one-screen help, spelled for a platform (``prefix="/"`` for Telegram).

    The clone answers ``help`` from its dispatch table (:class:`core.app.commands.CommandTable`),
    which passes the specs it has a handler for.
    """
    # Short usages line up; a long one (train's) is not padded for, so the screen stays narrow
    # enough for one chat message (Discord: 2,000 characters).
    width = min(max(len(spec.usage) for spec in specs) + len(prefix), HELP_COLUMN)
    lines = ["minime — your clone. It drafts, you decide: nothing is sent without your click.", ""]
    for spec in specs:
        lines.append(f"{(prefix + spec.usage).ljust(width)}  {spec.summary}")
    lines += [
        "",
        "Forward or paste a message and the clone triages it and offers drafts with",
        "Send · Edit · Regenerate · Dismiss.",
    ]
    return "\n".join(lines)
