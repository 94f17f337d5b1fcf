"""Emoji on the style card: named in brackets where the font has no glyph, never a box."""

from __future__ import annotations

import warnings

from core.profiling.glyphs import drawable


def test_text_the_font_has_is_unchanged() -> None:
    for text in ("ty! owe you one", "Grüße — «ça va?» 1/5 ✓", "tabs\tand\nlines"):
        assert drawable(text) == text


def test_emoji_become_their_names_and_shaping_marks_vanish() -> None:
    assert drawable("ty 🙏") == "ty [person with folded hands]"
    assert drawable("👍🏽") == "[thumbs up sign]"  # the skin-tone modifier only shaped it
    assert drawable("❤️").startswith("❤")  # the font has this one
    assert "\u200d" not in drawable("👩\u200d💻")


def test_drawing_the_result_warns_about_no_missing_glyph() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.text(0.1, 0.5, drawable("sgtm 🙏😂🎉 will do"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" would raise here
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def test_a_card_of_an_emoji_writer_draws_without_missing_glyphs() -> None:
    from core.profiling import Profiler, render_card

    from .fixtures import samples

    texts = ["ty 🙏", "lol 😂😂", "ship it 🚀", "sgtm 👍🏽", "on my way 🏃\u200d♂️", "🎉🎉 congrats"]
    profile = Profiler().build(samples(texts * 5, counterpart="kim", latency_s=60))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = render_card(profile, title="How Kim writes 🌟")
    assert png[:4] == b"\x89PNG"
