"""The event feed (``shop.events``): in order, with no gap or duplicate across concurrent writers.

The hazard: ids are handed out when a row is inserted, not when its transaction commits, so a
reader paging by id would skip an event whose long transaction commits after a later one was
read. Positions are given at publication instead; these tests hold a transaction open on
purpose (real PostgreSQL transactions in threads) and page while writers race.
"""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connections, transaction
from django.utils import timezone

from integrations.services.publishing import events_publish
from marketplace.events import shop_event_record
from marketplace.models import EventType, ShopEvent, StaffRole
from tests.api.graphql import gql, login
from tests.factories import shop_with_program, staff

FEED = """
query($slug: String!, $after: String, $first: Int!, $types: [String!]) {
  shop(slug: $slug) {
    events(after: $after, first: $first, types: $types) {
      edges { cursor node { id type data } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


def _read_all(client, slug: str, after: str | None, first: int = 7) -> tuple[list[str], str | None]:
    """Page the feed from ``after`` to its end: ``(event ids, last cursor)``."""
    ids: list[str] = []
    while True:
        body = gql(client, FEED, {"slug": slug, "after": after, "first": first})
        assert body.get("data"), body
        page = body["data"]["shop"]["events"]
        ids += [edge["node"]["id"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return ids, after


def _record(shop_id: int, n: int) -> str:
    return shop_event_record(
        shop_id=shop_id, type=EventType.POINTS_ADJUSTED, data={"n": n}, occurred_at=timezone.now()
    ).uid


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_late_is_not_skipped_by_a_reader_that_already_read_past_it():
    shop = shop_with_program()
    owner = staff(shop, StaffRole.OWNER)
    client = login(owner)
    started, release = threading.Event(), threading.Event()
    late: list[str] = []

    def long_transaction() -> None:
        try:
            with transaction.atomic():
                late.append(_record(shop.pk, 0))  # inserted first: the lower id
                started.set()
                release.wait(10)
        finally:
            connections.close_all()

    writer = threading.Thread(target=long_transaction)
    writer.start()
    assert started.wait(10)
    try:
        early = _record(shop.pk, 1)  # inserted second, committed first
        events_publish()
        seen, cursor = _read_all(client, shop.slug, None)
    finally:
        release.set()
        writer.join(10)
    events_publish()
    rest, _ = _read_all(client, shop.slug, cursor)

    assert seen == [early]
    assert rest == late
    assert ShopEvent.objects.get(uid=late[0]).pk < ShopEvent.objects.get(uid=early).pk


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_concurrent_writers_read_while_it_happens_has_no_gap_or_duplicate():
    shop = shop_with_program()
    client = login(staff(shop, StaffRole.MANAGER))
    written: list[str] = []
    lock = threading.Lock()
    done = threading.Event()

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for n in range(15):
                with transaction.atomic():
                    uids = [_record(shop.pk, n) for _ in range(rng.randint(1, 3))]
                    if rng.random() < 0.3:
                        threading.Event().wait(rng.uniform(0.001, 0.02))  # hold the transaction open
                with lock:
                    written.extend(uids)
        finally:
            connections.close_all()

    def publisher() -> None:
        try:
            while not done.is_set():
                events_publish()
        finally:
            connections.close_all()

    writers = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    publishing = threading.Thread(target=publisher)
    publishing.start()
    for thread in writers:
        thread.start()
    seen: list[str] = []
    cursor = None
    while any(thread.is_alive() for thread in writers):
        page, cursor = _read_all(client, shop.slug, cursor, first=5)
        seen += page
    for thread in writers:
        thread.join()
    done.set()
    publishing.join()
    events_publish()
    page, cursor = _read_all(client, shop.slug, cursor, first=5)
    seen += page

    assert len(seen) == len(set(seen)), "an event was read twice"
    assert sorted(seen) == sorted(written), "an event was skipped"
    positions = [ShopEvent.objects.get(uid=uid).position for uid in seen]
    assert positions == sorted(positions)


@pytest.mark.django_db
def test_types_filter_and_a_bad_cursor_is_a_coded_error():
    shop = shop_with_program()
    client = login(staff(shop, StaffRole.OWNER))
    _record(shop.pk, 1)
    shop_event_record(shop_id=shop.pk, type=EventType.TIER_CHANGED, data={}, occurred_at=timezone.now())
    events_publish()

    only = gql(client, FEED, {"slug": shop.slug, "first": 10, "types": ["tier.changed"]})
    bad = gql(client, FEED, {"slug": shop.slug, "first": 10, "after": "bm90LWEtY3Vyc29y"})
    unknown = gql(client, FEED, {"slug": shop.slug, "first": 10, "types": ["points.stolen"]})

    assert [edge["node"]["type"] for edge in only["data"]["shop"]["events"]["edges"]] == ["tier.changed"]
    assert bad["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "after"}
    assert unknown["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "types"}


@pytest.mark.django_db
def test_points_movements_reach_the_feed_with_the_members_external_id():
    from loyalty.services.orders import order_event_process
    from marketplace.services.orders import order_event_record
    from tests.factories import CustomerFactory, order_input

    shop = shop_with_program()
    customer = CustomerFactory()
    event = order_event_record(
        data=order_input(shop, "F-1", customer=customer, amount="12.00"),
        idempotency_key="f-1",
        actor=None,
        notify=False,
    ).event
    order_event_process(event_id=event.pk)
    events_publish()

    body = gql(login(staff(shop, StaffRole.OWNER)), FEED, {"slug": shop.slug, "first": 50})
    nodes = [edge["node"] for edge in body["data"]["shop"]["events"]["edges"]]

    assert [node["type"] for node in nodes] == ["member.enrolled", "points.earned"]
    earned = nodes[1]["data"]
    assert earned["points"] == 12
    assert earned["pointsPending"] == 12
    assert earned["member"]["customerExternalId"] == customer.external_id
    assert earned["orderId"] is not None


@pytest.mark.django_db
def test_a_backlog_larger_than_a_batch_is_published_in_one_call_in_id_order():
    shop = shop_with_program()
    uids = [_record(shop.pk, n) for n in range(7)]

    events_publish(batch=3)

    published = list(ShopEvent.objects.filter(shop=shop).order_by("position").values_list("uid", "position"))
    assert [uid for uid, _ in published] == uids
    assert all(position is not None for _, position in published)


@pytest.mark.django_db
def test_metrics_count_unpublished_events_and_pending_deliveries():
    from django.test import Client

    from integrations.services.endpoints import webhook_endpoint_create

    shop = shop_with_program()
    owner = staff(shop, StaffRole.OWNER)
    webhook_endpoint_create(user=owner, shop_id=shop.pk, url="https://example.test/h", event_types=["points.adjusted"])
    _record(shop.pk, 1)
    before = Client().get("/metrics").content.decode()
    events_publish()
    after = Client().get("/metrics").content.decode()

    assert "patron_events_unpublished 1.0" in before
    assert 'patron_webhook_deliveries{status="pending"} 0.0' in before
    assert "patron_events_unpublished 0.0" in after
    assert 'patron_webhook_deliveries{status="pending"} 1.0' in after


@pytest.mark.django_db
def test_the_outbox_costs_posting_one_insert_per_event_and_no_lookup():
    """The worker's account already knows its customer and program: naming the member reads nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from loyalty.services.orders import order_event_process
    from marketplace.services.orders import order_event_record
    from tests.factories import CustomerFactory, order_input

    shop = shop_with_program()
    customer = CustomerFactory()
    for n in (1, 2):
        data = order_input(shop, f"Q-{n}", customer=customer, amount="12.00")
        event = order_event_record(data=data, idempotency_key=f"q-{n}", actor=None, notify=False).event
        with CaptureQueriesContext(connection) as queries:
            order_event_process(event_id=event.pk)

    statements = [query["sql"] for query in queries.captured_queries]
    assert [sql.split()[0] for sql in statements if "marketplace_shopevent" in sql] == ["INSERT"]
    assert not [sql for sql in statements if 'AS "customer__external_id"' in sql]  # loyalty.events.member_ref
