"""The whole path through the real broker and a dramatiq worker: an order -> points -> a signed webhook.

Nothing is called by hand: recording the order queues the loyalty worker, the ledger's events
queue the publisher after commit, the publisher queues the delivery, the delivery reaches the
receiver. A lost publication message is repaired by the sweep.
"""

from __future__ import annotations

import time

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from integrations.services.endpoints import webhook_endpoint_create
from integrations.tasks import integrations_sweep_task
from marketplace.events import shop_event_record
from marketplace.models import EventType, ShopEvent, StaffRole
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, order_input, shop_with_program, staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("_loopback_receivers_allowed")]


def _wait_for(predicate, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_delivered_order_reaches_the_receiver_signed_through_the_worker(worker, receiver):
    shop, customer = shop_with_program(), CustomerFactory()
    owner = staff(shop, StaffRole.OWNER)
    endpoint = webhook_endpoint_create(user=owner, shop_id=shop.pk, url=receiver.url, event_types=["points.earned"])

    order_event_record(
        data=order_input(shop, "WH-1", customer=customer, amount="42.00"), idempotency_key="wh-1", actor=None
    )

    assert _wait_for(lambda: len(receiver.requests) >= 1), "no webhook within 30 s"
    payload = Webhook(endpoint.secret).verify(receiver.requests[0]["body"], receiver.requests[0]["headers"])
    assert payload["type"] == "points.earned"
    assert payload["data"]["points"] == 42
    assert payload["data"]["member"]["customerExternalId"] == customer.external_id
    assert receiver.requests[0]["headers"]["webhook-id"] == ShopEvent.objects.get(type="points.earned").uid


def test_the_sweep_publishes_and_delivers_an_event_whose_message_was_lost(worker, receiver):
    shop = shop_with_program()
    owner = staff(shop, StaffRole.OWNER)
    webhook_endpoint_create(user=owner, shop_id=shop.pk, url=receiver.url, event_types=["tier.changed"])
    # recorded in autocommit through the ORM alone: as if the process died before its message went out
    ShopEvent.objects.create(
        uid="evt_lost", shop=shop, type=EventType.TIER_CHANGED, data={"lost": True}, occurred_at=timezone.now()
    )
    assert ShopEvent.objects.get(uid="evt_lost").position is None

    integrations_sweep_task.send()

    assert _wait_for(lambda: len(receiver.requests) == 1)
    assert receiver.requests[0]["headers"]["webhook-id"] == "evt_lost"
    assert ShopEvent.objects.get(uid="evt_lost").position is not None


def test_one_transaction_with_several_events_queues_one_publication(worker):
    from django.db import connection, transaction

    shop = shop_with_program()
    with transaction.atomic():
        for n in range(3):
            shop_event_record(
                shop_id=shop.pk, type=EventType.POINTS_ADJUSTED, data={"n": n}, occurred_at=timezone.now()
            )
        pending = [entry for entry in connection.run_on_commit if entry[1].__name__ == "_announce"]
        assert len(pending) == 1
    assert _wait_for(lambda: not ShopEvent.objects.filter(position__isnull=True).exists())
