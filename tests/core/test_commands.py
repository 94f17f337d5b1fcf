from __future__ import annotations

import pytest

from core.commands import COMMANDS, CommandError, help_text, parse


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("/clone help", "help", ()),
        ("/clone", "help", ()),
        ("/draft can you review my PR?", "draft", ("can", "you", "review", "my", "PR?")),
        ("/draft@minime_bot hi there", "draft", ("hi", "there")),
        ("clone persona new Work Voice", "persona", ("new", "Work", "Voice")),
        ("/clone persona", "persona", ("list",)),
        ("/clone PRIVACY Pause", "privacy", ("pause",)),
        ("/start", "help", ()),
        ("/clone train --sample", "train", ("--sample",)),
        ('/clone train "my export.zip"', "train", ("my export.zip",)),
    ],
)
def test_parse_accepts_every_platform_spelling(text: str, name: str, args: tuple[str, ...]) -> None:
    parsed = parse(text)
    assert (parsed.name, parsed.args) == (name, args)


def test_free_text_keeps_the_raw_text() -> None:
    assert parse("/clone draft  Can you  review it?").text == "Can you  review it?"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("/clone frobnicate", "don't know the command 'frobnicate'"),
        ("/clone draft", "Usage: draft"),
        ("/clone privacy shred", "Usage: privacy"),
    ],
)
def test_bad_commands_say_what_is_wrong(text: str, needle: str) -> None:
    with pytest.raises(CommandError, match=needle):
        parse(text)


def test_help_lists_every_command_in_the_platform_spelling() -> None:
    slack = help_text()
    telegram = help_text(prefix="/")
    for spec in COMMANDS:
        assert f"/clone {spec.usage}" in slack
        assert f"/{spec.usage}" in telegram
    assert len(slack.splitlines()) <= 24, "help must fit one screen"


@pytest.mark.parametrize(
    ("text", "me"),
    [
        ('train export.json --me "Your Name"', "Your Name"),
        ("train export.json --me 'Your Name'", "Your Name"),
        ("train export.json --me=Sam", "Sam"),
        ('train export.json --me="Sam Rivera"', "Sam Rivera"),
        ("train export.json --me Sam", "Sam"),
        ("train export.json --me “Sam Rivera”", "Sam Rivera"),  # typed by Slack/iOS/macOS
        ('train --me "Seán O’Brien" export.json', "Seán O’Brien"),
    ],
)
def test_options_parse_like_a_shell(text: str, me: str) -> None:
    from core.commands import split_options

    words, options = split_options(parse(text).args, ("--me",))
    assert options == {"--me": me}
    assert words == ("export.json",)


def test_shell_words_fall_back_to_plain_words_on_an_unbalanced_quote() -> None:
    from core.commands import shell_words

    assert shell_words('a "b c" d') == ("a", "b c", "d")
    assert shell_words("it's fine") == ("it's", "fine")


@pytest.mark.parametrize(
    ("text", "rest_of_line", "me"),
    [
        ('--me "Your Name"', False, "Your Name"),
        ("--me=Your Name", False, "Your"),
        ("--me=Your Name", True, "Your Name"),
        ("please import --me  Your   Name ", True, "Your Name"),
        ('--me "Your Name" thanks', True, "Your Name"),
        ("no option here", True, None),
        ("--me", False, None),
    ],
)
def test_an_option_in_a_caption_or_comment(text: str, rest_of_line: bool, me: str | None) -> None:
    from core.commands import option

    assert option(text, "--me", rest_of_line=rest_of_line) == me


def test_bare_privacy_shows_what_is_shared() -> None:
    assert parse("/clone privacy").args == ("status",)
