"""What the Slack, Telegram and Discord adapters share, with no platform SDK in sight.

- :mod:`adapters.common.background`: work that runs after the platform's ack, drained or cancelled
  on shutdown;
- :mod:`adapters.common.durable`: deliveries stored before the ack, worked under a lease, resumed
  by a live worker if the one doing them died;
- :mod:`adapters.common.imports`: the import progress ticker and "which sender is the owner";
- :mod:`adapters.common.sending`: delivering an approved send and reporting it back to the core
  (``confirm_sent`` / ``send_failed``), the text an Edit starts from, who a notification is for.

Each platform's ``adapter.py`` keeps only its SDK's idioms and calls these.
"""

from adapters.common.background import BackgroundTasks
from adapters.common.durable import DurableDeliveries
from adapters.common.imports import ImportTicker, import_as_owner
from adapters.common.sending import (
    NotSent,
    Sent,
    addressed_to,
    deliver,
    not_sent,
    option_to_edit,
)

__all__ = [
    "BackgroundTasks",
    "DurableDeliveries",
    "ImportTicker",
    "NotSent",
    "Sent",
    "addressed_to",
    "deliver",
    "import_as_owner",
    "not_sent",
    "option_to_edit",
]
