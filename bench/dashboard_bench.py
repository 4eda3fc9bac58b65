"""Member dashboard: server time of the README's query against a bare strawberry schema (the anchor).

Usage (PostgreSQL; the database named in the URL is never touched, a scratch one is created and
dropped)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron .venv/bin/python bench/dashboard_bench.py [--runs N]

It builds a member with accounts in 20 shops, 5+ ledger entries each, then times, in this one
process, through Django's whole request stack (middleware, session, the GraphQL view, every
schema extension): the README's ``Dashboard`` query and ``{ __typename }``. The anchor is a bare
strawberry schema of the same shape (viewer -> accounts -> shop, tier, tierProgress, entries)
resolving the same values from in-memory objects, timed in the same run: the ratio is what
Patron's layers cost over strawberry itself. It also prints the SQL statements per request
(constant in the number of accounts is the rule). Figures are medians (and p95) of ``--runs``;
the three requests take turns (dashboard, anchor, ``{ __typename }``, then again) so that load
from other work on a shared machine weighs on each alike, and each also has its median CPU
time in this process (waits on PostgreSQL or for a core left out) with the CPU ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import strawberry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_bench import scratch_database  # noqa: E402

DASHBOARD = """
query Dashboard {
  viewer {
    displayName
    accounts(first: 20) { edges { node {
      shop { name currency } pointsAvailable pointsPending lifetimePoints
      tier { name color }
      tierProgress { nextTier { name } remaining fraction }
      entries(first: 5) { edges { node { kind points reason createdAt } } }
    } } }
  }
}
"""
SHOPS = 20
ORDERS_PER_SHOP = 5


def _timed_together(calls: list[Callable[[], object]], runs: int) -> list[tuple[tuple[float, float], float]]:
    """For each of ``calls``: (median, p95) wall milliseconds and the median CPU milliseconds of this process.

    The calls take turns, one of each per round (after 5 warm-up rounds), so that a load that
    comes and goes on a shared machine weighs on all of them alike and their ratio stays fair.
    CPU time leaves out the waits (on PostgreSQL, or on other processes for a core).
    """
    for _ in range(5):
        for call in calls:
            call()
    walls: list[list[float]] = [[] for _ in calls]
    cpus: list[list[float]] = [[] for _ in calls]
    for _ in range(runs):
        for index, call in enumerate(calls):
            started, started_cpu = time.perf_counter(), time.process_time()
            call()
            walls[index].append((time.perf_counter() - started) * 1000)
            cpus[index].append((time.process_time() - started_cpu) * 1000)
    figures = []
    for wall, cpu in zip(walls, cpus, strict=True):
        wall.sort()
        figures.append(((statistics.median(wall), wall[max(int(len(wall) * 0.95) - 1, 0)]), statistics.median(cpu)))
    return figures


def _build_member() -> str:
    """A member with accounts in ``SHOPS`` shops, ``ORDERS_PER_SHOP`` delivered orders each; returns the username."""
    from loyalty.services.orders import order_event_process
    from loyalty.services.programs import program_create, standard_tiers
    from marketplace.models import Shop
    from marketplace.services.orders import CustomerInput, OrderEventInput, OrderLineInput, order_event_record
    from marketplace.services.people import customer_ensure_login

    customer = customer_ensure_login(
        username="bench-member", password="bench-pass", display_name="Bench Member", external_id="bench-member"
    )
    start = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    for number in range(SHOPS):
        shop = Shop.objects.create(name=f"Bench shop {number}", slug=f"bench-{number}", currency="USD")
        program_create(shop=shop, name=f"Bench {number}", tiers=standard_tiers((0, 100, 250, 500)))
        for order in range(ORDERS_PER_SHOP):
            data = OrderEventInput(
                shop_id=shop.pk,
                order_external_id=f"B{number}-{order}",
                status="delivered",
                currency="USD",
                occurred_at=start + dt.timedelta(days=order),
                customer=CustomerInput(external_id=customer.external_id),
                lines=(OrderLineInput(quantity=1, unit_price=Decimal("37.50")),),
            )
            event = order_event_record(data=data, idempotency_key=f"b{number}-{order}", actor=None, notify=False).event
            order_event_process(event_id=event.pk, broadcast=False)
    return "bench-member"


@strawberry.type
class AnchorEntry:
    """A ledger entry of the anchor schema."""

    kind: str
    points: int
    reason: str
    created_at: str


@strawberry.type
class AnchorEntryEdge:
    """Edge of the anchor's entries."""

    node: AnchorEntry


@strawberry.type
class AnchorEntryConnection:
    """The anchor's entries connection."""

    edges: list[AnchorEntryEdge]


@strawberry.type
class AnchorTierRef:
    """The next tier's name."""

    name: str


@strawberry.type
class AnchorTier:
    """A tier."""

    name: str
    color: str


@strawberry.type
class AnchorTierProgress:
    """Progress to the next tier."""

    next_tier: AnchorTierRef | None
    remaining: str | None
    fraction: float | None


@strawberry.type
class AnchorShop:
    """A shop's name and currency."""

    name: str
    currency: str


@strawberry.type
class AnchorAccount:
    """A member account with its last entries."""

    shop: AnchorShop
    points_available: int
    points_pending: int
    lifetime_points: int
    tier: AnchorTier | None
    tier_progress: AnchorTierProgress | None
    all_entries: strawberry.Private[list[AnchorEntry]]

    @strawberry.field
    def entries(self, first: int = 5) -> AnchorEntryConnection:
        """The first ``first`` entries."""
        return AnchorEntryConnection(edges=[AnchorEntryEdge(node=entry) for entry in self.all_entries[:first]])


@strawberry.type
class AnchorAccountEdge:
    """Edge of the anchor's accounts."""

    node: AnchorAccount


@strawberry.type
class AnchorAccountConnection:
    """The anchor's accounts connection."""

    edges: list[AnchorAccountEdge]


@strawberry.type
class AnchorViewer:
    """The member."""

    display_name: str
    all_accounts: strawberry.Private[list[AnchorAccount]]

    @strawberry.field
    def accounts(self, first: int = 20) -> AnchorAccountConnection:
        """The first ``first`` accounts."""
        return AnchorAccountConnection(edges=[AnchorAccountEdge(node=account) for account in self.all_accounts[:first]])


_ANCHOR_VIEWER: list[AnchorViewer] = []


@strawberry.type
class AnchorQuery:
    """Root of the anchor schema: the viewer built from the real answer."""

    @strawberry.field
    def viewer(self) -> AnchorViewer:
        """The in-memory viewer."""
        return _ANCHOR_VIEWER[0]


def _anchor_account(node: dict) -> AnchorAccount:
    progress = node["tierProgress"]
    return AnchorAccount(
        shop=AnchorShop(**node["shop"]),
        points_available=node["pointsAvailable"],
        points_pending=node["pointsPending"],
        lifetime_points=node["lifetimePoints"],
        tier=AnchorTier(**node["tier"]) if node["tier"] else None,
        tier_progress=AnchorTierProgress(
            next_tier=AnchorTierRef(**progress["nextTier"]) if progress["nextTier"] else None,
            remaining=progress["remaining"],
            fraction=progress["fraction"],
        )
        if progress
        else None,
        all_entries=[
            AnchorEntry(
                kind=edge["node"]["kind"],
                points=edge["node"]["points"],
                reason=edge["node"]["reason"],
                created_at=edge["node"]["createdAt"],
            )
            for edge in node["entries"]["edges"]
        ],
    )


def _anchor_schema(payload: dict) -> strawberry.Schema:
    """A bare strawberry schema of the dashboard's shape answering ``payload`` from in-memory objects."""
    _ANCHOR_VIEWER[:] = [
        AnchorViewer(
            display_name=payload["viewer"]["displayName"],
            all_accounts=[_anchor_account(edge["node"]) for edge in payload["viewer"]["accounts"]["edges"]],
        )
    ]
    return strawberry.Schema(query=AnchorQuery)


def main() -> None:
    """Build the data in a scratch database, time both sides, print the figures."""
    parser = argparse.ArgumentParser(description="Dashboard query vs a bare strawberry schema.")
    parser.add_argument("--runs", type=int, default=200, help="Timed requests per figure (default 200).")
    parser.add_argument("--profile", type=int, default=0, help="Also print the top N functions of a cProfile run.")
    args = parser.parse_args()
    with scratch_database("patron_dashboard_bench") as url:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("PATRON_SECRET_KEY", "bench-only-secret-key")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        import json

        from django.db import connection
        from django.test import Client

        username = _build_member()
        client = Client()
        client.login(username=username, password="bench-pass")

        def dashboard() -> dict:
            response = client.post("/graphql/", data=json.dumps({"query": DASHBOARD}), content_type="application/json")
            return response.json()

        def typename() -> dict:
            return client.post(
                "/graphql/", data=json.dumps({"query": "{ __typename }"}), content_type="application/json"
            ).json()

        body = dashboard()
        assert not body.get("errors"), body["errors"]
        accounts = len(body["data"]["viewer"]["accounts"]["edges"])
        # Django clears connection.queries at each request's start: count through a wrapper instead.
        statements: list[str] = []
        with connection.execute_wrapper(lambda execute, sql, *rest: statements.append(sql) or execute(sql, *rest)):
            dashboard()
        anchor = _anchor_schema(body["data"])
        anchored = anchor.execute_sync(DASHBOARD)
        assert anchored.errors is None, anchored.errors
        same_shape = json.dumps(anchored.data, sort_keys=True) == json.dumps(body["data"], sort_keys=True)

        typename_statements: list[str] = []
        with connection.execute_wrapper(
            lambda execute, sql, *rest: typename_statements.append(sql) or execute(sql, *rest)
        ):
            typename()
        timed = _timed_together([dashboard, lambda: anchor.execute_sync(DASHBOARD), typename], args.runs)
        (
            ((median, p95), cpu),
            ((anchor_median, anchor_p95), anchor_cpu),
            ((trivial_median, trivial_p95), trivial_cpu),
        ) = timed
        print(f"accounts={accounts} entries_per_account={ORDERS_PER_SHOP} runs={args.runs} same_json={same_shape}")
        print(f"dashboard_ms median={median:.2f} p95={p95:.2f} cpu={cpu:.2f} sql_statements={len(statements)}")
        print(f"anchor_bare_strawberry_ms median={anchor_median:.2f} p95={anchor_p95:.2f} cpu={anchor_cpu:.2f}")
        print(f"ratio_to_anchor={median / anchor_median:.2f} cpu_ratio_to_anchor={cpu / anchor_cpu:.2f}")
        print(
            f"typename_ms median={trivial_median:.3f} p95={trivial_p95:.3f} cpu={trivial_cpu:.3f} "
            f"sql_statements={len(typename_statements)}"
        )
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(lambda: [dashboard() for _ in range(50)])
            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
