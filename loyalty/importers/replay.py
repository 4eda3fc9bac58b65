"""Posting an import batch through the services the worker uses, in event-time order.

For each event: ``order_event_record`` (the order and its outbox row) then
``order_event_process`` (enrolment, pending earning, tier), exactly as the dramatiq actor does;
or, with ``via_worker``, only ``order_event_record(notify=True)`` so that workers process the
events. Every event has a deterministic idempotency key (``ImportEvent.idempotency_key``), so a
second import of the same file records and posts nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from loyalty.importers.base import ImportBatch, ImportEvent, ShopSpec
from loyalty.models import LoyaltyProgram, MemberAccount, Tier
from loyalty.services.lifecycle import ReleaseSummary, points_release_due
from loyalty.services.orders import order_event_process
from loyalty.services.programs import program_create, standard_tiers
from marketplace.errors import OrderError
from marketplace.models import OrderStatus, Shop
from marketplace.services.orders import OrderEventInput, order_event_record

#: Ids per ``IN (...)`` list: well below SQLite's bound on query parameters.
CHUNK = 500

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Consecutive slices of ``items`` of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ReplayError(Exception):
    """The service refused an event: ``event`` names its source line, ``error`` says why.

    Events before it (in replay order) stay recorded; re-running the import is safe.
    """

    def __init__(self, event: ImportEvent, error: OrderError, done: int) -> None:
        super().__init__(f"{event.source}: {error.code.value}: {error.message}")
        self.event = event
        self.error = error
        self.done = done


@dataclass(frozen=True)
class ImportSummary:
    """What an import did.

    ``points_posted`` sums the EARN entries this run created (integer points; 0 with
    ``--via-worker``, where workers post); ``members`` counts the member accounts of the
    imported orders and ``tiers`` their tier distribution (tier name -> accounts, lowest tier
    first); ``seconds`` is the wall time of the replay (shops, events, release).
    """

    format: str
    orders: int
    events: int
    members: int
    shops: int
    points_posted: int
    tiers: list[tuple[str, int]]
    seconds: float
    queued: bool = False
    released: ReleaseSummary | None = None

    @property
    def events_per_second(self) -> float:
        """Events replayed per second of wall time."""
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        """The one-line summary ``import_orders`` prints (a stable, parseable shape)."""
        tiers = ",".join(f"{name}:{count}" for name, count in self.tiers)
        return (
            f"imported format={self.format} orders={self.orders} events={self.events} members={self.members} "
            f"shops={self.shops} points_posted={self.points_posted} tiers={tiers} "
            f"seconds={self.seconds:.2f} events_per_second={self.events_per_second:.1f}"
        )


def _free_slug(base: str) -> str:
    """``base`` or ``base-2``, ``base-3``, ... whichever no shop uses yet."""
    slug, number = base, 1
    while Shop.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base[:70]}-{number}"
    return slug


def shops_ensure(specs: dict[str, ShopSpec]) -> dict[str, Shop]:
    """Find each shop by external id or create it; give a program to each shop without one.

    An existing shop and program are used as they are (their rate and tiers are the shop's
    choice); a currency that differs from the file is refused later, per event, by the service.
    Returns shops by external id.
    """
    shops: dict[str, Shop] = {}
    for chunk in _chunks(list(specs)):
        shops.update(
            (shop.external_id, shop)
            for shop in Shop.objects.filter(external_id__in=chunk)
            if shop.external_id is not None  # always: found by it
        )
    with_program: set[int] = set()
    for pks in _chunks([shop.pk for shop in shops.values()]):
        with_program.update(LoyaltyProgram.objects.filter(shop_id__in=pks).values_list("shop_id", flat=True))
    for external_id, spec in specs.items():
        shop = shops.get(external_id)
        if shop is not None and shop.pk in with_program:
            continue
        with transaction.atomic():
            if shop is None:
                shop = shops[external_id] = Shop.objects.create(
                    name=spec.name,
                    slug=_free_slug(spec.slug),
                    currency=spec.currency,
                    timezone=spec.timezone,
                    return_window_days=spec.return_window_days,
                    external_id=external_id,
                )
            program_create(
                shop=shop,
                name=spec.program.name,
                tiers=standard_tiers(spec.program.thresholds),
                points_per_currency_unit=spec.program.points_per_currency_unit,
                tier_basis=spec.program.tier_basis,
                tier_window=spec.program.tier_window,
            )
    return shops


def _tier_distribution(pairs: set[tuple[int, int]]) -> tuple[int, list[tuple[str, int]]]:
    """Accounts among ``(customer id, program id)`` pairs and their tiers, lowest first.

    A fixed number of queries per ``CHUNK`` customers, however many programs are involved.
    """
    customers = sorted({customer for customer, _ in pairs})
    programs = sorted({program for _, program in pairs})
    counts: Counter[str] = Counter()
    members = 0
    for customer_chunk in _chunks(customers):
        for program_chunk in _chunks(programs):
            rows = MemberAccount.objects.filter(
                customer_id__in=customer_chunk, program_id__in=program_chunk
            ).values_list("customer_id", "program_id", "tier__name")
            for customer_id, program_id, tier_name in rows:
                if (customer_id, program_id) in pairs:
                    members += 1
                    counts[tier_name or "none"] += 1
    positions: dict[str, int] = {}
    for chunk in _chunks(programs):
        for name, position in Tier.objects.filter(program_id__in=chunk).values_list("name", "position"):
            positions[name] = min(position, positions.get(name, position))
    names = sorted(positions, key=lambda name: (positions[name], name))
    tiers = [(name, counts.get(name, 0)) for name in names]
    if counts.get("none"):
        tiers.append(("none", counts["none"]))
    return members, tiers


def batch_replay(
    batch: ImportBatch,
    *,
    via_worker: bool = False,
    release: bool = True,
    progress: Callable[[list[ImportEvent]], Iterable[ImportEvent]] | None = None,
) -> ImportSummary:
    """Post ``batch`` in event-time order (stable on file order) and summarise it.

    Without ``via_worker`` each event is recorded with ``notify=False`` and processed at once
    with ``broadcast=False`` (a replay of history is not live news); then, with ``release``,
    ``points_release_due(now)`` makes available the points whose return window has passed.
    With ``via_worker`` events are recorded with ``notify=True``: the ``order_event_committed``
    signal queues the loyalty actor after each commit and workers do the rest (nothing is
    processed or released here). ``progress`` wraps the event list (e.g. a tqdm bar).

    Raises :class:`ReplayError` at the first event the service refuses; events before it stay.
    """
    started = time.perf_counter()
    shops = shops_ensure(batch.shops)
    program_of = {
        shop_id: program_id
        for chunk in _chunks([shop.pk for shop in shops.values()])
        for shop_id, program_id in LoyaltyProgram.objects.filter(shop_id__in=chunk).values_list("shop_id", "pk")
    }
    ordered = sorted(batch.events, key=ImportEvent.sort_key)
    pairs: set[tuple[int, int]] = set()
    points = done = 0
    for event in progress(ordered) if progress is not None else ordered:
        shop = shops[event.shop_external_id]
        data = OrderEventInput(
            shop_id=shop.pk,
            order_external_id=event.order_external_id,
            status=event.status,
            currency=batch.shops[event.shop_external_id].currency,
            occurred_at=event.occurred_at,
            customer=event.customer,
            lines=event.lines,
            shipping_amount=event.shipping_amount,
        )
        try:
            result = order_event_record(
                data=data, idempotency_key=event.idempotency_key(batch.format), actor=None, notify=via_worker
            )
        except OrderError as exc:
            raise ReplayError(event, exc, done) from exc
        pairs.add((result.order.customer_id, program_of[shop.pk]))
        done += 1
        if via_worker:
            continue
        outcome = order_event_process(event_id=result.event.pk, broadcast=False)
        if event.status == OrderStatus.DELIVERED and outcome.entry_id is not None and not outcome.already_processed:
            points += outcome.points
    released = None
    if release and not via_worker:
        released = points_release_due(now=timezone.now(), broadcast=False)
    members, tiers = _tier_distribution(pairs)
    return ImportSummary(
        format=batch.format,
        orders=batch.orders,
        events=done,
        members=members,
        shops=len(shops),
        points_posted=points,
        tiers=tiers,
        seconds=time.perf_counter() - started,
        queued=via_worker,
        released=released,
    )
