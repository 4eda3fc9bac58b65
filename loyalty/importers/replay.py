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
from loyalty.importers.bulk import (
    BulkEvent,
    BulkRefused,
    BulkResult,
    ProgramContext,
    bulk_check,
    bulk_replay,
    customer_ids,
)
from loyalty.models import LoyaltyProgram, MemberAccount, Tier
from loyalty.services.lifecycle import ReleaseSummary, points_release_due
from loyalty.services.orders import order_event_process
from loyalty.services.programs import program_create, standard_tiers
from loyalty.signals import order_replay_check, orders_replayed
from marketplace.errors import OrderError
from marketplace.models import Order, OrderEvent, OrderStatus, Shop
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


def _event_input(batch: ImportBatch, event: ImportEvent, shop: Shop) -> OrderEventInput:
    """The order service's input for one imported event."""
    return OrderEventInput(
        shop_id=shop.pk,
        order_external_id=event.order_external_id,
        status=event.status,
        currency=batch.shops[event.shop_external_id].currency,
        occurred_at=event.occurred_at,
        customer=event.customer,
        lines=event.lines,
        shipping_amount=event.shipping_amount,
    )


def _set_based_programs(shops: dict[str, Shop]) -> dict[int, ProgramContext]:
    """Programs (by shop id) whose history can be replayed set-based: active, and no app objects.

    A paused program acts only on returns of existing members, and higher apps (referrals) may
    need every event through ``order_points_posted`` (``order_replay_check``): those shops are
    replayed event by event.
    """
    contexts: dict[int, ProgramContext] = {}
    for chunk in _chunks([shop.pk for shop in shops.values()]):
        for program in LoyaltyProgram.objects.select_related("shop").filter(shop_id__in=chunk, active=True):
            if not any(reason for _, reason in order_replay_check.send(sender=LoyaltyProgram, program=program)):
                contexts[program.shop_id] = ProgramContext.load(program)
    return contexts


def _fresh_members(
    events: list[ImportEvent], shops: dict[str, Shop], contexts: dict[int, ProgramContext]
) -> set[tuple[str, str]]:
    """``(shop external id, customer external id)`` of the members the set-based replay may take.

    A member is fresh when their shop's program is in ``contexts``, the customer has no account
    in it and no order in the shop, none of their orders in the batch exists in the shop yet, and
    no order of theirs in the batch is claimed by another customer too (the service refuses
    that). Everything else, and every partial return, goes through the per-event path. A fixed
    number of queries per ``CHUNK`` customers or orders.
    """
    members = {(e.shop_external_id, e.customer.external_id) for e in events if shops[e.shop_external_id].pk in contexts}
    stale: set[tuple[str, str]] = set()
    owners: dict[tuple[str, str], set[str]] = {}
    for event in events:
        owners.setdefault((event.shop_external_id, event.order_external_id), set()).add(event.customer.external_id)
        if event.status == OrderStatus.PARTIALLY_RETURNED:
            stale.add((event.shop_external_id, event.customer.external_id))
    for (shop_external_id, _), customers in owners.items():
        if len(customers) > 1:
            stale.update((shop_external_id, customer) for customer in customers)
    known_ids = customer_ids(customer for _, customer in members)
    external_of = {pk: external_id for external_id, pk in known_ids.items()}
    for shop_external_id, shop in shops.items():
        if shop.pk not in contexts:
            continue
        program_id = contexts[shop.pk].program.pk
        known = sorted(
            known_ids[customer]
            for shop_ext, customer in members
            if shop_ext == shop_external_id and customer in known_ids
        )
        for ids in _chunks(known):
            taken = set(
                MemberAccount.objects.filter(program_id=program_id, customer_id__in=ids).values_list(
                    "customer_id", flat=True
                )
            )
            taken.update(Order.objects.filter(shop=shop, customer_id__in=ids).values_list("customer_id", flat=True))
            stale.update((shop_external_id, external_of[pk]) for pk in taken)
        order_ids = sorted({order for (shop_ext, order) in owners if shop_ext == shop_external_id})
        for chunk in _chunks(order_ids):
            for order_id in Order.objects.filter(shop=shop, external_id__in=chunk).values_list(
                "external_id", flat=True
            ):
                stale.update((shop_external_id, customer) for customer in owners[(shop_external_id, order_id)])
    return members - stale


def _skip_imported(
    batch: ImportBatch,
    ordered: list[ImportEvent],
    shops: dict[str, Shop],
    program_of: dict[int, int],
    pairs: set[tuple[int, int]],
) -> tuple[list[ImportEvent], int]:
    """Leave out the events already recorded with the same input and processed: ``(the rest, how many)``.

    What ``order_event_record`` (a replay of the key) and ``order_event_process`` (already
    processed) would do for them is nothing, so a re-run of a big file does not call the services
    per event. A key recorded with other input, or not processed yet, stays in (the service
    refuses the first, processes the second). Adds the skipped events' members to ``pairs``.
    One query per ``CHUNK`` events.
    """
    keys = {id(event): event.idempotency_key(batch.format) for event in ordered}
    found: dict[str, tuple[str, bool, int, int]] = {}
    for chunk in _chunks(list(keys.values())):
        rows = OrderEvent.objects.filter(idempotency_key__in=chunk).values_list(
            "idempotency_key", "request_fingerprint", "processed_at", "order__customer_id", "order__shop_id"
        )
        found.update(
            (key, (fingerprint, done is not None, customer, shop)) for key, fingerprint, done, customer, shop in rows
        )
    if not found:
        return ordered, 0
    rest = []
    for event in ordered:
        stored = found.get(keys[id(event)])
        shop = shops[event.shop_external_id]
        if stored is not None and stored[1] and stored[0] == _event_input(batch, event, shop).fingerprint():
            pairs.add((stored[2], program_of[stored[3]]))
        else:
            rest.append(event)
    return rest, len(ordered) - len(rest)


def batch_replay(
    batch: ImportBatch,
    *,
    via_worker: bool = False,
    release: bool = True,
    per_event: bool = False,
    progress: Callable[[list[ImportEvent]], Iterable[ImportEvent]] | None = None,
) -> ImportSummary:
    """Post ``batch`` in event-time order (stable on file order) and summarise it.

    By default the events of *fresh* members (no account in the shop's program, no order in the
    shop yet: a first import) are replayed set-based by ``loyalty.importers.bulk``, which writes
    exactly the rows the per-event path writes, in batches; the other events (and all of them
    with ``per_event``, or when some event of the fresh members would be refused, so that the
    refusal stops the import where the per-event path stops it) go through the per-event path:
    each event is recorded with ``notify=False`` and processed at once with ``broadcast=False``
    (a replay of history is not live news). Then, with ``release``, the points whose return
    window has passed are released as ``points_release_due(now)`` does. With ``via_worker``
    events are recorded with ``notify=True``: the ``order_event_committed`` signal queues the
    loyalty actor after each commit and workers do the rest (nothing is processed or released
    here). ``progress`` wraps the event lists (e.g. a tqdm bar).

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
    bulk = BulkResult()
    skipped = 0
    if not via_worker and not per_event:
        ordered, skipped = _skip_imported(batch, ordered, shops, program_of, pairs)
        contexts = _set_based_programs(shops)
        fresh = _fresh_members(ordered, shops, contexts)
        chosen = [e for e in ordered if (e.shop_external_id, e.customer.external_id) in fresh]
        set_based = [
            BulkEvent(
                data=_event_input(batch, e, shops[e.shop_external_id]),
                idempotency_key=e.idempotency_key(batch.format),
                shop=shops[e.shop_external_id],
                customer_external_id=e.customer.external_id,
                source=e.source,
            )
            for e in chosen
        ]
        try:
            bulk_check(set_based)
        except BulkRefused:
            chosen, set_based = [], []
        if set_based:
            bulk = bulk_replay(set_based, contexts, release=release, progress=progress)  # type: ignore[arg-type]
            pairs |= bulk.pairs
            orders_replayed.send(sender=OrderEvent, pairs=frozenset(bulk.pairs))
            taken = set(map(id, chosen))
            ordered = [e for e in ordered if id(e) not in taken]
    for event in progress(ordered) if progress is not None and ordered else ordered:
        shop = shops[event.shop_external_id]
        try:
            result = order_event_record(
                data=_event_input(batch, event, shop),
                idempotency_key=event.idempotency_key(batch.format),
                actor=None,
                notify=via_worker,
            )
        except OrderError as exc:
            raise ReplayError(event, exc, skipped + bulk.events + done) from exc
        pairs.add((result.order.customer_id, program_of[shop.pk]))
        done += 1
        if via_worker:
            continue
        outcome = order_event_process(event_id=result.event.pk, broadcast=False)
        if event.status == OrderStatus.DELIVERED and outcome.entry_id is not None and not outcome.already_processed:
            points += outcome.points
    released = None
    if release and not via_worker:
        rest = points_release_due(now=timezone.now(), broadcast=False)
        released = ReleaseSummary(
            accounts=rest.accounts + bulk.release_accounts,
            lots=rest.lots + bulk.release_lots,
            points=rest.points + bulk.release_points,
        )
    members, tiers = _tier_distribution(pairs)
    return ImportSummary(
        format=batch.format,
        orders=batch.orders,
        events=skipped + bulk.events + done,
        members=members,
        shops=len(shops),
        points_posted=points + bulk.points_posted,
        tiers=tiers,
        seconds=time.perf_counter() - started,
        queued=via_worker,
        released=released,
    )
