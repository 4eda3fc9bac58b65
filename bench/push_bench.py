"""Live push fan-out: ledger commit to WebSocket frame with many subscribers (services mode).

Run from the repository root with PostgreSQL and Redis (the database named in the URL is not
touched; a scratch database next to it is created, migrated and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/push_bench.py [--sockets 1000]

It creates members with an account in one of ``--shops`` shops, starts a daphne web server and a
dramatiq worker (``rundramatiq --processes 1 --threads 8``) on the scratch database with their
own Redis prefixes, opens ``--sockets`` WebSocket clients (``--staff`` of them shop staff on
``shopActivity`` with an API key, the rest members on ``accountUpdated`` with member tokens),
records ``--orders`` delivered orders for a sample of the members through ``orderEventRecord``
(API key) and prints, one figure per line: commit-to-frame p50/p95/p99 (the event's
``OrderEvent.processed_at``, set just before the worker's commit, to the frame's arrival), frames
delivered vs expected, cross-member deliveries (must be 0), the answer-to-commit delay of the
mutations, and the RSS of the web and worker processes idle, with the sockets open and per socket.
It asserts nothing about time; every process it started is stopped by its id, also on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import secrets
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import httpx
import jwt
from psycopg2 import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import admin_connection

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
SELECTION = "kind points entryId account { id pointsPending tier { name } shop { slug } }"


def _queries(selection: str) -> tuple[str, str]:
    """The members' and the staff's subscription documents selecting ``selection``."""
    return (
        "subscription { accountUpdated { " + selection + " } }",
        "subscription S($shopId: ID!) { shopActivity(shopId: $shopId) { " + selection + " } }",
    )


ORDER_MUTATION = """
mutation Rec($key: String!, $input: OrderEventRecordInput!) {
  orderEventRecord(idempotencyKey: $key, input: $input) { replayed errors { code message } }
}
"""

SETUP = r"""
import json, sys
from decimal import Decimal
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from loyalty.models import MemberAccount
from loyalty.services.programs import program_create, standard_tiers
from marketplace.models import Customer, Shop, StaffMembership, StaffRole
from strawberry import relay

members, shops = int(sys.argv[1]), int(sys.argv[2])
User = get_user_model()
now = timezone.now()
out = {"shops": [], "members": []}
programs = []
for s in range(shops):
    shop = Shop.objects.create(
        name=f"Bench {s}", slug=f"bench-{s}", currency="USD", timezone="UTC", return_window_days=14
    )
    owner = User.objects.create_user(username=f"owner-{s}", password=None)
    StaffMembership.objects.create(user=owner, shop=shop, role=StaffRole.OWNER)
    program = program_create(shop=shop, name=f"Bench {s} Rewards", tiers=standard_tiers((0, 100, 250, 500)))
    programs.append((shop, program, program.tiers.order_by("threshold").first()))
    out["shops"].append({"slug": shop.slug, "id": str(relay.GlobalID("Shop", str(shop.pk)))})
unusable = make_password(None)
users = User.objects.bulk_create([User(username=f"member:bench-{i}", password=unusable) for i in range(members)])
customers = Customer.objects.bulk_create(
    [Customer(user=u, external_id=f"bench-{i}", display_name=f"Member {i}") for i, u in enumerate(users)]
)
accounts = MemberAccount.objects.bulk_create(
    [
        MemberAccount(customer=c, program=programs[i % shops][1], tier=programs[i % shops][2], enrolled_at=now)
        for i, c in enumerate(customers)
    ]
)
for i, a in enumerate(accounts):
    out["members"].append(
        {"sub": f"bench-{i}", "shop": i % shops, "account": str(relay.GlobalID("MemberAccount", str(a.pk)))}
    )
print("JSON " + json.dumps(out))
"""

RESULTS = r"""
import json
from loyalty.models import PointsEntry
from marketplace.models import OrderEvent
from strawberry import relay
rows = {}
entries = PointsEntry.objects.filter(order__isnull=False).values_list("pk", "order_id", "order__external_id")
for entry_id, order_id, external_id in entries:
    rows[str(relay.GlobalID("PointsEntry", str(entry_id)))] = {"order": external_id, "order_pk": order_id}
processed = dict(OrderEvent.objects.filter(processed_at__isnull=False).values_list("order_id", "processed_at"))
for row in rows.values():
    at = processed.get(row.pop("order_pk"))
    row["committed"] = at.timestamp() if at else None
print("JSON " + json.dumps(rows))
"""


def _manage(env: dict, *args: str) -> str:
    """Run ``manage.py`` with ``env``; return its stdout (raise on failure)."""
    done = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def _json_line(out: str):
    """The JSON printed after ``JSON `` by a ``shell -c`` snippet (other output is ignored)."""
    for line in out.splitlines():
        if line.startswith("JSON "):
            return json.loads(line[5:])
    raise SystemExit(f"push_bench: no JSON line in:\n{out[-2000:]}")


def _free_port() -> int:
    """A free port in 8830-8839."""
    for port in range(8830, 8840):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("push_bench: no free port in 8830-8839")


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1024


def _tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants so far (Linux /proc)."""
    total, todo, tick = 0.0, [pid], os.sysconf("SC_CLK_TCK")
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# --- a minimal RFC 6455 client (text frames, ping/pong, close), enough for graphql-transport-ws ---


@dataclass
class Client:
    """One WebSocket client; ``frames`` holds (arrival time, payload) of every ``next`` message."""

    role: str  # "member" or "staff"
    expect_account: str | None  # a member's own account id
    shop: int
    frames: list[tuple[float, dict]] = field(default_factory=list)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None

    async def open(self, port: int, connection_params: dict) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        self.writer.write(
            (
                f"GET /graphql/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 60)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"upgrade refused: {head[:200]!r}")
        self.task = asyncio.create_task(self._read())
        self.send({"type": "connection_init", "payload": connection_params})
        await asyncio.wait_for(self.acked.wait(), 60)

    def send(self, message: dict) -> None:
        self._frame(0x1, json.dumps(message).encode())

    def _frame(self, opcode: int, payload: bytes) -> None:
        assert self.writer is not None
        mask = secrets.token_bytes(4)
        size = len(payload)
        if size < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
        elif size < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(head + mask + masked)

    async def _read(self) -> None:
        assert self.reader is not None
        buffer = b""
        try:
            while True:
                first, second = await self.reader.readexactly(2)
                size = second & 0x7F
                if size == 126:
                    (size,) = struct.unpack("!H", await self.reader.readexactly(2))
                elif size == 127:
                    (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
                mask = await self.reader.readexactly(4) if second & 0x80 else b""
                payload = await self.reader.readexactly(size)
                if mask:
                    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                opcode = first & 0x0F
                if opcode == 0x9:
                    self._frame(0xA, payload)
                    continue
                if opcode == 0x8:
                    return
                if opcode in (0x1, 0x0):
                    buffer += payload
                    if not first & 0x80:
                        continue
                    arrived, text, buffer = time.time(), buffer, b""
                    message = json.loads(text)
                    kind = message.get("type")
                    if kind == "connection_ack":
                        self.acked.set()
                    elif kind == "ping":
                        self.send({"type": "pong"})
                    elif kind in ("next", "error"):
                        self.frames.append((arrived, message))
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    async def close(self) -> None:
        if self.writer is not None:
            try:
                self._frame(0x8, struct.pack("!H", 1000))
                self.writer.close()
            except (ConnectionError, RuntimeError):
                pass
        if self.task is not None:
            self.task.cancel()


def _member_token(issuer: dict, sub: str) -> str:
    claims = {"sub": sub, "aud": issuer["audience"], "exp": int(time.time()) + 3000}
    return jwt.encode(claims, issuer["secret"], algorithm="HS256", headers={"kid": issuer["kid"]})


async def _wait_ready(port: int, processes: dict[str, subprocess.Popen]) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            for name, process in processes.items():
                if process.poll() is not None:
                    raise SystemExit(f"push_bench: the {name} process exited with {process.returncode}")
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("push_bench: the web server did not answer /healthz within 120 s")


async def _open_all(clients: list[tuple[Client, dict]], port: int, parallel: int) -> None:
    gate = asyncio.Semaphore(parallel)

    async def one(client: Client, params: dict) -> None:
        async with gate:
            await client.open(port, params)

    await asyncio.gather(*(one(c, p) for c, p in clients))


async def _run(args: argparse.Namespace, env: dict, data: dict, keys: list[str], issuer: dict, pids: dict) -> None:
    port = env["_PORT"]
    web, worker = pids["web"], pids["worker"]
    await _wait_ready(int(port), {"web": web, "worker": worker})
    await asyncio.sleep(3)  # let the worker finish booting too
    idle_web, idle_worker = _tree_rss_mb(web.pid), _tree_rss_mb(worker.pid)
    print(f"rss_idle_web_mb={idle_web:.1f} rss_idle_worker_mb={idle_worker:.1f}")

    member_query, shop_query = _queries(args.selection)
    staff_count = min(args.staff, args.sockets)
    members = data["members"]
    pairs: list[tuple[Client, dict]] = []
    for s in range(staff_count):
        shop = s % args.shops
        pairs.append((Client("staff", None, shop), {"Authorization": f"Bearer {keys[shop]}"}))
    for member in members:
        token = _member_token(issuer, member["sub"])
        pairs.append((Client("member", member["account"], member["shop"]), {"Authorization": f"Bearer {token}"}))
    clients = [c for c, _ in pairs]
    started = time.monotonic()
    worker_cpu_idle = _tree_cpu_seconds(worker.pid)
    await _open_all(pairs, int(port), 50)
    for number, client in enumerate(clients):
        if client.role == "staff":
            variables = {"shopId": data["shops"][client.shop]["id"]}
            client.send({"id": "1", "type": "subscribe", "payload": {"query": shop_query, "variables": variables}})
        else:
            client.send({"id": "1", "type": "subscribe", "payload": {"query": member_query}})
        if number % 100 == 99:
            await asyncio.sleep(0.05)
    await asyncio.sleep(2 + len(clients) / 250)  # the resolvers join their groups
    print(
        f"sockets_open={len(clients)} members={len(clients) - staff_count} staff={staff_count} "
        f"connect_seconds={time.monotonic() - started:.1f}"
    )
    idle_seconds = time.monotonic() - started
    print(
        f"worker_idle_cpu={(_tree_cpu_seconds(worker.pid) - worker_cpu_idle) / idle_seconds:.1%} of a core "
        f"(polling Redis while the sockets open, {idle_seconds:.0f} s)"
    )
    open_web, open_worker = _tree_rss_mb(web.pid), _tree_rss_mb(worker.pid)
    print(f"rss_open_web_mb={open_web:.1f} rss_open_worker_mb={open_worker:.1f}")
    print(f"rss_web_kb_per_idle_socket={(open_web - idle_web) * 1024 / max(1, len(clients)):.1f}")
    early = sum(len(c.frames) for c in clients)
    if early:
        print(f"frames_before_orders={early} (refusals or errors: {clients[0].frames[:1]})")

    rng = random.Random(7)
    sample = rng.sample(range(len(members)), min(args.orders, len(members)))
    answered: dict[str, float] = {}
    gate = asyncio.Semaphore(args.concurrency)
    occurred = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())

    async def record(http: httpx.AsyncClient, index: int) -> None:
        member = members[index]
        order_id = f"push-{index}"
        variables = {
            "key": f"{order_id}:delivered",
            "input": {
                "shopId": data["shops"][member["shop"]]["id"],
                "orderId": order_id,
                "status": "DELIVERED",
                "currency": "USD",
                "occurredAt": occurred,
                "customer": {"externalId": member["sub"]},
                "lines": [{"quantity": 1, "unitPrice": "10.00"}],
            },
        }
        async with gate:
            answer = await http.post(
                f"http://127.0.0.1:{port}/graphql/",
                json={"query": ORDER_MUTATION, "variables": variables},
                headers={"Authorization": f"Bearer {keys[member['shop']]}"},
                timeout=60,
            )
            body = answer.json()
            payload = (body.get("data") or {}).get("orderEventRecord") or {}
            if answer.status_code != 200 or payload.get("errors") or body.get("errors"):
                print(f"order {order_id} refused: {answer.status_code} {json.dumps(body)[:300]}")
                return
            answered[order_id] = time.time()
            if args.rate:
                await asyncio.sleep(args.concurrency / args.rate)

    staff_per_shop = [sum(1 for c in clients if c.role == "staff" and c.shop == s) for s in range(args.shops)]
    expected = sum(1 + staff_per_shop[members[i]["shop"]] for i in sample)
    started = time.monotonic()
    cpu_before = _tree_cpu_seconds(web.pid), _tree_cpu_seconds(worker.pid)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=args.concurrency)) as http:
        await asyncio.gather(*(record(http, i) for i in sample))
    print(f"orders={len(answered)} record_seconds={time.monotonic() - started:.1f} concurrency={args.concurrency}")
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline and sum(len(c.frames) for c in clients) - early < expected:
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - started
    print(f"frames_wait_seconds={elapsed:.1f} (from the first order; gives up after --wait)")
    web_cpu, worker_cpu = _tree_cpu_seconds(web.pid) - cpu_before[0], _tree_cpu_seconds(worker.pid) - cpu_before[1]
    print(
        f"cpu_seconds web={web_cpu:.1f} worker={worker_cpu:.1f} over {elapsed:.1f} s "
        f"(web {web_cpu / elapsed:.0%} of a core; {os.cpu_count()} cores, shared with whatever else runs)"
    )
    await asyncio.sleep(1.0)  # late or stray frames
    for client in clients:
        await client.close()

    results = _json_line(_manage(env, "shell", "-c", RESULTS))
    latencies: dict[str, list[float]] = {"member": [], "staff": []}
    cross = errors = unknown = 0
    for client in clients:
        for arrived, message in client.frames:
            if message.get("type") != "next" or message["payload"].get("errors"):
                errors += 1
                continue
            data_ = message["payload"]["data"]
            event = data_.get("accountUpdated") or data_.get("shopActivity")
            if client.role == "member" and event["account"]["id"] != client.expect_account:
                cross += 1
            row = results.get(event.get("entryId") or "")
            if row is None or row["committed"] is None:
                unknown += 1
                continue
            latencies[client.role].append((arrived - row["committed"]) * 1000)
    delivered = sum(len(v) for v in latencies.values())
    every = latencies["member"] + latencies["staff"]
    for name, values in (("all", every), ("member", latencies["member"]), ("shop", latencies["staff"])):
        print(
            f"commit_to_frame_ms[{name}] p50={_percentile(values, 50):.0f} p95={_percentile(values, 95):.0f} "
            f"p99={_percentile(values, 99):.0f} max={max(values, default=float('nan')):.0f} frames={len(values)}"
        )
    print(f"frames_delivered={delivered} frames_expected={expected} error_frames={errors} unmatched_frames={unknown}")
    print(f"cross_member_deliveries={cross}")
    lags = [
        (results_row["committed"] - answered[results_row["order"]]) * 1000
        for results_row in results.values()
        if results_row["order"] in answered and results_row["committed"]
    ]
    print(f"answer_to_commit_ms p50={_percentile(lags, 50):.0f} p95={_percentile(lags, 95):.0f} orders={len(lags)}")
    print(f"rss_after_web_mb={_tree_rss_mb(web.pid):.1f} rss_after_worker_mb={_tree_rss_mb(worker.pid):.1f}")


def _stop(process: subprocess.Popen | None) -> None:
    """SIGTERM the process group this bench started (its id is the process's), then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def main() -> None:
    """Create the scratch database, start web and worker, measure, stop them and drop it."""
    parser = argparse.ArgumentParser(description="Live push: ledger commit to WebSocket frame.")
    parser.add_argument("--sockets", type=int, default=1000, help="WebSocket clients, staff included (1000).")
    parser.add_argument("--staff", type=int, default=10, help="Of them, staff on shopActivity (10).")
    parser.add_argument("--shops", type=int, default=2, help="Shops the members are spread over (2).")
    parser.add_argument("--orders", type=int, default=200, help="Delivered orders for a sample of members (200).")
    parser.add_argument("--concurrency", type=int, default=4, help="Concurrent orderEventRecord requests (4).")
    parser.add_argument("--rate", type=float, default=0, help="Cap on orders per second (default: no cap).")
    parser.add_argument(
        "--worker-timeout-ms",
        type=int,
        default=100,
        help="dramatiq_worker_timeout of the worker: its longest idle poll back-off (100, as scripts/worker).",
    )
    parser.add_argument(
        "--selection",
        default=SELECTION,
        help="What the subscriptions select (must include entryId and account { id }).",
    )
    parser.add_argument("--profile-web", help="Run the web server under cProfile, writing the stats to this file.")
    parser.add_argument("--wait", type=float, default=60, help="Seconds to wait for the frames after the orders.")
    args = parser.parse_args()
    url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    config = dj_database_url.parse(url) if url else {}
    if "postgresql" not in config.get("ENGINE", "") or not redis_url:
        raise SystemExit("push_bench: set DATABASE_URL to a PostgreSQL server and REDIS_URL to a Redis")
    tag = f"push_bench_{os.getpid()}"
    scratch = f"patron_{tag}"
    parts = urlsplit(url)
    scratch_url = urlunsplit((parts.scheme, parts.netloc, f"/{scratch}", parts.query, parts.fragment))
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": scratch_url,
        "PATRON_CHANNEL_PREFIX": f"{tag}-ch",
        "PATRON_DRAMATIQ_NAMESPACE": f"{tag}-dq",
        "PATRON_THROTTLE_PREFIX": f"{tag}-th",
        "PATRON_SECRET_KEY": secrets.token_urlsafe(40),
        "PATRON_API_KEY_RATE_LIMIT": "1000000/minute",
        "PATRON_LOG_LEVEL": "WARNING",
        "_PORT": str(port),
    }
    env.pop("PATRON_DEBUG", None)
    admin = admin_connection(config)
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
    processes: dict[str, subprocess.Popen] = {}
    logs = {name: open(f"/tmp/{tag}-{name}.log", "w") for name in ("web", "worker")}  # noqa: SIM115
    try:
        _manage(env, "migrate", "-v0")
        members = max(0, args.sockets - min(args.staff, args.sockets))
        data = _json_line(
            _manage(
                env,
                "shell",
                "-c",
                SETUP.replace("sys.argv[1]", repr(str(members))).replace("sys.argv[2]", repr(str(args.shops))),
            )
        )
        keys = [
            _manage(
                env,
                "api_key_create",
                "--shop",
                shop["slug"],
                "--scope",
                "orders:write",
                "--scope",
                "activity:read",
                "--quiet",
            ).strip()
            for shop in data["shops"]
        ]
        issuer = json.loads(_manage(env, "member_token_issuer", "create", "bench", "--json"))
        processes["web"] = subprocess.Popen(
            [
                *([PY, "-m", "cProfile", "-o", args.profile_web] if args.profile_web else []),
                str(ROOT / ".venv" / "bin" / "daphne"),
                *("-b", "127.0.0.1", "-p", str(port), "config.asgi:application"),
            ],
            cwd=ROOT,
            env=env,
            stdout=logs["web"],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes["worker"] = subprocess.Popen(
            [PY, "manage.py", "rundramatiq", "--processes", "1", "--threads", "8"],
            cwd=ROOT,
            env={**env, "PATRON_DB_CONN_MAX_AGE": "60", "dramatiq_worker_timeout": str(args.worker_timeout_ms)},
            stdout=logs["worker"],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        print(
            f"port={port} web_pid={processes['web'].pid} worker_pid={processes['worker'].pid} "
            f"worker_timeout_ms={args.worker_timeout_ms}"
        )
        asyncio.run(_run(args, env, data, keys, issuer, processes))
    finally:
        for name in ("web", "worker"):
            _stop(processes.get(name))
            logs[name].close()
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))
        admin.close()
        try:
            import redis

            connection = redis.Redis.from_url(redis_url)
            for pattern in (f"{tag}-*", f"asgi{tag}*", f"*{tag}*"):
                for key in connection.scan_iter(match=pattern, count=1000):
                    connection.delete(key)
        except Exception as exc:  # cleanup is best-effort
            print(f"redis cleanup skipped: {exc}")


if __name__ == "__main__":
    main()
