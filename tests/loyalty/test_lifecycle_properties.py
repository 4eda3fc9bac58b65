"""Property test: random interleavings of earn, partial and full return, redeem, release and expire
keep every ledger invariant and never leave a negative balance.

Points expire one month after they become available and stay pending three days, so a 40-step
history (one day a step) sees every movement kind. Invariants checked at the end (and the
balances after every step): ``ledger_discrepancies`` is empty (cached balances = entries = lots,
consumption rows add up), no balance or lot remainder is negative, an order never gives back
more than it earned, and expired points equal the sum of EXPIRE entries.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.errors import LoyaltyError
from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, PointsEntry, PointsLot, SourceType
from loyalty.selectors import ledger_discrepancies
from loyalty.services.ledger import Movement, account_lock, points_redeem
from loyalty.services.lifecycle import points_expire_due, points_release_due
from loyalty.services.orders import order_event_process
from marketplace.errors import OrderError
from marketplace.models import Order
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, order_input, shop_with_program

pytestmark = pytest.mark.django_db

START = dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)
steps = st.lists(
    st.one_of(
        # deliver order n for customer c: two lines (1-3 units of 10-60)
        st.tuples(st.just("deliver"), st.integers(0, 4), st.integers(0, 1), st.integers(1, 3), st.integers(1, 6)),
        # return k units of line l of order n (partial), or the rest of it (full)
        st.tuples(st.just("return"), st.integers(0, 4), st.integers(1, 2), st.integers(1, 3), st.booleans()),
        st.tuples(st.just("redeem"), st.integers(0, 1), st.integers(1, 150)),
        st.tuples(st.just("release")),
        st.tuples(st.just("expire")),
        st.tuples(st.just("wait"), st.integers(1, 45)),
    ),
    min_size=5,
    max_size=40,
)
#: deliveries that open every history, so that the random steps have orders to act on
openings = st.lists(
    st.tuples(st.just("deliver"), st.integers(0, 4), st.integers(0, 1), st.integers(1, 3), st.integers(1, 6)),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(openings=openings, steps=steps)
def test_random_lifecycles_keep_the_ledger_whole(openings, steps):
    shop = shop_with_program()
    LoyaltyProgram.objects.filter(shop=shop).update(pending_days=3, expiry_months=1)
    customers = [CustomerFactory() for _ in range(2)]
    clock = START
    for number, step in enumerate(openings + steps):
        clock += dt.timedelta(days=1)
        kind = step[0]
        # a refused event (an order delivered twice, a return beyond what remains, ...) writes
        # nothing; the API tests check those refusals one by one
        with contextlib.suppress(OrderError):
            if kind == "deliver":
                _, order_no, customer_no, units, price = step
                _record(
                    order_input(
                        shop,
                        f"o{order_no}",
                        customer=customers[customer_no],
                        at=clock,
                        items=((units, f"{price * 10}.00"), (1, "25.00")),
                    ),
                    number,
                )
            elif kind == "return":
                _, order_no, line_no, units, full = step
                order = Order.objects.filter(shop=shop, external_id=f"o{order_no}").first()
                if order is not None:
                    customer = order.customer
                    status = "returned" if full else "partially_returned"
                    returned = () if full else ((line_no, units),)
                    data = order_input(
                        shop, f"o{order_no}", status, customer=customer, at=clock, lines=False, returned=returned
                    )
                    _record(data, number)
        if kind == "redeem":
            _redeem(shop, customers[step[1]], step[2], clock, number)
        elif kind == "release":
            points_release_due(now=clock, broadcast=False)
        elif kind == "expire":
            points_expire_due(now=clock, broadcast=False)
        elif kind == "wait":
            clock += dt.timedelta(days=step[1])
        for account in MemberAccount.objects.filter(program__shop=shop):
            assert account.points_available >= 0
            assert account.points_pending >= 0

    accounts = list(MemberAccount.objects.filter(program__shop=shop))
    assert ledger_discrepancies(account_ids=[a.pk for a in accounts]) == []
    assert not PointsLot.objects.filter(account__in=accounts, remaining__lt=0).exists()
    for account in accounts:
        expired = PointsEntry.objects.filter(account=account, kind=EntryKind.EXPIRE).aggregate(s=Sum("points"))["s"]
        assert account.points_expired == -(expired or 0)
    for order in Order.objects.filter(shop=shop):
        earned = PointsEntry.objects.filter(order=order, kind=EntryKind.EARN).aggregate(s=Sum("points"))["s"] or 0
        reversed_ = PointsEntry.objects.filter(order=order, kind=EntryKind.REVERSE)
        taken = -(reversed_.aggregate(s=Sum("points"))["s"] or 0)
        written_off = reversed_.aggregate(s=Sum("unrecovered_points"))["s"] or 0
        assert taken + written_off <= earned
        if order.status == "returned":
            assert taken + written_off == earned


def _record(data, number: int) -> None:
    # examples share the database (hypothesis runs them inside one test): keys carry the shop
    event = order_event_record(data=data, idempotency_key=f"{data.shop_id}-step-{number}", actor=None).event
    order_event_process(event_id=event.pk, broadcast=False)


def _redeem(shop, customer, points: int, clock: dt.datetime, number: int) -> None:
    """Spend up to ``points`` of the customer's available points (as a reward redemption would)."""
    account = MemberAccount.objects.filter(customer=customer, program__shop=shop).first()
    if account is None:
        return
    with transaction.atomic(), contextlib.suppress(LoyaltyError):
        locked = account_lock(account_ids=[account.pk]).get()
        spend = min(points, locked.points_available)
        if spend:
            points_redeem(
                account=locked,
                points=spend,
                movement=Movement(
                    kind=EntryKind.REDEEM,
                    reason="Redeemed in a property test",
                    source_type=SourceType.REDEMPTION,
                    source_id=str(number),
                    idempotency_key=f"{shop.pk}-redeem-{number}",
                    at=clock,
                ),
            )
