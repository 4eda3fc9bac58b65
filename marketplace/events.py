"""The shop event outbox: what integrations hear about, recorded in the transaction that did it.

Every app records its events here (``shop_event_record``) inside its own transaction, so an
event exists exactly when the change it describes committed: a process that dies after the
commit loses nothing, one that dies before it leaves neither. After the commit,
``shop_events_committed`` tells the integrations app (above every other app, so it listens
through this signal) to publish: number the events for the feed and queue their webhooks.

Ids in event bodies are the API's Relay global ids (``node_id``), so an integrator can pass them
straight back to GraphQL, next to the shop's own external ids (customer, order).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.dispatch import Signal

from marketplace.models import EventType, ShopEvent

#: Sent after a transaction that recorded shop events committed (no keywords; the publisher
#: numbers whatever is unpublished).
shop_events_committed = Signal()


def node_id(type_name: str, pk: int | str) -> str:
    """The Relay global id of object ``pk`` of GraphQL type ``type_name``: base64 of ``"Type:pk"``.

    The same encoding as strawberry's ``relay.GlobalID`` (the Relay convention), written here
    because domain code does not import the GraphQL layer.
    """
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def node_pk(value: str | None, type_name: str) -> int | None:
    """The primary key in a Relay global id of ``type_name`` written by :func:`node_id` (an event
    body's ids), or ``None`` for anything else. Never raises."""
    try:
        decoded = base64.b64decode(value or "", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    name, _, pk = decoded.partition(":")
    return int(pk) if name == type_name and pk.isdigit() else None


def event_uid() -> str:
    """A new stable event id, ``evt_`` + 32 hex digits (a random UUID)."""
    return f"evt_{uuid.uuid4().hex}"


def event_uids(count: int) -> list[str]:
    """``count`` new event ids as :func:`event_uid` makes them, from one read of the system's
    random source (one ``os.urandom`` call per id releases the GIL per id, which a process with
    a busy writer thread pays dearly for)."""
    random = os.urandom(16 * count)
    return [f"evt_{uuid.UUID(bytes=random[i : i + 16], version=4).hex}" for i in range(0, 16 * count, 16)]


def _announce() -> None:
    shop_events_committed.send(sender=ShopEvent)


def shop_event_row(
    *, shop_id: int, type: EventType, data: Mapping[str, Any], occurred_at: dt.datetime, uid: str | None = None
) -> dict[str, Any]:
    """The column values of a new event of shop ``shop_id`` (``uid`` or a new one), by attribute name: what
    :func:`shop_event_record` saves, and what the set-based importer writes many of at once (it then
    announces them with ``shop_events_committed`` after its commit)."""
    return {
        "uid": uid or event_uid(),
        "shop_id": shop_id,
        "type": type.value,
        "data": dict(data),
        "occurred_at": occurred_at,
    }


def shop_event_record(*, shop_id: int, type: EventType, data: Mapping[str, Any], occurred_at: dt.datetime) -> ShopEvent:
    """Record one event of shop ``shop_id`` in the caller's transaction; publish it after commit.

    ``data`` must be JSON-serialisable (ids as strings, money as decimal strings, times in ISO
    8601). Outside a transaction the event commits at once (autocommit) and is announced then.
    A transaction that records several events announces once.
    """
    event = ShopEvent.objects.create(**shop_event_row(shop_id=shop_id, type=type, data=data, occurred_at=occurred_at))
    connection = transaction.get_connection()
    # One announcement per transaction, however many events it records (an order posts several);
    # a rollback discards the pending callback, so the next transaction registers its own.
    if not (connection.in_atomic_block and any(entry[1] is _announce for entry in connection.run_on_commit)):
        transaction.on_commit(_announce)
    return event
