"""Issue 13, "Fault tests in CI": the supervised stack drains a stream of orders through faults.

Real processes: supervisord (deploy/supervisord.conf) running web, a worker of 2 processes and
the scheduler on this run's test database and a Redis of the test's own. A producer thread
records ``N_EVENTS`` order events of ``MEMBERS`` customers in two shops (the script of
tests/loyalty/test_determinism.py: deliveries, partial and full returns, interleaved), each
followed by its message to the worker's broker, as ``orderEventRecord`` does. While they drain:
Redis is SIGKILLed and restarted empty, then a worker child is SIGKILLed twice; poison events
(a stored event time the worker overflows on) are injected among them. Then, with no manual
step: every other event is processed within a bound, the poison events are parked
(``failed_at``) without holding anyone back, the ledger equals the sequential in-process replay
of the same script in a twin pair of shops entry for entry, and ``manage.py check_ledger``
exits 0.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import threading
import time

import pytest
import redis as redis_lib
from django.conf import settings
from django.db import connection
from dramatiq.brokers.redis import RedisBroker

from loyalty.models import LoyaltyProgram, MemberAccount, PointsEntry, TierWindow
from loyalty.selectors import ledger_discrepancies
from loyalty.services.orders import order_event_process
from loyalty.tasks import MAX_ATTEMPTS, order_event_process_task
from marketplace.models import OrderEvent, Shop
from marketplace.services.orders import order_event_record
from tests.factories import CustomerFactory, order_input, shop_with_program
from tests.loyalty.test_determinism import Step, _ledger, _script
from tests.ops.procs import PYTHON, ROOT, service_env, wait_for
from tests.ops.supervised import Stack, supervised_stack
from tests.ops.test_supervised import _children

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

#: Order events recorded through the faults (deliveries, partial and full returns).
N_EVENTS = 600
#: Customers; each buys in both shops, so 2 x MEMBERS members.
MEMBERS = 30
#: Events recorded per second by the producer: the stream outlasts the three faults.
RATE = 12
#: Poison events, one customer each, in a shop of their own (calendar-year tier window).
POISONS = 3
#: Seconds within which everything recorded before a fault is processed. A message lost with
#: Redis or held by a killed child is applied by a later event of its member, or else re-sent
#: by the outbox sweep (events older than 60 s, every minute): two sweeps at most.
DRAIN_BOUND = 150
YEAR_ONE = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def _program(shop: Shop, **fields: object) -> Shop:
    """``shop`` with points that never become available during the test (the scheduler's release
    runs every 15 minutes and would post releases the in-process replay does not)."""
    LoyaltyProgram.objects.filter(shop=shop).update(pending_days=36500, **fields)
    return shop


def _data(shop: Shop, step: Step, customer):
    """The order event of ``step`` in ``shop``, as ``tests.loyalty.test_determinism._record`` builds it."""
    if step.status == "delivered":
        return order_input(shop, step.order, customer=customer, at=step.at, items=((2, step.amount),))
    return order_input(shop, step.order, step.status, at=step.at, lines=False, returned=step.returned)


class Producer(threading.Thread):
    """Records the script into the live shops at ``RATE`` per second, sending each message."""

    def __init__(self, script: list[Step], shops: list[Shop], customers: list, broker: RedisBroker) -> None:
        """Remember what to record; ``start`` runs it."""
        super().__init__(daemon=True)
        self.script, self.shops, self.customers, self.broker = script, shops, customers, broker
        self.ids: list[int] = []
        self.unsent = 0
        self.error: BaseException | None = None
        self.halt = threading.Event()

    def run(self) -> None:
        """Record one event after the other; a failed send is left to the outbox sweep."""
        began = time.monotonic()
        try:
            for number, step in enumerate(self.script):
                if self.halt.is_set():
                    return
                time.sleep(max(0.0, began + number / RATE - time.monotonic()))
                data = _data(self.shops[step.pair], step, self.customers[step.member])
                event = order_event_record(data=data, idempotency_key=f"live:{number}", actor=None, notify=False).event
                self.ids.append(event.pk)
                try:
                    self.broker.enqueue(order_event_process_task.message(event.pk))
                except redis_lib.RedisError:
                    self.unsent += 1  # Redis down: as order_event_enqueue, the sweep sends it
        except BaseException as exc:  # asserted on by the test
            self.error = exc
        finally:
            connection.close()


class Replay(threading.Thread):
    """Records the script into the twin shops and processes it sequentially, in recorded order."""

    def __init__(self, script: list[Step], shops: list[Shop], customers: list, started: float) -> None:
        """Remember what to replay; ``start`` runs it."""
        super().__init__(daemon=True)
        self.script, self.shops, self.customers, self.started = script, shops, customers, started
        self.error: BaseException | None = None
        self.halt = threading.Event()

    def run(self) -> None:
        """Record each event and apply it at once with ``order_event_process``, in script order.

        (Applied at once, no twin event is ever old enough for the live scheduler's outbox sweep.)
        """
        try:
            for number, step in enumerate(self.script):
                if self.halt.is_set():
                    return
                data = _data(self.shops[step.pair], step, self.customers[step.member])
                event = order_event_record(data=data, idempotency_key=f"twin:{number}", actor=None, notify=False).event
                order_event_process(event_id=event.pk, broadcast=False)
            print(f"twin recorded and replayed sequentially at {time.monotonic() - self.started:.1f}s")
        except BaseException as exc:  # asserted on by the test
            self.error = exc
        finally:
            connection.close()


def _halt(thread: Producer | Replay) -> None:
    """Stop ``thread`` (a failed test must not leave it writing while the tables are flushed)."""
    thread.halt.set()
    thread.join(timeout=30)


def _pending(shops: list[Shop], up_to: int | None = None) -> int:
    """Unprocessed events of ``shops`` (recorded up to event id ``up_to``)."""
    rows = OrderEvent.objects.filter(order__shop__in=shops, processed_at__isnull=True)
    if up_to is not None:
        rows = rows.filter(pk__lte=up_to)
    return rows.count()


def _drain_after(fault: str, shops: list[Shop], producer: Producer, began: float, timings: dict) -> None:
    """Wait until every event recorded before the fault is processed; print and keep the time."""
    up_to = producer.ids[-1] if producer.ids else 0
    wait_for(lambda: _pending(shops, up_to) == 0, timeout=DRAIN_BOUND, interval=0.1, what=f"drain after {fault}")
    timings[fault] = time.monotonic() - began
    print(f"{fault}: events recorded before it all processed {timings[fault]:.1f}s after it")


def _kill_worker_child(stack: Stack, boots: int) -> tuple[float, int]:
    """SIGKILL one child of the booted worker; return when, and the boots logged so far."""
    wait_for(lambda: stack.log("worker").count("is booting up") >= boots, timeout=60, what="worker booted")
    worker_pid = stack.pid("worker")
    os.kill(_children(worker_pid)[0], signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: stack.pid("worker") not in (0, worker_pid), timeout=30, what="worker restarted")
    return killed, boots + 1


def _poison(shop: Shop, number: int, broker: RedisBroker) -> int:
    """A delivered order whose stored time the worker overflows on (as test_poison_events), sent."""
    event = order_event_record(
        data=order_input(shop, f"POISON-{number}", customer=CustomerFactory(), amount="40.00"),
        idempotency_key=f"poison:{number}",
        actor=None,
        notify=False,
    ).event
    OrderEvent.objects.filter(pk=event.pk).update(occurred_at=YEAR_ONE)
    broker.enqueue(order_event_process_task.message(event.pk))
    return event.pk


def _balances(shops: list[Shop]) -> dict[tuple[str, int], tuple]:
    """Every member's cached balances and tier, keyed like ``_ledger``."""
    rows = MemberAccount.objects.filter(program__shop__in=shops).select_related("customer", "program", "tier")
    return {
        (a.customer.external_id, shops.index(a.program.shop)): (
            a.points_available,
            a.points_pending,
            a.lifetime_points,
            a.tier.name if a.tier else None,
        )
        for a in rows
    }


def test_the_supervised_stack_drains_orders_through_faults_to_the_sequential_ledger(postgres, tmp_path, request):
    started = time.monotonic()
    # given the script recorded into a twin pair of shops and replayed sequentially in-process
    customers = [CustomerFactory() for _ in range(MEMBERS)]
    live = [_program(shop_with_program()), _program(shop_with_program())]
    twin = [_program(shop_with_program()), _program(shop_with_program())]
    poison_shop = _program(shop_with_program(), tier_window=TierWindow.CALENDAR_YEAR)
    script = _script(seed=13, steps=N_EVENTS, members=MEMBERS)
    replay = Replay(script, twin, customers, started)
    replay.start()  # meanwhile, in a thread of its own
    request.addfinalizer(lambda: _halt(replay))

    with supervised_stack(tmp_path) as stack:
        namespace = settings.DRAMATIQ_BROKER["OPTIONS"]["namespace"]
        broker = RedisBroker(url=f"redis://127.0.0.1:{stack.redis.port}/0", namespace=namespace, socket_timeout=2)
        heartbeats = redis_lib.Redis(port=stack.redis.port, socket_timeout=1)
        wait_for(lambda: heartbeats.zcard(f"{namespace}:__heartbeats__") >= 2, timeout=60, what="2 worker children")
        wait_for(lambda: "is booting up" in stack.log("worker"), timeout=60, what="worker booted")
        print(f"stack up at {time.monotonic() - started:.1f}s")

        # when the live shops' events stream in while Redis and worker children are killed
        producer = Producer(script, live, customers, broker)
        producer.start()
        request.addfinalizer(lambda: _halt(producer))
        stream = time.monotonic()
        timings: dict[str, float] = {}
        time.sleep(3)
        stack.redis.kill9()
        redis_killed = time.monotonic()
        time.sleep(1.5)
        stack.redis.start()  # empty: queued and delayed messages are gone
        _drain_after("Redis SIGKILLed, restarted empty", live, producer, redis_killed, timings)
        time.sleep(2)
        killed, boots = _kill_worker_child(stack, boots=1)
        _drain_after("worker child SIGKILLed (1)", live, producer, killed, timings)
        time.sleep(2)
        killed, boots = _kill_worker_child(stack, boots=boots)
        # (injected now: a delayed retry held by a killed child would wait for the outbox sweep)
        poisons = [_poison(poison_shop, number, broker) for number in range(POISONS)]
        poisoned = time.monotonic()
        _drain_after("worker child SIGKILLed (2)", live, producer, killed, timings)

        producer.join(timeout=120)
        assert not producer.is_alive()
        assert producer.error is None, producer.error
        recorded = time.monotonic()
        print(f"producer done {recorded - stream:.1f}s after it began ({producer.unsent} sends failed)")

        # then everything else drains within the bound, and the poison events end parked
        wait_for(lambda: _pending(live) == 0, timeout=DRAIN_BOUND, interval=0.1, what="the live shops drained")
        print(f"all {N_EVENTS} live events processed {time.monotonic() - recorded:.1f}s after the last was recorded")
        wait_for(
            lambda: OrderEvent.objects.filter(pk__in=poisons, failed_at__isnull=False).count() == POISONS,
            timeout=DRAIN_BOUND,
            what="the poison events parked",
        )
        print(f"poison events parked {time.monotonic() - poisoned:.1f}s after they were sent")
        parked = time.monotonic()
        # not blocked: other members' events recorded after the poison were processed while it
        # was still being retried
        first_parked = min(OrderEvent.objects.filter(pk__in=poisons).values_list("failed_at", flat=True))
        while_poisoned = OrderEvent.objects.filter(
            order__shop__in=live, pk__gt=min(poisons), processed_at__lt=first_parked
        ).count()
        print(f"{while_poisoned} live events recorded after the poison were processed before it was parked")
        assert while_poisoned > 0
        assert "exited unexpectedly" in stack.log("worker")
        assert "lock was lost" in stack.log("scheduler")

    replay.join(timeout=300)
    assert not replay.is_alive()
    assert replay.error is None, replay.error
    for poison in OrderEvent.objects.filter(pk__in=poisons):
        assert poison.failed_at is not None
        assert poison.processed_at is None
        assert poison.attempts == MAX_ATTEMPTS
        assert "OverflowError" in poison.failure
    assert not PointsEntry.objects.filter(account__program__shop=poison_shop).exists()
    assert len(producer.ids) == N_EVENTS
    live_ledger, twin_ledger = _ledger(live), _ledger(twin)
    assert sum(len(entries) for entries in twin_ledger.values()) >= N_EVENTS
    assert live_ledger == twin_ledger
    assert _balances(live) == _balances(twin)
    assert ledger_discrepancies() == []
    env = service_env(stack.redis.port)
    check = subprocess.run(
        [PYTHON, "manage.py", "check_ledger"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stdout + check.stderr
    print(f"ledger checked {time.monotonic() - parked:.1f}s after parking; total {time.monotonic() - started:.1f}s")
