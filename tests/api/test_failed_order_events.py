"""Issue 13 through the API: a poison date is refused; staff see parked events and retry them.

``orderEventRecord`` refuses an ``occurredAt`` the worker could not process with a coded
``INVALID_INPUT`` (nothing written); ``shop.failedOrderEvents`` lists the events the worker
parked, with their error; ``orderEventRetry`` queues one again after a fix, with coded
refusals that change nothing. Who may call them is walked in ``test_capabilities.py``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from loyalty.models import MemberAccount, PointsEntry
from marketplace.models import Customer, Order, OrderEvent, StaffRole
from marketplace.services.orders import order_event_record
from tests.api.graphql import gid, gql
from tests.factories import PASSWORD, CustomerFactory, order_input, shop_with_program, staff

pytestmark = pytest.mark.django_db

RECORD = """
mutation($input: OrderEventRecordInput!) {
  orderEventRecord(input: $input, idempotencyKey: "poison-1") { order { status } errors { field code } }
}
"""
FAILED = """
query($slug: String!) {
  shop(slug: $slug) {
    failedOrderEvents(first: 10) {
      totalCount
      edges { node { id status attempts failure failedAt order { externalId } } }
    }
  }
}
"""
RETRY = """
mutation($id: ID!) { orderEventRetry(eventId: $id) { events { id failedAt attempts } errors { field code } } }
"""


def _login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _state() -> tuple:
    return (
        list(Order.objects.order_by("pk").values()),
        list(OrderEvent.objects.order_by("pk").values()),
        Customer.objects.count(),
        MemberAccount.objects.count(),
        PointsEntry.objects.count(),
    )


def _refusal(body: dict) -> tuple[str, str]:
    """(code, field) of a refusal: the input's type (a top-level error) or the service (payload)."""
    if body.get("errors"):
        extensions = body["errors"][0]["extensions"]
        return extensions["code"], extensions["field"].removeprefix("input.")
    payload = body["data"]["orderEventRecord"]
    assert payload["order"] is None
    (error,) = payload["errors"]
    return error["code"], error["field"]


@pytest.mark.parametrize(
    "occurred_at",
    [
        "0001-01-01T00:00:00Z",  # the case: accepted, then OverflowError in the worker on every sweep
        "1969-12-31T23:59:59Z",  # before the service's bound (1970-01-01 UTC)
        "2999-01-01T00:00:00-05:00",  # in the future
    ],
)
def test_an_event_time_the_worker_cannot_use_is_refused_with_a_code_and_nothing_recorded(occurred_at):
    shop = shop_with_program()
    customer = CustomerFactory()
    client = _login(staff(shop))
    before = _state()
    order = {
        "shopId": gid("Shop", shop.pk),
        "orderId": "P-1",
        "status": "DELIVERED",
        "currency": "USD",
        "occurredAt": occurred_at,
        "customer": {"externalId": customer.external_id},
        "lines": [{"quantity": 1, "unitPrice": "25.00"}],
    }
    assert _refusal(gql(client, RECORD, {"input": order})) == ("INVALID_INPUT", "occurredAt")
    assert _state() == before


def _parked(shop) -> OrderEvent:
    event = order_event_record(
        data=order_input(shop, "P-1", customer=CustomerFactory(), amount="25.00"),
        idempotency_key="p1",
        actor=None,
        notify=False,
    ).event
    OrderEvent.objects.filter(pk=event.pk).update(
        failed_at=timezone.now(), attempts=5, failure="OverflowError: date value out of range"
    )
    return event


def test_staff_see_the_parked_events_and_retry_one():
    shop = shop_with_program()
    owner = _login(staff(shop, StaffRole.OWNER))
    event = _parked(shop)
    order_event_record(  # a healthy event is not listed
        data=order_input(shop, "OK-1", customer=CustomerFactory()), idempotency_key="ok", actor=None, notify=False
    )
    listed = gql(owner, FAILED, {"slug": shop.slug})["data"]["shop"]["failedOrderEvents"]
    assert listed["totalCount"] == 1
    node = listed["edges"][0]["node"]
    assert node["id"] == gid("OrderEvent", event.pk)
    assert (node["status"], node["attempts"], node["order"]) == ("DELIVERED", 5, {"externalId": "P-1"})
    assert node["failure"] == "OverflowError: date value out of range"

    payload = gql(owner, RETRY, {"id": node["id"]})["data"]["orderEventRetry"]
    assert payload == {"events": [{"id": node["id"], "failedAt": None, "attempts": 0}], "errors": []}
    assert gql(owner, FAILED, {"slug": shop.slug})["data"]["shop"]["failedOrderEvents"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("not_parked", "ORDER_EVENT_NOT_FAILED"),
        ("unknown", "ORDER_EVENT_NOT_FOUND"),
        ("malformed", "ORDER_EVENT_NOT_FOUND"),
    ],
)
def test_a_refused_retry_is_coded_and_changes_nothing(target, code):
    shop = shop_with_program()
    owner = _login(staff(shop, StaffRole.OWNER))
    _parked(shop)
    fine = order_event_record(
        data=order_input(shop, "OK-1", customer=CustomerFactory()), idempotency_key="ok", actor=None, notify=False
    ).event
    event_id = {
        "not_parked": gid("OrderEvent", fine.pk),
        "unknown": gid("OrderEvent", 10**9),
        "malformed": gid("Shop", shop.pk),
    }[target]
    before = _state()
    payload = gql(owner, RETRY, {"id": event_id})["data"]["orderEventRetry"]
    assert payload == {"events": [], "errors": [{"field": "eventId", "code": code}]}
    assert _state() == before


def test_the_oldest_accepted_date_is_recorded():
    shop = shop_with_program()
    order = {
        "shopId": gid("Shop", shop.pk),
        "orderId": "OLD-1",
        "status": "DELIVERED",
        "currency": "USD",
        "occurredAt": dt.datetime(1970, 1, 1, tzinfo=dt.UTC).isoformat(),
        "customer": {"externalId": "c-old"},
        "lines": [{"quantity": 1, "unitPrice": "25.00"}],
    }
    body = gql(_login(staff(shop)), RECORD, {"input": order})
    assert body["data"]["orderEventRecord"] == {"order": {"status": "DELIVERED"}, "errors": []}
