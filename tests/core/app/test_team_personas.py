"""Personas with an identity, a team and a clone others may ask (issue 17), through the Clone
service on real SQLite with the sample persona; the LLM prompt is read from the local fake
OpenAI-compatible server."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.bootstrap import Runtime, open_runtime
from bot.settings import load_settings
from core.engines.embedding import HashingEmbedder
from core.models import (
    Action,
    ActionInvocation,
    CommandInvocation,
    DraftStatus,
    IncomingMessage,
    Message,
    Reply,
    UserRef,
    utc_now,
)
from core.teams import mentions_topic
from tests.adapters.llm.fake_server import fake_openai

OWNER = UserRef(platform="local", user_id="ana")
REVIEWER = UserRef(platform="local", user_id="rev")
VIEWER = UserRef(platform="local", user_id="vic")
ASKER = UserRef(platform="local", user_id="ask")
STRANGER = UserRef(platform="local", user_id="zed")
QUESTION = "can you review my PR today?"


class RecordingNotifier:
    """Records what the clone says unprompted, to whom."""

    def __init__(self) -> None:
        self.sent: list[tuple[UserRef, Reply]] = []

    async def notify(self, to: UserRef, reply: Reply) -> bool:
        self.sent.append((to, reply))
        return True

    def texts(self, to: UserRef) -> list[str]:
        return [r.text for u, r in self.sent if u == to]


@asynccontextmanager
async def runtime(tmp_path: Path, name: str = "rt", **llm: Any) -> AsyncIterator[Runtime]:
    data = tmp_path / name
    data.mkdir()
    settings = load_settings({}, data_dir=data, llm=llm or None)
    async with open_runtime(settings, embedder=HashingEmbedder()) as rt:
        yield rt


async def say(
    rt: Runtime, user: UserRef, text: str, *, conversation: str | None = None, private: bool = True
) -> Reply:
    replies = await rt.clone.handle_command(
        CommandInvocation(
            user=user, name="", text=text, conversation=conversation, is_private=private
        )
    )
    assert len(replies) == 1, replies
    return replies[0]


def pasted(text: str, owner: UserRef = OWNER, conversation: str = "dm:priya") -> IncomingMessage:
    message = Message(
        id=f"m-{utc_now().timestamp()}-{text[:5]}",
        conversation=conversation,
        thread=None,
        sender="priya",
        text=text,
        sent_at=utc_now(),
    )
    return IncomingMessage(owner=owner, message=message, sender_name="priya", is_direct=True)


async def trained(rt: Runtime) -> None:
    await rt.clone.import_sample(OWNER)
    for user in (REVIEWER, VIEWER, ASKER, STRANGER):
        await rt.clone.account(user)  # they have used minime on this platform


async def test_identity_commands_and_bad_input(tmp_path: Path) -> None:
    async with runtime(tmp_path) as rt:
        await trained(rt)
        assert "Unknown attribute" in (await say(rt, OWNER, "persona set default mood grumpy")).text
        assert "No persona 'nope'" in (await say(rt, OWNER, "persona set nope tone warm")).text
        reply = await say(rt, OWNER, "persona set default tone warm and brief")
        assert "tone is now “warm and brief”" in reply.text
        assert "tone: warm and brief" in (await say(rt, OWNER, "persona show")).text
        assert (
            "No template 'pirate'" in (await say(rt, OWNER, "persona template default pirate")).text
        )
        await say(rt, OWNER, "persona new work")
        reply = await say(rt, OWNER, "persona template work brand")
        assert "audience: customers and the public" in reply.text
        assert (
            "already have a persona 'default'"
            in (await say(rt, OWNER, "persona rename work default")).text
        )
        assert "Renamed" in (await say(rt, OWNER, "persona rename work brand")).text
        reply = await say(rt, OWNER, "persona clone default copy --with-models")
        assert "learned models" in reply.text and "none of your messages" in reply.text
        assert (
            "already have a persona 'brand'"
            in (await say(rt, OWNER, "persona clone default brand")).text
        )
        account = await rt.clone.account(OWNER)
        personas = {p.name: p for p in await rt.storage.personas.list(account.id)}
        assert await rt.storage.identity.attributes(account.id, personas["copy"].id) == {
            "tone": "warm and brief"
        }
        assert await rt.storage.messages.count(account.id, personas["copy"].id) == 0
        assert await rt.storage.messages.count(account.id, personas["default"].id) > 0
        help_text = (await say(rt, OWNER, "persona help")).text
        assert "persona share ask" in help_text and "persona stats" in help_text


async def test_avoided_topic_is_never_offered(tmp_path: Path) -> None:
    async with runtime(tmp_path) as rt:
        await trained(rt)
        before = await rt.clone.handle_incoming(pasted(QUESTION), explicit=True)
        assert before is not None and before.draft is not None
        words = re.findall(r"[a-z]{4,}", before.draft.options[0].text.lower())
        assert words, before.draft.options
        topic = words[0]
        await say(rt, OWNER, f"persona set default avoid {topic}, politics")
        after = await rt.clone.handle_incoming(pasted(QUESTION), explicit=True)
        assert after is not None
        offered = [] if after.draft is None else [o.text for o in after.draft.options]
        assert all(mentions_topic(text, [topic]) is None for text in offered), offered
        assert topic not in {w for t in offered for w in re.findall(r"[a-z]+", t.lower())}


async def test_tone_and_audience_reach_the_llm_prompt(tmp_path: Path) -> None:
    async with (
        fake_openai(mode="echo") as fake,
        runtime(tmp_path, "llm", base_url=fake.base_url, model="fake", max_retries=0) as rt,
    ):
        await trained(rt)
        await say(rt, OWNER, "persona set default tone dry wit, never gushing")
        await say(rt, OWNER, "persona set default audience the platform team")
        await say(rt, OWNER, "persona set default avoid layoffs")
        before = len(fake.requests)
        reply = await rt.clone.handle_incoming(pasted(QUESTION), explicit=True)
        assert reply is not None and reply.draft is not None
        prompts = fake.prompts()[before:]
        assert prompts
        assert all("Tone: dry wit, never gushing" in p for p in prompts)
        assert all("Audience: the platform team" in p for p in prompts)
        assert all("Never mention or promise anything about: layoffs" in p for p in prompts)
        # the echo model repeats the prompt, avoided topic included: the gate drops those options
        assert all("layoffs" not in o.text.lower() for o in reply.draft.options)


async def test_persona_bound_to_a_place_drafts_there(tmp_path: Path) -> None:
    async with runtime(tmp_path) as rt:
        await trained(rt)
        await say(rt, OWNER, "persona clone default work --with-messages")
        reply = await say(rt, OWNER, "persona use work here", conversation="C-ENG")
        assert "drafts now come from persona 'work'" in reply.text
        assert (
            "No persona 'ghost'"
            in (await say(rt, OWNER, "persona use ghost here", conversation="C-ENG")).text
        )
        listing = (await say(rt, OWNER, "persona list")).text
        assert "* default" in listing and "work is used in local C-ENG" in listing
        account = await rt.clone.account(OWNER)
        names = {p.id: p.name for p in await rt.storage.personas.list(account.id)}
        there = await rt.clone.handle_incoming(
            pasted(QUESTION, conversation="C-ENG"), explicit=True
        )
        elsewhere = await rt.clone.handle_incoming(
            pasted(QUESTION, conversation="C-X"), explicit=True
        )
        assert there is not None and there.draft is not None
        assert elsewhere is not None and elsewhere.draft is not None
        assert names[there.draft.persona_id] == "work"
        assert names[elsewhere.draft.persona_id] == "default"


async def test_team_roles_approvals_and_removal(tmp_path: Path) -> None:
    async with runtime(tmp_path) as rt:
        notes = RecordingNotifier()
        rt.clone.use_notifier(notes)
        await trained(rt)
        assert (
            "not on this workspace"
            in (await say(rt, OWNER, "persona invite default @nobody reviewer")).text
        )
        assert "not a mention" in (await say(rt, OWNER, "persona invite default bob reviewer")).text
        assert "No role 'boss'" in (await say(rt, OWNER, "persona invite default @rev boss")).text
        assert (
            "now a reviewer" in (await say(rt, OWNER, "persona invite default @rev reviewer")).text
        )
        assert any("reviewer of the persona 'ana/default'" in t for t in notes.texts(REVIEWER))
        code_reply = (await say(rt, OWNER, "persona invite default viewer")).text
        code = re.search(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code_reply)
        assert code is not None
        assert (
            "viewer of the persona 'ana/default'"
            in (await say(rt, VIEWER, f"persona join {code.group(0)}")).text
        )
        assert (
            "unknown, used or expired"
            in (await say(rt, STRANGER, f"persona join {code.group(0)}")).text
        )
        assert "Shared with you:" in (await say(rt, REVIEWER, "persona list")).text

        first = await rt.clone.handle_incoming(pasted(QUESTION), explicit=True)
        assert first is not None and first.draft is not None
        assert any("A draft of 'ana/default' waits" in t for t in notes.texts(REVIEWER))
        assert not any("waits for review" in t for t in notes.texts(VIEWER))
        review = await say(rt, REVIEWER, "persona review ana/default")
        assert review.draft is not None and review.draft.id == first.draft.id and review.buttons
        viewer_click = await rt.clone.handle_action(
            ActionInvocation(user=VIEWER, action=Action.SEND, draft_id=first.draft.id)
        )
        assert viewer_click.outgoing is None and viewer_click.reply is not None
        assert "viewer" in viewer_click.reply.text
        assert "that needs reviewer" in (await say(rt, VIEWER, "persona review ana/default")).text
        stranger_click = await rt.clone.handle_action(
            ActionInvocation(user=STRANGER, action=Action.SEND, draft_id=first.draft.id)
        )
        assert stranger_click.outgoing is None
        sent = await rt.clone.handle_action(
            ActionInvocation(user=REVIEWER, action=Action.SEND, draft_id=first.draft.id)
        )
        assert sent.outgoing is not None
        await rt.clone.confirm_sent(sent.outgoing)
        account = await rt.clone.account(OWNER)
        stored = await rt.storage.drafts.get(account.id, first.draft.id)
        assert stored is not None and stored.status is DraftStatus.SENT

        # only the owner changes roles; a reviewer cannot
        assert (
            "only the owner"
            in (await say(rt, REVIEWER, "persona role ana/default @vic editor")).text
        )
        second = await rt.clone.handle_incoming(pasted("is the deploy done?"), explicit=True)
        assert second is not None and second.draft is not None
        assert "Removed" in (await say(rt, OWNER, "persona remove default @rev")).text
        old_button = await rt.clone.handle_action(
            ActionInvocation(user=REVIEWER, action=Action.SEND, draft_id=second.draft.id)
        )
        assert old_button.outgoing is None
        still = await rt.storage.drafts.get(account.id, second.draft.id)
        assert still is not None and still.status is DraftStatus.PENDING

        # the approval log says who approved; stats show it; privacy shows the team
        export = await rt.clone.export_data(account)
        approvals = export["approvals"]
        assert isinstance(approvals, list) and approvals[0]["by"] == str(REVIEWER)
        team = export["persona_team"]
        assert isinstance(team, list) and [m["member"] for m in team] == [str(VIEWER)]
        stats = await say(rt, OWNER, "persona stats")
        assert "default: 2 offered · 1 sent" in stats.text and stats.image
        assert str(REVIEWER) in stats.text
        assert "2 offered" in (await say(rt, VIEWER, "persona stats ana/default")).text
        refused = await say(rt, STRANGER, "persona stats ana/default")
        assert "No persona 'ana/default'" in refused.text
        # only the owner exports: a member's export holds their own account, none of the owner's
        member_export = await rt.clone.export_data(await rt.clone.account(VIEWER))
        assert member_export["drafts"] == [] and member_export["approvals"] == []
        privacy = (await say(rt, OWNER, "privacy")).text
        assert "local:vic is a viewer of 'default'" in privacy
        assert "shared with you: 'ana/default' as viewer" in (await say(rt, VIEWER, "privacy")).text


async def test_ask_my_clone_share_quota_approval_and_revoke(tmp_path: Path) -> None:
    async with runtime(tmp_path) as rt:
        notes = RecordingNotifier()
        rt.clone.use_notifier(notes)
        await trained(rt)
        assert "Nobody by that name" in (await say(rt, ASKER, f"ask @ana {QUESTION}")).text
        assert (
            "No persona 'ghost'" in (await say(rt, OWNER, "persona share ask ghost with @ask")).text
        )
        assert (
            "Quota" in (await say(rt, OWNER, "persona share ask default with @ask quota lots")).text
        )
        reply = await say(
            rt, OWNER, "persona share ask default with @ask topics review, deploy quota 2/day"
        )
        assert "every answer waits for your approval" in reply.text
        assert "Nobody by that name" in (await say(rt, STRANGER, f"ask @ana {QUESTION}")).text
        assert (
            "answers only about: review, deploy"
            in (await say(rt, ASKER, "ask @ana what is for lunch?")).text
        )

        waiting = await say(rt, ASKER, f"ask @ana {QUESTION}")
        assert "approves answers" in waiting.text
        heading, card = [r for u, r in notes.sent if u == OWNER][-2:]
        assert "ask asked your clone 'default'" in heading.text and QUESTION in heading.text
        assert card.draft is not None and card.buttons
        inbox = (await say(rt, OWNER, "inbox")).text
        assert QUESTION in inbox
        done = await rt.clone.handle_action(
            ActionInvocation(user=OWNER, action=Action.SEND, draft_id=card.draft.id)
        )
        assert done.outgoing is None and done.reply is not None and "Sent" in done.reply.text
        answer = notes.texts(ASKER)[-1]
        assert card.draft.options[0].text in answer and "approved by ana" in answer

        await say(rt, ASKER, "ask @ana is the deploy done?")
        over = await say(rt, ASKER, f"ask @ana {QUESTION}")
        assert "(2/day)" in over.text
        metering = (await say(rt, OWNER, "persona shares")).text
        assert "local:ask: 2 / 2 / 1" in metering

        # auto-answer only when enabled, with the disclosure
        await say(rt, OWNER, "persona share ask default with anyone-in-workspace auto")
        auto = await say(rt, STRANGER, f"ask @ana {QUESTION}")
        assert "answered automatically by ana's AI clone" in auto.text
        assert "not reviewed" in auto.text

        account = await rt.clone.account(OWNER)
        export = await rt.clone.export_data(account)
        shares = export["persona_shares"]
        assert isinstance(shares, list) and {s["asker"] for s in shares} == {"ask", "*"}
        consults = export["consults"]
        assert isinstance(consults, list) and len(consults) == 3

        assert "Revoked 2" in (await say(rt, OWNER, "persona unshare default")).text
        assert "Nobody by that name" in (await say(rt, STRANGER, f"ask @ana {QUESTION}")).text

        await say(rt, OWNER, "persona share ask default with @ask")
        erased = await say(rt, OWNER, "privacy erase confirm")
        assert "were told" in erased.text
        assert any("no longer available" in t for t in notes.texts(ASKER))
        assert "Nobody by that name" in (await say(rt, ASKER, f"ask @ana {QUESTION}")).text


async def test_export_file_holds_identity_and_bindings(tmp_path: Path) -> None:
    async with runtime(tmp_path) as rt:
        await trained(rt)
        await say(rt, OWNER, "persona set default values candour")
        await say(rt, OWNER, "persona use default here", conversation="C1")
        reply = await say(rt, OWNER, "privacy export")
        assert reply.file is not None
        with zipfile.ZipFile(io.BytesIO(reply.file)) as archive:
            data = json.loads(archive.read("minime-export.json"))
        assert data["persona_identity"] == [
            {"persona": "default", "attributes": {"values": "candour"}}
        ]
        assert data["persona_bindings"][0]["place"] == "C1"


async def test_posts_follow_the_persona_identity(tmp_path: Path) -> None:
    async with (
        fake_openai(mode="echo") as fake,
        runtime(tmp_path, "post", base_url=fake.base_url, model="fake", max_retries=0) as rt,
    ):
        await trained(rt)
        await say(rt, OWNER, "persona set default tone plain and factual")
        await say(rt, OWNER, "persona set default avoid the merger")
        refused = await say(rt, OWNER, "post linkedin our plans after the merger")
        assert "avoids the merger" in refused.text
        before = len(fake.requests)
        await say(rt, OWNER, "post linkedin what we learned shipping the new deploy pipeline")
        prompts = fake.prompts()[before:]
        assert prompts and all("Tone: plain and factual" in p for p in prompts)


async def test_an_editor_teaches_a_sample_exchange_a_viewer_cannot(tmp_path: Path) -> None:
    async with runtime(tmp_path) as rt:
        await trained(rt)
        await say(rt, OWNER, "persona invite default @rev editor")
        await say(rt, OWNER, "persona invite default @vic viewer")
        question = "when does the spring brand sale start?"
        taught = await say(
            rt, REVIEWER, f"persona sample ana/default {question} => the sale starts friday at 9"
        )
        assert "learned a sample exchange" in taught.text
        refused = await say(rt, VIEWER, f"persona sample ana/default {question} => never")
        assert "that needs editor" in refused.text
        assert "Usage: persona sample" in (await say(rt, OWNER, "persona sample default hi")).text
        reply = await rt.clone.handle_incoming(pasted(question), explicit=True)
        assert reply is not None and reply.draft is not None
        assert "the sale starts friday at 9" in [o.text for o in reply.draft.options]
