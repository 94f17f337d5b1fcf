"""The shape of a Slack delivery, checked before bolt or any handler sees it (pure, no I/O).

A body can carry a valid signature and still be nonsense: ``[]``, ``null``, truncated JSON, arrays
nested 5,000 deep, ``payload=notjson``, ``"actions": "x"``, ``"private_metadata": "{{{"``,
``"event": "x"``. Bolt and the converters expect the documented shapes; anything else used to end
in a 500 (and Slack retries a 500). :func:`problem` names what is wrong — by field path only,
never a value — or returns ``None`` for a body of the documented shape, so the HTTP route answers
400 and logs the path.

Only the fields this adapter (and bolt's routing) read are checked, each against its documented
type; unknown fields are left alone, so a Slack that adds fields is not refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qs

MAX_DEPTH: Final = 32
"""Deepest nesting accepted; Slack's deepest documented payloads (views) stay under 12."""

_STR: Final = (str,)
_OPT_STR: Final = (str, type(None))

# Fields read from an event (``event`` of an ``event_callback``), with their types.
_EVENT_FIELDS: Final[Mapping[str, tuple[type, ...]]] = {
    "type": _STR,
    "subtype": _OPT_STR,
    "user": _OPT_STR,
    "bot_id": _OPT_STR,
    "text": _OPT_STR,
    "channel": _OPT_STR,
    "channel_type": _OPT_STR,
    "ts": _OPT_STR,
    "thread_ts": _OPT_STR,
    "event_ts": _OPT_STR,
    "file_id": _OPT_STR,
    "files": (list, type(None)),
    "message": (dict, type(None)),
}
_MESSAGE_FIELDS: Final[Mapping[str, tuple[type, ...]]] = {
    "text": _OPT_STR,
    "ts": _OPT_STR,
    "thread_ts": _OPT_STR,
    "user": _OPT_STR,
    "bot_id": _OPT_STR,
}
# Fields read from an interactive ``payload`` (clicks, shortcuts, modal submissions).
_PAYLOAD_FIELDS: Final[Mapping[str, tuple[type, ...]]] = {
    "type": _STR,
    "user": (dict, type(None)),
    "channel": (dict, type(None)),
    "team": (dict, type(None)),
    "container": (dict, type(None)),
    "message": (dict, type(None)),
    "view": (dict, type(None)),
    "actions": (list, type(None)),
    "trigger_id": _OPT_STR,
    "response_url": _OPT_STR,
    "callback_id": _OPT_STR,
    "message_ts": _OPT_STR,
}
_ID_FIELDS: Final[Mapping[str, tuple[type, ...]]] = {"id": _OPT_STR}
_ACTION_FIELDS: Final[Mapping[str, tuple[type, ...]]] = {
    "action_id": _OPT_STR,
    "value": _OPT_STR,
    "action_ts": _OPT_STR,
    "block_id": _OPT_STR,
}
_VIEW_FIELDS: Final[Mapping[str, tuple[type, ...]]] = {
    "id": _OPT_STR,
    "hash": _OPT_STR,
    "callback_id": _OPT_STR,
    "private_metadata": _OPT_STR,
    "state": (dict, type(None)),
}
_COMMAND_FIELDS: Final = ("command", "text", "user_id", "channel_id", "trigger_id")

_OPT_ID: Final = (str, type(None))
_ID_OR_OBJECT: Final = (str, dict, type(None))
_ANYWHERE: Final[Mapping[str, tuple[type, ...]]] = {
    # What bolt's routing and authorisation read (slack_bolt.request.internals), at any level.
    "team_id": _OPT_ID,
    "enterprise_id": _OPT_ID,
    "user_id": _OPT_ID,
    "channel_id": _OPT_ID,
    "api_app_id": _OPT_ID,
    "app_installed_team_id": _OPT_ID,
    "context_team_id": _OPT_ID,
    "context_enterprise_id": _OPT_ID,
    "user_team": _OPT_ID,
    "source_team": _OPT_ID,
    "token": _OPT_ID,
    "event_id": _OPT_ID,
    "trigger_id": _OPT_ID,
    "function_execution_id": _OPT_ID,
    "team": _ID_OR_OBJECT,
    "user": _ID_OR_OBJECT,
    "channel": _ID_OR_OBJECT,
    "enterprise": _ID_OR_OBJECT,
    "previous_message": (dict, type(None)),
    "authorizations": (list, type(None)),
    "is_enterprise_install": (bool, type(None)),
    "is_ext_shared_channel": (bool, type(None)),
}


def problem(body: str, content_type: str | None) -> str | None:
    """What is wrong with a delivery's body (a field path and why), or ``None`` if its shape is
    the documented one. Never quotes the body."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return _form_problem(body)
    if kind == "application/json" or body.lstrip().startswith(("{", "[")):
        value, error = _json(body)
        return error or _event_problem(value) or _anywhere_problem(value)
    return _form_problem(body)


def _anywhere_problem(value: Any) -> str | None:
    """The fields bolt reads wherever they appear must have their documented types."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for name, types in _ANYWHERE.items():
                if name in item and not isinstance(item[name], types):
                    return f"{name} has the wrong type"
            for entry in item.get("authorizations") or ():
                if not isinstance(entry, dict):
                    return "authorizations holds something that is not an object"
            stack.extend(item.values())
    return None


def _json(text: str) -> tuple[Any, str | None]:
    try:
        value = json.loads(text)
    except RecursionError:
        return None, "nested too deep"
    except ValueError:
        return None, "not JSON (or truncated)"
    if _depth(value) > MAX_DEPTH:
        return None, "nested too deep"
    return value, None


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _fields(value: Any, spec: Mapping[str, tuple[type, ...]], where: str) -> str | None:
    if not isinstance(value, dict):
        return f"{where} is not an object"
    for name, types in spec.items():
        if name in value and not isinstance(value[name], types):
            return f"{where}.{name} has the wrong type"
    return None


def _event_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body is not an object"
    if not isinstance(body.get("type"), str):
        return "type is missing or not text"
    if body["type"] == "url_verification" and not isinstance(body.get("challenge"), str):
        return "challenge is not text"
    if body["type"] != "event_callback":
        return None
    if not isinstance(body.get("event_id"), str | None):
        return "event_id is not text"
    found = _fields(body.get("event"), _EVENT_FIELDS, "event")
    if found is not None:
        return found
    event: dict[str, Any] = body["event"]
    if not isinstance(event.get("type"), str):
        return "event.type is missing"
    if event.get("message") is not None:
        found = _fields(event["message"], _MESSAGE_FIELDS, "event.message")
        if found is not None:
            return found
    if any(not isinstance(f, dict) for f in event.get("files") or ()):
        return "event.files holds something that is not a file"
    return None


def _form_problem(body: str) -> str | None:
    try:
        fields = parse_qs(body, keep_blank_values=True, strict_parsing=True, max_num_fields=200)
    except ValueError:
        return "not a form"
    if "payload" in fields:
        if len(fields["payload"]) != 1:
            return "payload given more than once"
        value, error = _json(fields["payload"][0])
        return error or _payload_problem(value) or _anywhere_problem(value)
    command = fields.get("command", [""])
    if len(command) != 1 or not command[0].startswith("/"):
        return "neither a payload nor a slash command"
    if any(len(fields.get(name, [""])) != 1 for name in _COMMAND_FIELDS):
        return "a slash command field given more than once"
    return None


def _payload_problem(payload: Any) -> str | None:
    found = _fields(payload, _PAYLOAD_FIELDS, "payload")
    if found is not None:
        return found
    for name in ("user", "channel", "team", "container"):
        if payload.get(name) is not None and (found := _fields(payload[name], _ID_FIELDS, name)):
            return found
    if payload.get("message") is not None:
        found = _fields(payload["message"], _MESSAGE_FIELDS, "message")
        if found is not None:
            return found
    for n, action in enumerate(payload.get("actions") or ()):
        if (found := _fields(action, _ACTION_FIELDS, f"actions[{n}]")) is not None:
            return found
    view = payload.get("view")
    if view is not None:
        return _view_problem(view)
    return None


def _view_problem(view: Any) -> str | None:
    found = _fields(view, _VIEW_FIELDS, "view")
    if found is not None:
        return found
    metadata = view.get("private_metadata")
    if metadata:
        value, error = _json(metadata)
        if error is not None or not isinstance(value, dict):
            return "view.private_metadata is not a JSON object"
    values = (view.get("state") or {}).get("values")
    if values is None:
        return None
    if not isinstance(values, dict):
        return "view.state.values is not an object"
    for block in values.values():
        if not isinstance(block, dict) or any(not isinstance(e, dict) for e in block.values()):
            return "view.state.values holds something that is not an input"
    return None
