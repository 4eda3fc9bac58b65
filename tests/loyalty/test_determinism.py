"""Issue 13, case 6: the ledger does not depend on how many workers run or how messages interleave.

The rule (docs/ledger.md, "Order of events"): a member's events (one customer in one shop) are
applied in recorded order; a worker that gets a later event first pulls the earlier ones in
under the same locks. So the same events recorded into two identical shops give the same
entries, entry for entry, whether one shop's events are processed by 4 real concurrent
workers (threads with their own PostgreSQL connections and transactions) in shuffled order
and the other's sequentially in recorded order.
"""

from __future__ import annotations

import datetime as dt
import queue
import random
import re
import threading
from collections import defaultdict
from dataclasses import dataclass

import pytest
from django.db import OperationalError, connections

from loyalty.models import PointsEntry, PointsLot
from loyalty.selectors import ledger_discrepancies
from loyalty.services.orders import order_event_process
from marketplace.models import Customer, Order, OrderEvent, Shop
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, order_input, shop_with_program

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BASE = dt.datetime(2025, 1, 6, 15, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Step:
    """One recorded event of the script: member ``member`` in shop pair ``pair``."""

    member: int
    pair: int
    order: str
    status: str
    at: dt.datetime
    amount: str = "0"
    returned: tuple[tuple[int, int], ...] = ()


def _script(seed: int, steps: int, members: int) -> list[Step]:
    """A reproducible history: new deliveries (2 lines) and partial or full returns of them."""
    rng = random.Random(seed)
    open_orders: dict[tuple[int, int], list[str]] = defaultdict(list)
    partly: set[str] = set()
    script = []
    for index in range(steps):
        member, pair = rng.randrange(members), rng.randrange(2)
        at = BASE + dt.timedelta(hours=9 * index)
        candidates = open_orders[member, pair]
        if candidates and rng.random() < 0.3:
            order = rng.choice(candidates)
            if order not in partly and rng.random() < 0.5:
                partly.add(order)
                script.append(Step(member, pair, order, "partially_returned", at, returned=((1, 1),)))
            else:
                candidates.remove(order)
                script.append(Step(member, pair, order, "returned", at))
            continue
        order = f"O{index}"
        candidates.append(order)
        script.append(
            Step(member, pair, order, "delivered", at, amount=f"{rng.randrange(5, 60)}.{rng.randrange(100):02d}")
        )
    return script


def _record(script: list[Step], shops: dict[str, list[Shop]], customers: list[Customer]) -> dict[str, list[int]]:
    """Record every step into each copy of its shop pair, interleaved; the event ids per copy."""
    ids: dict[str, list[int]] = {copy: [] for copy in shops}
    for number, step in enumerate(script):
        for copy, pair in shops.items():
            shop = pair[step.pair]
            if step.status == "delivered":
                data = order_input(
                    shop, step.order, customer=customers[step.member], at=step.at, items=((2, step.amount),)
                )
            else:
                data = order_input(shop, step.order, step.status, at=step.at, lines=False, returned=step.returned)
            event = order_event_record(data=data, idempotency_key=f"{copy}:{number}", actor=None, notify=False).event
            ids[copy].append(event.pk)
    return ids


def _process_concurrently(event_ids: list[int], workers: int, seed: int) -> int:
    """Process ``event_ids`` shuffled with ``workers`` threads (own connections); return the retries.

    A worker retries a transient database error as the dramatiq actor does.
    """
    shuffled = list(event_ids)
    random.Random(seed).shuffle(shuffled)
    todo: queue.Queue[int] = queue.Queue()
    for event_id in shuffled:
        todo.put(event_id)
    errors: list[BaseException] = []
    retries = [0]
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
                        order_event_process(event_id=event_id, broadcast=False)
                        break
                    except OperationalError:
                        retries[0] += 1
                else:
                    raise AssertionError(f"event {event_id} kept failing")
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
    return retries[0]


def _ledger(shops: list[Shop]) -> dict[tuple[str, int], list[tuple]]:
    """Every account's entries in posting order, with ids replaced by what they stand for.

    Keys name orders, events, lots and accounts by database id, which differ between the two
    copies: they become the order's external id, the event's script number, the lot's order.
    """
    orders = dict(Order.objects.filter(shop__in=shops).values_list("pk", "external_id"))
    events = {pk: key.split(":", 1)[1] for pk, key in OrderEvent.objects.values_list("pk", "idempotency_key")}
    lots = dict(PointsLot.objects.filter(entry__order__shop__in=shops).values_list("pk", "entry__order__external_id"))

    def plain(key: str) -> str:
        key = re.sub(r"order:(\d+)", lambda m: f"order:{orders[int(m[1])]}", key)
        key = re.sub(r"reverse:(\d+)", lambda m: f"reverse:#{events[int(m[1])]}", key)
        key = re.sub(r"lot:(\d+)", lambda m: f"lot:{lots.get(int(m[1]), m[1])}", key)
        return re.sub(r"welcome:(\d+)", "welcome", key)

    ledger: dict[tuple[str, int], list[tuple]] = defaultdict(list)
    rows = PointsEntry.objects.filter(account__program__shop__in=shops).order_by("pk")
    for entry in rows.select_related("account__customer", "account__program__shop"):
        ledger[entry.account.customer.external_id, shops.index(entry.account.program.shop)].append(
            (
                entry.kind,
                entry.points,
                entry.reason,
                plain(entry.idempotency_key),
                entry.available_after,
                entry.pending_after,
                entry.created_at,
            )
        )
    return dict(ledger)


def _differing_events(parallel: dict, sequential: dict) -> int:
    """How many (order, event kind) entries earned or took back other points than the replay."""
    points: dict[str, dict[str, int]] = {"parallel": {}, "sequential": {}}
    for name, ledger in (("parallel", parallel), ("sequential", sequential)):
        for account, entries in ledger.items():
            for _kind, value, _reason, key, *_ in entries:
                points[name][f"{account}:{key}"] = value
    keys = set(points["parallel"]) | set(points["sequential"])
    return sum(points["parallel"].get(key) != points["sequential"].get(key) for key in keys)


@pytest.mark.parametrize("workers", [2, 4])
def test_parallel_workers_post_the_sequential_replay_entry_for_entry(postgres, workers):
    # given 300 events of 4 members in 2 shops (deliveries, partial and full returns, tiers with
    # multipliers), recorded into two identical copies of the shops, interleaved
    customers = [CustomerFactory() for _ in range(4)]
    shops = {
        "parallel": [shop_with_program(), shop_with_program()],
        "sequential": [shop_with_program(), shop_with_program()],
    }
    script = _script(seed=13, steps=150, members=4)
    ids = _record(script, shops, customers)
    assert len(ids["parallel"]) + len(ids["sequential"]) == 300
    # when one copy is processed sequentially in recorded order and the other by real concurrent
    # workers in shuffled order
    for event_id in ids["sequential"]:
        order_event_process(event_id=event_id, broadcast=False)
    _process_concurrently(ids["parallel"], workers=workers, seed=workers)
    # then every account's entries are the same, entry for entry, and the ledger is consistent
    parallel, sequential = _ledger(shops["parallel"]), _ledger(shops["sequential"])
    assert _differing_events(parallel, sequential) == 0
    assert parallel == sequential
    assert sum(len(entries) for entries in sequential.values()) > 150
    assert not OrderEvent.objects.filter(processed_at__isnull=True).exists()
    assert ledger_discrepancies() == []


def test_a_late_event_pulls_in_the_members_earlier_events(postgres):
    # given three deliveries of one member in recorded order (the second crosses Silver at 100)
    shop, customer = shop_with_program(), CustomerFactory()
    events = [
        order_event_record(
            data=order_input(shop, f"A{i}", customer=customer, amount="60.00", at=BASE + dt.timedelta(hours=i)),
            idempotency_key=f"k{i}",
            actor=None,
            notify=False,
        ).event
        for i in range(3)
    ]
    # when the last message arrives first
    outcome = order_event_process(event_id=events[2].pk, broadcast=False)
    # then the earlier two were applied first, in order: the third earns at Silver (x1.1)
    assert OrderEvent.objects.filter(processed_at__isnull=True).count() == 0
    earned = list(PointsEntry.objects.filter(kind="earn").order_by("pk").values_list("reason", "points"))
    assert earned == [("Order A0 delivered", 60), ("Order A1 delivered", 60), ("Order A2 delivered", 66)]
    assert outcome.points == 66
    assert order_event_process(event_id=events[0].pk, broadcast=False).already_processed
