"""``quality``: the shared measurement (core.quality), the chat command and its background path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core import quality
from core.app import quality as quality_app
from core.engines.embedding import HashingEmbedder
from core.models import CommandInvocation, Message, Reply, UserRef
from core.profiling.background import background_messages

TOPICS = ["printer", "wifi", "sound", "disk", "kernel", "bootloader", "grub", "nvidia"]
OWNER = UserRef(platform="local", user_id="owner")


def corpus(rounds: int = 8) -> list[Message]:
    """Questions by three people; the owner answers each in their own way, someone else generically;
    the owner ignores a share of the messages that name them."""
    out: list[Message] = []
    t = datetime(2026, 1, 1, tzinfo=UTC)
    n = 0
    for round_ in range(rounds):
        for topic in TOPICS:
            n += 1
            t += timedelta(minutes=5)
            asker = ["ann", "ben", "cy"][n % 3]
            q = Message(id=f"q{n}", conversation="c", thread=None, sender=asker,
                        text=f"sam: my {topic} stopped working after the upgrade, any idea? ({round_})",
                        sent_at=t)  # fmt: skip
            out.append(q)
            if n % 4 == 0:  # ignored: the triage has something to rank
                continue
            out.append(Message(id=f"o{n}", conversation="c", thread=None, sender="sam",
                               text=f"{asker}: {topic} again lol, sudo apt install --reinstall {topic}-fix",
                               sent_at=t + timedelta(seconds=30), reply_to=q.id))  # fmt: skip
            out.append(Message(id=f"g{n}", conversation="c", thread=None, sender="dora",
                               text=f"Hello! Have you checked the {topic} settings? Kind regards.",
                               sent_at=t + timedelta(seconds=40), reply_to=q.id))  # fmt: skip
    return out


def test_measure_reports_drafts_style_and_triage_with_baselines() -> None:
    steps: list[str] = []
    report = quality.measure(
        corpus(), "sam", embedder=HashingEmbedder(), progress=steps.append,
        options=quality.QualityOptions(authors=3),
    )  # fmt: skip
    assert report["enough"] and steps  # progress was told each step
    assert report["data"]["owner_replies"] == 48 and report["data"]["other_writers"] == 4
    drafting = report["drafting"]
    assert drafting["retrieval"]["mrr"] > drafting["chance"]["mrr"]
    low, high = drafting["retrieval"]["mrr_ci"]
    assert low <= drafting["retrieval"]["mrr"] <= high
    assert drafting["retrieval"]["fidelity"] > drafting["baseline"]["fidelity"]
    attribution = report["attribution"]
    assert set(attribution["authors"]) >= {"sam", "dora"}
    assert attribution["verifier_accuracy_ci"][0] <= attribution["verifier_accuracy"]
    assert "auc" in report["triage"] or "error" in report["triage"]
    text = quality.summary(report)
    assert "Reply relevance" in text and "generic reply" in text and "Attribution" in text
    assert "What would help most:" in text
    # 48 replies with a known parent are few: importing more direct messages is the advice.
    assert "direct messages" in report["advice"]
    png = quality.picture(report)
    assert png is not None and png.startswith(b"\x89PNG")


@pytest.mark.parametrize("owner_messages", [0, 1, 5])
def test_too_little_data_says_so_and_what_to_import(owner_messages: int) -> None:
    messages = [m for m in corpus(1) if m.sender != "sam"]
    own = [m for m in corpus(2) if m.sender == "sam"][:owner_messages]
    report = quality.measure(messages + own, "sam", embedder=HashingEmbedder())
    assert not report["enough"] and report["drafting"] is None
    assert "History too short" in report["advice"] and "train <export>" in report["advice"]
    assert "Not enough data to measure yet" in quality.summary(report)
    assert quality.picture(report) is None


def test_few_replies_with_a_parent_is_the_advice() -> None:
    # The owner writes plenty but answers nothing with a known parent.
    t = datetime(2026, 1, 1, tzinfo=UTC)
    messages = [
        Message(
            id=f"s{i}",
            conversation="c",
            thread=None,
            sender="sam",
            text=f"note to self number {i} about the {TOPICS[i % 8]}",
            sent_at=t + timedelta(minutes=i),
        )
        for i in range(60)
    ]
    report = quality.measure(
        messages, "sam", embedder=HashingEmbedder(), extra_writers=background_messages(),
        options=quality.QualityOptions(triage=False),
    )  # fmt: skip
    assert report["enough"] and "error" in report["drafting"]
    assert report["advice"].startswith("Few replies with a known parent (0)")
    # The shipped background writers stand in as the other candidates of the attribution.
    assert len(report["attribution"]["authors"]) == 5


def test_wilson_interval_holds_the_share() -> None:
    low, high = quality.wilson(0.5, 100) or [0.0, 0.0]
    assert 0.39 < low < 0.5 < high < 0.61
    assert quality.wilson(None, 10) is None and quality.wilson(0.5, 0) is None


# ------------------------------------------------------------------------------ the command


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    (tmp_path / "data").mkdir()
    settings = load_settings({}, data_dir=tmp_path / "data")
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        yield rt


async def test_quality_in_chat_is_listed_and_answers_with_a_picture(runtime: Runtime) -> None:
    clone = runtime.clone
    [help_reply] = await clone.handle_command(CommandInvocation(user=OWNER, name="help"))
    assert "quality [persona]" in help_reply.text
    [empty] = await clone.handle_command(CommandInvocation(user=OWNER, name="quality"))
    assert "Nothing to measure yet" in empty.text and "train --sample" in empty.text
    await clone.import_sample(OWNER)
    [reply] = await clone.handle_command(CommandInvocation(user=OWNER, name="quality"))
    assert reply.text.startswith("Persona 'default'. Quality of your clone")
    assert "Reply relevance" in reply.text and "What would help most:" in reply.text
    assert reply.image is not None and reply.image_name == "quality.png"
    [missing] = await clone.handle_command(
        CommandInvocation(user=OWNER, name="quality", text="work")
    )
    assert "No persona called 'work'" in missing.text


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[UserRef, Reply]] = []

    async def notify(self, to: UserRef, reply: Reply) -> bool:
        self.sent.append((to, reply))
        return True


async def test_a_big_history_is_measured_in_the_background_and_sent_later(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = runtime.clone
    await clone.import_sample(OWNER)
    monkeypatch.setattr(quality_app, "BACKGROUND_FROM", 100)
    notifier = RecordingNotifier()
    clone.use_notifier(notifier)
    [first] = await clone.handle_command(CommandInvocation(user=OWNER, name="quality"))
    assert first.text.startswith("Measuring persona 'default' on 475 messages")
    await clone.settle()
    [(to, result)] = notifier.sent
    assert to == OWNER and "Reply relevance" in result.text and result.image is not None


def test_advice_reads_the_weakest_figure() -> None:
    good_drafts = {
        "retrieval": {"mrr": 0.8, "mrr_ci": [0.75, 0.85], "fidelity": 0.9},
        "baseline": {"mrr": 0.5},
        "ceiling": 0.95,
    }
    report = {
        "enough": True,
        "data": {"owner_messages": 900, "owner_replies": 400, "other_messages": 5000},
        "drafting": good_drafts,
        "triage": {"held_out": 40, "answered": 38, "auc": 0.6},
    }
    assert "only 2 unanswered held-out messages" in quality.advice(report)
    report["triage"] = {"held_out": 140, "answered": 90, "auc": 0.8}
    assert quality.advice(report).startswith("Keep it learning")
    report["drafting"] = {**good_drafts, "retrieval": {**good_drafts["retrieval"], "fidelity": 0.5}}
    assert quality.advice(report).startswith("Drafts sound less like you")
    report["drafting"] = {**good_drafts, "retrieval": {"mrr": 0.52, "mrr_ci": [0.45, 0.6]}}
    assert quality.advice(report).startswith("Import more direct messages")
