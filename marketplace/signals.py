"""Signals through which higher apps (loyalty) learn about marketplace changes.

The marketplace app may not import the loyalty app (layering, see docs/architecture.md), so it
announces committed order events here and loyalty subscribes in its ``AppConfig.ready``.
"""

from django.dispatch import Signal

#: Sent after the transaction that wrote an ``OrderEvent`` committed. Keyword: ``event_id`` (int).
order_event_committed = Signal()
