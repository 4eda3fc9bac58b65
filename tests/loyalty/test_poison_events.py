"""Issue 13, cases 4 and 5: poison events are refused at recording, or parked after bounded retries.

A date the worker cannot handle is refused by ``order_event_record`` (nothing written). An
event that still fails in the worker is retried with backoff a bounded number of times, then
parked as FAILED with its error; the outbox sweep skips it and serves shops fairly, so a
backlog in one shop never hides another shop's lost message. Staff retry a parked event after
a fix. Runs the real dramatiq worker on the configured broker where it matters.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from loyalty.models import LoyaltyProgram, MemberAccount, PointsEntry, TierWindow
from loyalty.services.orders import OrderEventBlocked, order_event_process
from loyalty.tasks import MAX_ATTEMPTS, SWEEP_BATCH, SWEEP_PER_SHOP, order_event_process_task, outbox_sweep
from marketplace.errors import OrderError, OrderErrorCode
from marketplace.models import Customer, Order, OrderEvent, OrderLine, StaffRole
from marketplace.selectors import order_events_to_resend
from marketplace.services.order_events import order_event_retry
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, ShopFactory, order_input, shop_with_program, staff

pytestmark = [pytest.mark.django_db(transaction=True)]

YEAR_ONE = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def _state() -> tuple:
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        list(OrderEvent.objects.order_by("pk").values()),
        Customer.objects.count(),
        MemberAccount.objects.count(),
        PointsEntry.objects.count(),
    )


def _poisoned(shop, order_id: str = "P1", customer=None) -> OrderEvent:
    """A delivered order whose stored event time the worker cannot handle (year 1 in New York).

    Recording refuses such a date now, so the row is altered after recording, as a row written
    before the check (or by a bug) would be.
    """
    event = order_event_record(
        data=order_input(shop, order_id, customer=customer or CustomerFactory(), amount="40.00"),
        idempotency_key=f"poison-{order_id}",
        actor=None,
        notify=False,
    ).event
    OrderEvent.objects.filter(pk=event.pk).update(occurred_at=YEAR_ONE)
    return event


# ---- validated at recording time ---------------------------------------------------------------


@pytest.mark.parametrize(
    "occurred_at",
    [
        YEAR_ONE,  # the case: accepted, then OverflowError in the worker for ever
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),  # overflows even in UTC
        dt.datetime(1969, 12, 31, 23, 59, tzinfo=dt.UTC),  # just before the bound
        dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC),
        timezone.now() + dt.timedelta(days=2),
    ],
)
def test_an_event_time_out_of_range_is_refused_and_writes_nothing(occurred_at):
    shop = shop_with_program()
    LoyaltyProgram.objects.filter(shop=shop).update(tier_window=TierWindow.CALENDAR_YEAR)
    customer = CustomerFactory()
    before = _state()
    with pytest.raises(OrderError) as refused:
        order_event_record(
            data=order_input(shop, "Y1", customer=customer, at=occurred_at), idempotency_key="k", actor=None
        )
    assert (refused.value.code, refused.value.field) == (OrderErrorCode.INVALID_INPUT, "occurredAt")
    assert _state() == before
    assert not Order.objects.exists()


@pytest.mark.parametrize("window", [TierWindow.CALENDAR_YEAR, TierWindow.ROLLING_12_MONTHS, TierWindow.LIFETIME])
@pytest.mark.parametrize(
    "occurred_at",
    [dt.datetime(1970, 1, 1, tzinfo=dt.UTC), dt.datetime(1997, 1, 1, 12, tzinfo=dt.UTC)],  # the bound; CDNOW
)
def test_the_earliest_accepted_dates_are_processed_without_overflow(window, occurred_at):
    # given a New York shop (1970-01-01T00:00Z is 1969-12-31 there) with each tier window
    shop = shop_with_program()
    LoyaltyProgram.objects.filter(shop=shop).update(tier_window=window)
    event = order_event_record(
        data=order_input(shop, "E1", customer=CustomerFactory(), amount="120.00", at=occurred_at),
        idempotency_key="k",
        actor=None,
        notify=False,
    ).event
    # when the worker processes it, then it earns and qualifies like any other order
    assert order_event_process(event_id=event.pk, broadcast=False).points == 120
    assert MemberAccount.objects.get().tier.name == "Silver"


# ---- bounded retries, then parked ---------------------------------------------------------------


def test_a_poison_event_is_retried_a_bounded_number_of_times_then_parked(worker):
    # given an event the worker raises on (OverflowError in the tier window maths)
    shop = shop_with_program()
    LoyaltyProgram.objects.filter(shop=shop).update(tier_window=TierWindow.CALENDAR_YEAR)
    event = _poisoned(shop)
    # when its message is processed by the real worker (with backoff between retries)
    order_event_process_task.send(event.pk)
    worker.join("loyalty", timeout=120_000)
    # then it was tried MAX_ATTEMPTS times and parked with its error; nothing was posted
    event.refresh_from_db()
    assert event.failed_at is not None
    assert event.processed_at is None
    assert event.attempts == MAX_ATTEMPTS
    assert "OverflowError" in event.failure
    assert PointsEntry.objects.count() == 0
    assert MemberAccount.objects.count() == 0
    # and the sweep does not send it again
    assert outbox_sweep(now=timezone.now() + dt.timedelta(hours=1)) == 0


def test_a_parked_event_of_another_order_does_not_hold_back_the_members_later_events():
    shop, customer = shop_with_program(), CustomerFactory()
    poison = _poisoned(shop, "P1", customer)
    OrderEvent.objects.filter(pk=poison.pk).update(failed_at=timezone.now(), attempts=MAX_ATTEMPTS)
    later = order_event_record(
        data=order_input(shop, "A2", customer=customer, amount="30.00"), idempotency_key="k2", actor=None, notify=False
    ).event
    assert order_event_process(event_id=later.pk, broadcast=False).points == 30
    poison.refresh_from_db()
    assert poison.processed_at is None
    assert poison.failed_at is not None


def test_a_parked_event_holds_back_the_later_events_of_its_order_and_writes_nothing():
    shop, customer = shop_with_program(), CustomerFactory()
    poison = _poisoned(shop, "P1", customer)
    OrderEvent.objects.filter(pk=poison.pk).update(failed_at=timezone.now(), attempts=MAX_ATTEMPTS)
    returned = order_event_record(
        data=order_input(shop, "P1", "returned", lines=False), idempotency_key="ret", actor=None, notify=False
    ).event
    before = _state()
    with pytest.raises(OrderEventBlocked, match=f"failed event {poison.pk}"):
        order_event_process(event_id=returned.pk, broadcast=False)
    assert _state() == before


# ---- the sweep skips parked events and serves shops fairly ------------------------------------------


def _backlog(shop, count: int, *, recorded_at: dt.datetime, failed: bool = False) -> list[int]:
    """``count`` unprocessed events of one order of ``shop``, recorded at ``recorded_at``."""
    first = order_event_record(
        data=order_input(shop, f"B{shop.pk}", customer=CustomerFactory()),
        idempotency_key=f"backlog-{shop.pk}",
        actor=None,
        notify=False,
    ).event
    OrderEvent.objects.bulk_create(
        OrderEvent(
            order_id=first.order_id,
            status="delivered",
            occurred_at=first.occurred_at,
            idempotency_key=f"backlog-{shop.pk}-{i}",
            request_fingerprint="x",
        )
        for i in range(count - 1)
    )
    rows = OrderEvent.objects.filter(order_id=first.order_id)
    rows.update(created_at=recorded_at, failed_at=timezone.now() if failed else None)
    return list(rows.values_list("pk", flat=True))


def test_a_thousand_stuck_events_of_one_shop_do_not_hide_another_shops_lost_message():
    # given 1,000 old unprocessed events of shop A, 1,000 parked ones of shop C, and one event of
    # shop B whose message was lost, recorded after all of them
    now = timezone.now()
    stuck = _backlog(ShopFactory(), SWEEP_BATCH, recorded_at=now - dt.timedelta(hours=3))
    parked = _backlog(ShopFactory(), SWEEP_BATCH, recorded_at=now - dt.timedelta(hours=4), failed=True)
    lost = _backlog(ShopFactory(), 1, recorded_at=now - dt.timedelta(hours=1))
    # when the sweep chooses what to re-send
    chosen = order_events_to_resend(recorded_before=now, per_shop=SWEEP_PER_SHOP, limit=SWEEP_BATCH)
    # then B's event is among them (first round), parked events are not, A gets its fair share
    assert lost[0] in chosen[:2]
    assert not set(chosen) & set(parked)
    assert len(set(chosen) & set(stuck)) == SWEEP_PER_SHOP
    assert outbox_sweep(now=now + dt.timedelta(minutes=5)) == SWEEP_PER_SHOP + 1


# ---- retry after a fix ------------------------------------------------------------------------------


def test_staff_retry_a_parked_event_after_a_fix(worker):
    shop, customer = shop_with_program(), CustomerFactory()
    owner = staff(shop, StaffRole.OWNER)
    poison = _poisoned(shop, "P1", customer)
    OrderEvent.objects.filter(pk=poison.pk).update(failed_at=timezone.now(), attempts=MAX_ATTEMPTS, failure="boom")
    # the fix: the stored time is corrected
    OrderEvent.objects.filter(pk=poison.pk).update(occurred_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    retried = order_event_retry(event_id=poison.pk, actor=owner)
    assert [event.pk for event in retried] == [poison.pk]
    worker.join("loyalty", timeout=30_000)
    poison.refresh_from_db()
    assert poison.processed_at is not None
    assert (poison.failed_at, poison.failure) == (None, "")
    assert MemberAccount.objects.get(customer=customer).points_pending == 40


@pytest.mark.parametrize("who", ["cashier", "other_owner", "unknown", "not_parked"])
def test_a_refused_retry_changes_nothing(who):
    shop, customer = shop_with_program(), CustomerFactory()
    poison = _poisoned(shop, "P1", customer)
    OrderEvent.objects.filter(pk=poison.pk).update(failed_at=timezone.now(), attempts=MAX_ATTEMPTS)
    fine = order_event_record(
        data=order_input(shop, "A2", customer=customer), idempotency_key="ok", actor=None, notify=False
    ).event
    users = {"cashier": staff(shop, StaffRole.CASHIER), "other_owner": staff(ShopFactory(), StaffRole.OWNER)}
    actor = users.get(who) or staff(shop, StaffRole.OWNER)
    event_id = {"unknown": 10**9, "not_parked": fine.pk}.get(who, poison.pk)
    before = _state()
    with pytest.raises(OrderError) as refused:
        order_event_retry(event_id=event_id, actor=actor)
    want = OrderErrorCode.ORDER_EVENT_NOT_FAILED if who == "not_parked" else OrderErrorCode.ORDER_EVENT_NOT_FOUND
    assert refused.value.code == want
    assert _state() == before


def test_a_stray_message_for_a_parked_event_leaves_it_parked_with_its_error():
    shop = shop_with_program()
    poison = _poisoned(shop)
    OrderEvent.objects.filter(pk=poison.pk).update(failed_at=timezone.now(), attempts=MAX_ATTEMPTS, failure="boom")
    before = _state()
    order_event_process_task.fn(poison.pk)  # e.g. a duplicate message delivered after parking
    assert order_event_process(event_id=poison.pk, broadcast=False).parked
    assert _state() == before
