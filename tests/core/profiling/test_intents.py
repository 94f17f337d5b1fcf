from __future__ import annotations

import pytest

from core.profiling import classify_intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("sure, sounds good!", "accept"),
        ("Yes, I'm in", "accept"),
        ("ok will do", "accept"),
        ("count me in", "accept"),
        ("no problem, happy to help", "accept"),
        ("can't wait!", "accept"),
        ("sure, thanks!", "accept"),
        ("Sorry, I can't make it tonight", "decline"),
        ("thanks, but I can’t", "decline"),
        ("no thanks", "decline"),
        ("I'll pass this time", "decline"),
        ("Unfortunately I won't be able to attend", "decline"),
        ("nope", "decline"),
        ("sorry, can't today", "decline"),
        ("can't make 5pm - could do 1pm?", "decline"),
        ("ahh can't this weekend, on call", "decline"),
        ("no can do, swamped", "decline"),
        ("can't find the config file", None),
        ("can't wait!", "accept"),
        ("let me check and get back to you", "defer"),
        ("not right now, maybe later", "defer"),
        ("can we push it to next week?", "defer"),
        ("sure, but tomorrow instead?", "defer"),
        ("busy right now", "defer"),
        ("ty - will look by 4pm", "accept"),
        ("thanks, will review it by tomorrow", "accept"),
        ("sgtm, see you then", "accept"),
        ("can't do tuesday - wednesday?", "decline"),
        ("let me check and get back to you by 3pm", "defer"),
        ("thanks!", "thank"),
        ("Thank you so much", "thank"),
        ("cheers", "thank"),
        ("what time?", "ask_details"),
        ("which room is it in?", "ask_details"),
        ("could you send me the details", "ask_details"),
        ("is it at the usual place?", "ask_details"),
        ("the build is green again", None),
        ("", None),
        ("lol", None),
    ],
)
def test_classify_intent(text: str, intent: str | None) -> None:
    assert classify_intent(text) == intent
