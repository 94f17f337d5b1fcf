"""Posts with a life: the stored post, its steps (who moved it, when), the networks it goes to.

A post is a draft in the owner's voice for one network (X, Bluesky, LinkedIn), one part or a
thread of up to nine. It moves ``draft → approved → scheduled → published`` (or ``dismissed``),
each step a :class:`PostEvent` recording the :class:`Actor` and the time. Publishing records each
part's remote id before the next part goes out, so a retried, redelivered or restarted publish
resumes after the last part that went out instead of posting it twice.

The networks are ports (:class:`Network`): ``adapters/networks`` implements them over each
network's real API (Bluesky through the ``atproto`` SDK, X's v2 API, LinkedIn's posts API);
``core/`` never sees an HTTP client.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from core.models import AccountId, PersonaId, UserRef

PostId = str
POST_ID_PREFIX = "p"
"""Post ids are ``p`` + 31 hex digits, so a button's id says whether it names a post or a draft
(draft ids are 32 hex digits)."""
MAX_PARTS = 9


def new_post_id() -> PostId:
    return POST_ID_PREFIX + uuid.uuid4().hex[:31]


def is_post_id(value: str) -> bool:
    return len(value) == 32 and value.startswith(POST_ID_PREFIX)


class PostStatus(enum.StrEnum):
    """Where a post is in its life."""

    DRAFT = "draft"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    DISMISSED = "dismissed"


ActorKind = Literal["owner", "reviewer", "scheduler"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who moved a post: the owner (a platform identity), a reviewer of a shared persona (their
    identity, once personas can be shared), or the scheduler acting on the owner's earlier
    Schedule click."""

    kind: ActorKind
    id: str
    """``platform:user_id`` for people; ``scheduler`` for the scheduler."""

    @classmethod
    def owner(cls, user: UserRef) -> Actor:
        return cls(kind="owner", id=str(user))

    @classmethod
    def reviewer(cls, user: UserRef) -> Actor:
        return cls(kind="reviewer", id=str(user))

    @classmethod
    def scheduler(cls) -> Actor:
        return cls(kind="scheduler", id="scheduler")

    def __str__(self) -> str:
        return self.kind if self.kind == "scheduler" else f"{self.kind} {self.id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PostEvent:
    """One step of a post: to which status, by whom, when (and a short note)."""

    status: PostStatus
    actor: Actor
    at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Published:
    """Where a part went: the network's id (a tweet id, an ``at://`` URI, a share URN), its
    content id where the network has one (Bluesky's CID, needed to reply to it) and a link."""

    id: str
    url: str
    cid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PostPart:
    """One part of a post (the whole post when it is not a thread)."""

    text: str
    style_score: int
    """0-100: how much it sounds like the owner."""
    published: Published | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Engagement:
    """What the network reports for a published post (summed over its parts)."""

    likes: int = 0
    reposts: int = 0
    replies: int = 0
    fetched_at: datetime | None = None

    @property
    def total(self) -> int:
        return self.likes + self.reposts + self.replies


@dataclass(frozen=True, slots=True, kw_only=True)
class Post:
    """A post in the owner's voice for one network, with its whole history."""

    id: PostId
    account_id: AccountId
    persona_id: PersonaId
    network: str
    """``x``, ``bluesky`` or ``linkedin`` (:data:`core.drafting.posts.PLATFORMS` keys)."""
    topic: str
    parts: tuple[PostPart, ...]
    status: PostStatus
    created_at: datetime
    owner: UserRef
    """The identity that asked for it: where scheduled results are reported."""
    engine: str
    """``llm`` (written by the language model), ``own`` (the owner's own past post, reused) or
    ``edited`` (the owner's text)."""
    events: tuple[PostEvent, ...] = ()
    scheduled_for: datetime | None = None
    variant: str | None = None
    """The style of this take when ``--variants`` offered several (``question``, ``statement``)."""
    group: str | None = None
    """Posts offered together as variants share a group id."""
    disclosure: str | None = None
    """The line appended when published, for a post a model wrote (the persona's disclosure)."""
    engagement: Engagement | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(part.text for part in self.parts)

    @property
    def published_parts(self) -> int:
        return sum(1 for part in self.parts if part.published is not None)

    @property
    def url(self) -> str | None:
        first = self.parts[0].published if self.parts else None
        return None if first is None else first.url


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """The owner's own credentials for one network (kept encrypted; never exported or logged).

    ``repr`` hides the secret, so a credential in a traceback shows no token.
    """

    network: str
    identifier: str
    """Bluesky: the handle; X and LinkedIn: the account id the token belongs to."""
    secret: str = field(repr=False)
    """Bluesky: an app password; X and LinkedIn: an OAuth 2.0 user access token."""
    connected_at: datetime


class NetworkError(Exception):
    """A network refused or failed a call; ``str()`` is for the owner and holds no secret.

    Attributes:
        kind: ``auth`` (401/403: reconnect), ``rate`` (429: later), ``server`` (5xx, timeouts),
            ``refused`` (the network rejected the post itself).
        retry_after_s: how long the network asked to wait, when it said.
    """

    def __init__(
        self,
        kind: Literal["auth", "rate", "server", "refused"],
        message: str,
        *,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after_s = retry_after_s


class NetworkSession(Protocol):
    """One signed-in session on a network (one publish run, one engagement fetch)."""

    async def publish(
        self, text: str, *, key: str, parent: Published | None, root: Published | None
    ) -> Published:
        """Post ``text`` (a reply to ``parent`` in the thread of ``root`` when given).

        ``key`` is stable for this part of this post: a network that accepts a client-chosen
        record key uses it, so a repeat is refused rather than posted twice.

        Raises:
            NetworkError: for any failure.
        """
        ...

    async def find(self, key: str, *, text: str, parent: Published | None) -> Published | None:
        """The part already posted (after a crash between the network's answer and our record
        of it): by ``key`` where the network takes one, else by its exact ``text`` (replying to
        ``parent``) among the owner's latest posts; ``None`` when it was not posted."""
        ...

    async def engagement(self, published: list[Published]) -> Engagement:
        """Likes, reposts and replies of these parts, summed."""
        ...


class Network(Protocol):
    """A publishing network (Bluesky, X, LinkedIn) on its real API."""

    async def verify(self, credentials: Credentials) -> Credentials:
        """Check the credentials by signing in; they come back with ``identifier`` set to the
        network's own name for the account (a handle, a user id, a person URN).

        Raises:
            NetworkError: the credentials do not work.
        """
        ...

    def session(self, credentials: Credentials) -> AbstractAsyncContextManager[NetworkSession]:
        """A signed-in session, closed on exit."""
        ...


class PostStore(Protocol):
    """Posts of an account; status changes are compare-and-set, publishing takes a lease."""

    async def create(self, post: Post) -> None: ...

    async def get(self, account_id: AccountId, post_id: PostId) -> Post | None: ...

    def list(self, account_id: AccountId) -> AsyncIterator[Post]:
        """The account's posts, newest first."""
        ...

    async def save(self, post: Post, *, expect: PostStatus, release: bool = False) -> bool:
        """Write ``post`` (its status, parts, events, schedule, engagement) if its stored status
        is still ``expect`` (dropping the publishing lease when ``release``); ``False`` (nothing
        written) otherwise."""
        ...

    async def claim(
        self, account_id: AccountId, post_id: PostId, *, now: datetime, until: datetime
    ) -> bool:
        """Take the post's publishing lease until ``until`` if it is approved or scheduled and
        no live lease holds it (one publisher at a time across workers); released by
        :meth:`save` with ``release``."""
        ...


class ConnectionStore(Protocol):
    """The owner's network credentials, encrypted with the account's data key."""

    async def put(self, account_id: AccountId, credentials: Credentials) -> None: ...

    async def get(self, account_id: AccountId, network: str) -> Credentials | None: ...

    async def delete(self, account_id: AccountId, network: str) -> bool: ...

    async def networks(self, account_id: AccountId) -> list[str]:
        """Which networks the account connected (no secrets)."""
        ...


@runtime_checkable
class PostJobs(Protocol):
    """The scheduler's side of scheduled posts (ids only in the job); the scheduler's ``Jobs``
    implementation offers it too."""

    async def set_post(self, account_id: AccountId, post_id: PostId, at: datetime) -> None: ...

    async def clear_post(self, account_id: AccountId, post_id: PostId) -> None: ...


_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def record_key(post: Post, index: int) -> str:
    """A stable key for one part of one post: the same on every retry of that part.

    Shaped as an AT Protocol TID (13 base32-sortable characters: microseconds since the epoch
    and a 10-bit clock id), so Bluesky takes it as the record key of the part and refuses a
    second record under it; other networks use it only to recognise their own posts.
    """
    micros = int(post.created_at.timestamp() * 1_000_000) + index
    clock_id = int(post.id[-3:], 16) & 0x3FF
    value = ((micros & ((1 << 53) - 1)) << 10) | clock_id
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
