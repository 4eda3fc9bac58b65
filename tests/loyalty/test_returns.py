"""Returns and refunds: full or partial, line by line, in proportion, with the spent-points policy."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import ROUND_DOWN, Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.broadcasts import ACCOUNT_UPDATED, member_group, shop_group
from loyalty.models import (
    EarningRule,
    EntryKind,
    MemberAccount,
    PointsEntry,
    PointsLot,
    PointsLotConsumption,
    RuleKind,
    Tier,
)
from loyalty.selectors import ledger_discrepancies
from loyalty.services.ledger import Movement, account_lock, points_redeem
from loyalty.services.lifecycle import points_release_due
from loyalty.services.orders import order_event_process, points_paid_shares
from marketplace.errors import OrderError
from marketplace.models import Category, Order, OrderEvent, OrderLine, OrderStatus
from marketplace.services.orders import CustomerInput, ReturnedLineInput, order_event_record
from tests.api.graphql import gid, gql, login
from tests.factories import CustomerFactory, order_input, shop_with_program, staff
from tests.live import GroupListener
from tests.loyalty.test_concurrency import run_concurrently

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
#: 3 x 9.99 + 1 x 45.50 = 75.47 of goods: 75 points at Bronze (x1), qualifying 75.47.
TWO_LINES = ((3, "9.99"), (1, "45.50"))


def flat_shop():
    """A shop whose tiers all earn x1, so that a tier reached by one order does not change the next."""
    shop = shop_with_program()
    Tier.objects.filter(program=shop.program).update(multiplier=1)
    return shop


def record(shop, order_id, status="delivered", *, day=0, key=None, **fields):
    """Record one event of ``order_id`` on day ``day`` after START (lines only when it is new)."""
    new = not Order.objects.filter(shop=shop, external_id=order_id).exists()
    data = order_input(shop, order_id, status, at=START + dt.timedelta(days=day), lines=new, **fields)
    return order_event_record(data=data, idempotency_key=key or f"{order_id}:{status}:{day}", actor=None)


def step(shop, order_id, status="delivered", *, day=0, **fields):
    """Record and process one event; return the REVERSE / EARN entry it posted (or ``None``)."""
    outcome = order_event_process(event_id=record(shop, order_id, status, day=day, **fields).event.pk, broadcast=False)
    return PointsEntry.objects.get(pk=outcome.entry_id) if outcome.entry_id else None


def account(customer) -> MemberAccount:
    return MemberAccount.objects.get(customer=customer)


def state(customer) -> tuple[int, int, int, Decimal]:
    """(pending, available, lifetime, qualifying value) of the customer's account."""
    a = account(customer)
    return a.points_pending, a.points_available, a.lifetime_points, a.qualifying_value


def consumed(entry) -> int:
    return PointsLotConsumption.objects.filter(entry=entry).aggregate(total=Sum("points"))["total"] or 0


def redeem(customer, points, key="redeem"):
    with transaction.atomic():
        locked = account_lock(account_ids=[account(customer).pk]).get()
        return points_redeem(
            account=locked,
            points=points,
            movement=Movement(
                kind=EntryKind.REDEEM,
                reason="Reward",
                source_type="redemption",
                source_id="1",
                idempotency_key=key,
                at=START + dt.timedelta(days=30),
            ),
        )


# ---- full return ------------------------------------------------------------------------------


def test_full_return_while_pending_takes_the_pending_points():
    # given a delivered order of 80.00 whose 80 points are still pending
    shop, customer = shop_with_program(), CustomerFactory()
    step(shop, "A1", customer=customer, amount="80.00")
    assert state(customer) == (80, 0, 80, Decimal("80.00"))
    # when it is returned on day 3 (inside the return window), with no lines named
    entry = step(shop, "A1", "returned", day=3)
    # then everything is taken from pending, keyed as before partial returns existed
    assert state(customer) == (0, 0, 0, Decimal("0.00"))
    assert (entry.kind, entry.points, entry.pending_delta, entry.available_delta) == ("reverse", -80, -80, 0)
    assert (entry.qualifying_delta, entry.unrecovered_points) == (Decimal("-80.00"), 0)
    assert entry.idempotency_key == f"order:{entry.order_id}:reverse"
    assert entry.reason == "Order A1 returned"
    assert consumed(entry) == 80
    # and the order records what came back
    order = Order.objects.get(external_id="A1")
    assert order.status == OrderStatus.RETURNED
    assert list(order.lines.values_list("returned_quantity", flat=True)) == [1]
    assert OrderEvent.objects.get(status="returned").returned_lines == [{"line_no": 1, "quantity": 1}]
    assert ledger_discrepancies() == []


def test_refund_after_a_full_return_takes_nothing_more():
    shop, customer = shop_with_program(), CustomerFactory()
    step(shop, "A1", customer=customer, amount="80.00")
    step(shop, "A1", "returned", day=3)
    assert step(shop, "A1", "refunded", day=4) is None
    assert PointsEntry.objects.filter(kind=EntryKind.REVERSE).count() == 1
    assert Order.objects.get().status == OrderStatus.REFUNDED
    assert state(customer) == (0, 0, 0, Decimal("0.00"))
    assert ledger_discrepancies() == []


# ---- partial returns, line by line ------------------------------------------------------------


def test_partial_returns_line_by_line_take_back_in_proportion_and_the_last_takes_the_rest():
    # given 3 x 9.99 + 1 x 45.50 delivered: 75 points pending, qualifying 75.47
    shop, customer = shop_with_program(), CustomerFactory()
    step(shop, "A1", customer=customer, items=TWO_LINES)
    assert state(customer) == (75, 0, 75, Decimal("75.47"))
    order = Order.objects.get()

    # when 2 of the 3 units of line 1 come back: floor(75 x 19.98 / 75.47) = floor(19.86) = 19
    first = step(shop, "A1", "partially_returned", day=2, returned=((1, 2),))
    assert (first.points, first.pending_delta, first.qualifying_delta) == (-19, -19, Decimal("-19.98"))
    assert first.reason == "Order A1 partially returned: 2 x line 1"
    assert state(customer) == (56, 0, 56, Decimal("55.49"))
    assert Order.objects.get().status == OrderStatus.PARTIALLY_RETURNED

    # then line 2: cumulative floor(75 x 65.48 / 75.47) = 65, minus the 19 already taken = 46
    second = step(shop, "A1", "partially_returned", day=3, returned=((2, 1),))
    assert (second.points, second.qualifying_delta) == (-46, Decimal("-45.50"))
    assert state(customer) == (10, 0, 10, Decimal("9.99"))

    # and the rest with a final "returned" that names no line: exactly what remains
    last = step(shop, "A1", "returned", day=4)
    assert (last.points, last.qualifying_delta) == (-10, Decimal("-9.99"))
    assert state(customer) == (0, 0, 0, Decimal("0.00"))

    # every reversal has its own key; in total exactly the earning came back
    events = list(OrderEvent.objects.filter(order=order, status__in=["partially_returned", "returned"]).order_by("pk"))
    assert [e.idempotency_key for e in (first, second, last)] == [
        f"order:{order.pk}:reverse:{event.pk}" for event in events
    ]
    assert [e.returned_lines for e in events] == [
        [{"line_no": 1, "quantity": 2}],
        [{"line_no": 2, "quantity": 1}],
        [{"line_no": 1, "quantity": 1}],
    ]
    assert list(order.lines.order_by("line_no").values_list("returned_quantity", flat=True)) == [3, 1]
    assert Order.objects.get().status == OrderStatus.RETURNED
    assert PointsLot.objects.get().remaining == 0
    assert ledger_discrepancies() == []


def test_on_a_points_basis_the_qualifying_value_follows_the_points_taken_back():
    shop, customer = shop_with_program(), CustomerFactory()
    shop.program.tier_basis = "points"
    shop.program.save(update_fields=["tier_basis"])
    step(shop, "A1", customer=customer, items=TWO_LINES)
    first = step(shop, "A1", "partially_returned", day=2, returned=((1, 2),))
    assert (first.points, first.qualifying_delta) == (-19, Decimal("-19"))
    last = step(shop, "A1", "refunded", day=3)
    assert (last.points, last.qualifying_delta) == (-56, Decimal("-56"))
    assert state(customer) == (0, 0, 0, Decimal("0"))
    assert ledger_discrepancies() == []


def test_a_partial_return_of_everything_left_completes_the_order():
    shop, customer = shop_with_program(), CustomerFactory()
    step(shop, "A1", customer=customer, items=TWO_LINES)
    step(shop, "A1", "partially_returned", day=1, returned=((1, 1),))
    last = step(shop, "A1", "partially_returned", day=2, returned=((1, 2), (2, 1)))
    assert Order.objects.get().status == OrderStatus.RETURNED
    assert state(customer) == (0, 0, 0, Decimal("0.00"))
    assert last.points == -(75 - 9)  # floor(75 x 9.99 / 75.47) = 9 came back first
    # a refund afterwards is allowed and takes nothing more
    assert step(shop, "A1", "refunded", day=3) is None
    assert ledger_discrepancies() == []


def test_a_return_after_release_takes_available_points():
    # given an order whose points became available (14-day window) and a second, still pending
    shop, customer = shop_with_program(), CustomerFactory()
    step(shop, "A1", customer=customer, items=TWO_LINES)
    step(shop, "B1", customer=customer, amount="20.00", day=16)
    assert state(customer) == (20, 75, 95, Decimal("95.47"))
    # when line 2 of the first order comes back on day 20: floor(75 x 45.50 / 75.47) = 45
    entry = step(shop, "A1", "partially_returned", day=20, returned=((2, 1),))
    # then the points come from available (the lot was released), pending is not touched
    assert (entry.points, entry.available_delta, entry.pending_delta) == (-45, -45, 0)
    assert state(customer) == (20, 30, 50, Decimal("49.97"))
    assert ledger_discrepancies() == []


# ---- points already spent ---------------------------------------------------------------------


def test_spent_points_are_taken_from_other_available_points_first_to_expire():
    # given A (100) and B (80) both available, and 50 spent (taken from A, the older lot)
    shop, customer = flat_shop(), CustomerFactory()
    step(shop, "A", customer=customer, amount="100.00")
    step(shop, "B", customer=customer, amount="80.00", day=1)
    step(shop, "C", customer=customer, amount="10.00", day=20)  # releases A and B on touch
    redeem(customer, 50)
    assert state(customer) == (10, 130, 190, Decimal("190.00"))
    # when A is returned in full
    entry = step(shop, "A", "refunded", day=31)
    # then its 50 remaining points and 50 of B's are taken; nothing written off; C stays pending
    assert (entry.points, entry.available_delta, entry.pending_delta, entry.unrecovered_points) == (-100, -100, 0, 0)
    lots = {lot.entry.order.external_id: lot.remaining for lot in PointsLot.objects.select_related("entry__order")}
    assert lots == {"A": 0, "B": 30, "C": 10}
    assert consumed(entry) == 100
    assert state(customer) == (10, 30, 90, Decimal("90.00"))
    assert ledger_discrepancies() == []


def test_points_spent_beyond_what_is_available_are_written_off_never_negative():
    # given A (100) and B (30) available, C (40) pending, and 110 spent
    shop, customer = flat_shop(), CustomerFactory()
    step(shop, "A", customer=customer, amount="100.00")
    step(shop, "B", customer=customer, amount="30.00", day=1)
    step(shop, "C", customer=customer, amount="40.00", day=20)
    redeem(customer, 110)
    assert state(customer) == (40, 20, 170, Decimal("170.00"))
    # when A is returned
    entry = step(shop, "A", "returned", day=31)
    # then B's 20 are taken, the other 80 are written off and recorded; C's pending 40 untouched
    assert (entry.points, entry.available_delta, entry.pending_delta) == (-20, -20, 0)
    assert entry.unrecovered_points == 80
    assert entry.reason == "Order A returned; 80 points already spent could not be taken back"
    assert entry.qualifying_delta == Decimal("-100.00")  # the tier basis follows the whole return
    assert state(customer) == (40, 0, 150, Decimal("70.00"))
    assert ledger_discrepancies() == []


def test_a_written_off_share_counts_as_taken_back_for_later_returns():
    # given A (100 points, 2 x 50.00) available and entirely spent
    shop, customer = flat_shop(), CustomerFactory()
    step(shop, "A", customer=customer, items=((2, "50.00"),))
    points_release_due(now=START + dt.timedelta(days=15), broadcast=False)
    redeem(customer, 100)
    # when one unit comes back: 50 points due, none available: all written off
    first = step(shop, "A", "partially_returned", day=31, returned=((1, 1),))
    assert (first.points, first.unrecovered_points) == (0, 50)
    assert first.qualifying_delta == Decimal("-50.00")
    # and after the member earned B (60, available), the other unit comes back
    step(shop, "B", customer=customer, amount="60.00", day=32)
    points_release_due(now=START + dt.timedelta(days=47), broadcast=False)
    second = step(shop, "A", "returned", day=49)
    # then only the other 50 are due, and B has them
    assert (second.points, second.available_delta, second.unrecovered_points) == (-50, -50, 0)
    assert PointsLot.objects.get(entry__order__external_id="B").remaining == 10
    assert ledger_discrepancies() == []
    assert account(customer).points_available >= 0


# ---- points-paid portion ----------------------------------------------------------------------


def test_the_points_paid_part_earns_nothing_and_refunds_take_back_in_proportion():
    # given 2 x 50.00 + 1 x 20.00 with 30.00 paid with points: shares 25.00 and 5.00
    shop, customer = shop_with_program(), CustomerFactory()
    earn = step(shop, "P1", customer=customer, items=((2, "50.00"), (1, "20.00")), points_paid="30.00")
    # then it earns on the 90.00 paid in money, which is also all that counts towards tiers
    assert (earn.points, earn.qualifying_delta) == (90, Decimal("90.00"))
    assert Order.objects.get().points_paid_amount == Decimal("30.00")
    assert account(customer).tier.name == "Bronze"  # 120 of goods, but 90 < Silver's 100
    # when one unit of line 1 is refunded: its earn base is 75.00 / 2 = 37.50 of 90.00
    entry = step(shop, "P1", "partially_returned", day=2, returned=((1, 1),))
    assert (entry.points, entry.qualifying_delta) == (-37, Decimal("-37.50"))
    # and the rest on refund
    last = step(shop, "P1", "refunded", day=3)
    assert (last.points, last.qualifying_delta) == (-53, Decimal("-52.50"))
    assert state(customer) == (0, 0, 0, Decimal("0.00"))
    assert ledger_discrepancies() == []


def test_an_order_paid_entirely_with_points_earns_and_takes_back_nothing():
    shop, customer = shop_with_program(), CustomerFactory()
    assert step(shop, "P1", customer=customer, amount="40.00", points_paid="40.00") is None
    assert step(shop, "P1", "returned", day=2) is None
    assert state(customer) == (0, 0, 0, Decimal("0"))


def test_category_multipliers_apply_to_each_lines_cash_part():
    # given double points on books, and 60.00 of books + 40.00 else with 50.00 paid with points
    shop, customer = shop_with_program(), CustomerFactory()
    books = Category.objects.create(slug="books", name="Books")
    rule = EarningRule.objects.create(program=shop.program, name="Books x2", kind=RuleKind.MULTIPLIER, multiplier=2)
    rule.categories.set([books])
    earn = step(shop, "P1", customer=customer, items=((1, "60.00", "books"), (1, "40.00")), points_paid="50.00")
    # then the shares are 30.00 and 20.00: 30 x 2 + 20 = 80 points
    assert earn.points == 80
    assert earn.applied_rules == [{"id": rule.pk, "name": "Books x2", "points": 30}]


def test_points_paid_shares_are_whole_cents_that_add_up():
    assert points_paid_shares([Decimal("10.00")] * 3, Decimal("10.00")) == [
        Decimal("3.34"),
        Decimal("3.33"),
        Decimal("3.33"),
    ]
    assert points_paid_shares([Decimal("0.00"), Decimal("5.00")], Decimal("5.00")) == [Decimal("0"), Decimal("5.00")]
    assert points_paid_shares([Decimal("7.00")], Decimal("0")) == [Decimal("0")]
    amounts = [Decimal("0.07"), Decimal("19.99"), Decimal("3.01")]
    shares = points_paid_shares(amounts, Decimal("11.11"))
    assert sum(shares) == Decimal("11.11")
    assert all(Decimal("0") <= share <= amount for share, amount in zip(shares, amounts, strict=True))


# ---- validation -------------------------------------------------------------------------------

BAD_RETURNS = [
    ("partially_returned", {}, "RETURN_LINES_REQUIRED", "returnedLines"),
    ("partially_returned", {"returned": ((3, 1),)}, "RETURN_LINE_NOT_FOUND", "returnedLines.0.lineNo"),
    ("partially_returned", {"returned": ((0, 1),)}, "RETURN_LINE_NOT_FOUND", "returnedLines.0.lineNo"),
    ("partially_returned", {"returned": ((1, 0),)}, "INVALID_QUANTITY", "returnedLines.0.quantity"),
    ("partially_returned", {"returned": ((1, 2), (2, 1), (1, 1))}, "RETURN_LINE_DUPLICATE", "returnedLines.2.lineNo"),
    ("partially_returned", {"returned": ((2, 1), (1, 2))}, "RETURN_QUANTITY_EXCEEDED", "returnedLines.1.quantity"),
    ("returned", {"returned": ((2, 1),)}, "RETURN_LINES_INCOMPLETE", "returnedLines"),
    ("refunded", {"returned": ((1, 1), (2, 2))}, "RETURN_QUANTITY_EXCEEDED", "returnedLines.1.quantity"),
    ("cancelled", {"returned": ((1, 1),)}, "INVALID_INPUT", "returnedLines"),
    ("partially_returned", {"returned": ((2, 1),), "points_paid": "5.00"}, "POINTS_PAID_IMMUTABLE", "pointsPaidAmount"),
]


def _snapshot():
    return (
        list(Order.objects.values_list("status", "points_paid_amount")),
        list(OrderLine.objects.order_by("pk").values_list("returned_quantity", flat=True)),
        OrderEvent.objects.count(),
        PointsEntry.objects.count(),
    )


@pytest.mark.parametrize(("status", "fields", "code", "field"), BAD_RETURNS)
def test_a_bad_returned_line_is_a_coded_error_and_changes_nothing(status, fields, code, field):
    # given a delivered order of which 2 units of line 1 (of 3) came back already
    shop, customer = shop_with_program(), CustomerFactory()
    step(shop, "A1", customer=customer, items=TWO_LINES)
    step(shop, "A1", "partially_returned", day=1, returned=((1, 2),))
    before = _snapshot()
    with pytest.raises(OrderError) as refused:
        record(shop, "A1", status, day=2, **fields)
    assert (refused.value.code.value, refused.value.field) == (code, field)
    assert _snapshot() == before


def test_returns_are_refused_before_delivery_and_points_paid_within_the_goods():
    shop, customer = shop_with_program(), CustomerFactory()
    record(shop, "A1", "paid", customer=customer, items=TWO_LINES)
    before = _snapshot()
    with pytest.raises(OrderError) as refused:
        record(shop, "A1", "partially_returned", day=1, returned=((1, 1),))
    assert refused.value.code.value == "INVALID_STATUS_TRANSITION"
    with pytest.raises(OrderError) as refused:
        record(shop, "A2", "delivered", customer=customer, amount="10.00", points_paid="10.01")
    assert (refused.value.code.value, refused.value.field) == ("INVALID_AMOUNT", "pointsPaidAmount")
    with pytest.raises(OrderError) as refused:
        record(shop, "A3", "delivered", customer=customer, amount="10.00", points_paid="-1")
    assert (refused.value.code.value, refused.value.field) == ("INVALID_AMOUNT", "pointsPaidAmount")
    assert _snapshot() == before


# ---- idempotency and concurrency --------------------------------------------------------------


def test_a_replayed_return_event_and_a_duplicate_message_take_back_once():
    shop, customer = shop_with_program(), CustomerFactory()
    step(shop, "A1", customer=customer, items=TWO_LINES)
    first = record(shop, "A1", "partially_returned", day=1, returned=((1, 2),), key="ret-1")
    replay = record(shop, "A1", "partially_returned", day=1, returned=((1, 2),), key="ret-1")
    assert (first.replayed, replay.replayed, replay.event.pk) == (False, True, first.event.pk)
    with pytest.raises(OrderError) as conflict:  # same key, other lines
        record(shop, "A1", "partially_returned", day=1, returned=((1, 1),), key="ret-1")
    assert conflict.value.code.value == "IDEMPOTENCY_CONFLICT"
    assert order_event_process(event_id=first.event.pk, broadcast=False).points == -19
    assert order_event_process(event_id=first.event.pk, broadcast=False).already_processed
    assert PointsEntry.objects.filter(kind=EntryKind.REVERSE).count() == 1
    assert list(OrderLine.objects.order_by("line_no").values_list("returned_quantity", flat=True)) == [2, 0]
    assert ledger_discrepancies() == []


def test_the_fingerprint_of_an_event_without_the_new_fields_is_unchanged():
    import hashlib
    import json
    from dataclasses import asdict

    shop = shop_with_program()
    data = order_input(shop, "A1")
    legacy = {k: v for k, v in asdict(data).items() if k not in ("points_paid_amount", "returned_lines")}
    assert data.fingerprint() == hashlib.sha256(json.dumps(legacy, sort_keys=True, default=str).encode()).hexdigest()
    assert order_input(shop, "A1", points_paid="1.00").fingerprint() != data.fingerprint()


def test_the_fingerprint_is_the_sha256_of_the_input_as_asdict_gives_it():
    import hashlib
    import json
    from dataclasses import asdict, replace

    # Given an input with every part filled in: customer, lines, points paid, returned lines
    shop = shop_with_program()
    data = replace(
        order_input(shop, "A1", points_paid="1.00"),
        status="partially_returned",
        customer=CustomerInput(external_id="c-1", display_name="Ann", email="ann@example.com"),
        returned_lines=(ReturnedLineInput(line_no=1, quantity=1),),
    )
    assert data.lines

    # Then its fingerprint is the digest of ``asdict`` (what every stored event was keyed with)
    expected = hashlib.sha256(json.dumps(asdict(data), sort_keys=True, default=str).encode()).hexdigest()
    assert data.fingerprint() == expected


@pytest.mark.django_db(transaction=True)
def test_two_workers_processing_one_return_take_back_once(postgres):
    shop, customer = shop_with_program(), CustomerFactory()
    step(shop, "A1", customer=customer, items=TWO_LINES)
    event = record(shop, "A1", "partially_returned", day=1, returned=((2, 1),)).event
    results = run_concurrently([lambda: order_event_process(event_id=event.pk, broadcast=False)] * 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.already_processed for r in results) == [False, True, True, True]
    assert PointsEntry.objects.filter(kind=EntryKind.REVERSE).count() == 1
    assert state(customer) == (30, 0, 30, Decimal("29.97"))
    assert ledger_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_returns_of_the_same_units_record_one(postgres):
    shop, customer = shop_with_program(), CustomerFactory()
    step(shop, "A1", customer=customer, items=TWO_LINES)
    results = run_concurrently(
        [lambda i=i: record(shop, "A1", "partially_returned", day=1, returned=((1, 2),), key=f"r{i}") for i in range(3)]
    )
    refused = [r for r in results if isinstance(r, OrderError)]
    assert len(refused) == 2, results
    assert {r.code.value for r in refused} == {"RETURN_QUANTITY_EXCEEDED"}
    assert OrderLine.objects.get(line_no=1).returned_quantity == 2


# ---- live update and GraphQL ------------------------------------------------------------------


def test_a_partial_return_reaches_the_member_and_the_shop_live(django_capture_on_commit_callbacks):
    shop, customer = shop_with_program(), CustomerFactory()
    step(shop, "A1", customer=customer, items=TWO_LINES)
    groups = [member_group(customer.pk), shop_group(shop.pk)]
    with GroupListener(groups) as listener:
        event = record(shop, "A1", "partially_returned", day=1, returned=((1, 2),)).event
        with django_capture_on_commit_callbacks(execute=True):
            order_event_process(event_id=event.pk)
        for group in groups:
            message = listener.next(group)
            assert (message["type"], message["kind"], message["points"]) == (ACCOUNT_UPDATED, "reverse", -19)
            assert message["reason"] == "Order A1 partially returned: 2 x line 1"


RECORD = """
mutation Record($input: OrderEventRecordInput!, $key: String!) {
  orderEventRecord(input: $input, idempotencyKey: $key) {
    order { status pointsPaidAmount lines { lineNo quantity returnedQuantity } }
    errors { field code }
  }
}
"""


def test_order_event_record_with_returned_lines_end_to_end():
    shop = shop_with_program()
    client = login(staff(shop))
    base = {"shopId": gid("Shop", shop.pk), "orderId": "G-1", "currency": "USD"}
    delivered = {
        **base,
        "status": "DELIVERED",
        "occurredAt": "2026-03-01T10:00:00+00:00",
        "customer": {"externalId": "cust-g"},
        "lines": [{"quantity": 3, "unitPrice": "10.00"}, {"quantity": 1, "unitPrice": "20.00"}],
        "pointsPaidAmount": "10.00",
    }
    body = gql(client, RECORD, {"input": delivered, "key": "g-1"})["data"]["orderEventRecord"]
    assert body["errors"] == []
    assert body["order"]["pointsPaidAmount"] == "10.00"
    partial = {**base, "status": "PARTIALLY_RETURNED", "occurredAt": "2026-03-02T10:00:00+00:00"}
    bad = gql(client, RECORD, {"input": {**partial, "returnedLines": [{"lineNo": 1, "quantity": 4}]}, "key": "g-2"})
    assert bad["data"]["orderEventRecord"]["errors"] == [
        {"field": "returnedLines.0.quantity", "code": "RETURN_QUANTITY_EXCEEDED"}
    ]
    good = gql(client, RECORD, {"input": {**partial, "returnedLines": [{"lineNo": 1, "quantity": 2}]}, "key": "g-3"})
    payload = good["data"]["orderEventRecord"]
    assert payload["errors"] == []
    assert payload["order"]["status"] == "PARTIALLY_RETURNED"
    assert payload["order"]["lines"] == [
        {"lineNo": 1, "quantity": 3, "returnedQuantity": 2},
        {"lineNo": 2, "quantity": 1, "returnedQuantity": 0},
    ]
    # the worker's part: 40 points on 50.00 - 10.00; then 2 x 10.00 less their 4.00 share of
    # points paid = 16.00 of 40.00 comes back: 16 points
    for event in OrderEvent.objects.order_by("pk"):
        order_event_process(event_id=event.pk, broadcast=False)
    reverse = PointsEntry.objects.get(kind=EntryKind.REVERSE)
    assert (reverse.points, reverse.qualifying_delta) == (-16, Decimal("-16.00"))
    assert MemberAccount.objects.get().points_pending == 24
    assert ledger_discrepancies() == []


# ---- property: random histories of deliveries, partial returns, spending and releases ----------

_orders = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.integers(1, 4),
        st.decimals(min_value=Decimal("1"), max_value=Decimal("90"), places=2),
        st.decimals(min_value=Decimal("1"), max_value=Decimal("90"), places=2),
        st.sampled_from([0, 0, 10, 50, 100]),
    ),
    min_size=1,
    max_size=4,
)
_steps = st.lists(
    st.one_of(
        st.tuples(st.just("return"), st.integers(0, 3), st.integers(1, 2), st.integers(0, 3), st.booleans()),
        st.tuples(st.just("return"), st.integers(0, 3), st.integers(1, 2), st.integers(1, 2), st.just(False)),
        st.tuples(st.just("spend"), st.integers(0, 1), st.integers(1, 200)),
        st.tuples(st.just("release"), st.integers(0, 20)),
        st.tuples(st.just("process"), st.integers(0, 40), st.booleans()),
    ),
    min_size=1,
    max_size=20,
)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(orders=_orders, steps=_steps)
def test_random_returns_and_spending_keep_every_invariant(orders, steps):
    # given up to 4 two-line orders of 2 members (some partly paid with points), delivered and
    # processed, then random partial / full returns, spending, release runs and late or
    # duplicated processing
    shop = flat_shop()
    customers = [CustomerFactory() for _ in range(2)]
    clock = START
    recorded: list[int] = []

    def keep(data):
        with contextlib.suppress(OrderError):  # refusals write nothing (tested above)
            recorded.append(
                order_event_record(data=data, idempotency_key=f"{shop.pk}-{len(recorded)}", actor=None).event.pk
            )

    for number, (customer_no, quantity, price, other, percent) in enumerate(orders):
        paid = ((price * quantity + other) * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        items = ((quantity, str(price)), (1, str(other)))
        keep(
            order_input(
                shop, f"o{number}", customer=customers[customer_no], items=items, points_paid=str(paid), at=clock
            )
        )
        order_event_process(event_id=recorded[-1], broadcast=False)
    for step in steps:
        clock += dt.timedelta(days=1)
        if step[0] == "return":
            _, order_no, line_no, quantity, full = step
            status = "returned" if full else "partially_returned"
            returned = () if full or quantity == 0 else ((line_no, quantity),)
            keep(order_input(shop, f"o{order_no % len(orders)}", status, at=clock, lines=False, returned=returned))
        elif step[0] == "spend":
            member = MemberAccount.objects.filter(customer=customers[step[1]]).first()
            if member is not None and member.points_available:
                redeem(customers[step[1]], min(step[2], member.points_available), key=f"{shop.pk}-spend-{clock}")
        elif step[0] == "release":
            points_release_due(now=clock + dt.timedelta(days=step[1]), broadcast=False)
        elif step[0] == "process" and recorded:
            order_event_process(event_id=recorded[step[1] % len(recorded)], broadcast=False)
            if step[2]:
                order_event_process(event_id=recorded[step[1] % len(recorded)], broadcast=False)
    for event_id in recorded:
        order_event_process(event_id=event_id, broadcast=False)

    # then the ledger is whole, no balance is negative, and each order gave back at most its
    # earning (exactly all of it once returned in full)
    # (hypothesis runs every example in the test's one transaction: look at this shop only)
    assert ledger_discrepancies(account_ids=list(shop.program.accounts.values_list("pk", flat=True))) == []
    for reverse in PointsEntry.objects.filter(kind=EntryKind.REVERSE, account__program__shop=shop):
        assert consumed(reverse) == -reverse.points  # every take is a consumption row
        assert reverse.unrecovered_points >= 0
        assert reverse.qualifying_delta <= 0
    for order in Order.objects.filter(shop=shop):
        earn = PointsEntry.objects.filter(order=order, kind=EntryKind.EARN).first()
        reversals = PointsEntry.objects.filter(order=order, kind=EntryKind.REVERSE)
        back = sum(-r.points + r.unrecovered_points for r in reversals)
        qualifying_back = -sum((r.qualifying_delta for r in reversals), Decimal("0"))
        if earn is None:
            assert back == 0
            continue
        assert 0 <= back <= earn.points
        assert 0 <= qualifying_back <= earn.qualifying_delta
        if order.status in (OrderStatus.RETURNED, OrderStatus.REFUNDED):
            assert (back, qualifying_back) == (earn.points, earn.qualifying_delta)
        lines = list(order.lines.all())
        assert all(0 <= line.returned_quantity <= line.quantity for line in lines)


# ---- the tier follows a return ----------------------------------------------------------------


def test_a_return_undoes_the_upgrade_its_goods_paid_for():
    shop = flat_shop()  # lifetime window: Bronze 0 / Silver 100 / Gold 250 / Platinum 500
    customer = CustomerFactory()
    step(shop, "A1", amount="80.00", customer=customer)
    step(shop, "A2", amount="200.00", customer=customer, day=1)
    assert account(customer).tier.name == "Gold"  # 280 of spend
    step(shop, "A2", "returned", day=2)
    member = account(customer)
    assert (member.tier.name, member.qualifying_value) == ("Bronze", Decimal("80.00"))
    last = member.tier_changes.latest("id")
    assert (last.from_tier.name, last.to_tier.name, last.reason) == (
        "Gold",
        "Bronze",
        "Order A2 returned: qualifying value fell",
    )
    assert ledger_discrepancies(account_ids=[member.pk]) == []


def test_a_return_never_takes_the_tier_held_when_the_window_began():
    shop = flat_shop()
    shop.program.tier_window = "calendar_year"
    shop.program.save(update_fields=["tier_window"])
    customer = CustomerFactory()
    # Gold last year (300 of spend in 2025), kept into 2026 (requalification has not run yet)
    step(shop, "OLD", amount="300.00", customer=customer, day=-30)
    assert account(customer).tier.name == "Gold"
    # in January 2026 a Platinum order comes back: back to Gold, which the window began with, not lower
    step(shop, "NEW", amount="500.00", customer=customer, day=1)
    assert account(customer).tier.name == "Platinum"
    step(shop, "NEW", "returned", day=2)
    assert account(customer).tier.name == "Gold"
