"""The shipped sample persona as stored messages (sam's history), for the pure tests."""

from __future__ import annotations

import json
from datetime import datetime

from core.models import Message, StoredMessage
from core.samples import SAMPLE_OWNER, SAMPLE_PERSONA_PATH


def sample_history() -> list[StoredMessage]:
    history = []
    for line in SAMPLE_PERSONA_PATH.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        message = Message(
            id=d["id"],
            conversation=d["conversation"],
            thread=d.get("thread"),
            sender=d["sender"],
            text=d["text"],
            sent_at=datetime.fromisoformat(d["sent_at"]),
            reply_to=d.get("reply_to"),
        )
        history.append(
            StoredMessage(message=message, persona_id="p", from_owner=d["sender"] == SAMPLE_OWNER)
        )
    return history
