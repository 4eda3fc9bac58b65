"""Prometheus metrics (prometheus-client): ``/metrics`` of the web process.

What is exported (docs/operations.md, "Health and metrics", lists the alerts to set):

- ``patron_graphql_request_seconds{operation,type}``: latency of each GraphQL operation, by its
  name (names outside ``[A-Za-z_][A-Za-z0-9_]{0,63}`` or past ``MAX_OPERATION_NAMES`` distinct
  names count as ``other``, unnamed ones as ``anonymous``, so clients cannot explode the series);
- ``patron_websockets_open``: WebSocket connections open in this process;
- read from the database at scrape time (one process's scrape sees the whole system):
  ``patron_ledger_entries_total`` (posting rate: ``rate()`` of it; the entries' id sequence, so
  a rolled-back posting counts too), ``patron_outbox_depth`` (order events not processed and not
  parked), ``patron_outbox_lag_seconds`` (age of the oldest of them), ``patron_outbox_failed``
  (events parked as FAILED, when the model has ``failed_at``), ``patron_events_unpublished`` (shop
  events committed but not yet published to the feed and webhooks) and
  ``patron_webhook_deliveries{status}`` (pending and failed deliveries);
- read from the broker (Redis, or RabbitMQ with ``BROKER_URL``) at scrape time:
  ``patron_queue_messages{queue}`` (ready and delayed messages) and
  ``patron_queue_dead_messages{queue}`` (dramatiq's dead-letter set);
- the client library's process and Python collectors.

A scrape that cannot reach the database or the broker leaves those series out (and logs it) and
still answers; readiness is ``/readyz``'s business. Set ``PATRON_METRICS_TOKEN`` to require
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import dramatiq
from django.conf import settings
from django.db.models import Count, Max, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from strawberry.extensions import SchemaExtension

from marketplace.health import rabbitmq_queue_counts

logger = logging.getLogger(__name__)

#: Distinct operation names kept as labels; later new names count as ``other``.
MAX_OPERATION_NAMES = 200
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_seen_names: set[str] = set()

GRAPHQL_SECONDS = Histogram(
    "patron_graphql_request_seconds",
    "Latency of GraphQL operations (parse, validation and execution), by operation name and type.",
    ["operation", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBSOCKETS_OPEN = Gauge("patron_websockets_open", "WebSocket connections open in this web process.")


def operation_label(name: str | None) -> str:
    """The label of operation ``name``: itself when well-formed and among the first names seen."""
    if not name:
        return "anonymous"
    if name in _seen_names:
        return name
    if _NAME_RE.match(name) and len(_seen_names) < MAX_OPERATION_NAMES:
        _seen_names.add(name)
        return name
    return "other"


class OperationMetrics(SchemaExtension):
    """Strawberry extension: observe each operation's latency in ``GRAPHQL_SECONDS``."""

    def on_operation(self) -> Iterator[None]:
        """Time the whole operation; label it once it is parsed (name and type known)."""
        began = time.perf_counter()
        try:
            yield
        finally:
            context = self.execution_context
            try:
                kind = context.operation_type.value if context.operation_type else "unknown"
            except Exception:  # an unparsable document has no operation type
                kind = "unknown"
            GRAPHQL_SECONDS.labels(operation_label(context.operation_name), kind).observe(time.perf_counter() - began)


class WebSocketCounter:
    """ASGI middleware: count accepted WebSocket connections in ``WEBSOCKETS_OPEN`` while open."""

    def __init__(self, app: Any) -> None:
        """Wrap ``app`` (the WebSocket router)."""
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Pass through; +1 on ``websocket.accept``, -1 when the connection's handling ends."""
        accepted = False

        async def counting_send(message: Any) -> None:
            nonlocal accepted
            if message.get("type") == "websocket.accept" and not accepted:
                accepted = True
                WEBSOCKETS_OPEN.inc()
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            if accepted:
                WEBSOCKETS_OPEN.dec()


class DatabaseAndQueueCollector(Collector):
    """Series read from the database and the broker at scrape time (see the module docstring)."""

    def describe(self) -> list[Any]:
        """Nothing up front: registering must not query the database or the broker."""
        return []

    def collect(self) -> Iterator[Any]:
        """Yield the outbox, ledger and queue series that can be read now."""
        yield from self._database()
        yield from self._integrations()
        yield from self._queues()

    def _database(self) -> Iterator[Any]:
        """Ledger sequence, outbox depth / lag / failed count."""
        from loyalty.models import PointsEntry
        from marketplace.models import OrderEvent

        try:
            entries = PointsEntry.objects.aggregate(last=Max("id"))["last"] or 0
            pending = OrderEvent.objects.filter(processed_at__isnull=True)
            has_failed = hasattr(OrderEvent, "failed_at")
            if has_failed:
                pending = pending.filter(failed_at__isnull=True)
            depth = pending.count()
            oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
            failed = (
                OrderEvent.objects.filter(processed_at__isnull=True, failed_at__isnull=False).count()
                if has_failed
                else None
            )
        except Exception as exc:
            logger.warning("metrics: database unreadable: %s", type(exc).__name__)
            return
        yield CounterMetricFamily(
            "patron_ledger_entries", "Ledger entries posted (the entries' id sequence).", value=entries
        )
        yield GaugeMetricFamily("patron_outbox_depth", "Order events waiting to be processed.", value=depth)
        lag = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "patron_outbox_lag_seconds", "Age of the oldest order event waiting to be processed.", value=lag
        )
        if failed is not None:
            yield GaugeMetricFamily("patron_outbox_failed", "Order events parked as FAILED.", value=failed)

    def _integrations(self) -> Iterator[Any]:
        """Unpublished shop events and webhook deliveries not yet succeeded (docs/integrations.md)."""
        from integrations.models import DeliveryStatus, WebhookDelivery
        from marketplace.models import ShopEvent

        try:
            unpublished = ShopEvent.objects.filter(position__isnull=True).count()
            by_status = dict(
                WebhookDelivery.objects.exclude(status=DeliveryStatus.SUCCEEDED)
                .values_list("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            )
        except Exception as exc:
            logger.warning("metrics: integrations unreadable: %s", type(exc).__name__)
            return
        yield GaugeMetricFamily(
            "patron_events_unpublished", "Shop events committed but not yet published.", value=unpublished
        )
        deliveries = GaugeMetricFamily(
            "patron_webhook_deliveries", "Webhook deliveries not (yet) succeeded, by status.", labels=["status"]
        )
        for status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
            deliveries.add_metric([status.value], by_status.get(status.value, 0))
        yield deliveries

    def _queues(self) -> Iterator[Any]:
        """Ready + delayed and dead messages of every dramatiq queue, from Redis or RabbitMQ.

        Nothing for the embedded default's in-process stub broker.
        """
        broker = dramatiq.get_broker()
        queues = sorted({actor.queue_name for actor in (broker.get_actor(n) for n in broker.get_declared_actors())})
        try:
            counts = self._queue_counts(broker, queues)
        except Exception as exc:
            logger.warning("metrics: broker unreadable: %s", type(exc).__name__)
            return
        if counts is None:
            return
        ready = GaugeMetricFamily("patron_queue_messages", "Messages waiting in a dramatiq queue.", labels=["queue"])
        dead = GaugeMetricFamily(
            "patron_queue_dead_messages", "Messages in a dramatiq queue's dead-letter set.", labels=["queue"]
        )
        for queue in queues:
            waiting, delayed, dead_letters = counts[queue]
            ready.add_metric([queue], waiting + delayed)
            dead.add_metric([queue], dead_letters)
        yield ready
        yield dead

    @staticmethod
    def _queue_counts(broker: dramatiq.Broker, queues: list[str]) -> dict[str, tuple[int, int, int]] | None:
        """``{queue: (ready, delayed, dead)}`` read from the broker, ``None`` for a broker without queues to read.

        RabbitMQ (``BROKER_URL``) is read on a short connection of its own
        (``marketplace.health.rabbitmq_queue_counts``), not the broker's per-thread one, which
        would stay open idle between scrapes. Raises the client's error when the broker is down.
        """
        if settings.BROKER_URL:
            return rabbitmq_queue_counts(settings.BROKER_URL, queues)
        client = getattr(broker, "client", None)
        namespace = getattr(broker, "namespace", None)
        if client is None or namespace is None:
            return None
        return {
            queue: (
                client.llen(f"{namespace}:{queue}"),
                client.llen(f"{namespace}:{queue}.DQ"),
                client.zcard(f"{namespace}:{queue}.XQ"),
            )
            for queue in queues
        }


_collector = DatabaseAndQueueCollector()
REGISTRY.register(_collector)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: the Prometheus text format (behind ``PATRON_METRICS_TOKEN`` when set)."""
    token = getattr(settings, "PATRON_METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse("unauthorised\n", status=401, content_type="text/plain")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
