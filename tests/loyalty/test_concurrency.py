"""Exactly-once posting under duplicates and real concurrent transactions (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import DatabaseError, connection, connections, transaction

from loyalty.models import MemberAccount, PointsEntry
from loyalty.selectors import ledger_discrepancies
from loyalty.services.orders import order_event_process
from marketplace.models import OrderEvent
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, order_input, shop_with_program

pytestmark = [pytest.mark.django_db(transaction=True)]


def run_concurrently(functions: list[Callable[[], object]]) -> list[object]:
    """Run each function in its own thread (own DB connection), released together by a barrier."""
    barrier = threading.Barrier(len(functions))
    results: list[object] = [None] * len(functions)

    def worker(index: int, function: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # collected and asserted on by the test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_same_delivery_twice_posts_once(postgres):
    shop, customer = shop_with_program(), CustomerFactory()
    event = order_event_record(
        data=order_input(shop, "A1", customer=customer, amount="50.00"), idempotency_key="k", actor=None
    ).event
    first = order_event_process(event_id=event.pk, broadcast=False)
    second = order_event_process(event_id=event.pk, broadcast=False)
    assert (first.points, second.already_processed) == (50, True)
    assert PointsEntry.objects.count() == 1
    assert MemberAccount.objects.get().points_pending == 50


def test_two_workers_processing_one_delivery_at_once_post_once(postgres):
    shop, customer = shop_with_program(), CustomerFactory()
    event = order_event_record(
        data=order_input(shop, "A1", customer=customer, amount="75.00"), idempotency_key="k", actor=None
    ).event
    results = run_concurrently([lambda: order_event_process(event_id=event.pk, broadcast=False)] * 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.already_processed for r in results) == [False, True, True, True]
    assert PointsEntry.objects.count() == 1
    account = MemberAccount.objects.get()
    assert (account.points_pending, account.lifetime_points) == (75, 75)
    assert ledger_discrepancies() == []


def test_concurrent_deliveries_of_one_member_all_count(postgres):
    # given 8 orders of one new member (the account does not exist yet: enrolment races too)
    shop, customer = shop_with_program(), CustomerFactory()
    events = [
        order_event_record(
            data=order_input(
                shop, f"A{i}", customer=customer, amount="30.00", at=dt.datetime(2026, 1, 1, 12, i, tzinfo=dt.UTC)
            ),
            idempotency_key=f"k{i}",
            actor=None,
        ).event
        for i in range(8)
    ]
    # when 8 workers process them at once
    results = run_concurrently([lambda e=e: order_event_process(event_id=e.pk, broadcast=False) for e in events])
    # then every order posted exactly once on one account and the cache equals the ledger
    assert not [r for r in results if isinstance(r, Exception)], results
    account = MemberAccount.objects.get()
    assert MemberAccount.objects.count() == 1
    assert PointsEntry.objects.filter(kind="earn").count() == 8
    # tiers: 30 per order at x1 until 100 (Silver, x1.1 -> 33) and so on; order of arrival varies,
    # so only the invariants and the total spend are fixed
    assert account.qualifying_value == 240
    assert account.tier.name == "Silver"
    assert ledger_discrepancies() == []


def test_concurrent_same_key_records_one_order(postgres):
    shop, customer = shop_with_program(), CustomerFactory()
    data = order_input(shop, "A1", customer=customer)
    results = run_concurrently([lambda: order_event_record(data=data, idempotency_key="same", actor=None)] * 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.replayed for r in results) == [False, True, True, True]
    assert len({r.order.pk for r in results}) == 1


def test_concurrent_same_key_status_change_is_one_change_and_replays(postgres):
    # given a placed order, and the same "delivered" event sent 6 times at once with one key
    shop, customer = shop_with_program(), CustomerFactory()
    order_event_record(data=order_input(shop, "A1", "placed", customer=customer), idempotency_key="placed", actor=None)
    delivered = order_input(shop, "A1", "delivered", at=dt.datetime(2026, 1, 6, 12, tzinfo=dt.UTC), lines=False)
    # when they race for the order's row lock
    results = run_concurrently([lambda: order_event_record(data=delivered, idempotency_key="same", actor=None)] * 6)
    # then one moved the order and the others answer as replays (not "delivered -> delivered")
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.replayed for r in results) == [False] + [True] * 5
    assert OrderEvent.objects.filter(order__external_id="A1").count() == 2


def test_posted_entries_cannot_be_updated_or_deleted(postgres):
    shop, customer = shop_with_program(), CustomerFactory()
    event = order_event_record(data=order_input(shop, "A1", customer=customer), idempotency_key="k", actor=None).event
    order_event_process(event_id=event.pk, broadcast=False)
    entry = PointsEntry.objects.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PointsEntry.objects.filter(pk=entry.pk).update(points=1_000_000)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM loyalty_pointsentry")
    assert PointsEntry.objects.get().points == entry.points
