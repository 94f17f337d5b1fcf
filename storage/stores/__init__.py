"""SQL implementations of the store ports in ``core/ports.py`` (SQLite and PostgreSQL alike).

One module per aggregate, found by name:

- ``accounts``: accounts, platform identities, link codes (:class:`SqlAccountStore`)
- ``personas``: the personas of an account (:class:`SqlPersonaStore`)
- ``messages``: messages and their vectors (:class:`SqlMessageStore`, :class:`SqlVectorStore`)
- ``drafts``: drafts and approvals (:class:`SqlDraftStore`)
- ``feedback``: feedback and priority labels (:class:`SqlFeedbackStore`,
  :class:`SqlPriorityLabelStore`)
- ``state``: opaque per-persona state (:class:`SqlStateStore`)
- ``deliveries``: delivery de-duplication (:class:`SqlDeliveryLog`)
- ``teams``: persona attributes and bindings, team roles, shares of the clone and the questions
  asked (:class:`SqlIdentityStore`, :class:`SqlTeamStore`, :class:`SqlShareStore`)
- ``vault``: export and erasure of a whole account (:class:`SqlAccountVault`), assembled from
  each aggregate's part (``parts``); ``context`` holds what every store shares.

Each class satisfies its Protocol structurally (no inheritance) and converts rows to core models
at the boundary. Each call runs in one transaction, and every query on owned data filters by
``account_id``; writes that name a persona first check that the persona belongs to the account,
so one account can never write into (or read from) another's rows. Encrypted columns are sealed
with the account's data key (:class:`storage.crypto.DataCipher`) and bound to their row.

Statements are SQLAlchemy Core on the mapped tables: the bulk paths (imports of 100k messages)
stay fast and nothing lingers in an identity map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.stores.accounts import (
    DEFAULT_PERSONA,
    LINK_CODE_ALPHABET,
    LINK_CODE_LENGTH,
    SqlAccountStore,
)
from storage.stores.context import BATCH_ROWS, AlreadyExists, StoreContext
from storage.stores.deliveries import SqlDeliveryLog
from storage.stores.drafts import SqlDraftStore
from storage.stores.feedback import SqlFeedbackStore, SqlPriorityLabelStore
from storage.stores.messages import (
    ANALYZE_AFTER_ROWS,
    SqlMessageStore,
    SqlVectorStore,
    message_json,
)
from storage.stores.personas import SqlPersonaStore
from storage.stores.posts import SqlConnectionStore, SqlPostStore
from storage.stores.state import SqlStateStore
from storage.stores.teams import (
    SqlActivityStore,
    SqlIdentityStore,
    SqlShareStore,
    SqlTeamStore,
)
from storage.stores.vault import SqlAccountVault, checkpoint_sqlite

if TYPE_CHECKING:
    from core import ports, publishing

__all__ = [
    "ANALYZE_AFTER_ROWS",
    "BATCH_ROWS",
    "DEFAULT_PERSONA",
    "LINK_CODE_ALPHABET",
    "LINK_CODE_LENGTH",
    "AlreadyExists",
    "SqlAccountStore",
    "SqlAccountVault",
    "SqlActivityStore",
    "SqlConnectionStore",
    "SqlDeliveryLog",
    "SqlDraftStore",
    "SqlFeedbackStore",
    "SqlIdentityStore",
    "SqlMessageStore",
    "SqlPersonaStore",
    "SqlPostStore",
    "SqlPriorityLabelStore",
    "SqlShareStore",
    "SqlStateStore",
    "SqlTeamStore",
    "SqlVectorStore",
    "StoreContext",
    "checkpoint_sqlite",
    "message_json",
]


if TYPE_CHECKING:
    # Structural conformance, checked by mypy: each class satisfies its port.
    def _conforms(ctx: StoreContext) -> None:
        _accounts: ports.AccountStore = SqlAccountStore(ctx)
        _personas: ports.PersonaStore = SqlPersonaStore(ctx)
        _messages: ports.MessageStore = SqlMessageStore(ctx)
        _vectors: ports.VectorStore = SqlVectorStore(ctx)
        _drafts: ports.DraftStore = SqlDraftStore(ctx)
        _feedback: ports.FeedbackStore = SqlFeedbackStore(ctx)
        _labels: ports.PriorityLabelStore = SqlPriorityLabelStore(ctx)
        _deliveries: ports.DeliveryLog = SqlDeliveryLog(ctx)
        _state: ports.StateStore = SqlStateStore(ctx)
        _vault: ports.AccountVault = SqlAccountVault(ctx)
        _posts: publishing.PostStore = SqlPostStore(ctx)
        _connections: publishing.ConnectionStore = SqlConnectionStore(ctx)
        _identity: ports.IdentityStore = SqlIdentityStore(ctx)
        _teams: ports.TeamStore = SqlTeamStore(ctx)
        _shares: ports.ShareStore = SqlShareStore(ctx)
        _activity: ports.ActivityStore = SqlActivityStore(ctx)
