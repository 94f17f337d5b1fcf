"""Write the synthetic background corpus shipped in ``core/samples/background/``.

Twelve invented writers with deliberately different habits (a formal e-mailer, a lowercase texter,
an emoji enthusiast, a terse engineer, …) write about everyday work and life from a shared pool of
templates. Nothing here is real: every message is generated from the templates below with a fixed
seed, so the corpus can be shipped and regenerated bit for bit:

    python bench/make_background.py
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "core" / "samples" / "background" / "writers.jsonl"
PER_WRITER = 130

TASKS = [
    "the report", "the slides", "the budget", "the release notes", "the database migration",
    "the quarterly review", "the invoice", "the contract", "the onboarding doc", "the test plan",
    "the printer", "the wifi", "the new laptop", "the deploy", "the website", "the spreadsheet",
    "the grant application", "the survey results", "the design mockups", "the hiring plan",
    "the garden fence", "the car", "the flat viewing", "the tax forms", "the vet appointment",
]  # fmt: skip
EVENTS = [
    "dinner", "the game", "the party", "book club", "the concert", "lunch", "the hike",
    "the barbecue", "drinks", "the school play", "the wedding", "movie night", "the run",
]  # fmt: skip
TIMES = [
    "tomorrow", "tonight", "on Friday", "next week", "at 3", "this afternoon", "on Monday morning",
    "later today", "at noon", "on the weekend", "before Thursday", "by end of day",
]  # fmt: skip
PEOPLE = ["Sam", "Priya", "the team", "Mum", "Alex", "the landlord", "Jordan", "our client",
          "Chris", "Maya", "the manager", "Dad", "Noor", "Tom"]  # fmt: skip
PROBLEMS = [
    "the numbers don't add up", "the build keeps failing", "nobody has replied yet",
    "it won't turn on", "the link is dead", "we ran out of time", "the file is corrupted",
    "the price went up again", "I can't find the password", "the train was cancelled",
    "it is raining again", "the meeting ran over",
]  # fmt: skip
FEELINGS = [
    "I'm really tired today, it's been a long week.", "I'm so happy with how it turned out.",
    "That was a great idea, thank you.", "I'm a bit worried about the deadline.",
    "This weather is lovely.", "I'm stuck on this and it's annoying.",
    "What a day, I need a coffee.", "I'm excited about the trip.",
]  # fmt: skip

TEMPLATES: list[Callable[[random.Random], str]] = [
    lambda r: f"Can you take a look at {r.choice(TASKS)} {r.choice(TIMES)}?",
    lambda r: f"I finished {r.choice(TASKS)} and sent it to {r.choice(PEOPLE)}.",
    lambda r: f"Do you want to meet {r.choice(TIMES)} to go over {r.choice(TASKS)}?",
    lambda r: f"Sure, {r.choice(TIMES)} works for me.",
    lambda r: f"Sorry, I can't make it {r.choice(TIMES)}.",
    lambda r: f"Let me check and get back to you about {r.choice(TASKS)}.",
    lambda r: f"Thanks for sending {r.choice(TASKS)}.",
    lambda r: f"I think {r.choice(TASKS)} is almost done, but {r.choice(PROBLEMS)}.",
    lambda r: f"{r.choice(TASKS).capitalize()} is a mess again, {r.choice(PROBLEMS)}.",
    lambda r: f"{r.choice(PEOPLE)} said {r.choice(TASKS)} moved to {r.choice(TIMES)}.",
    lambda r: f"Are you coming to {r.choice(EVENTS)} {r.choice(TIMES)}?",
    lambda r: r.choice(FEELINGS),
    lambda r: f"Where did you put {r.choice(TASKS)}?",
    lambda r: f"Don't forget {r.choice(EVENTS)} {r.choice(TIMES)}.",
    lambda r: f"I'll bring something for {r.choice(EVENTS)}.",
    lambda r: f"Has anyone heard from {r.choice(PEOPLE)} about {r.choice(TASKS)}?",
    lambda r: f"Good news, {r.choice(TASKS)} is finally done.",
    lambda r: f"Could we push {r.choice(TASKS)} to {r.choice(TIMES)}?",
    lambda r: "Yes, that sounds good to me.",
    lambda r: f"No worries, I can handle {r.choice(TASKS)}.",
    lambda r: f"Why is {r.choice(TASKS)} taking so long?",
    lambda r: "Just saw your message, I'm on my way.",
]

SLANG_SWAPS = [
    (r"\byou\b", "u"), (r"\byour\b", "ur"), (r"\bare\b", "r"), (r"\bdon't\b", "dont"),
    (r"\bI'm\b", "im"), (r"\bthanks\b", "thx"), (r"\bokay\b", "k"), (r"\bbecause\b", "cuz"),
    (r"\bcan't\b", "cant"), (r"\bgoing to\b", "gonna"), (r"\bto be honest\b", "tbh"),
]  # fmt: skip


def _slangify(text: str) -> str:
    for pattern, repl in SLANG_SWAPS:
        text = re.sub(pattern, repl, text, flags=re.IGNORECASE)
    return text


def _lower(text: str) -> str:
    return text[0].lower() + text[1:] if text else text


def _bare(text: str) -> str:
    return text.rstrip(".!?")


def _sentences(r: random.Random, k: int) -> list[str]:
    return [r.choice(TEMPLATES)(r) for _ in range(k)]


def ana(r: random.Random) -> str:  # formal e-mailer
    body = " ".join(_sentences(r, r.choice([2, 2, 3])))
    body = body.replace("I'm", "I am").replace("can't", "cannot").replace("don't", "do not")
    greet = f"Hi {r.choice(PEOPLE)},\n\n" if r.random() < 0.6 else ""
    return f"{greet}{body}\n\nBest regards,\nAna"


def ben(r: random.Random) -> str:  # lowercase texter
    text = _bare(_slangify(_lower(_sentences(r, 1)[0]))).lower().replace(",", "")
    if r.random() < 0.35:
        text += " lol"
    return text


def cat(r: random.Random) -> str:  # emoji enthusiast
    text = _sentences(r, 1)[0].rstrip(".") + r.choice(["!!", "!", "!!!"])
    text = text.replace("so ", "sooo ").replace("really", "reallyyy")
    if r.random() < 0.3:
        text = "omg " + _lower(text)
    return text + " " + r.choice(["😀", "🎉", "😍", "🥳", "😂", "💕", "✨", "🙌"])


def dev(r: random.Random) -> str:  # terse engineer
    pick = r.random()
    if pick < 0.3:
        cmd = r.choice(["git pull --rebase", "make test", "kubectl get pods", "npm ci",
                        "tail -f /var/log/syslog", "pytest -x", "docker compose up -d"])  # fmt: skip
        return f"try `{cmd}` first. {r.choice(['afaik', 'iirc', 'fwiw'])} that fixes it."
    text = _lower(_sentences(r, 1)[0])
    return text.replace("the ", "").replace("Sorry, ", "")


def eli(r: random.Random) -> str:  # verbose explainer
    parts = _sentences(r, r.choice([3, 4]))
    joiners = [" However, ", " In any case, ", " Also, ", " That said, ", " Honestly, "]
    text = parts[0]
    for p in parts[1:]:
        text += r.choice(joiners) + _lower(p)
    return text.replace(".", ";", 1) if r.random() < 0.3 else text


def fay(r: random.Random) -> str:  # polite asker
    text = _sentences(r, 1)[0]
    if not text.endswith("?"):
        text = f"{text} Could you let me know what you think?"
    return f"{text} Thank you so much!" if r.random() < 0.6 else f"Hello! {text}"


def gus(r: random.Random) -> str:  # ALL CAPS emphasis
    words = _bare(_sentences(r, 1)[0]).split()
    i = r.randrange(len(words))
    words[i] = words[i].upper()
    text = " ".join(words) + r.choice(["!!", "!", "! haha", "!!! HAHA"])
    return text


def hal(r: random.Random) -> str:  # dry and short
    if r.random() < 0.35:
        return r.choice(["Fine.", "Noted.", "Done.", "Agreed.", "No.", "Later.", "OK."])
    text = _sentences(r, 1)[0].split(",")[0].rstrip(".?!") + "."
    return text.replace(" really", "").replace(" so", "")


def ivy(r: random.Random) -> str:  # ellipses and musing
    text = _lower(_bare(_sentences(r, 1)[0])).replace("I ", "i ").replace("I'm", "i'm")
    if r.random() < 0.4:
        text = "hmm " + text
    return text + r.choice(["...", "...", "…", " ..."])


def jon(r: random.Random) -> str:  # british casual
    text = _sentences(r, 1)[0].replace("great", "brilliant").replace("good", "grand")
    if r.random() < 0.4:
        text = _bare(text) + ", mate."
    return text + (" Cheers" if r.random() < 0.4 else "")


def kim(r: random.Random) -> str:  # emoticons and acronyms
    text = _lower(_sentences(r, 1)[0])
    text = f"{r.choice(['btw', 'tbh', 'imo', 'fyi'])} {text}" if r.random() < 0.5 else text
    return text + " " + r.choice([":)", ";)", ":D", ":P", ":/"])


def lou(r: random.Random) -> str:  # manager with signature
    text = " ".join(_sentences(r, r.choice([1, 2])))
    prefix = r.choice(["FYI: ", "Please note: ", "", "Reminder: ", "ASAP: "])
    return f"{prefix}{text}\n-- L"


WRITERS: dict[str, Callable[[random.Random], str]] = {
    "ana": ana, "ben": ben, "cat": cat, "dev": dev, "eli": eli, "fay": fay,
    "gus": gus, "hal": hal, "ivy": ivy, "jon": jon, "kim": kim, "lou": lou,
}  # fmt: skip


def main() -> None:
    r = random.Random(20261121)
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as out:
        for name, write in WRITERS.items():
            t = start
            for i in range(PER_WRITER):
                t += timedelta(minutes=r.randint(5, 600))
                record = {
                    "id": f"synthetic/{name}/{i}",
                    "conversation": f"synthetic/{name}",
                    "thread": None,
                    "sender": f"synthetic-{name}",
                    "text": write(r),
                    "sent_at": t.isoformat(),
                    "reply_to": None,
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(WRITERS) * PER_WRITER} messages to {OUT}")


if __name__ == "__main__":
    main()
