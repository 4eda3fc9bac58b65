"""Issue 15, goal 2: the worker posts many events per transaction, caches configuration per process.

* Batches (``order_events_process_batch``): concurrent workers claiming events with ``SKIP
  LOCKED``, every message delivered twice, produce the sequential replay entry for entry, each
  event once; a poison event in a batch neither fails nor rolls back the others and is counted
  against itself; the statements a batch costs per event are counted.
* Caches (``program_tiers_cached``, ``program_rules_cached``, ``referral_settings_cached``): an
  edit of tiers, rules or referral settings — through the services, a bulk ``update()``, another
  connection, or a stale ``save()`` of the program row — is seen by the next posted event.

Real PostgreSQL, real concurrent transactions (threads with their own connections); no mocks.
"""

from __future__ import annotations

import datetime as dt
import queue
import random
import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loyalty.models import (
    EarningRule,
    LoyaltyProgram,
    MemberAccount,
    PointsEntry,
    PointsLot,
    RuleKind,
    Tier,
    TierWindow,
)
from loyalty.selectors import ledger_discrepancies
from loyalty.services import orders
from loyalty.services.orders import (
    OrderEventApplyError,
    order_event_process,
    order_events_process_batch,
)
from loyalty.tasks import MAX_ATTEMPTS, order_event_process_task
from marketplace.models import OrderEvent, ShopEvent
from marketplace.services.orders import order_event_record
from referrals.models import Referral, ReferralProgram, ReferralStatus
from referrals.services import ReferralSettingsInput, referral_apply, referral_settings_update
from tests.factories import CustomerFactory, order_input, shop_with_program
from tests.loyalty.test_determinism import _differing_events, _ledger, _record, _script
from tests.referrals.helpers import member_with_code, referral_shop

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BASE = dt.datetime(2026, 1, 6, 15, tzinfo=dt.UTC)
YEAR_ONE = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def _deliver(shop, customer, order_id: str, amount: str = "100.00", at: dt.datetime | None = None) -> OrderEvent:
    """Record (not process) a delivered order of one line."""
    return order_event_record(
        data=order_input(shop, order_id, customer=customer, amount=amount, at=at or BASE),
        idempotency_key=f"{shop.pk}:{order_id}",
        actor=None,
        notify=False,
    ).event


def _in_another_connection(function) -> None:
    """Run ``function`` in a thread with its own connection and transaction (committed when it returns)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            function()
        except BaseException as exc:  # re-raised below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert errors == []


def _earned(event: OrderEvent) -> int:
    return PointsEntry.objects.get(idempotency_key=f"order:{event.order_id}:earn").points


# ---- batches: determinism and exactly-once under concurrency ----------------------------------------


def _drain_concurrently(event_ids: list[int], workers: int, limit: int, seed: int) -> int:
    """Every event's message twice, shuffled, taken by ``workers`` threads calling the batch service.

    Like the dramatiq actor: a transient database error (deadlock) is retried. Returns the
    number of events the batches applied (each event must be applied exactly once).
    """
    messages = list(event_ids) * 2
    random.Random(seed).shuffle(messages)
    todo: queue.Queue[int] = queue.Queue()
    for event_id in messages:
        todo.put(event_id)
    errors: list[BaseException] = []
    applied = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(workers)

    def work() -> None:
        barrier.wait()
        try:
            while True:
                try:
                    event_id = todo.get_nowait()
                except queue.Empty:
                    return
                for _ in range(10):
                    try:
                        result = order_events_process_batch(
                            event_id=event_id, limit=limit, max_attempts=MAX_ATTEMPTS, broadcast=False
                        )
                        break
                    except OperationalError:
                        continue
                else:
                    raise AssertionError(f"event {event_id} kept failing")
                with lock:
                    applied[0] += result.applied
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    return applied[0]


@pytest.mark.parametrize(("workers", "limit"), [(2, 5), (4, 17)])
def test_concurrent_batches_post_the_sequential_replay_each_event_once(postgres, workers, limit):
    # given 300 events of 4 members in 2 shops (deliveries, partial and full returns, tiers with
    # multipliers) recorded into two identical copies, interleaved
    customers = [CustomerFactory() for _ in range(4)]
    shops = {
        "parallel": [shop_with_program(), shop_with_program()],
        "sequential": [shop_with_program(), shop_with_program()],
    }
    ids = _record(_script(seed=15, steps=150, members=4), shops, customers)
    for event_id in ids["sequential"]:
        order_event_process(event_id=event_id, broadcast=False)
    # when real concurrent workers take every message twice, in shuffled order, each claiming
    # batches of other pending events with SKIP LOCKED
    applied = _drain_concurrently(ids["parallel"], workers=workers, limit=limit, seed=workers)
    # then each event was applied exactly once, and the ledger is the sequential replay's
    assert applied == len(ids["parallel"])
    assert set(OrderEvent.objects.filter(pk__in=ids["parallel"]).values_list("attempts", flat=True)) == {1}
    parallel, sequential = _ledger(shops["parallel"]), _ledger(shops["sequential"])
    assert _differing_events(parallel, sequential) == 0
    assert parallel == sequential
    assert not OrderEvent.objects.filter(processed_at__isnull=True).exists()
    assert ledger_discrepancies() == []


def test_one_message_applies_the_other_pending_events_in_one_transaction_and_duplicates_do_nothing():
    shop = shop_with_program()
    customers = [CustomerFactory() for _ in range(3)]
    events = [_deliver(shop, customers[i % 3], f"A{i}", at=BASE + dt.timedelta(hours=i)) for i in range(9)]
    result = order_events_process_batch(event_id=events[4].pk, max_attempts=MAX_ATTEMPTS, broadcast=False)
    assert (result.applied, result.one_by_one, result.outcome.points) == (9, False, 110)  # its second: Silver
    assert not OrderEvent.objects.filter(processed_at__isnull=True).exists()
    # duplicate messages (the other events' own, or a redelivery) find their event processed
    for event in events:
        again = order_events_process_batch(event_id=event.pk, max_attempts=MAX_ATTEMPTS, broadcast=False)
        assert (again.outcome.already_processed, again.applied) == (True, 0)
    assert PointsEntry.objects.filter(kind="earn").count() == 9
    assert ledger_discrepancies() == []


def test_an_earlier_event_held_by_another_transaction_keeps_its_members_later_events_out_of_the_batch():
    shop = shop_with_program()
    ann, bob = CustomerFactory(), CustomerFactory()
    ann_first = _deliver(shop, ann, "A1")
    bob_first = _deliver(shop, bob, "B1")
    ann_second = _deliver(shop, ann, "A2")
    held, release = threading.Event(), threading.Event()

    def hold_ann_first() -> None:
        from django.db import transaction

        with transaction.atomic():
            list(OrderEvent.objects.select_for_update().filter(pk=ann_first.pk))
            held.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=lambda: _in_another_connection(hold_ann_first))
    thread.start()
    assert held.wait(timeout=30)
    try:
        # Bob's message claims Ann's second event but not her first (locked elsewhere): her second
        # must not overtake her first, so it stays for later; Bob's is applied
        result = order_events_process_batch(event_id=bob_first.pk, max_attempts=MAX_ATTEMPTS, broadcast=False)
    finally:
        release.set()
        thread.join(timeout=30)
    assert result.applied == 1
    assert set(OrderEvent.objects.filter(processed_at__isnull=True).values_list("pk", flat=True)) == {
        ann_first.pk,
        ann_second.pk,
    }
    # Ann's second message then pulls in her first, in order
    order_events_process_batch(event_id=ann_second.pk, max_attempts=MAX_ATTEMPTS, broadcast=False)
    assert list(
        PointsEntry.objects.filter(kind="earn").order_by("pk").values_list("order__external_id", flat=True)
    ) == [
        "B1",
        "A1",
        "A2",
    ]


# ---- a poison event in a batch ---------------------------------------------------------------------


def _poisoned_shop():
    """A shop whose calendar-year window the worker cannot compute for a year-one event time."""
    shop = shop_with_program()
    LoyaltyProgram.objects.filter(shop=shop).update(tier_window=TierWindow.CALENDAR_YEAR)
    return shop


def _poison(shop, customer, order_id: str = "P1") -> OrderEvent:
    event = _deliver(shop, customer, order_id, amount="40.00")
    OrderEvent.objects.filter(pk=event.pk).update(occurred_at=YEAR_ONE)
    return event


def test_a_poison_event_neither_fails_nor_rolls_back_the_others_and_is_counted_against_itself():
    shop = _poisoned_shop()
    good = [_deliver(shop, CustomerFactory(), f"G{i}") for i in range(3)]
    poison = _poison(shop, CustomerFactory())
    more = [_deliver(shop, CustomerFactory(), f"H{i}") for i in range(3)]
    # when the message of a healthy event claims the batch holding the poison
    result = order_events_process_batch(event_id=good[0].pk, max_attempts=MAX_ATTEMPTS, broadcast=False)
    # then every healthy event is posted, one transaction each after the batch failed
    assert (result.one_by_one, result.applied, result.outcome.points) == (True, 6, 100)
    assert not OrderEvent.objects.filter(pk__in=[e.pk for e in good + more], processed_at__isnull=True).exists()
    # and the poison has one attempt counted, with its error, and nothing of it was posted
    poison.refresh_from_db()
    assert (poison.processed_at, poison.failed_at, poison.attempts) == (None, None, 1)
    assert "OverflowError" in poison.failure
    assert not PointsEntry.objects.filter(order_id=poison.order_id).exists()
    assert ledger_discrepancies() == []


def test_a_poison_event_pulled_in_by_its_members_later_message_is_counted_against_itself_once():
    shop = _poisoned_shop()
    member = CustomerFactory()
    poison = _poison(shop, member)
    later = _deliver(shop, member, "A2")
    other = _deliver(shop, CustomerFactory(), "B1")
    # when the actor runs the later event's message (its member's earlier poison is pulled in)
    with pytest.raises(OrderEventApplyError) as failed:
        order_event_process_task.fn(later.pk)
    # then the failure names the poison, is counted once against it, and the other member's event
    # was posted; the later event waits (retried with its message)
    assert failed.value.event_id == poison.pk
    poison.refresh_from_db()
    later.refresh_from_db()
    other.refresh_from_db()
    assert (poison.attempts, later.attempts, later.processed_at) == (1, 0, None)
    assert other.processed_at is not None
    # after MAX_ATTEMPTS the poison is parked and the member's later event goes ahead without it
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(OrderEventApplyError):
            order_event_process_task.fn(later.pk)
    poison.refresh_from_db()
    assert poison.failed_at is not None
    order_event_process_task.fn(later.pk)
    later.refresh_from_db()
    assert later.processed_at is not None


# ---- statements per event ----------------------------------------------------------------------------


def test_a_batch_of_returning_members_deliveries_costs_the_same_statements_whatever_its_size():
    # given members enrolled before (returning), in a program without rules or referrals
    shop = shop_with_program()
    customers = [CustomerFactory() for _ in range(30)]
    for number, customer in enumerate(customers):
        order_event_process(event_id=_deliver(shop, customer, f"W{number}", amount="1.00").pk, broadcast=False)

    def statements(count: int, tag: str) -> int:
        events = [_deliver(shop, customer, f"{tag}{n}", amount="5.00") for n, customer in enumerate(customers[:count])]
        with CaptureQueriesContext(connection) as queries:
            result = order_events_process_batch(event_id=events[0].pk, max_attempts=MAX_ATTEMPTS, broadcast=False)
        assert result.applied == count
        return len(queries.captured_queries)

    # then a batch costs the same statements whatever its size: the entries, lots, shop events
    # and balances are written in bulk (one statement each for the batch), and no tier, rule,
    # referral or release query runs (cached, or known from the batch's account lock); crm's
    # statistics and tags add four per batch (stored statistics read, statistics upsert, thresholds
    # and automatic tags read: a first delivery adds to the stored figures, no history is read),
    # whatever its size (loyalty.signals.order_events_posted)
    small, large = statements(10, "S"), statements(30, "L")
    assert large == small
    assert small <= 21, small


# ---- caches: an edit anywhere is seen by the next posted event ----------------------------------------


def test_a_tier_edit_in_another_connection_is_seen_by_the_next_event():
    shop = shop_with_program()
    customer = CustomerFactory()
    first = _deliver(shop, customer, "A1", amount="300.00")  # Gold (x1.25 from the next order on)
    order_events_process_batch(event_id=first.pk, max_attempts=MAX_ATTEMPTS, broadcast=False)
    second = _deliver(shop, customer, "A2", amount="100.00", at=BASE + dt.timedelta(hours=1))
    order_events_process_batch(event_id=second.pk, max_attempts=MAX_ATTEMPTS, broadcast=False)
    assert _earned(second) == 125  # the cached ladder now holds Gold x1.25
    # when another process raises Gold's multiplier (a bulk update, no Django signal)
    _in_another_connection(
        lambda: Tier.objects.filter(program__shop=shop, name="Gold").update(multiplier=Decimal("2.00"))
    )
    # then the next event earns with it
    third = _deliver(shop, customer, "A3", amount="100.00", at=BASE + dt.timedelta(hours=2))
    order_events_process_batch(event_id=third.pk, max_attempts=MAX_ATTEMPTS, broadcast=False)
    assert _earned(third) == 200


def test_a_lowered_threshold_is_reached_by_the_next_event_even_after_a_stale_save_of_the_program():
    shop = shop_with_program()
    customer = CustomerFactory()
    stale = LoyaltyProgram.objects.get(shop=shop)  # read before the ladder edit
    first = _deliver(shop, customer, "A1", amount="50.00")
    order_event_process(event_id=first.pk, broadcast=False)  # caches the four-tier ladder
    version = LoyaltyProgram.objects.get(shop=shop).config_version
    Tier.objects.filter(program=stale, name="Silver").update(threshold=Decimal("60"))
    # a save() of the program row read before the edit writes its old version back: refused
    stale.name = "Renamed"
    stale.save()
    assert LoyaltyProgram.objects.get(shop=shop).config_version > version
    second = _deliver(shop, customer, "A2", amount="20.00", at=BASE + dt.timedelta(hours=1))
    order_event_process(event_id=second.pk, broadcast=False)
    assert MemberAccount.objects.get(customer=customer).tier.name == "Silver"


def test_an_earning_rule_created_or_changed_is_applied_by_the_next_event():
    shop = shop_with_program()
    customer = CustomerFactory()
    program = LoyaltyProgram.objects.get(shop=shop)
    first = _deliver(shop, customer, "A1", amount="10.00")
    order_event_process(event_id=first.pk, broadcast=False)  # caches "no rules"
    rule = EarningRule.objects.create(program=program, name="Double", kind=RuleKind.MULTIPLIER, multiplier=2)
    second = _deliver(shop, customer, "A2", amount="10.00", at=BASE + dt.timedelta(hours=1))
    order_event_process(event_id=second.pk, broadcast=False)
    assert _earned(second) == 20
    # a change of the rule's tiers (its many-to-many rows) is seen too: Silver members only now
    rule.tiers.set([Tier.objects.get(program=program, name="Silver")])
    third = _deliver(shop, customer, "A3", amount="10.00", at=BASE + dt.timedelta(hours=2))
    order_event_process(event_id=third.pk, broadcast=False)
    assert _earned(third) == 10
    # and a program setting (read fresh with every batch) as well
    _in_another_connection(
        lambda: LoyaltyProgram.objects.filter(pk=program.pk).update(points_per_currency_unit=Decimal("3"))
    )
    fourth = _deliver(shop, customer, "A4", amount="10.00", at=BASE + dt.timedelta(hours=3))
    order_events_process_batch(event_id=fourth.pk, max_attempts=MAX_ATTEMPTS, broadcast=False)
    assert _earned(fourth) == 30


def test_referrals_switched_back_on_are_seen_by_the_next_delivered_order():
    shop = referral_shop()
    _, code = member_with_code(shop)
    friend = CustomerFactory()
    referral = referral_apply(user=friend.user, shop_id=shop.pk, code=code.code, now=timezone.now())
    program = LoyaltyProgram.objects.get(shop=shop)
    referral_settings_update(program=program, data=ReferralSettingsInput(enabled=False))
    # a delivered order of someone else caches "referrals off" in this process
    order_event_process(event_id=_deliver(shop, CustomerFactory(), "X1", at=timezone.now()).pk, broadcast=False)
    # when another process switches them on again (a bulk update: no signal)
    _in_another_connection(lambda: ReferralProgram.objects.filter(program_id=program.pk).update(enabled=True))
    # then the friend's first order completes the referral
    order_event_process(event_id=_deliver(shop, friend, "F1", at=timezone.now()).pk, broadcast=False)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.COMPLETED
    assert Referral.objects.get(pk=referral.pk).referee_points == 50


# ---- the bulk path writes what the per-event path writes -------------------------------------------


def _rows(shops) -> dict[str, dict]:
    """Lots, accounts and shop events of ``shops`` per member (each member's in the order written),
    ids replaced by what they stand for. The order between members is not compared: a batch
    posts its members' plain deliveries together, after the others."""
    lots: dict[tuple, list] = {}
    for lot in (
        PointsLot.objects.filter(account__program__shop__in=shops)
        .select_related("entry__order", "account__customer", "account__program__shop")
        .order_by("pk")
    ):
        lots.setdefault((shops.index(lot.account.program.shop), lot.account.customer.external_id), []).append(
            (
                lot.entry.order.external_id if lot.entry.order_id else lot.entry.reason,
                lot.points,
                lot.remaining,
                lot.available_at,
                lot.released_at,
                lot.expires_at,
            )
        )
    accounts = {
        (shops.index(a.program.shop), a.customer.external_id): (
            a.tier.name if a.tier else None,
            a.points_available,
            a.points_pending,
            a.lifetime_points,
            a.qualifying_value,
            a.last_activity_at,
        )
        for a in MemberAccount.objects.filter(program__shop__in=shops).select_related(
            "tier", "customer", "program__shop"
        )
    }
    events: dict[tuple, list] = {}
    for event in ShopEvent.objects.filter(shop__in=shops).select_related("shop").order_by("pk"):
        member = (shops.index(event.shop), event.data.get("member", {}).get("customerExternalId"))
        events.setdefault(member, []).append(
            (
                event.type,
                event.occurred_at,
                # ids differ between the copies: everything else of the body must be equal
                {k: v for k, v in event.data.items() if not k.endswith("Id") and k not in {"member", "source"}},
                sorted(event.data),
                event.data.get("member", {}).get("customerExternalId"),
                (event.data.get("source") or {}).get("type"),
            )
        )
    return {"lots": lots, "accounts": accounts, "shop_events": events}


@pytest.mark.parametrize("batched", [False, True])
def test_the_bulk_path_writes_exactly_what_the_per_event_path_writes(postgres, monkeypatch, batched):
    # given the same 300 events (deliveries, partial and full returns, tier upgrades, and many
    # returning members' plain deliveries) recorded into two identical copies of two shops
    customers = [CustomerFactory() for _ in range(6)]
    shops = {
        "reference": [shop_with_program(), shop_with_program()],
        "bulk": [shop_with_program(), shop_with_program()],
    }
    ids = _record(_script(seed=7, steps=150, members=6), shops, customers)
    # when one copy is applied event by event through the per-event services only
    monkeypatch.setattr(orders, "BULK_EARNINGS", False)
    for event_id in ids["reference"]:
        order_event_process(event_id=event_id, broadcast=False)
    # and the other with the bulk path: each event alone, or in batches of 8
    monkeypatch.setattr(orders, "BULK_EARNINGS", True)
    for event_id in ids["bulk"]:
        if batched:
            order_events_process_batch(event_id=event_id, limit=8, max_attempts=MAX_ATTEMPTS, broadcast=False)
        else:
            order_event_process(event_id=event_id, broadcast=False)
    # then entries, lots, accounts and shop events are the same
    assert _ledger(shops["bulk"]) == _ledger(shops["reference"])
    bulk, reference = _rows(shops["bulk"]), _rows(shops["reference"])
    for table in reference:
        assert bulk[table] == reference[table], table
    assert not OrderEvent.objects.filter(processed_at__isnull=True).exists()
    assert ledger_discrepancies() == []
