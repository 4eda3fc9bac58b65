"""The main flow through the real broker: order recorded -> message -> dramatiq worker -> points.

Runs on the broker configured by REDIS_URL (dramatiq's RedisBroker in CI) with a real
``dramatiq.Worker`` in this process; nothing is mocked.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from loyalty.models import MemberAccount, PointsEntry
from loyalty.tasks import outbox_sweep
from marketplace.models import OrderEvent
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, order_input, shop_with_program

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_delivered_order_reaches_the_ledger_through_the_worker(worker, settings):
    assert settings.SERVICES_MODE, "set REDIS_URL: this test is about the real broker"
    shop, customer = shop_with_program(), CustomerFactory()
    event = order_event_record(
        data=order_input(shop, "W1", customer=customer, amount="42.00"), idempotency_key="k", actor=None
    ).event

    worker.join("loyalty", timeout=30_000)

    event.refresh_from_db()
    assert event.processed_at is not None
    assert MemberAccount.objects.get(customer=customer).points_pending == 42


def test_duplicate_messages_post_once(worker):
    shop, customer = shop_with_program(), CustomerFactory()
    event = order_event_record(
        data=order_input(shop, "W1", customer=customer, amount="42.00"), idempotency_key="k", actor=None, notify=False
    ).event
    from loyalty.tasks import order_event_process_task

    for _ in range(5):
        order_event_process_task.send(event.pk)
    worker.join("loyalty", timeout=30_000)

    assert PointsEntry.objects.filter(account__customer=customer).count() == 1
    assert MemberAccount.objects.get(customer=customer).points_pending == 42


def test_sweep_resends_events_whose_message_was_lost(worker):
    # given an event committed without its message (the process died before sending)
    shop, customer = shop_with_program(), CustomerFactory()
    event = order_event_record(
        data=order_input(shop, "W1", customer=customer, amount="42.00"), idempotency_key="k", actor=None, notify=False
    ).event
    # when the sweep runs after the grace period
    assert outbox_sweep(now=timezone.now()) == 0  # still young: presumed in flight
    sent = outbox_sweep(now=timezone.now() + dt.timedelta(minutes=5))
    worker.join("loyalty", timeout=30_000)
    # then the event was processed once and a later sweep finds nothing
    assert sent == 1
    assert OrderEvent.objects.get(pk=event.pk).processed_at is not None
    assert MemberAccount.objects.get(customer=customer).points_pending == 42
    assert outbox_sweep(now=timezone.now() + dt.timedelta(minutes=5)) == 0
