from __future__ import annotations

import pytest

from core.drafting.acts import slots_for
from core.drafting.personal import about_you


@pytest.mark.parametrize(
    "text",
    [
        "how did the move go?",
        "hey, how are you doing?",
        "how have you been?",
        "how's your new place?",
        "did you have a good trip?",
        "did you enjoy the concert?",
        "are you feeling better?",
        "you ok?",
        "how do you like the new desk?",
        "what did you get up to over the holiday?",
        "¿cómo te fue en el viaje?",
        "comment s'est passée ta semaine ?",
        "wie geht's?",
        "как прошли выходные?",
        "旅行どうだった？",
    ],
)
def test_questions_about_the_readers_own_life(text: str) -> None:
    assert about_you(text)


@pytest.mark.parametrize(
    "text",
    [
        "how do you restart the worker?",
        "how are you running the tests?",
        "how's the migration going?",
        "are you ok if we ship on thursday?",
        "did you get a chance to read the spec?",
        "when does the train leave?",
        "is the wiki down again?",
        "how was the deploy?",
        "are you free at 3?",
    ],
)
def test_questions_about_facts_or_work(text: str) -> None:
    assert not about_you(text)


def test_only_a_question_about_facts_or_work_gets_a_holding_reply() -> None:
    kinds = [s.kind for s in slots_for("open_question", "how did the move go?")]
    assert kinds == ["answer"]
    kinds = [s.kind for s in slots_for("open_question", "who owns the payments service now?")]
    assert kinds == ["answer", "hold"]
    assert [s.kind for s in slots_for("yes_no_question", "did you have fun at the lake?")] == [
        "answer"
    ]
