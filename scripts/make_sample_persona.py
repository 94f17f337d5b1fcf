#!/usr/bin/env python3
"""Write the synthetic sample persona ``core/samples/sample_persona.jsonl``.

SYNTHETIC DATA: every message is written by this script for the minime project. "Sam Rivera"
(sender ``sam``) and everyone he talks to are invented; no real person's messages are used.

The output is deterministic (a fixed seed, stdlib only, no clock or environment input), so the
committed file can be checked byte for byte against a fresh run:

    python3 scripts/make_sample_persona.py                 # rewrites the committed file
    python3 scripts/make_sample_persona.py --output X.jsonl

Each line is one canonical message (see DESIGN.md):
``{"id", "conversation", "thread", "sender", "text", "sent_at", "reply_to"}``.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20260601
START = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
DAYS = 91  # June, July and August 2026
OWNER = "sam"
ID_PREFIX = "sample-"
DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent.parent / "core" / "samples" / "sample_persona.jsonl"
)


# --------------------------------------------------------------------------------------------
# The people. Sam's colleagues and friends each have a recognisably different way of writing.
# --------------------------------------------------------------------------------------------


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


@dataclass(frozen=True)
class Person:
    name: str
    dm_greetings: tuple[str, ...]
    body: Callable[[random.Random, str], str]


def _priya(rng: random.Random, t: str) -> str:  # tech lead: full sentences, full stops
    return t + rng.choice(["", "", " Thanks.", " Thank you."])


def _marcus(rng: random.Random, t: str) -> str:  # junior dev: excitable, emoji, double marks
    t = _lower_first(t)
    if t.endswith("?"):
        t = t[:-1] + rng.choice(["??", "? 😅", "?", "?? 🙂"])
    elif t.endswith("."):
        t = t[:-1] + rng.choice(["!", "!!", "! 🎉", " 🙂"])
    return t


def _elena(rng: random.Random, t: str) -> str:  # product manager: polite and formal
    return t + rng.choice([" Thanks so much!", " Many thanks!", " Thank you!", ""])


def _dev(rng: random.Random, t: str) -> str:  # SRE: terse, lowercase, no full stops
    t = t.lower().replace("could you ", "can you ").replace("would you mind ", "can you ")
    return t.rstrip(".").replace(". ", ", ")


def _kenji(rng: random.Random, t: str) -> str:  # designer: lowercase, trailing dots
    t = t.lower()
    if t.endswith("."):
        t = t[:-1] + "..."
    return rng.choice(["", "so... ", "hmm ", ""]) + t


def _olivia(rng: random.Random, t: str) -> str:  # engineering manager: warm, dashes
    return t + rng.choice(["", " No rush.", " Appreciate it!", ""])


def _nina(rng: random.Random, t: str) -> str:  # backend engineer, British: "cheers"
    return t + rng.choice([" Cheers!", " Cheers.", "", " Ta!"])


def _jordan(rng: random.Random, t: str) -> str:  # friend: all lowercase, "lol", "dude"
    t = t.lower().rstrip(".!")
    return t + rng.choice(["", " lol", " dude", ""])


def _tasha(rng: random.Random, t: str) -> str:  # friend: exclamations and emoji
    if t.endswith("."):
        t = t[:-1] + "!!"
    return t + rng.choice([" 🎉", " 😍", " 🙌", "!", ""])


def _alex(rng: random.Random, t: str) -> str:  # friend: chatty, capitalised
    return t + rng.choice(["", " Let me know!", " :)", ""])


PEOPLE: dict[str, Person] = {
    "priya": Person("priya", ("Hi Sam. ", ""), _priya),
    "marcus": Person("marcus", ("hey! ", "hey sam! ", "hiii "), _marcus),
    "elena": Person("elena", ("Hi Sam, ", "Hi Sam! ", "Hello Sam, "), _elena),
    "dev": Person("dev", ("", "", "yo "), _dev),
    "kenji": Person("kenji", ("hey ", ""), _kenji),
    "olivia": Person("olivia", ("Hey Sam — ", "Hi Sam — ", ""), _olivia),
    "nina": Person("nina", ("Morning Sam! ", "Hiya, ", ""), _nina),
    "jordan": Person("jordan", ("yo ", "yo sam ", ""), _jordan),
    "tasha": Person("tasha", ("Saaam! ", "Hey you! ", ""), _tasha),
    "alex": Person("alex", ("Sam! ", "Hey Sam, ", ""), _alex),
}

ENGINEERS = ("priya", "marcus", "nina", "dev")
FRIENDS = ("jordan", "tasha", "alex")

# Where each person can ask Sam something: their DM, or a channel where they would @-mention him.
CHANNELS_OF: dict[str, tuple[str, ...]] = {
    "priya": ("#eng-backend", "#code-review", "#launch"),
    "marcus": ("#eng-backend", "#code-review"),
    "elena": ("#launch", "#design-sync"),
    "dev": ("#deploys", "#incidents", "#eng-backend"),
    "kenji": ("#design-sync", "#launch"),
    "olivia": ("#eng-backend", "#launch", "#incidents"),
    "nina": ("#eng-backend", "#code-review", "#deploys"),
    "jordan": ("group:weekend-crew",),
    "tasha": ("group:weekend-crew",),
    "alex": ("group:weekend-crew",),
}


def is_channel(conversation: str) -> bool:
    return conversation.startswith("#")


# --------------------------------------------------------------------------------------------
# Slots filled per exchange, so an incoming message and Sam's answer talk about the same thing.
# --------------------------------------------------------------------------------------------

SERVICES = (
    "billing-api",
    "auth-service",
    "search-indexer",
    "notifications",
    "payments-worker",
    "user-profile",
    "gateway",
    "export-jobs",
)
FEATURES = (
    "rate limiter",
    "csv export",
    "sso login",
    "webhook retries",
    "search filters",
    "invoice pdfs",
    "audit log",
    "bulk import",
    "password reset flow",
    "usage dashboard",
)
TESTS = (
    "test_checkout_flow",
    "test_webhook_retry",
    "test_login_timeout",
    "test_export_large_file",
    "test_invoice_totals",
    "the e2e suite",
)
CAUSES = (
    "a bad config push",
    "the connection pool maxing out",
    "a missing index on invoices",
    "an expired cert",
    "a retry storm from the webhook worker",
    "a slow query after the migration",
)
MEETINGS = ("sprint planning", "the design review", "retro", "the arch sync", "the launch sync")
PLACES = ("the thai place", "the pho spot", "tacos", "the ramen place", "the burrito truck")
WEEKEND = (
    "climbing on saturday",
    "a hike on sunday",
    "board games on friday",
    "a bbq at mine on sunday",
    "5-a-side on saturday morning",
    "brunch on sunday",
    "the lake on saturday",
)
BUSY = (
    "swamped",
    "on call",
    "heads down on the migration",
    "back to back meetings",
    "prepping for the launch",
)
AWAY = ("visiting my parents", "already got plans", "on call", "totally wiped")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def clock(hour: int, minute: int = 0) -> str:
    """12-hour clock the way Sam writes it: 3pm, 10:30am."""
    suffix = "am" if hour < 12 else "pm"
    h = hour % 12 or 12
    return f"{h}{suffix}" if minute == 0 else f"{h}:{minute:02d}{suffix}"


def slots(rng: random.Random, at: datetime) -> dict[str, str]:
    feature = rng.choice(FEATURES)
    slug = feature.replace(" ", "-")
    later = at.hour + rng.randint(1, 3)
    soon = clock(later, rng.choice((0, 0, 30))) if later <= 17 else "tomorrow 10am"
    proposed = clock(rng.randint(max(at.hour + 1, 10), 17) if at.hour < 16 else 10)
    next_day = WEEKDAYS[(at.weekday() + rng.randint(1, 3)) % 5]
    return {
        "pr": f"#{rng.randint(1200, 1899)}",
        "branch": rng.choice(("feat/", "fix/", "chore/")) + slug,
        "service": rng.choice(SERVICES),
        "feature": feature,
        "ticket": f"ENG-{rng.randint(1000, 2999)}",
        "test": rng.choice(TESTS),
        "cause": rng.choice(CAUSES),
        "meeting": rng.choice(MEETINGS),
        "place": rng.choice(PLACES),
        "weekend": rng.choice(WEEKEND),
        "busy": rng.choice(BUSY),
        "away": rng.choice(AWAY),
        "time": soon,
        "when": proposed,
        "day": next_day,
        "alt": rng.choice(
            ("tomorrow am?", "tomorrow 10am?", f"{next_day}?", "after lunch tomorrow?")
        ),
        "version": f"{rng.randint(1, 4)}.{rng.randint(0, 19)}.{rng.randint(0, 9)}",
        "mins": str(rng.choice((5, 10, 15))),
        "person": rng.choice(("priya", "nina", "dev", "marcus")),
    }


# --------------------------------------------------------------------------------------------
# Exchanges: a run of messages in one conversation, with replies and (in channels) a thread.
# --------------------------------------------------------------------------------------------


@dataclass
class Msg:
    sender: str
    conversation: str
    text: str
    sent_at: datetime
    reply_to: Msg | None = None
    root: Msg | None = None
    id: str = ""


@dataclass
class Exchange:
    rng: random.Random
    conversation: str
    at: datetime
    ctx: dict[str, str]
    threaded: bool = True
    msgs: list[Msg] = field(default_factory=list)

    def say(
        self,
        sender: str,
        text: str,
        reply_to: Msg | None = None,
        delay: tuple[int, int] = (1, 25),
    ) -> Msg:
        if self.msgs:
            when = self.msgs[-1].sent_at + timedelta(
                minutes=self.rng.randint(*delay), seconds=self.rng.randint(0, 59)
            )
        else:
            when = self.at
        msg = Msg(sender, self.conversation, text.format(**self.ctx), when, reply_to)
        self.msgs.append(msg)
        return msg

    def incoming(self, who: str, template: str, reply_to: Msg | None = None) -> Msg:
        """A message from someone else, in their own style; greets or @-mentions Sam first."""
        person = PEOPLE[who]
        text = person.body(self.rng, template)
        if reply_to is None:
            if is_channel(self.conversation):
                text = "@sam " + _lower_first(text) if who in ("dev", "kenji") else "@sam " + text
            else:
                greet = self.rng.choice(person.dm_greetings)
                text = greet + (_lower_first(text) if greet.endswith((", ", "— ")) else text)
        return self.say(who, text, reply_to)

    def sam(
        self, options: tuple[str, ...], reply_to: Msg | None, delay: tuple[int, int] = (2, 40)
    ) -> Msg:
        """One of Sam's replies: lowercase, short; signs the longer ones with "- s"."""
        text = self.rng.choice(options)
        msg = self.say(OWNER, text, reply_to, delay)
        if len(msg.text) > 70 and "\n- s" not in msg.text and self.rng.random() < 0.9:
            msg.text += "\n- s"
        return msg

    def clarify(
        self,
        who: str,
        ask: Msg,
        pairs: tuple[tuple[str, str], ...],
        then: tuple[str, ...],
    ) -> Msg:
        """Sam asks for a detail, ``who`` gives it, Sam follows up with one of ``then``."""
        question, answer = self.rng.choice(pairs)
        q = self.sam((question,), ask)
        a = self.incoming(who, answer, q)
        return self.sam(then, a, delay=(1, 15))


# Sam's own wording for the common intents. Scenarios draw from these and add their own.
ACCEPT = (
    "yep, can do by {time}",
    "yep will do",
    "sgtm",
    "sgtm, will do",
    "will do 🙏",
    "yep on it",
    "sure thing, can do by {time}",
)
DECLINE = (
    "can't today, swamped - {alt}",
    "sorry, can't today tbh, {busy} - {alt}",
    "can't right now, {busy} - {alt}",
    "can't today tbh, {busy} and i don't want to half-do it - {alt} i can give it proper attention",
)
DEFER = (
    "let me check and get back to you",
    "let me check and get back to you by {time}",
    "good q - let me check and get back to you",
    "not sure tbh, let me check and get back to you",
    "let me check and get back to you by {time} - want to double check with {person} before i promise anything",
)
THANK = ("ty!", "ty! 🙏", "ty, appreciate it", "ty!! that helps a lot", "oh nice, ty!")
NO_PROBLEM = ("np!", "np 🙏", "anytime!", "np, glad it helped")


def maybe(rng: random.Random, p: float) -> bool:
    return rng.random() < p


# Each scenario writes one exchange. "ask" = someone asks Sam for something.


def sc_review(ex: Exchange, who: str) -> None:
    rng = ex.rng
    ask = ex.incoming(
        who,
        rng.choice(
            (
                "Can you review my PR today?",
                "Could you take a look at my pull request?",
                "Can you review my PR for the {feature}?",
                "Could you review {pr} when you get a chance?",
                "Would you mind reviewing my pull request for the {feature}?",
                "Can you take a look at {pr} before {when}?",
                "Any chance you could review my PR today? It's small.",
                "Can you review {pr}? It's the {feature} change.",
            )
        ),
    )
    branch = rng.random()
    if branch < 0.42:
        ex.sam(
            (
                "yep, can do by {time}",
                "yep, will take a look by {time}",
                "sure, can do by {time}",
                "sgtm, will review by {time}",
                "yep, on it after this meeting",
                "yep, can do by {time} - if it's big i'll do a first pass and come back to the rest tomorrow am",
            ),
            ask,
        )
        if maybe(rng, 0.55):
            done = ex.sam(
                (
                    "left a few comments on {pr}, mostly nits - lgtm otherwise",
                    "approved, one small q about the retry logic but not blocking",
                    "done - couple of comments on the error handling, rest looks good",
                    "reviewed, lgtm 🙏",
                    "left comments - the {feature} part looks good, but i think we need a test for the empty case before we merge",
                ),
                None,
                delay=(40, 150),
            )
            if maybe(rng, 0.5):
                ex.incoming(
                    who, rng.choice(("Thanks for the review!", "Thank you, fixing now.")), done
                )
    elif branch < 0.64:
        ex.clarify(
            who,
            ask,
            (
                ("which branch?", "It's {branch}."),
                ("which one? link?", "{pr}, on {branch}."),
                ("sure - which pr?", "{pr}, sorry!"),
                ("yep, which branch is it on?", "{branch}."),
            ),
            ("ty, will look by {time}", "ty! on it", "got it, can do by {time}"),
        )
    elif branch < 0.87:
        ex.sam(
            (*DECLINE, "can't today, swamped - can {person} take it? otherwise tomorrow am"), ask
        )
    else:
        ex.sam(("let me check what's on my plate and get back to you", *DEFER[:2]), ask)


def sc_deploy(ex: Exchange, who: str) -> None:
    rng = ex.rng
    ask = ex.incoming(
        who,
        rng.choice(
            (
                "Can you deploy {service} to staging?",
                "Could you kick off the prod deploy for {service} at {when}?",
                "Are you ok if we ship {service} {version} on {day}?",
                "Can you roll back {service} to the previous version?",
                "Can you run the migration for {service} today?",
            )
        ),
    )
    r = rng.random()
    if r < 0.5:
        ex.sam(
            (
                "will do",
                "yep, deploying at {time}",
                "sgtm",
                "yep, will do after {meeting}",
                "on it, will post in #deploys when it's out",
            ),
            ask,
        )
    elif r < 0.75:
        ex.clarify(
            who,
            ask,
            (
                ("which env - staging or prod?", "Staging first please."),
                ("which version?", "{version}."),
                ("which region?", "Just eu-west for now."),
            ),
            ("ty, will do by {time}", "got it - will do", "sgtm, doing it now"),
        )
    elif r < 0.9:
        ex.sam(
            (
                "let me check with dev and get back to you",
                "let me check the release notes and get back to you",
            ),
            ask,
        )
    else:
        ex.sam(("can't today tbh, on call and {service} is noisy - {alt}",), ask)


CANT_MAKE_IT = (
    "can't at {when}, got {meeting} - {alt}",
    "sorry, can't make {when} - could do {time}?",
)
MEETINGS_ASKED = (
    # (request, Sam's yeses, Sam's nos, (Sam's clarifying question, its answer))
    (
        "Can we move our 1:1 to {when}?",
        ("yep {when} works", "sgtm", "yep, works for me"),
        CANT_MAKE_IT,
        ("sure - this week or next?", "This week."),
    ),
    (
        "Are you free for a quick call at {when}?",
        (
            "yep {when} works",
            "sure, {when} 👍",
            "yep {when} works - i'll bring the numbers on the {feature} so we can decide then",
        ),
        CANT_MAKE_IT,
        ("what's it about?", "Just the {feature} timeline."),
    ),
    (
        "Can you join {meeting} on {day} at {when}?",
        ("yep, works for me", "sgtm", "yep {when} works"),
        ("can't on {day} tbh, {busy} - could you send me the notes after?", *CANT_MAKE_IT),
        ("who else is coming?", "Just {person} and me."),
    ),
    (
        "Do you have 15 minutes today to talk about the {feature}?",
        ("yep, sent you an invite", "sure, {time}?", "yep, works for me"),
        ("can't today, swamped - {alt}",),
        ("how long do you need?", "About 20 minutes."),
    ),
    (
        "Could you present the {feature} demo at {meeting}?",
        ("sgtm", "yep, will do", "sure, will have it ready"),
        ("can't this time tbh, {busy} - could {person} do it?",),
        ("how long should it be?", "10 minutes max."),
    ),
)


def sc_meeting(ex: Exchange, who: str) -> None:
    rng = ex.rng
    request, yes, no, detail = rng.choice(MEETINGS_ASKED)
    ask = ex.incoming(who, request)
    r = rng.random()
    if r < 0.5:
        ex.sam(yes, ask)
    elif r < 0.78:
        ex.sam(no, ask)
    elif r < 0.9:
        ex.sam(
            (
                "let me check my cal and get back to you",
                "let me check and get back to you by {time}",
            ),
            ask,
        )
    else:
        ex.clarify(who, ask, (detail,), ("ok sgtm", "cool, works for me", "ty - yep works"))


def sc_incident(ex: Exchange, who: str) -> None:
    rng = ex.rng
    ask = ex.incoming(
        who,
        rng.choice(
            (
                "{service} is throwing 5xx errors, can you take a look?",
                "Are you on call? p95 latency on {service} is spiking.",
                "Alerts firing for {service}, error rate is at 4%. Can you check?",
                "Is {service} down for you too?",
            )
        ),
    )
    if rng.random() < 0.3:
        ex.clarify(
            who,
            ask,
            (
                ("which dashboard?", "The {service} overview one."),
                ("which region?", "eu-west."),
                ("since when?", "About 10 minutes ago."),
            ),
            ("ty, looking now", "ok looking"),
        )
    else:
        ex.sam(
            (
                "looking now",
                "on it",
                "yep looking - will update here in {mins} min",
                "on it, checking logs",
            ),
            ask,
            delay=(1, 6),
        )
    fix = ex.sam(
        (
            "fixed - it was {cause}. will write it up tomorrow",
            "should be recovering now, it was {cause}. postmortem doc to follow",
            "mitigated, rolled back {service}. root cause looks like {cause} - will dig in more after lunch",
        ),
        None,
        delay=(15, 70),
    )
    if maybe(rng, 0.6):
        thanks = ex.incoming(
            who,
            rng.choice(("Thanks Sam!", "Nice work, thank you.", "Thanks for jumping on it.")),
            fix,
        )
        if maybe(rng, 0.6):
            ex.sam(NO_PROBLEM, thanks, delay=(1, 20))


QUESTIONS = (
    # (question, (Sam's clarifying question, its answer), Sam's direct answer)
    (
        "Do you know why {test} is flaky?",
        ("which ci job?", "The nightly one."),
        "tbh it's a race in the fixture - setup doesn't wait for the worker. i have a fix on {branch}",
    ),
    (
        "Do you know who owns {service} now?",
        ("the old one or the new one?", "The new one."),
        "i think {person} does tbh",
    ),
    (
        "What's the status of {ticket}?",
        ("which part - backend or ui?", "Backend."),
        "it's in review, should land {day}",
    ),
    (
        "Is the {feature} behind a feature flag?",
        ("which env?", "Prod."),
        "yep, it's behind the flag",
    ),
    (
        "Do we have a runbook for {service}?",
        ("for which alert?", "The high latency one."),
        "yep, it's in the wiki under runbooks",
    ),
    (
        "Did the {feature} change make it into the last release?",
        ("which release, {version}?", "Yes, {version}."),
        "yep, it went out in {version}",
    ),
)


def sc_question(ex: Exchange, who: str) -> None:
    rng = ex.rng
    question, detail, direct = rng.choice(QUESTIONS)
    ask = ex.incoming(who, question)
    r = rng.random()
    if r < 0.45:
        ex.sam((*DEFER, "let me check with {person} and get back to you"), ask)
    elif r < 0.7:
        ex.clarify(who, ask, (detail,), (*DEFER[:2], "ty - will look by {time}"))
    else:
        ex.sam((direct,), ask)


def sc_task(ex: Exchange, who: str) -> None:
    rng = ex.rng
    ask = ex.incoming(
        who,
        rng.choice(
            (
                "Could you give me an estimate for the {feature}?",
                "Can you write up the design doc for the {feature} by {day}?",
                "Can you pick up {ticket} this sprint?",
                "Could you update the launch checklist for the {feature}?",
                "Can you help Marcus with the {feature} tests?",
            )
        ),
    )
    r = rng.random()
    if r < 0.4:
        ex.sam(
            (
                "can do by {day}",
                "will do",
                "yep, can do by {day} eod",
                "sgtm, will do by {time}",
                "yep - can do by {day}. the tricky part is the migration so i'll scope that first and flag anything weird",
            ),
            ask,
        )
    elif r < 0.65:
        ex.sam(
            (
                "let me check and get back to you by eod",
                "let me check with {person} and get back to you",
                "rough guess 3 days, but let me check and get back to you",
            ),
            ask,
        )
    elif r < 0.85:
        ex.sam(
            (
                "can't this sprint tbh, {busy} - next sprint?",
                "can't this week, swamped - could {person} take it?",
                "sorry, can't take it on right now - {busy}. happy to pair on it {day} though",
            ),
            ask,
        )
    else:
        ex.clarify(
            who,
            ask,
            (
                ("what's the deadline?", "End of next week."),
                ("which ticket?", "{ticket}."),
                ("how detailed do you need it?", "Just a rough outline."),
            ),
            ("sgtm, will do", "ok, can do by {day}", "ty - yep can do"),
        )


def sc_favour(ex: Exchange, who: str) -> None:
    """Extra asks on top of the day job: Sam says no to these more often than not."""
    rng = ex.rng
    ask = ex.incoming(
        who,
        rng.choice(
            (
                "Can you cover my on-call shift on {day}?",
                "Could you give a short talk at the guild meeting on {day}?",
                "Can you interview a candidate on {day} at {when}?",
                "Could you mentor the new intern for the next few weeks?",
                "Can you run the {meeting} on {day}? I'm out.",
            )
        ),
    )
    r = rng.random()
    if r < 0.55:
        ex.sam(
            (
                "can't this week tbh, {busy} - next week?",
                "sorry, can't on {day}, {busy} - could {person} do it?",
                "can't right now tbh, swamped - ask me again after the launch?",
                "gonna have to say no this time, {busy}. sorry!",
            ),
            ask,
        )
    elif r < 0.8:
        ex.sam(
            ("yep, can do", "sure, happy to", "yep will do 🙏", "sgtm, send me the details"), ask
        )
    else:
        ex.sam(DEFER, ask)


def sc_thanks(ex: Exchange, who: str) -> None:
    """Someone gives Sam something useful; Sam thanks them."""
    rng = ex.rng
    give = ex.incoming(
        who,
        rng.choice(
            (
                "I pushed the fix for {test}.",
                "Here's the runbook for {service}: wiki/runbooks/{service}.",
                "I covered your on-call shift tonight, don't worry about it.",
                "Merged your {feature} PR.",
                "I added you to the invite for {meeting}.",
                "Sent you the notes from {meeting}.",
                "The staging env is back up.",
            )
        ),
    )
    ex.sam((*THANK, "ty! owe you one", "oh amazing, ty 🙏"), give)


def sc_praise(ex: Exchange, who: str) -> None:
    """Someone thanks Sam; he brushes it off."""
    text = ex.rng.choice(
        (
            "Thanks for fixing {test}!",
            "Thanks for the help with the {feature} yesterday.",
            "Great job on the {feature} demo.",
            "Thank you for covering the deploy.",
        )
    )
    give = ex.incoming(who, text)
    if text.startswith("Great"):
        ex.sam(("ty! team effort tbh", "ty! 🙏", "aw ty"), give)
    else:
        ex.sam(NO_PROBLEM, give)


LUNCH = (
    # (invitation, Sam's yeses, Sam's nos)
    (
        "Lunch today?",
        ("yep! 12:30?", "yes pls, starving", "yep meet you downstairs at 12"),
        ("can't today, swamped - tomorrow?", "can't today, got {meeting} - tomorrow?"),
    ),
    (
        "Want to grab lunch at {place}?",
        ("yep, {place} sgtm", "yep! 12:30?"),
        ("can't today, swamped - tomorrow?", "sorry, eating at my desk today - tomorrow?"),
    ),
    (
        "Coffee at {when}?",
        ("sure, {when} works", "yep, {when} 👍"),
        ("can't at {when}, got {meeting} - {alt}", "can't today, swamped - tomorrow?"),
    ),
    (
        "Lunch tomorrow at {place}?",
        ("yep, {place} sgtm", "yep, tomorrow works"),
        ("can't tomorrow tbh, {busy} - {day}?",),
    ),
)


def sc_lunch(ex: Exchange, who: str) -> None:
    rng = ex.rng
    invitation, yes, no = rng.choice(LUNCH)
    ask = ex.incoming(who, invitation)
    r = rng.random()
    if r < 0.55:
        ex.sam(yes, ask)
    elif r < 0.85:
        ex.sam(no, ask)
    else:
        ex.clarify(who, ask, (("where?", "The usual place."),), ("sgtm", "yep, see you there"))


def sc_weekend(ex: Exchange, who: str) -> None:
    rng = ex.rng
    ask = ex.incoming(
        who,
        rng.choice(
            (
                "Are you up for {weekend}?",
                "We're doing {weekend}, you in?",
                "Want to come to {weekend}?",
                "What are you up to this weekend? Thinking {weekend}.",
            )
        ),
    )
    r = rng.random()
    if r < 0.45:
        ex.sam(
            (
                "yep i'm in",
                "yep, count me in",
                "omg yes",
                "yep! what time?",
                "sgtm, i'll bring snacks",
            ),
            ask,
        )
        if maybe(rng, 0.5):
            detail = ex.incoming(
                who,
                rng.choice(
                    ("10am at the usual spot.", "Around 2, I'll send the address.", "Noon-ish.")
                ),
                ex.msgs[-1],
            )
            ex.sam(("perfect, see you there", "ty! see you then", "sgtm 🙏"), detail, delay=(3, 60))
    elif r < 0.75:
        ex.sam(
            (
                "can't this weekend tbh, {away} - next one?",
                "ahh can't, {away} - next weekend?",
                "gonna have to pass this time, {away}. have fun though!",
                "ahh can't this weekend, {away} - but next weekend i'm totally free, let's do it then",
            ),
            ask,
        )
    elif r < 0.9:
        ex.sam(
            (
                "let me check and get back to you",
                "maybe - let me check with my sister and get back to you",
            ),
            ask,
        )
    else:
        ex.clarify(
            who,
            ask,
            (
                ("what time?", "Like 11?"),
                ("who's going?", "The usual crew."),
                ("where?", "Same place as last time."),
            ),
            ("ok i'm in", "sgtm, see you there", "ty - yep!"),
        )


def sc_fyi(ex: Exchange, who: str) -> None:
    """An FYI nobody needs to answer: triage negatives."""
    text = ex.rng.choice(
        (
            "FYI: staging will be down for maintenance tonight from 10 to 11pm.",
            "Reminder: retro is at 4pm today.",
            "Heads up, I'm out tomorrow.",
            "FYI I merged the {feature} changes.",
            "New dashboards for {service} are up.",
            "Deployed {service} {version} to prod.",
            "The coffee machine on 3 is fixed.",
            "Pizza in the kitchen if anyone wants some.",
            "Release notes for {version} are in the wiki.",
            "Reminder to fill in the team survey by Friday.",
        )
    )
    person = PEOPLE[who]
    ex.say(who, person.body(ex.rng, text))


CHATTER = (
    (
        "Anyone seen {test} failing on main?",
        ("Yes, looking into it.", "Yep, I think it's the new fixture."),
    ),
    ("Is {service} slow for anyone else?", ("Not for me.", "A bit, Dev is on it.")),
    ("Who's going to the offsite?", ("Me!", "Not sure yet.")),
    ("Did we decide on the {feature} naming?", ("Not yet, I think Elena is on it.", "Not yet.")),
)


def sc_chatter(ex: Exchange, who: str) -> None:
    """Colleagues talking among themselves in a channel; Sam stays out of it."""
    rng = ex.rng
    opener, answers = rng.choice(CHATTER)
    first = ex.say(who, PEOPLE[who].body(rng, opener))
    other = rng.choice([p for p in ENGINEERS if p != who])
    ex.say(other, PEOPLE[other].body(rng, rng.choice(answers)), first)


SAM_ASKS = (
    # (Sam's question to a colleague, their possible answers)
    (
        "quick q - are we still doing the {feature} this sprint?",
        ("Yes, still on.", "No, it moved to next sprint."),
    ),
    (
        "hey, do you have the link to the {service} dashboard?",
        ("Here you go: wiki/dashboards/{service}.",),
    ),
    ("did you get a chance to look at {pr}?", ("Not yet, today I promise.", "Yes, approved.")),
    ("can you send me the notes from {meeting}?", ("Sent!", "Just shared them with you.")),
)


def sc_sam_starts(ex: Exchange, who: str) -> None:
    """Sam opens the conversation."""
    rng = ex.rng
    conv = ex.conversation
    if conv == "#code-review":
        ask = ex.sam(
            (
                "anyone around to review {pr}? small one 🙏",
                "could someone take a look at {pr}? it's the {feature} fix",
                "need a second pair of eyes on {pr} pls 🙏",
            ),
            None,
        )
        helper = rng.choice(("priya", "nina", "marcus"))
        got = ex.say(
            helper,
            PEOPLE[helper].body(rng, rng.choice(("On it.", "I can take it.", "Looking now."))),
            ask,
        )
        ex.sam(THANK, got, delay=(1, 10))
    elif conv == "#deploys":
        ex.sam(
            (
                "heads up: deploying {service} {version} to prod at {time}",
                "deploying {service} to staging now",
                "{service} {version} is out, watching the dashboards",
            ),
            None,
        )
    elif conv == "#standup":
        ex.sam(
            (
                "yday: reviews + the {feature} spike\ntoday: {ticket}, then pairing w/ marcus\nblockers: none",
                "yday: {ticket}\ntoday: finishing the {feature} tests\nblockers: waiting on a review for {pr}",
                "running {mins} min late to standup, sorry",
                "yday: on call, mostly quiet\ntoday: {feature} cleanup\nblockers: none",
            ),
            None,
        )
    elif conv == "group:weekend-crew":
        ask = ex.sam(
            (
                "anyone up for {weekend}?",
                "who's around this weekend? thinking {weekend}",
                "{weekend}? 🙏",
            ),
            None,
        )
        answers = ["I'm in!", "Yes please.", "Can't this time, sorry.", "Maybe, what time?"]
        answer = ""
        for friend in rng.sample(FRIENDS, rng.randint(1, 2)):
            answer = rng.choice(answers)
            answers.remove(answer)
            ex.say(friend, PEOPLE[friend].body(rng, answer), ask, delay=(2, 90))
        if maybe(rng, 0.6):
            if answer.startswith("Can't"):
                then: tuple[str, ...] = ("np, next time!", "all good, next time 🙏")
            elif answer.startswith("Maybe"):
                then = ("thinking 10am?", "around 2pm?")
            else:
                then = (
                    "sweet, let's do 10am",
                    "ok i'll book for 2pm",
                    "cool, i'll send details later",
                )
            ex.sam(then, ex.msgs[-1], delay=(5, 60))
    else:  # a DM to a colleague
        question, answers = rng.choice(SAM_ASKS)
        ask = ex.sam((question,), None)
        name = conv.removeprefix("dm:")
        ans = ex.say(name, PEOPLE[name].body(rng, rng.choice(answers)), ask, delay=(3, 60))
        ex.sam(("ty!", "sgtm, ty", "ty 🙏", "ok ty"), ans, delay=(1, 20))


SCENARIOS: dict[str, Callable[[Exchange, str], None]] = {
    "review": sc_review,
    "deploy": sc_deploy,
    "meeting": sc_meeting,
    "incident": sc_incident,
    "question": sc_question,
    "task": sc_task,
    "favour": sc_favour,
    "thanks": sc_thanks,
    "praise": sc_praise,
    "lunch": sc_lunch,
    "weekend": sc_weekend,
    "fyi": sc_fyi,
    "chatter": sc_chatter,
    "sam_starts": sc_sam_starts,
}

# Who asks what (work): scenario -> people who plausibly send it.
ASKERS: dict[str, tuple[str, ...]] = {
    "review": ("priya", "marcus", "nina", "marcus", "nina"),
    "deploy": ("dev", "nina", "priya", "olivia"),
    "meeting": ("olivia", "elena", "priya", "kenji"),
    "incident": ("dev", "olivia", "nina"),
    "question": ("marcus", "nina", "elena", "priya", "kenji"),
    "task": ("olivia", "elena", "priya"),
    "favour": ("olivia", "priya", "nina", "dev", "elena"),
    "thanks": ("priya", "marcus", "nina", "dev", "elena", "olivia"),
    "praise": ("marcus", "elena", "olivia", "kenji"),
    "lunch": ("marcus", "nina", "kenji", "priya"),
    "fyi": ("dev", "elena", "olivia", "nina", "kenji", "priya"),
    "chatter": ENGINEERS,
}
WORK_WEIGHTS = (
    ("review", 16),
    ("deploy", 7),
    ("meeting", 9),
    ("incident", 3),
    ("question", 9),
    ("task", 7),
    ("favour", 5),
    ("thanks", 8),
    ("praise", 4),
    ("lunch", 5),
    ("fyi", 12),
    ("chatter", 4),
    ("sam_starts", 8),
)


def pick_conversation(rng: random.Random, kind: str, who: str) -> str:
    if kind == "incident":
        return rng.choice(("#incidents", "#incidents", f"dm:{who}"))
    if kind == "chatter":
        return rng.choice(("#eng-backend", "#random", "#code-review"))
    if kind == "fyi":
        return rng.choice(("#eng-backend", "#launch", "#random", "#deploys", f"dm:{who}"))
    if kind in ("thanks", "praise") and rng.random() < 0.8:
        return f"dm:{who}"
    if kind == "lunch":
        return rng.choice((f"dm:{who}", f"dm:{who}", "#random"))
    if who in FRIENDS:
        return rng.choice((f"dm:{who}", f"dm:{who}", "group:weekend-crew"))
    if rng.random() < 0.6:
        return f"dm:{who}"
    return rng.choice([c for c in CHANNELS_OF[who] if c != "#incidents"])


def work_start(rng: random.Random, day: datetime) -> datetime:
    return day.replace(
        hour=rng.randint(8, 16), minute=rng.randint(0, 59), second=rng.randint(0, 59)
    )


def build(seed: int = SEED) -> list[Msg]:
    rng = random.Random(seed)
    exchanges: list[Exchange] = []
    kinds = [k for k, _ in WORK_WEIGHTS]
    weights = [w for _, w in WORK_WEIGHTS]
    for d in range(DAYS):
        day = START + timedelta(days=d)
        weekend = day.weekday() >= 5
        if day.weekday() == 0:  # Sam posts a written standup on Mondays
            at = day.replace(hour=9, minute=rng.randint(0, 25), second=rng.randint(0, 59))
            exchanges.append(Exchange(rng, "#standup", at, slots(rng, at)))
            sc_sam_starts(exchanges[-1], OWNER)
        if not weekend:
            for _ in range(rng.choice((2, 2, 2, 3, 3))):
                kind = rng.choices(kinds, weights)[0]
                at = work_start(rng, day)
                if kind == "sam_starts":
                    conv = rng.choice(
                        (
                            "#code-review",
                            "#deploys",
                            "#standup",
                            "dm:priya",
                            "dm:nina",
                            "dm:olivia",
                            "dm:dev",
                        )
                    )
                    who = OWNER
                else:
                    who = rng.choice(ASKERS[kind])
                    conv = pick_conversation(rng, kind, who)
                if conv == "#standup":
                    at = at.replace(hour=9, minute=rng.randint(0, 25))
                ctx = slots(rng, at)
                if ctx["person"] == who:  # "ask priya" should not be said to priya
                    ctx["person"] = rng.choice([p for p in ENGINEERS if p != who])
                exchanges.append(Exchange(rng, conv, at, ctx))
                SCENARIOS[kind](exchanges[-1], who)
        # Friends: planning on Thursday/Friday evenings, chatting at the weekend.
        if day.weekday() in (3, 4) or (weekend and rng.random() < 0.5) or rng.random() < 0.12:
            at = day.replace(
                hour=rng.randint(17, 21) if not weekend else rng.randint(10, 19),
                minute=rng.randint(0, 59),
                second=rng.randint(0, 59),
            )
            if rng.random() < 0.2:
                ex = Exchange(rng, "group:weekend-crew", at, slots(rng, at))
                exchanges.append(ex)
                sc_sam_starts(ex, OWNER)
            else:
                who = rng.choice(FRIENDS)
                ex = Exchange(rng, pick_conversation(rng, "weekend", who), at, slots(rng, at))
                exchanges.append(ex)
                if rng.random() < 0.15:
                    sc_fyi_friend(ex, who)
                else:
                    sc_weekend(ex, who)

    msgs = [m for ex in exchanges for m in ex.msgs]
    for ex in exchanges:
        if is_channel(ex.conversation) and ex.threaded and len(ex.msgs) > 1:
            for m in ex.msgs:
                m.root = ex.msgs[0]
    order = sorted(range(len(msgs)), key=lambda i: (msgs[i].sent_at, i))
    ordered = [msgs[i] for i in order]
    for n, m in enumerate(ordered, start=1):
        m.id = f"{ID_PREFIX}{n:04d}"
    return ordered


def sc_fyi_friend(ex: Exchange, who: str) -> None:
    text = ex.rng.choice(
        (
            "Look at this dog.",
            "Did you see the game last night?",
            "Just got back from the beach.",
            "New album is out, so good.",
        )
    )
    ex.say(who, PEOPLE[who].body(ex.rng, text))


def to_record(m: Msg) -> dict[str, str | None]:
    return {
        "id": m.id,
        "conversation": m.conversation,
        "thread": m.root.id if m.root is not None else None,
        "sender": m.sender,
        "text": m.text,
        "sent_at": m.sent_at.isoformat(),
        "reply_to": m.reply_to.id if m.reply_to is not None else None,
    }


def render(seed: int = SEED) -> str:
    return "".join(json.dumps(to_record(m), ensure_ascii=False) + "\n" for m in build(seed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSONL"
    )
    args = parser.parse_args(argv)
    text = render()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(text.encode("utf-8"))
    lines = text.count("\n")
    print(f"wrote {lines} synthetic messages to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
