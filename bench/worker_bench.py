"""The live worker path's throughput and latency on PostgreSQL, and its ratio to the ledger anchor.

Run from the repository root with PostgreSQL and Redis (the database named in the URL is not
touched; a scratch database next to it is created, migrated and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/worker_bench.py [--events 4000] [--processes 1,2] [--threads 8]

What it does, in one scratch database (``patron_worker_bench_<pid>``) and its own broker namespace:

1. Creates ``--shops`` shops with a standard four-tier program each and enrols the first CDNOW
   customers (``../shared/data/cdnow/transactions.csv.gz``) in one shop each (by customer id),
   so every event below is a *returning* member's delivered order: one order, one pending earning.
2. For each ``--processes`` value P: records ``--events`` delivered orders through
   ``order_event_record`` (CDNOW rows in date order, dealt out round-robin so that every round
   has the same mix; recorded "now", as the live path sees them) with no worker running, so
   their messages wait in the broker; then starts ``manage.py rundramatiq --processes P
   --threads T`` and measures events/s from the first to the last ``processed_at``; stops it.
3. Runs the anchor (``../shared/bench/ledger_anchor.sh 10 8``) and prints each rate's ratio to it.
4. Starts the largest P again and makes orders arrive at half the best rate measured for
   ``--latency-seconds``: recorded beforehand through ``order_event_record`` (parked so that no
   batch claims them early), each then stamped ``created_at = now()`` and sent at its time, so
   that the two cores serve the worker (the web tier's recording runs elsewhere in production;
   ``--live-recording`` records at the rate on the same cores instead); prints
   delivered-to-posted latency (``OrderEvent.created_at`` to ``processed_at``) p50/p95/p99/max.
5. Counts the SQL statements per event of the worker's own code path (the actor's function,
   called in this process once per message as the worker would) over ``--count-events`` more
   orders of the same mix (dealt like the rounds' rows).

Output, one figure per line:

    members=M shops=S events_per_round=N threads=T
    processes=P events=N seconds=S events_per_second=E failed=0 worker_rss_mb=R worker_cpu_seconds=C
    ledger_append_tps=T clients=8 seconds=10
    ratio_to_ledger_anchor processes=P ratio=R
    latency processes=P target_rate=H achieved_rate=A recorded=N mode=arrivals p50_ms= p95_ms= p99_ms= max_ms=
    sql_statements_per_event=Q transactions_per_event=X events=N

It asserts nothing about time; every process it started is stopped by its id, also on failure.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import os
import secrets
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_bench import _anchor, scratch_database  # noqa: E402
from push_bench import _percentile, _stop, _tree_cpu_seconds, _tree_rss_mb  # noqa: E402

CDNOW = ROOT.parent / "shared" / "data" / "cdnow" / "transactions.csv.gz"
PY = sys.executable


def _cdnow_rows(path: Path, count: int) -> list[tuple[str, dt.date, Decimal]]:
    """The first ``count`` CDNOW purchases with a positive value, as (customer, date, dollars), by date."""
    rows: list[tuple[str, dt.date, Decimal]] = []
    with gzip.open(path, "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            value = Decimal(row["dollar_value"])
            if value <= 0:
                continue
            rows.append((row["customer_id"], dt.date.fromisoformat(row["date"]), value))
            if len(rows) == count:
                break
    rows.sort(key=lambda row: (row[1], row[0]))
    return rows


def _setup(shops: int, customers: list[str]) -> list[int]:
    """Shops with a standard program each, and every customer enrolled in one of them (bulk)."""
    from django.utils import timezone

    from loyalty.models import MemberAccount, Tier
    from loyalty.services.programs import program_create, standard_tiers
    from marketplace.models import Customer, Shop

    shop_ids = []
    for number in range(shops):
        shop = Shop.objects.create(name=f"Worker bench {number}", slug=f"wb-{number}", currency="USD")
        program_create(shop=shop, name=f"Bench {number}", tiers=standard_tiers((0, 200, 500, 1000)))
        shop_ids.append(shop.pk)
    Customer.objects.bulk_create(
        [Customer(external_id=external, display_name=f"CDNOW {external}") for external in customers], batch_size=1000
    )
    by_external = dict(Customer.objects.values_list("external_id", "pk"))
    programs = {shop_id: Shop.objects.get(pk=shop_id).program for shop_id in shop_ids}
    entry = {shop_id: Tier.objects.get(program=programs[shop_id], position=0) for shop_id in shop_ids}
    now = timezone.now()
    MemberAccount.objects.bulk_create(
        [
            MemberAccount(
                customer_id=by_external[external],
                program=programs[_shop_of(external, shop_ids)],
                tier=entry[_shop_of(external, shop_ids)],
                enrolled_at=now,
            )
            for external in customers
        ],
        batch_size=1000,
    )
    return shop_ids


def _shop_of(external: str, shop_ids: list[int]) -> int:
    """The shop a CDNOW customer buys in (by id, so always the same one)."""
    return shop_ids[int(external) % len(shop_ids)]


def _record(rows: list[tuple[str, dt.date, Decimal]], shop_ids: list[int], tag: str, notify: bool) -> list[int]:
    """Record one delivered order per row now; return the outbox event ids (messages queued if ``notify``)."""
    from django.utils import timezone

    from marketplace.services.orders import CustomerInput, OrderEventInput, OrderLineInput, order_event_record

    ids = []
    for number, (external, _, value) in enumerate(rows):
        data = OrderEventInput(
            shop_id=_shop_of(external, shop_ids),
            order_external_id=f"{tag}-{number}",
            status="delivered",
            currency="USD",
            occurred_at=timezone.now(),
            customer=CustomerInput(external_id=external),
            lines=(OrderLineInput(quantity=1, unit_price=value),),
        )
        ids.append(order_event_record(data=data, idempotency_key=f"{tag}-{number}", actor=None, notify=notify).event.pk)
    return ids


def _progress(ids: list[int]) -> tuple[int, int, dt.datetime | None, dt.datetime | None]:
    """(processed, parked, first processed_at, last processed_at) of the events ``ids``."""
    from django.db.models import Count, Max, Min, Q

    from marketplace.models import OrderEvent

    row = OrderEvent.objects.filter(pk__in=ids).aggregate(
        done=Count("pk", filter=Q(processed_at__isnull=False)),
        parked=Count("pk", filter=Q(failed_at__isnull=False, processed_at__isnull=True)),
        first=Min("processed_at"),
        last=Max("processed_at"),
    )
    return row["done"], row["parked"], row["first"], row["last"]


def _start_worker(env: dict[str, str], processes: int, threads: int, log: Path) -> subprocess.Popen:
    """``manage.py rundramatiq`` in a session of its own (so it is stopped as a group by its id)."""
    with open(log, "a") as out:
        return subprocess.Popen(
            [PY, "manage.py", "rundramatiq", "--processes", str(processes), "--threads", str(threads)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_done(ids: list[int], worker: subprocess.Popen, timeout: float) -> tuple[float, float]:
    """Poll until every event is processed or parked; return (peak worker RSS MB, worker CPU s)."""
    deadline = time.monotonic() + timeout
    peak = 0.0
    while time.monotonic() < deadline:
        peak = max(peak, _tree_rss_mb(worker.pid))
        done, parked, _, _ = _progress(ids)
        if done + parked >= len(ids):
            break
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited with {worker.returncode}; see its log")
        time.sleep(0.25)
    return peak, _tree_cpu_seconds(worker.pid)


def _throughput(args, env, rows_of_round, shop_ids, processes: int, log: Path) -> float:
    """Record a round with no worker running, then drain it with ``processes`` worker processes."""
    ids = _record(rows_of_round, shop_ids, f"p{processes}", notify=True)
    worker = _start_worker(env, processes, args.threads, log)
    try:
        peak, cpu = _wait_done(ids, worker, args.timeout)
    finally:
        _stop(worker)
    done, parked, first, last = _progress(ids)
    seconds = (last - first).total_seconds() if first and last else 0.0
    rate = (done - 1) / seconds if seconds > 0 else 0.0
    print(
        f"processes={processes} events={done} seconds={seconds:.2f} events_per_second={rate:.1f} "
        f"failed={parked} worker_rss_mb={peak:.1f} worker_cpu_seconds={cpu:.1f}",
        flush=True,
    )
    return rate


def _pace(part: int, recorders: int, total: int, rate: float, started: float, rows, shop_ids) -> list[int]:
    """One recorder process: rows ``part``, ``part + recorders``, ... each at ``started + index / rate``."""
    from django.db import connections

    ids: list[int] = []
    try:
        for index in range(part, total, recorders):
            pause = started + index / rate - time.time()
            if pause > 0:
                time.sleep(pause)
            ids.extend(_record([rows[index]], shop_ids, f"lat{index}", notify=True))
    finally:
        connections.close_all()
    return ids


def _arrive(ids: list[int], rate: float) -> float:
    """Make the pre-recorded events ``ids`` arrive at ``rate`` per second; return the seconds it took.

    Each arrival un-parks the event and stamps ``created_at`` now (one UPDATE), then sends its
    message, as ``order_event_record``'s commit would: the worker then sees exactly a new event,
    while the recording's own cost (the web tier's) stays off the two cores.
    """
    from django.db import connection

    from loyalty.tasks import order_event_process_task
    from marketplace.models import OrderEvent

    table = OrderEvent._meta.db_table
    started = time.time()
    with connection.cursor() as cursor:
        for index, event_id in enumerate(ids):
            pause = started + index / rate - time.time()
            if pause > 0:
                time.sleep(pause)
            cursor.execute(
                f"UPDATE {table} SET failed_at = NULL, created_at = now() WHERE id = %s",
                [event_id],
            )
            order_event_process_task.send(event_id)
    return time.time() - started


def _latency(args, env, rows, shop_ids, processes: int, rate: float, log: Path) -> None:
    """Events arriving at ``rate`` per second with the worker running; print delivered-to-posted percentiles.

    By default the events are recorded beforehand (through ``order_event_record``, parked so that
    no batch claims them early) and arrive by :func:`_arrive`. With ``--live-recording`` they are
    recorded at the rate through ``order_event_record`` by recorder processes (one records ~60-100
    orders/s) on the same cores as the worker, which then gets what CPU is left.
    """
    import multiprocessing

    from django.db import connections
    from django.utils import timezone

    from marketplace.models import OrderEvent

    total = min(len(rows), max(1, int(rate * args.latency_seconds)))
    recorders = 0
    if not args.live_recording:
        ids = _record(rows[:total], shop_ids, "lat", notify=False)
        OrderEvent.objects.filter(pk__in=ids).update(failed_at=timezone.now())
    worker = _start_worker(env, processes, args.threads, log)
    try:
        time.sleep(args.worker_start_seconds)  # let the processes import Django and connect before timing
        if args.live_recording:
            recorders = max(1, min(8, int(rate // 40) + 1))
            connections.close_all()  # the recorder processes are forked: each opens its own connection
            started = time.time() + 0.5
            with multiprocessing.get_context("fork").Pool(recorders) as pool:
                parts = pool.starmap(
                    _pace, [(part, recorders, total, rate, started, rows, shop_ids) for part in range(recorders)]
                )
            ids = [event_id for part in parts for event_id in part]
            achieved = len(ids) / (time.time() - started)
        else:
            achieved = len(ids) / _arrive(ids, rate)
        peak, _ = _wait_done(ids, worker, args.timeout)
    finally:
        _stop(worker)
    lags = [
        (processed - created).total_seconds() * 1000
        for created, processed in OrderEvent.objects.filter(pk__in=ids, processed_at__isnull=False).values_list(
            "created_at", "processed_at"
        )
    ]
    mode = f"live_recording recorders={recorders}" if args.live_recording else "arrivals"
    print(
        f"latency processes={processes} target_rate={rate:.1f} achieved_rate={achieved:.1f} recorded={len(ids)} "
        f"mode={mode} p50_ms={_percentile(lags, 50):.0f} p95_ms={_percentile(lags, 95):.0f} "
        f"p99_ms={_percentile(lags, 99):.0f} max_ms={max(lags or [0]):.0f} worker_rss_mb={peak:.1f}",
        flush=True,
    )


def _statements(rows, shop_ids) -> None:
    """SQL statements and transactions per event of the actor's function, one call per message."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from loyalty.tasks import order_event_process_task

    ids = _record(rows, shop_ids, "sql", notify=False)
    commits = 0
    with CaptureQueriesContext(connection) as queries:
        original = connection.commit

        def counting_commit() -> None:
            nonlocal commits
            commits += 1
            original()

        connection.commit = counting_commit  # type: ignore[method-assign]
        try:
            for event_id in ids:
                order_event_process_task.fn(event_id)
        finally:
            del connection.commit
    done, parked, _, _ = _progress(ids)
    statements = [q["sql"] for q in queries.captured_queries]
    savepoints = sum(1 for sql in statements if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")))
    print(
        f"sql_statements_per_event={len(statements) / len(ids):.2f} (of which savepoint commands "
        f"{savepoints / len(ids):.2f}) transactions_per_event={commits / len(ids):.3f} events={len(ids)} "
        f"processed={done} failed={parked}",
        flush=True,
    )


def main() -> None:
    """Create the scratch database, run the rounds, the anchor, the latency run and the count; drop it."""
    parser = argparse.ArgumentParser(description="Live worker path throughput and latency on PostgreSQL.")
    parser.add_argument("--events", type=int, default=4000, help="Delivered orders per throughput round (4000).")
    parser.add_argument("--processes", default="1,2", help="Worker process counts, one round each (1,2).")
    parser.add_argument("--threads", type=int, default=8, help="Threads per worker process (8).")
    parser.add_argument("--shops", type=int, default=4, help="Shops the CDNOW customers are spread over (4).")
    parser.add_argument("--latency-seconds", type=float, default=20, help="Length of the half-rate run (20 s).")
    parser.add_argument("--count-events", type=int, default=300, help="Events for the statement count (300).")
    parser.add_argument("--worker-start-seconds", type=float, default=6, help="Worker start-up allowance (6 s).")
    parser.add_argument("--timeout", type=float, default=1800, help="Longest wait for a round (1800 s).")
    parser.add_argument("--skip-anchor", action="store_true", help="Leave the pgbench anchor out.")
    parser.add_argument(
        "--live-recording",
        action="store_true",
        help="In the latency run, record through order_event_record at the rate (on the same cores) "
        "instead of making pre-recorded events arrive.",
    )
    parser.add_argument("--data", type=Path, default=CDNOW, help="The CDNOW transactions file.")
    args = parser.parse_args()
    counts = [int(value) for value in args.processes.split(",") if value.strip()]
    tag = f"worker-bench-{os.getpid()}"
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    with scratch_database("patron_worker_bench") as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "PATRON_DRAMATIQ_NAMESPACE": f"{tag}-dq",
            "PATRON_CHANNEL_PREFIX": f"{tag}-ch",
            "PATRON_THROTTLE_PREFIX": f"{tag}-th",
            "PATRON_SECRET_KEY": os.environ.get("PATRON_SECRET_KEY") or secrets.token_urlsafe(40),
            "PATRON_LOG_LEVEL": "WARNING",
            "PATRON_DB_CONN_MAX_AGE": "60",
            "dramatiq_worker_timeout": "100",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        env.pop("PATRON_DEBUG", None)
        env.pop("BROKER_URL", None)
        os.environ.update(env)
        import django

        django.setup()
        log = Path(f"/tmp/{tag}-worker.log")
        # A round's worth of rows each for the throughput rounds, the latency run and the count,
        # dealt round-robin from the date-ordered rows so that every part has the same mix.
        rounds = len(counts) + 2
        rows = _cdnow_rows(args.data, args.events * rounds)
        customers = sorted({row[0] for row in rows})
        shop_ids = _setup(args.shops, customers)
        print(f"members={len(customers)} shops={args.shops} events_per_round={args.events} threads={args.threads}")
        try:
            rates: dict[int, float] = {}
            dealt = rows
            for number, processes in enumerate(counts):
                rates[processes] = _throughput(args, env, dealt[number::rounds], shop_ids, processes, log)
            anchor = None if args.skip_anchor else _anchor()
            for processes, rate in rates.items():
                if anchor:
                    print(f"ratio_to_ledger_anchor processes={processes} ratio={rate / anchor:.4f}")
            # The most processes, at half the best rate measured (issue 15: p99 at half the maximum rate).
            _latency(args, env, dealt[len(counts) :: rounds], shop_ids, max(counts), max(rates.values()) / 2, log)
            _statements(dealt[len(counts) + 1 :: rounds][: args.count_events], shop_ids)
        finally:
            from django.db import connections

            connections.close_all()
            try:
                import redis

                client = redis.Redis.from_url(redis_url)
                for key in client.scan_iter(match=f"*{tag}*", count=1000):
                    client.delete(key)
            except Exception as exc:  # the figures are printed; a left-over key is only untidy
                print(f"redis clean-up skipped: {exc}")
        print(f"worker log: {log}")


if __name__ == "__main__":
    main()
