"""Hand-written writers for the profiling and verifier tests (invented, not real people)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.profiling import ProfileSample

CASUAL = [
    "hey u around tonight lol",
    "yeah sounds good",
    "btw did u see the game",
    "lol that was wild",
    "im gonna be late sorry",
    "ok cool see u there",
    "dont worry about it",
    "haha yeah i know right",
    "u coming to the thing",
    "idk maybe tomorrow",
    "thats so funny lol",
    "brb getting food",
    "yeah i can do that",
    "nah not today",
    "k see u",
    "omg yes",
    "wanna grab lunch",
    "lol no way",
    "i think its fine tbh",
    "cool cool",
    "what time is it at",
    "sure thing",
    "ugh monday again",
    "lemme check",
]

FORMAL = [
    "Good morning Anna,\n\nThank you for the detailed report. I will review it carefully today.\n\nBest regards,\nMarcus",
    "Could you please send me the final figures before Thursday?",
    "I appreciate your patience while we resolve the remaining issues.",
    "The meeting has been moved to Wednesday at 10:00. Please confirm your attendance.",
    "Unfortunately, I will not be able to attend the workshop next week.",
    "Please find the revised contract attached. Let me know if anything is unclear.",
    "Thank you. I have forwarded your request to the finance department.",
    "Regarding the budget, we should discuss the allocation in more detail.",
    "I would be happy to present the results at the next board meeting.",
    "Furthermore, the schedule must be approved by the committee.",
    "Kind regards,\nMarcus",
    "The documentation has been updated. Additionally, the examples are now tested.",
    "Would it be possible to postpone the review until Monday?",
    "I have completed the analysis. The results are summarised below.",
    "Please accept my apologies for the delayed response.",
    "We will proceed with the second option, as discussed.",
    "Hello Priya,\n\nThe invoice was paid on Tuesday.\n\nBest regards,\nMarcus",
    "Certainly. I will prepare the slides by Friday.",
    "The proposal is thorough; however, the timeline seems ambitious.",
    "Thank you for your assistance with the migration.",
    "Could we schedule a short call to clarify the requirements?",
    "I confirm that the delivery will arrive on schedule.",
    "The report is attached. I look forward to your comments.",
    "Please note that the office will be closed on Friday.",
]

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def samples(
    texts: list[str],
    *,
    start: datetime = START,
    step_s: float = 3600,
    counterpart: str | None = None,
    latency_s: float | None = None,
    conversation: str = "chat",
) -> list[ProfileSample]:
    """One sample per text, ``step_s`` apart, optionally as replies to ``counterpart``."""
    return [
        ProfileSample(
            text=text,
            sent_at=start + timedelta(seconds=i * step_s),
            conversation=conversation,
            counterpart=counterpart,
            latency_s=latency_s,
            is_reply=counterpart is not None,
        )
        for i, text in enumerate(texts)
    ]


def writer_texts(style: str, n: int, seed: int = 0) -> list[str]:
    """``n`` invented messages in one of three clearly distinct styles: casual, formal, excited."""
    import random

    r = random.Random(f"{style}-{seed}")
    things = ["game", "pizza", "movie", "party", "trip", "bike", "concert", "beach", "show"]
    work = ["report", "budget", "meeting", "contract", "schedule", "proposal", "invoice", "review"]
    days = ["Monday", "Tuesday", "Thursday", "Friday", "next week", "tomorrow morning"]
    out = []
    for _ in range(n):
        thing, job, day = r.choice(things), r.choice(work), r.choice(days)
        if style == "casual":
            text = r.choice(
                [
                    f"lol u coming to the {thing} tonight",
                    f"yeah the {thing} was sick tbh",
                    f"idk man {thing} sounds kinda meh",
                    f"brb grabbing {thing} stuff lol",
                    f"nah im good, {thing} later maybe",
                    f"omw to the {thing} lol",
                    f"dude the {thing} tho",
                ]
            )
        elif style == "formal":
            text = r.choice(
                [
                    f"Please send me the revised {job} before {day}.",
                    f"Thank you for the {job}. I will review it carefully.",
                    f"The {job} has been approved; we will proceed on {day}.",
                    f"Could we discuss the {job} in more detail on {day}?",
                    f"I have attached the {job}. Kind regards, Marcus.",
                    f"Unfortunately, the {job} requires further changes.",
                ]
            )
        else:
            text = r.choice(
                [
                    f"OMG the {thing} was AMAZING!!! 🎉",
                    f"Can't wait for the {thing} on {day}!!! 😍",
                    f"Best {thing} EVER!! 🙌",
                    f"Yesss {thing} time!!! ✨",
                    f"So excited about the {thing}!!! 🥳",
                ]
            )
        out.append(text)
    return out
