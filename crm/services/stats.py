"""Member statistics and automatic tags, kept current from the order worker (docs/crm.md).

:func:`stats_after_events` runs in the worker's transaction for the accounts it touched
(``order_events_posted``, once per batch, before the commit, under the account locks): a first
delivery adds to the stored figures, anything else recomputes them. :func:`stats_refresh`
recomputes some accounts from their whole history in one read and one upsert: for the importer's
members (``orders_replayed``) and nightly for every member (the local year rolls over, dormancy
grows). :func:`tags_refresh` then sets or clears the automatic tags of those accounts.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.models import CrmSettings, MemberStats, MemberTag, Segment, SegmentKind, TagSource
from crm.services.segments import segment_snapshot_take
from loyalty.models import MemberAccount
from marketplace.models import MONEY_PLACES, Order, OrderStatus

#: Orders that count as visits: delivered and not wholly given back.
VISIT_STATUSES = (OrderStatus.DELIVERED, OrderStatus.PARTIALLY_RETURNED)
CENT = Decimal(1).scaleb(-MONEY_PLACES)


@dataclass
class _Figures:
    visits: int = 0
    total: Decimal = Decimal("0")
    year_total: Decimal = Decimal("0")
    first: dt.datetime | None = None
    last: dt.datetime | None = None


def _net_spend(order: Order) -> Decimal:
    """Goods kept: each line's unit price x units not returned (shop currency)."""
    return sum((line.unit_price * (line.quantity - line.returned_quantity) for line in order.lines.all()), Decimal("0"))


def _local_year(moment: dt.datetime, account: MemberAccount) -> int:
    """The calendar year of ``moment`` in the zone of the account's shop."""
    return moment.astimezone(zoneinfo.ZoneInfo(account.program.shop.timezone)).year


def _stats_row(account: MemberAccount, f: _Figures, year: int, now: dt.datetime) -> MemberStats:
    """The statistics row of ``account`` from its figures (unsaved; derived figures computed)."""
    interval = None
    if f.visits >= 2 and f.first and f.last:
        interval = (Decimal((f.last - f.first).total_seconds()) / 86400 / (f.visits - 1)).quantize(CENT)
    return MemberStats(
        account=account,
        visits=f.visits,
        total_spend=f.total,
        year=year,
        year_spend=f.year_total,
        average_order_value=(f.total / f.visits).quantize(CENT) if f.visits else Decimal("0"),
        first_visit_at=f.first,
        last_visit_at=f.last,
        visit_interval_days=interval,
        lifetime_value=f.total,
        refreshed_at=now,
    )


def _stats_computed(accounts: list[MemberAccount], now: dt.datetime) -> list[MemberStats]:
    """The statistics of ``accounts`` recomputed from their whole history (unsaved rows).

    Reads their visits in one query (orders of each account's customer in its program's shop),
    with their lines in a second.
    """
    if not accounts:
        return []
    customers_by_shop: dict[int, list[int]] = defaultdict(list)
    for account in accounts:
        customers_by_shop[account.program.shop_id].append(account.customer_id)
    wanted = Q()
    for shop_id, customer_ids in customers_by_shop.items():
        wanted |= Q(shop_id=shop_id, customer_id__in=customer_ids)
    figures: dict[tuple[int, int], _Figures] = defaultdict(_Figures)
    years = {a.pk: _local_year(now, a) for a in accounts}
    by_pair = {(a.customer_id, a.program.shop_id): a for a in accounts}
    orders = Order.objects.filter(wanted, status__in=VISIT_STATUSES, delivered_at__isnull=False)
    for order in orders.prefetch_related("lines"):
        account = by_pair[(order.customer_id, order.shop_id)]
        assert order.delivered_at is not None  # filtered above
        _add_visit(
            figures[(order.customer_id, order.shop_id)],
            order.delivered_at,
            _net_spend(order),
            this_year=_local_year(order.delivered_at, account) == years[account.pk],
        )
    return [
        _stats_row(account, figures[(account.customer_id, account.program.shop_id)], years[account.pk], now)
        for account in accounts
    ]


def _add_visit(f: _Figures, at: dt.datetime, spend: Decimal, *, this_year: bool) -> None:
    """Count one visit at ``at`` spending ``spend`` into ``f``."""
    f.visits += 1
    f.total += spend
    if this_year:
        f.year_total += spend
    f.first = min(f.first, at) if f.first else at
    f.last = max(f.last, at) if f.last else at


def _stats_save(rows: list[MemberStats]) -> None:
    """Insert or update ``rows`` in one statement."""
    fields = [field.name for field in MemberStats._meta.concrete_fields if field.name not in ("id", "account")]
    MemberStats.objects.bulk_create(rows, update_conflicts=True, unique_fields=["account"], update_fields=fields)


def stats_refresh(accounts: Iterable[MemberAccount], *, now: dt.datetime | None = None) -> int:
    """Recompute the statistics of ``accounts`` (each with ``program.shop`` loaded or loadable) from
    their whole history: one read of their visits with lines, one upsert. Returns how many.

    A caller racing the order worker holds the accounts' locks (:func:`members_refresh_all` does);
    otherwise a visit posted meanwhile could be overwritten by figures read before it.
    """
    now = now or timezone.now()
    rows = _stats_computed(list(accounts), now)
    if rows:
        _stats_save(rows)
    return len(rows)


def stats_after_events(
    accounts: list[MemberAccount], deliveries: list[tuple[MemberAccount, Order]], *, now: dt.datetime | None = None
) -> dict[int, MemberStats]:
    """Bring the statistics of the worker's touched ``accounts`` up to date; returns them by account id.

    Each of ``deliveries`` (an order's first delivery, the only event of its account in the batch)
    is added to the account's stored figures: a visit, its goods amount, first and last visit,
    the local year's spend (restarted when the year rolled over). Every other account (returns,
    cancellations, a first visit with no stored row, an order no longer plainly delivered) is
    recomputed from its history. One read of the stored rows, one of the histories when any, one
    upsert. Expects the accounts locked by the caller's transaction.
    """
    now = now or timezone.now()
    delivered = {
        account.pk: order
        for account, order in deliveries
        if order.status == OrderStatus.DELIVERED and order.delivered_at is not None
    }
    stored = {s.account_id: s for s in MemberStats.objects.filter(account_id__in=list(delivered))} if delivered else {}
    rows = _stats_computed([a for a in accounts if a.pk not in stored], now)
    for account in accounts:
        current = stored.get(account.pk)
        if current is None:
            continue
        order = delivered[account.pk]
        assert order.delivered_at is not None  # filtered above
        year = _local_year(now, account)
        f = _Figures(
            visits=current.visits,
            total=current.total_spend,
            year_total=current.year_spend if current.year == year else Decimal("0"),
            first=current.first_visit_at,
            last=current.last_visit_at,
        )
        _add_visit(
            f, order.delivered_at, order.goods_amount, this_year=_local_year(order.delivered_at, account) == year
        )
        row = _stats_row(account, f, year, now)
        row.pk = current.pk
        rows.append(row)
    if rows:
        _stats_save(rows)
    return {row.account_id: row for row in rows}


def settings_of(shop_id: int) -> CrmSettings:
    """The shop's tag thresholds (an unsaved row of defaults when it has none)."""
    return CrmSettings.objects.filter(shop_id=shop_id).first() or CrmSettings(shop_id=shop_id)


def auto_tags(account: MemberAccount, stats: MemberStats | None, thresholds: CrmSettings, now: dt.datetime) -> dict:
    """The automatic tags ``account`` holds now, each with its reason (docs/crm.md, "Automatic tags").

    ``vip``: its tier is the shop's VIP tier or above, or its total spend reaches ``vip_spend``;
    ``new``: enrolled within ``new_days``; ``frequent``: at least ``frequent_visits`` visits, the last
    within ``frequent_days`` and their mean interval short enough to fit them in that window;
    ``high_value``: total spend at or above the shop's ``high_value_percentile`` (as of the nightly
    job); ``dormant``: a visit once, none within ``dormant_days``; ``birthday_month``: the member's
    birthday (Gregorian) falls in the current month of the shop's zone.
    """
    tags: dict[str, str] = {}
    tier = account.tier
    spend = stats.total_spend if stats else Decimal("0")
    vip_tier = thresholds.vip_tier
    if vip_tier is not None and tier is not None and tier.position >= vip_tier.position:
        tags["vip"] = f"tier {tier.name} (VIP from {vip_tier.name})"
    elif thresholds.vip_spend is not None and spend >= thresholds.vip_spend:
        tags["vip"] = f"spent {spend} (VIP from {thresholds.vip_spend})"
    if now - account.enrolled_at <= dt.timedelta(days=thresholds.new_days):
        tags["new"] = f"enrolled {account.enrolled_at.date().isoformat()} (within {thresholds.new_days} days)"
    if stats and stats.last_visit_at and stats.visits >= thresholds.frequent_visits:
        window = dt.timedelta(days=thresholds.frequent_days)
        span = (stats.visit_interval_days or Decimal("0")) * (thresholds.frequent_visits - 1)
        if now - stats.last_visit_at <= window and span <= thresholds.frequent_days:
            tags["frequent"] = f"{stats.visits} visits, every {stats.visit_interval_days} days on average"
    if thresholds.high_value_spend is not None and stats and stats.visits and spend >= thresholds.high_value_spend:
        tags["high_value"] = (
            f"spent {spend} (top {100 - thresholds.high_value_percentile}% from {thresholds.high_value_spend})"
        )
    if stats and stats.last_visit_at and now - stats.last_visit_at > dt.timedelta(days=thresholds.dormant_days):
        tags["dormant"] = f"last visit {stats.last_visit_at.date().isoformat()} (over {thresholds.dormant_days} days)"
    birth = account.customer.birth_date
    local = now.astimezone(zoneinfo.ZoneInfo(account.program.shop.timezone))
    if birth is not None and birth.month == local.month:
        tags["birthday_month"] = f"born {birth.strftime('%d %B')}"
    return tags


def tags_refresh(
    accounts: Iterable[MemberAccount], *, now: dt.datetime | None = None, stats: dict[int, MemberStats] | None = None
) -> int:
    """Set the automatic tags of ``accounts`` to what :func:`auto_tags` says; manual tags stay. Returns changes.

    ``stats`` (by account id) spares the read of the statistics when the caller has just written
    them. Reads the held tags and the shops' thresholds in one query each, then writes only what
    changed (at most three statements).
    """
    now = now or timezone.now()
    accounts = list(accounts)
    if not accounts:
        return 0
    if stats is None:
        stats = {s.account_id: s for s in MemberStats.objects.filter(account__in=accounts)}
    held: dict[int, dict[str, MemberTag]] = defaultdict(dict)
    for tag in MemberTag.objects.filter(account__in=accounts, source=TagSource.AUTO):
        held[tag.account_id][tag.tag] = tag
    shop_ids = {account.program.shop_id for account in accounts}
    thresholds = {
        row.shop_id: row for row in CrmSettings.objects.filter(shop_id__in=shop_ids).select_related("vip_tier")
    }
    created, removed, changed = [], [], []
    for account in accounts:
        shop_id = account.program.shop_id
        if shop_id not in thresholds:
            thresholds[shop_id] = CrmSettings(shop_id=shop_id)
        wanted = auto_tags(account, stats.get(account.pk), thresholds[shop_id], now)
        for name, reason in wanted.items():
            current = held[account.pk].get(name)
            if current is None:
                created.append(
                    MemberTag(account=account, tag=name, source=TagSource.AUTO, reason=reason, assigned_at=now)
                )
            elif current.reason != reason:
                current.reason = reason
                changed.append(current)
        removed += [tag.pk for name, tag in held[account.pk].items() if name not in wanted]
    if created:
        MemberTag.objects.bulk_create(created)
    if changed:
        MemberTag.objects.bulk_update(changed, ["reason"])
    if removed:
        MemberTag.objects.filter(pk__in=removed).delete()
    return len(created) + len(removed) + len(changed)


def high_value_threshold_refresh(shop_id: int) -> Decimal | None:
    """Store the spend at the shop's ``high_value_percentile`` among its members with a visit (nearest rank)."""
    thresholds = settings_of(shop_id)
    spends = sorted(
        MemberStats.objects.filter(account__program__shop_id=shop_id, visits__gt=0).values_list(
            "total_spend", flat=True
        )
    )
    value = None
    if spends:
        rank = max(1, -(-thresholds.high_value_percentile * len(spends) // 100))  # nearest-rank percentile
        value = spends[rank - 1]
    thresholds.high_value_spend = value
    thresholds.save()
    return value


def on_order_events_posted(
    sender: Any, *, accounts: list[MemberAccount], deliveries: list[tuple[MemberAccount, Order]], **kwargs: Any
) -> None:
    """Receiver of ``loyalty.signals.order_events_posted``: bring the statistics and automatic tags of
    every member the worker's transaction touched up to date (their accounts are locked, with
    program, shop, customer and tier loaded), before it commits, so a read never recomputes them.
    A first delivery adds to the stored figures (:func:`stats_after_events`); a fixed number of
    statements whatever the batch's size."""
    tags_refresh(accounts, stats=stats_after_events(accounts, deliveries))


def _locked(ids: list[int]) -> list[MemberAccount]:
    """The accounts ``ids`` locked in primary-key order (the worker's order), with what the
    statistics and tags read. Expects a transaction."""
    return list(
        MemberAccount.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("program__shop", "customer", "tier")
        .order_by("pk")
    )


def on_orders_replayed(sender: Any, *, pairs: frozenset[tuple[int, int]], **kwargs: Any) -> None:
    """Receiver of ``loyalty.signals.orders_replayed``: refresh every replayed member, 500 at a time,
    each chunk in its own transaction under its accounts' locks (the worker may be running)."""
    by_program: dict[int, list[int]] = defaultdict(list)
    for customer_id, program_id in pairs:
        by_program[program_id].append(customer_id)
    ids: list[int] = []
    for program_id, customer_ids in by_program.items():
        for start in range(0, len(customer_ids), 1000):
            chunk = customer_ids[start : start + 1000]
            ids += MemberAccount.objects.filter(program_id=program_id, customer_id__in=chunk).values_list(
                "pk", flat=True
            )
    ids.sort()
    for start in range(0, len(ids), 500):
        with transaction.atomic():
            accounts = _locked(ids[start : start + 500])
            stats_refresh(accounts)
            tags_refresh(accounts)


def members_refresh_all(*, shop_id: int | None = None, now: dt.datetime | None = None) -> int:
    """The nightly pass: every member's statistics, each shop's high-value threshold, every automatic tag.

    Statistics first (the local year may have rolled over), then the percentile, then the tags
    (dormancy and birthdays move with the clock), then the snapshots of the dynamic segments
    (what earning rules read, ``segment_snapshot_take``). 500 accounts at a time, each chunk in its own
    transaction under its accounts' locks, so that a visit the worker posts meanwhile is never
    overwritten by figures read before it; returns how many.
    """
    now = now or timezone.now()
    accounts = MemberAccount.objects.order_by("pk")
    if shop_id is not None:
        accounts = accounts.filter(program__shop_id=shop_id)
    ids = list(accounts.values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        with transaction.atomic():
            stats_refresh(_locked(ids[start : start + 500]), now=now)
    shops = set(accounts.values_list("program__shop_id", flat=True))
    for shop in shops:
        high_value_threshold_refresh(shop)
    for start in range(0, len(ids), 500):
        with transaction.atomic():
            tags_refresh(_locked(ids[start : start + 500]), now=now)
    dynamic = Segment.objects.filter(kind=SegmentKind.DYNAMIC).order_by("pk")
    for segment in dynamic.filter(shop_id__in=shops):
        segment_snapshot_take(segment, now=now)
    return len(ids)
