"""The jobs that plan messages (docs/engagement.md, "What plans a message").

* :func:`feed_follow`: reads the shops' event feed after its cursor and plans the flows' messages:
  a tier *upgrade* (``tier.changed``), a code issued (``redemption.issued``), a referral completed
  (``referral.completed``, to the referrer). Keyed by the shop event, so a re-read plans nothing.
* :func:`engagement_plan_daily`: birthdays and anniversaries of the day (the member's calendar,
  ``loyalty.services.occasions``), the personal dates in the shops' records (wedding anniversaries,
  own occasions), the shops' cultural events of the day with their bonuses,
  points expiring within the shop's ``expiring_days``, and win-back after ``win_back_days``
  without a visit.
* :func:`campaigns_due`: sends the campaigns whose time came.

Every message goes through ``planning.plan``; every bonus is a ledger entry keyed
``cultural:<event>:<year>:<account>``. All of them are safe to run twice or at once.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field

import jdatetime
from django.db import transaction
from django.db.models import Min, Sum
from django.utils import timezone
from django.utils.text import slugify

from crm.models import MemberProfile, MemberStats
from crm.selectors import segment_members
from engagement.models import (
    MARKETING_KINDS,
    Campaign,
    CampaignStatus,
    CulturalEvent,
    EngagementEvent,
    EngagementKind,
    EventResponse,
    EventStatus,
    FeedCursor,
    OccasionCalendar,
)
from engagement.rendering import bonus, day, number
from engagement.services.gifts import gift_suggestions
from engagement.services.planning import expiring_variables, plan, settings_of
from loyalty.broadcasts import AccountUpdate, broadcast_on_commit
from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, MemberStatus, PointsLot, SourceType, Tier
from loyalty.reasons import Reason, language_of
from loyalty.services.ledger import Movement, account_lock, entry_existing, points_grant
from loyalty.services.occasions import OccasionKind, calendar_year, occurrences, upcoming_occasions
from loyalty.services.periods import lot_expires_at
from marketplace.events import node_pk
from marketplace.models import EventType, ShopEvent

FEED = "engagement"
#: Feed events older than this when read are history, not news: an imported order history or a
#: server that was down for days does not announce old tier moves, codes or referrals.
FEED_MAX_AGE = dt.timedelta(days=2)
_FEED_TYPES = (EventType.TIER_CHANGED, EventType.REDEMPTION_ISSUED, EventType.REFERRAL_COMPLETED)
_RELATED = ("customer", "tier", "program__shop", "profile")


def _accounts(ids: list[int]) -> dict[int, MemberAccount]:
    return {a.pk: a for a in MemberAccount.objects.filter(pk__in=ids).select_related(*_RELATED)}


def feed_follow(*, limit: int = 1000, now: dt.datetime | None = None) -> int:
    """Plan the messages of the feed's next ``limit`` events after the cursor; returns how many events
    it read. Events that happened more than :data:`FEED_MAX_AGE` before ``now`` are passed over.
    Locks the cursor row, so two followers never read the same events; advances it in the same
    transaction as the messages it planned."""
    now = now or timezone.now()
    with transaction.atomic():
        FeedCursor.objects.get_or_create(name=FEED)
        cursor = FeedCursor.objects.select_for_update().get(name=FEED)
        events = list(
            ShopEvent.objects.filter(position__gt=cursor.position)
            .order_by("position")
            .only("uid", "type", "data", "position", "occurred_at", "shop_id")[:limit]
        )
        if not events:
            return 0
        wanted = [e for e in events if e.type in _FEED_TYPES and e.occurred_at >= now - FEED_MAX_AGE]
        ids = {node_pk(_member_id(e), "MemberAccount") for e in wanted}
        accounts = _accounts([pk for pk in ids if pk])
        tier_ids = {node_pk(e.data.get(k), "Tier") for e in wanted for k in ("fromTierId", "toTierId")}
        tiers = {t.pk: t for t in Tier.objects.filter(pk__in=[pk for pk in tier_ids if pk])}
        for event in wanted:
            account = accounts.get(node_pk(_member_id(event), "MemberAccount") or 0)
            if account is None:
                continue
            _plan_from_event(event, account, tiers)
        cursor.position = events[-1].position or cursor.position
        cursor.save(update_fields=["position"])
    return len(events)


def _member_id(event: ShopEvent) -> str | None:
    """The member the event's message goes to (the referrer of a referral)."""
    part = event.data.get("referrer") if event.type == EventType.REFERRAL_COMPLETED else event.data.get("member")
    return (part or {}).get("accountId")


def _plan_from_event(event: ShopEvent, account: MemberAccount, tiers: dict[int, Tier]) -> None:
    """The message of one feed event, when it calls for one."""
    language = language_of(account.customer.locale)
    key = f"shopevent:{event.uid}"
    data = event.data
    if event.type == EventType.TIER_CHANGED:
        before = tiers.get(node_pk(data.get("fromTierId"), "Tier") or 0)
        after = tiers.get(node_pk(data.get("toTierId"), "Tier") or 0)
        if after is None or (before is not None and after.position <= before.position):
            return  # a move down is not news to announce
        variables = {"tier_name": after.name, "previous_tier": before.name if before else ""}
        plan(account=account, kind=EngagementKind.TIER_UPGRADE, key=key, variables=variables)
    elif event.type == EventType.REDEMPTION_ISSUED:
        redeemed_after_message(account, event.occurred_at)
        expires = dt.datetime.fromisoformat(data["expiresAt"]) if data.get("expiresAt") else None
        zone = zoneinfo.ZoneInfo(account.program.shop.timezone)
        variables = {
            "reward_name": data.get("rewardName", ""),
            "code": data.get("code", ""),
            "expires_on": day(expires.astimezone(zone).date(), language) if expires else "",
        }
        plan(account=account, kind=EngagementKind.REDEMPTION_ISSUED, key=key, variables=variables, expires_at=expires)
    elif event.type == EventType.REFERRAL_COMPLETED:
        variables = {"bonus_points": number(int(data.get("referrerPoints") or 0), language)}
        plan(account=account, kind=EngagementKind.REFERRAL_COMPLETED, key=key, variables=variables)


#: A redemption counts as the answer to the member's latest marketing message sent this long before it.
REDEEMED_WINDOW = dt.timedelta(days=14)


def redeemed_after_message(account: MemberAccount, at: dt.datetime) -> int:
    """Mark the member's latest marketing message of the shop sent within :data:`REDEEMED_WINDOW`
    before ``at`` as *redeemed* (last-touch attribution, every channel of that message); returns how
    many rows changed. A message already answered further (redeemed, replied) stays as it is."""
    latest = (
        EngagementEvent.objects.filter(
            account=account,
            kind__in=MARKETING_KINDS,
            status__in=(EventStatus.SENT, EventStatus.DELIVERED),
            sent_at__gt=at - REDEEMED_WINDOW,
            sent_at__lte=at,
        )
        .order_by("-sent_at", "-pk")
        .values_list("kind", "key")
        .first()
    )
    if latest is None:
        return 0
    return EngagementEvent.objects.filter(
        account=account, kind=latest[0], key=latest[1], response__in=("", EventResponse.OPENED, EventResponse.CLICKED)
    ).update(response=EventResponse.REDEEMED, response_at=at)


@dataclass
class DailySummary:
    """What :func:`engagement_plan_daily` planned (messages, per kind) and paid (bonus points)."""

    messages: Counter = field(default_factory=Counter)
    bonuses: int = 0
    bonus_points: int = 0

    def __str__(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.messages.items())) or "none"
        return f"messages: {kinds}; bonuses: {self.bonuses} ({self.bonus_points} points)"


def engagement_plan_daily(
    *,
    now: dt.datetime,
    shop_id: int | None = None,
    kinds: set[str] | None = None,
    dry_run: bool = False,
) -> DailySummary:
    """Plan the day's messages in every active program (or ``shop_id``'s), of ``kinds`` (all when
    ``None``), and pay the cultural events' bonuses. ``dry_run`` writes nothing and counts what
    would be new. Idempotent: a second run the same day plans and pays nothing more."""
    summary = DailySummary()
    programs = LoyaltyProgram.objects.filter(active=True).select_related("shop").order_by("pk")
    if shop_id is not None:
        programs = programs.filter(shop_id=shop_id)

    def wants(kind: str) -> bool:
        return kinds is None or kind in kinds

    for program in programs:
        if wants(EngagementKind.BIRTHDAY) or wants(EngagementKind.ANNIVERSARY):
            _occasions(program, now, summary, dry_run, wants)
        if wants(EngagementKind.PERSONAL_DATE):
            _personal_dates(program, now, summary, dry_run)
        if wants(EngagementKind.CULTURAL_EVENT):
            _cultural_events(program, now, summary, dry_run)
        if wants(EngagementKind.POINTS_EXPIRING):
            _expiring(program, now, summary, dry_run)
        if wants(EngagementKind.WIN_BACK):
            _win_back(program, now, summary, dry_run)
    return summary


def _count(summary: DailySummary, kind: str, created: int) -> None:
    if created:
        summary.messages[kind] += created


def _occasions(program: LoyaltyProgram, now: dt.datetime, summary: DailySummary, dry_run: bool, wants) -> None:
    """Birthdays and anniversaries falling today in the member's calendar (with the program's bonus)."""
    for occasion in upcoming_occasions(shop=program.shop, days=1, now=now):
        account = occasion.account
        language = language_of(account.customer.locale)
        if occasion.kind is OccasionKind.BIRTHDAY and wants(EngagementKind.BIRTHDAY):
            kind = EngagementKind.BIRTHDAY
            variables = {
                "bonus_points": bonus(program.birthday_bonus_points, language),
                "gifts": gift_suggestions(account),
            }
        elif occasion.kind is OccasionKind.ANNIVERSARY and wants(EngagementKind.ANNIVERSARY):
            kind = EngagementKind.ANNIVERSARY
            variables = {
                "years": number(occasion.years_as_member or 0, language),
                "bonus_points": bonus(program.welcome_bonus_points, language),
            }
        else:
            continue
        done = plan(
            account=account, kind=kind, key=f"{kind}:{occasion.date.year}", variables=variables, dry_run=dry_run
        )
        _count(summary, kind, done.created)


#: How a personal date of kind ``anniversary`` is named in messages.
WEDDING_ANNIVERSARY = {"en": "wedding anniversary", "fa": "سالگرد ازدواج"}


def _personal_dates(program: LoyaltyProgram, now: dt.datetime, summary: DailySummary, dry_run: bool) -> None:
    """The personal dates staff keep in the shop's records (docs/crm.md, "Profiles") that recur today
    in the member's calendar (a Jalali member's date on its Jalali day, as birthdays do): one
    message per date and year. The profiles with dates are read in one query and matched in Python
    (JSON lists; SQLite cannot index them)."""
    today = now.astimezone(zoneinfo.ZoneInfo(program.shop.timezone)).date()
    profiles = (
        MemberProfile.objects.filter(account__program=program)
        .exclude(personal_dates=[])
        .exclude(account__status=MemberStatus.BLOCKED)
        .values_list("account_id", "personal_dates")
    )
    due: list[tuple[int, dict, int]] = []
    calendars = dict(
        MemberAccount.objects.filter(program=program, profile__isnull=False).values_list("pk", "customer__calendar")
    )
    for account_id, dates in profiles:
        for item in dates or []:
            origin = dt.date.fromisoformat(item["date"])
            calendar = calendars.get(account_id) or "gregorian"
            for _, year in occurrences(origin=origin, calendar=calendar, start=today, end=today):
                due.append((account_id, item, year - calendar_year(origin, calendar)))
    accounts = _accounts(sorted({account_id for account_id, _, _ in due}))
    for account_id, item, years in due:
        account = accounts[account_id]
        language = language_of(account.customer.locale)
        name = WEDDING_ANNIVERSARY[language] if item["kind"] == "anniversary" else (item.get("label") or "")
        label = slugify(item.get("label") or item["kind"])[:30]
        done = plan(
            account=account,
            kind=EngagementKind.PERSONAL_DATE,
            key=f"personal:{item['date']}:{label}:{today.year}",
            variables={
                "occasion_name": name,
                "years": number(years, language) if years > 0 else "",
                "gifts": gift_suggestions(account),
            },
            planned_at=now,
            dry_run=dry_run,
        )
        _count(summary, EngagementKind.PERSONAL_DATE, done.created)


def cultural_event_year(event: CulturalEvent, local_day: dt.date) -> int | None:
    """The year (of the event's calendar) whose occurrence falls on ``local_day``, else ``None``.

    A Jalali date is converted with jdatetime: 1 Farvardin 1405 is 21 March 2026. An event on a
    day its month lacks that year (30 Esfand in a common year, 29 February) does not occur.
    """
    if event.calendar == OccasionCalendar.JALALI:
        jalali = jdatetime.date.fromgregorian(date=local_day)
        return jalali.year if (jalali.month, jalali.day) == (event.month, event.day) else None
    return local_day.year if (local_day.month, local_day.day) == (event.month, event.day) else None


def _cultural_events(program: LoyaltyProgram, now: dt.datetime, summary: DailySummary, dry_run: bool) -> None:
    """Each active cultural event of the shop that falls today: a bonus to every active member and,
    when set, a message. Members in chunks of 500, each chunk one transaction under its locks."""
    local_day = now.astimezone(zoneinfo.ZoneInfo(program.shop.timezone)).date()
    for event in CulturalEvent.objects.filter(shop_id=program.shop_id, active=True).order_by("pk"):
        year = cultural_event_year(event, local_day)
        if year is None:
            continue
        ids = list(
            MemberAccount.objects.filter(program=program)
            .exclude(status=MemberStatus.BLOCKED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            with transaction.atomic():
                accounts = (
                    list(account_lock(account_ids=chunk).select_related(*_RELATED))
                    if not dry_run
                    else list(_accounts(chunk).values())
                )
                for account in accounts:
                    if event.bonus_points and not dry_run:
                        paid = _cultural_bonus(program, event, year, account, now)
                        summary.bonuses += paid
                        summary.bonus_points += event.bonus_points * paid
                    if event.message:
                        language = language_of(account.customer.locale)
                        variables = {
                            "event_name": (event.name_fa or event.name) if language == "fa" else event.name,
                            "bonus_points": bonus(event.bonus_points, language),
                            "gifts": gift_suggestions(account),
                        }
                        done = plan(
                            account=account,
                            kind=EngagementKind.CULTURAL_EVENT,
                            key=f"cultural:{event.pk}:{year}",
                            variables=variables,
                            planned_at=now,
                            dry_run=dry_run,
                        )
                        _count(summary, EngagementKind.CULTURAL_EVENT, done.created)


def _cultural_bonus(program: LoyaltyProgram, event: CulturalEvent, year: int, account: MemberAccount, now) -> int:
    """Grant the event's bonus to the (locked) account once per year of its calendar; 1 if paid now."""
    key = f"cultural:{event.pk}:{year}:{account.pk}"
    if entry_existing(idempotency_key=key) is not None:
        return 0  # paid on an earlier run
    entry = points_grant(
        account=account,
        points=event.bonus_points,
        expires_at=lot_expires_at(program=program, available_at=now),
        movement=Movement(
            kind=EntryKind.BONUS,
            reason=f"{event.name} {year}",
            reason_code=Reason.CULTURAL_EVENT,
            reason_params={"event": event.name, "event_fa": event.name_fa or event.name, "year": str(year)},
            source_type=SourceType.SYSTEM,
            source_id=f"cultural:{event.pk}:{year}",
            idempotency_key=key,
            at=now,
        ),
    )
    broadcast_on_commit(
        AccountUpdate(
            account_id=account.pk,
            customer_id=account.customer_id,
            shop_id=program.shop_id,
            entry_id=entry.pk,
            kind=entry.kind,
            points=entry.points,
            reason=entry.reason,
        )
    )
    return 1


def _expiring(program: LoyaltyProgram, now: dt.datetime, summary: DailySummary, dry_run: bool) -> None:
    """Members with available points expiring within the shop's ``expiring_days``: one message per
    member and first expiry date (keyed by it), expiring when the points do."""
    days = settings_of(program.shop_id).expiring_days
    rows = (
        PointsLot.objects.filter(
            account__program=program,
            released_at__isnull=False,
            remaining__gt=0,
            expires_at__gt=now,
            expires_at__lte=now + dt.timedelta(days=days),
        )
        .values("account_id")
        .annotate(points=Sum("remaining"), first=Min("expires_at"))
        .order_by("account_id")
    )
    zone = zoneinfo.ZoneInfo(program.shop.timezone)
    found = list(rows)
    accounts = _accounts([row["account_id"] for row in found])
    for row in found:
        account = accounts[row["account_id"]]
        language = language_of(account.customer.locale)
        expires_on = row["first"].astimezone(zone).date()
        done = plan(
            account=account,
            kind=EngagementKind.POINTS_EXPIRING,
            key=f"expiring:{expires_on.isoformat()}",
            variables=expiring_variables(row["points"], expires_on, language),
            expires_at=row["first"],
            planned_at=now,
            dry_run=dry_run,
        )
        _count(summary, EngagementKind.POINTS_EXPIRING, done.created)


#: Win-back writes to members who lapsed within this many days after ``win_back_days``: a nudge soon
#: after they went quiet, never to everyone an imported history shows quiet for years.
WIN_BACK_WINDOW_DAYS = 30


def _win_back(program: LoyaltyProgram, now: dt.datetime, summary: DailySummary, dry_run: bool) -> None:
    """Members whose last visit is over ``win_back_days`` old (and under ``win_back_days`` +
    :data:`WIN_BACK_WINDOW_DAYS`): one message per dormant spell, keyed by the last visit's date, so a
    member who comes back and lapses again hears from the shop again."""
    days = settings_of(program.shop_id).win_back_days
    lapsed = now - dt.timedelta(days=days)
    stats = MemberStats.objects.filter(
        account__program=program,
        last_visit_at__lt=lapsed,
        last_visit_at__gte=lapsed - dt.timedelta(days=WIN_BACK_WINDOW_DAYS),
    ).exclude(account__status=MemberStatus.BLOCKED)
    last_visits: dict[int, dt.datetime] = {
        account_id: last for account_id, last in stats.values_list("account_id", "last_visit_at") if last is not None
    }
    accounts = _accounts(list(last_visits))
    for account_id, last in sorted(last_visits.items()):
        account = accounts[account_id]
        language = language_of(account.customer.locale)
        variables = {"days_since_visit": number((now - last).days, language), "gifts": gift_suggestions(account)}
        done = plan(
            account=account,
            kind=EngagementKind.WIN_BACK,
            key=f"winback:{last.date().isoformat()}",
            variables=variables,
            planned_at=now,
            dry_run=dry_run,
        )
        _count(summary, EngagementKind.WIN_BACK, done.created)


def campaigns_due(*, now: dt.datetime) -> int:
    """Send every scheduled campaign whose ``send_at`` has come: plan one message per member of its
    segment (all the program's members without one) and channel. Each campaign in its own
    transaction under its row lock; returns how many were sent."""
    sent = 0
    for campaign_id in Campaign.objects.filter(status=CampaignStatus.SCHEDULED, send_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            campaign = (
                Campaign.objects.select_for_update(skip_locked=True)
                .filter(pk=campaign_id, status=CampaignStatus.SCHEDULED)
                .first()
            )
            if campaign is None:
                continue
            campaign_send(campaign, now=now)
            sent += 1
    return sent


def campaign_send(campaign: Campaign, *, now: dt.datetime) -> int:
    """Plan the campaign's messages now (caller holds its row lock) and mark it sent; returns how many."""
    members = (
        segment_members(campaign.segment, now=now)
        if campaign.segment is not None
        else MemberAccount.objects.filter(program__shop_id=campaign.shop_id)
    )
    planned = 0
    ids = list(members.exclude(status=MemberStatus.BLOCKED).order_by("pk").values_list("pk", flat=True))
    personal = "gifts" in str(campaign.texts)  # suggestions cost queries: only when the text shows them
    for start in range(0, len(ids), 500):
        for account in _accounts(ids[start : start + 500]).values():
            done = plan(
                account=account,
                kind=EngagementKind.CAMPAIGN,
                key=f"campaign:{campaign.pk}",
                variables={"gifts": gift_suggestions(account)} if personal else {},
                channels=campaign.channels,
                texts=campaign.texts,
                campaign_id=campaign.pk,
                planned_at=now,
            )
            planned += done.created
    campaign.status, campaign.sent_at, campaign.planned = CampaignStatus.SENT, now, planned
    campaign.save(update_fields=["status", "sent_at", "planned"])
    return planned
