"""The README and docs/ stay true: links resolve, shown commands parse, the config page is current.

- Every relative link (and ``#anchor``) in README.md and docs/*.md points at something in the
  repository; nothing points outside it (a user's clone has no ``../shared``).
- Every ``minime`` command in a code block parses with the real argument parser (synopsis lines
  with ``[...]`` or ``a|b`` must name a real subcommand and real options); every ``bench/`` or
  ``scripts/`` program shown exists; every ``/clone`` line parses with the chat grammar.
- ``docs/configuration.md`` is exactly what ``bot.config_reference`` generates from the settings.
"""

from __future__ import annotations

import argparse
import io
import re
import shlex
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config_reference import PAGE, render
from core.commands import CommandError, parse

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_INLINE = re.compile(r"`([^`\n]+)`")
_PROGRAMS = ("minime", "scripts/run", ".venv/bin/minime")
PLATFORM_ONLY = {"send-mode": ROOT / "adapters" / "discord"}
"""Commands one adapter adds to the shared grammar, and the adapter package that defines them."""


def _ids(pages: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in pages]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}


def prose(text: str) -> str:
    return _FENCE.sub("", text)


def test_there_are_docs_and_the_readme_is_a_short_front_door() -> None:
    assert len(PAGES) >= 10
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 150


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_relative_link_resolves(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "../shared" not in text and "shared/DESIGN" not in text, "points outside the repository"
    broken = []
    for target in _LINK.findall(prose(text)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.exists():
            broken.append(f"{target} (no {resolved})")
            continue
        if ROOT not in resolved.parents and resolved != ROOT:
            broken.append(f"{target} (outside the repository)")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target} (no heading #{anchor} in {resolved.name})")
    assert not broken, f"{page.name}: broken links: {broken}"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for action in parser._actions for o in action.option_strings}


def _commands(text: str) -> list[list[str]]:
    """``minime …`` invocations in the shell/text code blocks of a page, as argv lists."""
    found = []
    for lang, block in _FENCE.findall(text):
        if lang not in ("", "sh", "bash", "text", "console", "shell"):
            continue
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            for part in re.split(r"&&|\|(?=\s*(?:scripts/run|minime|\.venv/bin/minime)\b)", line):
                try:
                    words = shlex.split(part, comments=True)
                except ValueError:
                    words = part.split()
                if words and words[0] in _PROGRAMS:
                    found.append(words)
    return found


def _check_synopsis(words: list[str], where: str) -> list[str]:
    """A synopsis line: the subcommand exists and every --option it names is one of it."""
    parser = build_parser()
    rest = [
        w for w in words[1:] if not w.startswith("[--data-dir") and w not in ("DIR]", "[--debug]")
    ]
    subs = _subparsers(parser)
    names = [w for w in rest if w in subs]
    if not names:
        return [f"{where}: no subcommand in {' '.join(words)!r}"]
    problems = []
    segments = " ".join(words).split(" | ")
    for segment in segments:
        tokens = segment.split()
        chosen = next((subs[t] for t in tokens if t in subs), subs[names[0]])
        nested = _subparsers(chosen)
        options = _options(parser) | _options(chosen)
        for token in tokens:
            for option in re.findall(r"--[a-z][a-z-]*", token):
                if option not in options:
                    problems.append(f"{where}: {option} is not an option in {segment!r}")
        for token in tokens:
            if nested and token.isalpha() and token in nested:
                break
        else:
            if nested:
                problems.append(f"{where}: {segment!r} names no action")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_command_shown_parses(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    problems: list[str] = []
    for words in _commands(text):
        where = f"{page.name}: {' '.join(words)}"
        argv = words[1:] or ["run"]
        if any(re.search(r"\[|\]|\w\|\w|\|--", w) for w in argv):
            problems += _check_synopsis(words, where)
            continue
        try:
            build_parser().parse_args(argv)
        except SystemExit as exit_:
            if exit_.code:
                problems.append(f"{where}: does not parse")
        subs = _subparsers(build_parser())
        if argv[0] in subs or argv[0].startswith("-"):
            name = next((a for a in argv if a in subs), None)
            if name is not None:
                with pytest.raises(SystemExit) as help_exit, redirect_stdout(io.StringIO()):
                    build_parser().parse_args([name, "--help"])
                assert help_exit.value.code == 0
    # Inline mentions (`minime eval`, `minime export --user U`) name real commands and options.
    for code in _INLINE.findall(prose(text)):
        words = code.split()
        if words and words[0] == "minime" and len(words) > 1 and not words[1].startswith("<"):
            problems += _check_synopsis(words, f"{page.name}: `{code}`")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_program_and_chat_command_shown_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    problems = []
    for path in re.findall(r"(?<![\w/.])((?:bench|scripts)/[\w.-]+)", text):
        if not (ROOT / path).exists():
            problems.append(f"{path} does not exist")
    lines = [line.strip() for _, block in _FENCE.findall(text) for line in block.splitlines()]
    lines += _INLINE.findall(prose(text))
    for line in lines:
        if not line.startswith("/clone"):
            continue
        command = line.split("  #")[0].split(" # ")[0].strip()
        name = command.split()[1] if len(command.split()) > 1 else ""
        if name in PLATFORM_ONLY:
            sources = " ".join(
                p.read_text(encoding="utf-8") for p in PLATFORM_ONLY[name].glob("*.py")
            )
            if f'name="{name}"' not in sources:
                problems.append(f"{command!r}: not defined in {PLATFORM_ONLY[name].name}")
            continue
        try:
            parse(command)
        except CommandError as error:
            problems.append(f"{command!r}: {error}")
    assert not problems, f"{page.name}: " + "; ".join(problems)


def test_the_configuration_page_is_generated_from_the_settings_model() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is stale: run `python -m bot.config_reference`"
    )


def test_every_setting_is_documented() -> None:
    from pydantic import BaseModel

    from bot.settings import Settings

    missing = []
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            missing += [
                f"{name}.{sub}" for sub, f in annotation.model_fields.items() if not f.description
            ]
        elif not field.description:
            missing.append(name)
    assert not missing, f"settings without a docstring (they make the config page): {missing}"


def test_the_card_examples_are_what_the_adapters_render() -> None:
    from bot.card_examples import pages

    stale = [p.name for p, text in pages().items() if p.read_text(encoding="utf-8") != text]
    assert not stale, f"stale card examples in {stale}: run `python -m bot.card_examples`"
