from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.drafting.posts import numbering_habit, platform_named, split_thread


def test_numbering_habit_is_read_from_history() -> None:
    assert numbering_habit(["1/ big news", "2/ more", "lunch?"]) == "n/"
    assert numbering_habit(["thread 1/4", "2/4 and then", "(3/4) more"]) == "n/N"
    assert numbering_habit(["no threads here", "ratio 3/4 of us"]) == "n/N"  # default
    assert numbering_habit([]) == "n/N"


LONG = " ".join(
    f"Point {i}: upgrading from focal to jammy needs a fresh backup first." for i in range(12)
)


def test_x_threads_fit_280_and_number_the_owners_way() -> None:
    for numbering, first_end in (("n/N", " 1/"), ("n/", " 1/"), ("none", ".")):
        parts = split_thread(LONG, limit=280, numbering=numbering)  # type: ignore[arg-type]
        assert len(parts) > 1 and all(len(p) <= 280 for p in parts)
        assert first_end in parts[0][-6:] or numbering == "none"
    full = split_thread(LONG, limit=280, numbering="n/N")
    assert full[0].endswith(f" 1/{len(full)}") and full[-1].endswith(f" {len(full)}/{len(full)}")
    short = split_thread(LONG, limit=280, numbering="n/")
    assert short[1].endswith(" 2/")


def test_a_short_post_is_one_unnumbered_part() -> None:
    assert split_thread("just shipped 24.04 notes", limit=280) == ["just shipped 24.04 notes"]


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=3000),
    numbering=st.sampled_from(["n/", "n/N", "none"]),
)
def test_every_part_fits_whatever_the_text(text: str, numbering: str) -> None:
    parts = split_thread(text, limit=280, numbering=numbering)  # type: ignore[arg-type]
    assert all(len(p) <= 280 for p in parts)
    words = "".join(text.split())
    joined = "".join("".join(parts).split())
    assert len(joined) >= len(words)  # nothing lost (numbers only add)


def test_platform_names() -> None:
    assert platform_named("twitter").limit == 280  # type: ignore[union-attr]
    assert platform_named("LinkedIn").threads is False  # type: ignore[union-attr]
    assert platform_named("bsky").limit == 300  # type: ignore[union-attr]
    assert platform_named("myspace") is None
