"""Bonuses and occasions: the welcome bonus, birthdays and membership anniversaries.

* **Welcome bonus** (:func:`welcome_bonus_post`): posted once when an account is enrolled, keyed
  ``welcome:<account>``, when the program's ``welcome_bonus_points`` > 0.
* **Birthday and anniversary bonuses** (:func:`occasions_bonus_due`, run daily by
  ``loyalty.tasks.occasions_bonus_task`` and ``manage.py bonus_occasions``): once per year per
  account, keyed ``birthday:<account>:<year>`` / ``anniversary:<account>:<year>`` where the year
  is the member's own calendar year (Jalali for Jalali members). The birthday bonus is the
  program's ``birthday_bonus_points``; the anniversary repeats the welcome bonus
  (``welcome_bonus_points``), since programs have no separate anniversary setting.
* **Occasions for staff** (:func:`upcoming_occasions`): birthdays and anniversaries of the next
  N days of members who agreed to be contacted, with the channels they agreed to.

Calendars: a member keeps occasions in the Gregorian or the Persian (Jalali) calendar
(``Customer.calendar``); birth dates are stored as Gregorian dates. A Jalali birthday recurs on
its Jalali month and day (1 Farvardin is Nowruz every year, 20 or 21 March). Leap days: a
29 February falls on 28 February in other years; a 30 Esfand (Jalali leap day) on 29 Esfand.
Local days are the shop's (its time zone). Bonuses are ledger movements, not messages, so they
are posted whatever the member's marketing consent; anything that contacts a member asks
:func:`contact_channels` first. See docs/lifecycle.md, "Bonuses and occasions".
"""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

import jdatetime
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import ExtractDay, ExtractMonth

from loyalty.broadcasts import AccountUpdate, broadcast_on_commit
from loyalty.errors import LoyaltyError, LoyaltyErrorCode
from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, PointsEntry, SourceType
from loyalty.reasons import Reason
from loyalty.services.ledger import Movement, account_lock, entry_existing, points_grant
from loyalty.services.periods import lot_expires_at
from marketplace.models import Customer, Shop

GREGORIAN = "gregorian"
JALALI = "jalali"
#: The calendars a member may keep occasions in (``Customer.calendar``).
CALENDARS = (GREGORIAN, JALALI)

#: A daily run also pays occasions of the previous days it missed (scheduler outage), up to this
#: many days back including today; the idempotency keys make the overlap harmless.
CATCH_UP_DAYS = 7
#: Two bonuses of one kind on one account are never closer than this, whatever the keys say:
#: switching calendars or moving one's birth date cannot buy a second bonus within a year
#: (real yearly occasions are at least 364 days apart, 357 with a late catch-up).
MIN_DAYS_BETWEEN = 300
#: ``shop.upcomingOccasions(days)`` looks 1 to this many days ahead.
MAX_UPCOMING_DAYS = 90
#: SQL pre-selection pads the window by this many days: a Jalali month/day falls on Gregorian
#: dates at most 3 days apart across the years (checked over 1900-2100).
_PAD_DAYS = 4


class OccasionKind(enum.Enum):
    """A member's yearly occasion."""

    BIRTHDAY = "birthday"
    ANNIVERSARY = "anniversary"


class ContactChannel(enum.StrEnum):
    """How a member may be contacted for marketing."""

    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


# --- calendars -----------------------------------------------------------------------------


def _calendar(value: str) -> str:
    if value not in CALENDARS:
        raise ValueError(f"unknown calendar {value!r}; expected one of {CALENDARS}")
    return value


def calendar_year(day: dt.date, calendar: str) -> int:
    """The year of Gregorian ``day`` in ``calendar`` (e.g. 21 March 2026 is Jalali 1405)."""
    if _calendar(calendar) == JALALI:
        return jdatetime.date.fromgregorian(date=day).year
    return day.year


def occasion_date(*, birth_or_join: dt.date, calendar: str, year: int) -> dt.date | None:
    """The Gregorian date on which the yearly occasion of ``birth_or_join`` falls in ``year``.

    ``year`` is a year of ``calendar``: Gregorian, or Jalali (then the stored Gregorian date is
    converted to Jalali, its Jalali month and day are kept and that day of Jalali ``year`` is
    converted back). Leap days: 29 February gives 28 February in a common year; 30 Esfand
    gives 29 Esfand in a common Jalali year. ``None`` for a year before the original date's
    year or outside the calendar's range. Raises ``ValueError`` for an unknown calendar.
    """
    if _calendar(calendar) == JALALI:
        origin = jdatetime.date.fromgregorian(date=birth_or_join)
        if not origin.year <= year <= jdatetime.MAXYEAR:
            return None
        day = origin.day
        if origin.month == 12 and day == 30 and not jdatetime.date(year, 1, 1).isleap():
            day = 29
        return jdatetime.date(year, origin.month, day).togregorian()
    if not birth_or_join.year <= year <= dt.MAXYEAR:
        return None
    if (birth_or_join.month, birth_or_join.day) == (2, 29) and not _gregorian_leap(year):
        return dt.date(year, 2, 28)
    return birth_or_join.replace(year=year)


def _gregorian_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def occurrences(*, origin: dt.date, calendar: str, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    """The occasions of ``origin`` on days ``start``..``end`` (inclusive), as (date, calendar year).

    Only later years than the origin's own count (a birth or enrolment is not its own occasion).
    """
    found = []
    first, last = calendar_year(start, calendar), calendar_year(end, calendar)
    for year in range(first, last + 1):
        day = occasion_date(birth_or_join=origin, calendar=calendar, year=year)
        if day is not None and start <= day <= end and year > calendar_year(origin, calendar):
            found.append((day, year))
    return found


def _month_days(start: dt.date, end: dt.date) -> list[int]:
    """``month * 100 + day`` of every day in ``start - pad`` .. ``end + pad`` (SQL pre-selection).

    Adds 29 February whenever its neighbours are in, since a common year has no such day.
    """
    days = set()
    day = start - dt.timedelta(days=_PAD_DAYS)
    while day <= end + dt.timedelta(days=_PAD_DAYS):
        days.add(day.month * 100 + day.day)
        day += dt.timedelta(days=1)
    if days & {228, 301}:
        days.add(229)
    return sorted(days)


def _local_today(shop: Shop, now: dt.datetime) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(shop.timezone)).date()


def _enrolled_on(account_enrolled_at: dt.datetime, shop: Shop) -> dt.date:
    return account_enrolled_at.astimezone(zoneinfo.ZoneInfo(shop.timezone)).date()


def _member_calendar(customer_calendar: str) -> str:
    """The member's calendar; a value outside the choices counts as Gregorian."""
    return customer_calendar if customer_calendar in CALENDARS else GREGORIAN


# --- consent -------------------------------------------------------------------------------


def contact_channels(customer: Customer) -> list[str]:
    """The marketing channels through which ``customer`` may be contacted, in a fixed order.

    A channel counts when the member agreed to it and, for e-mail and SMS, has an address or
    number to send to; push needs only the consent (device tokens live in the apps). Every
    sender of marketing (e-mail, SMS, push, staff reaching out about an occasion) asks this
    first and uses only what it returns; an empty list means "do not contact".
    """
    channels = []
    if customer.consent_email and customer.email:
        channels.append(ContactChannel.EMAIL.value)
    if customer.consent_sms and customer.phone:
        channels.append(ContactChannel.SMS.value)
    if customer.consent_push:
        channels.append(ContactChannel.PUSH.value)
    return channels


def contactable_q(prefix: str = "") -> Q:
    """SQL condition equal to ``contact_channels(customer) != []`` (``prefix`` e.g. ``"customer__"``)."""
    return (
        (Q(**{f"{prefix}consent_email": True}) & ~Q(**{f"{prefix}email": ""}))
        | (Q(**{f"{prefix}consent_sms": True}) & ~Q(**{f"{prefix}phone": ""}))
        | Q(**{f"{prefix}consent_push": True})
    )


# --- welcome bonus -------------------------------------------------------------------------


def welcome_bonus_post(
    *, account: MemberAccount, program: LoyaltyProgram, at: dt.datetime, broadcast: bool = True
) -> PointsEntry | None:
    """Post the program's welcome bonus on a newly enrolled ``account`` (caller holds its lock).

    A BONUS entry of ``welcome_bonus_points`` keyed ``welcome:<account>``, available at once (no
    order can be returned against it) in a lot expiring per the program's ``expiry_months``;
    it does not count towards tiers. Nothing when the program gives no welcome bonus. Once per
    account whatever calls it (duplicate messages, concurrent workers: the lock and the key).
    With ``broadcast`` a live update (kind ``bonus``) follows the commit.
    """
    if program.welcome_bonus_points <= 0:
        return None
    key = f"welcome:{account.pk}"
    if entry_existing(idempotency_key=key) is not None:
        return None
    entry = points_grant(
        account=account,
        points=program.welcome_bonus_points,
        expires_at=lot_expires_at(program=program, available_at=at),
        movement=Movement(
            kind=EntryKind.BONUS,
            reason="Welcome bonus",
            reason_code=Reason.WELCOME_BONUS,
            source_type=SourceType.SYSTEM,
            source_id="welcome",
            idempotency_key=key,
            at=at,
        ),
    )
    if broadcast:
        _broadcast(account, program, entry)
    return entry


def _broadcast(account: MemberAccount, program: LoyaltyProgram, entry: PointsEntry) -> None:
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


# --- birthday and anniversary bonuses ------------------------------------------------------


@dataclass(frozen=True)
class OccasionSummary:
    """What ``occasions_bonus_due`` did (or, in a dry run, would do)."""

    birthdays: int
    anniversaries: int
    points: int


@dataclass(frozen=True)
class _Due:
    """One bonus to pay: ``kind`` of ``account_id`` on ``day`` (Gregorian), year in its calendar."""

    account_id: int
    kind: OccasionKind
    day: dt.date
    year: int


def _occasion_due(
    *,
    kind: OccasionKind,
    birth_date: dt.date | None,
    calendar: str,
    enrolled_at: dt.datetime,
    shop: Shop,
    start: dt.date,
    end: dt.date,
) -> list[tuple[dt.date, int]]:
    """The occasions of ``kind`` on ``start``..``end`` for which a member enrolled at ``enrolled_at`` is paid.

    A birthday counts from the day of enrolment on (no bonus for birthdays before joining).
    """
    calendar = _member_calendar(calendar)
    joined = _enrolled_on(enrolled_at, shop)
    if kind is OccasionKind.BIRTHDAY:
        if birth_date is None:
            return []
        found = occurrences(origin=birth_date, calendar=calendar, start=max(start, joined), end=end)
    else:
        found = occurrences(origin=joined, calendar=calendar, start=start, end=end)
    return found


def _bonus_points(program: LoyaltyProgram, kind: OccasionKind) -> int:
    """Birthday: ``birthday_bonus_points``; anniversary: repeats ``welcome_bonus_points``."""
    return program.birthday_bonus_points if kind is OccasionKind.BIRTHDAY else program.welcome_bonus_points


def _candidates(program: LoyaltyProgram, kind: OccasionKind, start: dt.date, end: dt.date) -> Iterable[tuple]:
    """(account id, birth date, calendar, enrolled at) of members whose occasion may fall on ``start``..``end``.

    One query: birth dates (or local enrolment dates) whose month/day lies near the window;
    the exact, calendar-aware test is done in Python on these few rows.
    """
    tz = zoneinfo.ZoneInfo(program.shop.timezone)
    month_days = _month_days(start, end)
    accounts = MemberAccount.objects.filter(program=program)
    if kind is OccasionKind.BIRTHDAY:
        accounts = accounts.filter(customer__birth_date__isnull=False).alias(
            md=ExtractMonth("customer__birth_date") * 100 + ExtractDay("customer__birth_date")
        )
    else:
        # a year of membership at least; the local enrolment date's month/day near the window
        accounts = accounts.filter(enrolled_at__lt=dt.datetime.combine(start, dt.time(), tz) - dt.timedelta(days=300))
        accounts = accounts.alias(
            md=ExtractMonth("enrolled_at", tzinfo=tz) * 100 + ExtractDay("enrolled_at", tzinfo=tz)
        )
    return (
        accounts.filter(md__in=month_days)
        .order_by("pk")
        .values_list("pk", "customer__birth_date", "customer__calendar", "enrolled_at")
        .iterator(chunk_size=2000)
    )


def _key(kind: OccasionKind, account_id: int, year: int) -> str:
    return f"{kind.value}:{account_id}:{year}"


def _paid_recently(kind: OccasionKind, account_id: int, at: dt.datetime) -> bool:
    """True when the account got a bonus of ``kind`` within ``MIN_DAYS_BETWEEN`` days of ``at``."""
    gap = dt.timedelta(days=MIN_DAYS_BETWEEN)
    return PointsEntry.objects.filter(
        account_id=account_id,
        kind=EntryKind.BONUS,
        idempotency_key__startswith=f"{kind.value}:{account_id}:",
        created_at__gt=at - gap,
        created_at__lt=at + gap,
    ).exists()


def _reason(kind: OccasionKind, years: int | None) -> str:
    if kind is OccasionKind.BIRTHDAY:
        return "Birthday bonus"
    return f"Anniversary bonus: {years} year{'s' if years != 1 else ''} as a member"


def _pay(program: LoyaltyProgram, due: _Due, now: dt.datetime, broadcast: bool) -> PointsEntry | None:
    """Pay one occasion in its own durable transaction under the account lock; ``None`` if not (any more) due.

    The occasion is checked again on the locked row (the member may have changed their birth
    date or calendar since the candidates were read), then the key and the 300-day rule.
    """
    points = _bonus_points(program, due.kind)
    with transaction.atomic(durable=True):
        account = account_lock(account_ids=[due.account_id]).select_related("customer").get()
        customer = account.customer
        still = _occasion_due(
            kind=due.kind,
            birth_date=customer.birth_date,
            calendar=customer.calendar,
            enrolled_at=account.enrolled_at,
            shop=program.shop,
            start=due.day,
            end=due.day,
        )
        key = _key(due.kind, account.pk, due.year)
        if (due.day, due.year) not in still or entry_existing(idempotency_key=key) is not None:
            return None
        if account.blocked:  # a blocked member earns no bonus (docs/crm.md, "Status")
            return None
        if _paid_recently(due.kind, account.pk, now):
            return None
        years = None
        if due.kind is OccasionKind.ANNIVERSARY:
            calendar = _member_calendar(customer.calendar)
            years = due.year - calendar_year(_enrolled_on(account.enrolled_at, program.shop), calendar)
        entry = points_grant(
            account=account,
            points=points,
            expires_at=lot_expires_at(program=program, available_at=now),
            movement=Movement(
                kind=EntryKind.BONUS,
                reason=_reason(due.kind, years),
                reason_code=Reason.BIRTHDAY_BONUS if due.kind is OccasionKind.BIRTHDAY else Reason.ANNIVERSARY_BONUS,
                reason_params={} if years is None else {"years": years},
                source_type=SourceType.SYSTEM,
                source_id=f"{due.kind.value}:{due.year}",
                idempotency_key=key,
                at=now,
            ),
        )
        if broadcast:
            _broadcast(account, program, entry)
    return entry


def _would_pay(due: _Due, now: dt.datetime) -> bool:
    """The dry-run answer of ``_pay`` (read only, no lock)."""
    key = _key(due.kind, due.account_id, due.year)
    return entry_existing(idempotency_key=key) is None and not _paid_recently(due.kind, due.account_id, now)


def occasions_bonus_due(*, now: dt.datetime, broadcast: bool = True, dry_run: bool = False) -> OccasionSummary:
    """Pay the birthday and anniversary bonuses due at ``now``, in every active program that gives them.

    A member's occasion is due when it falls (in their calendar) on the shop's local date of
    ``now`` or on one of the ``CATCH_UP_DAYS - 1`` days before, so a run missed by a scheduler
    outage is made up the next day. Each bonus is a BONUS entry available at once (expiry per
    program), keyed ``birthday:<account>:<year>`` / ``anniversary:<account>:<year>`` (the year
    of the member's calendar), posted in one short durable transaction under the account lock
    and broadcast after commit. Running it twice, or twice at once, pays nothing twice. With
    ``dry_run`` nothing is written and the summary counts what would be paid.

    Candidates come from one query per program and kind (month/day pre-selection in SQL),
    never a scan of every account in Python.
    """
    programs = (
        LoyaltyProgram.objects.filter(active=True)
        .filter(Q(birthday_bonus_points__gt=0) | Q(welcome_bonus_points__gt=0))
        .select_related("shop")
        .order_by("pk")
    )
    counts = {OccasionKind.BIRTHDAY: 0, OccasionKind.ANNIVERSARY: 0}
    points = 0
    for program in programs:
        end = _local_today(program.shop, now)
        start = end - dt.timedelta(days=CATCH_UP_DAYS - 1)
        for kind in OccasionKind:
            bonus = _bonus_points(program, kind)
            if bonus <= 0:
                continue
            due: list[_Due] = []
            for account_id, birth_date, calendar, enrolled_at in _candidates(program, kind, start, end):
                found = _occasion_due(
                    kind=kind,
                    birth_date=birth_date,
                    calendar=calendar,
                    enrolled_at=enrolled_at,
                    shop=program.shop,
                    start=start,
                    end=end,
                )
                due.extend(_Due(account_id=account_id, kind=kind, day=day, year=year) for day, year in found)
            for item in due:
                paid = _would_pay(item, now) if dry_run else _pay(program, item, now, broadcast) is not None
                if paid:
                    counts[kind] += 1
                    points += bonus
    return OccasionSummary(
        birthdays=counts[OccasionKind.BIRTHDAY], anniversaries=counts[OccasionKind.ANNIVERSARY], points=points
    )


# --- occasions for staff -------------------------------------------------------------------


@dataclass(frozen=True)
class UpcomingOccasion:
    """A member's birthday or anniversary on ``date`` (Gregorian), with how they may be contacted."""

    kind: OccasionKind
    date: dt.date
    account: MemberAccount
    channels: tuple[str, ...]
    years_as_member: int | None


def upcoming_occasions(*, shop: Shop, days: int, now: dt.datetime) -> list[UpcomingOccasion]:
    """Birthdays and anniversaries on the shop's next ``days`` local days (today included), by date.

    Only members with at least one contact channel (:func:`contact_channels`) are listed, each
    with those channels: the list is for staff who reach out. Anniversaries count whole years
    of membership (1 and up) in the member's calendar. Accounts come with customer, tier and
    program/shop loaded. Two queries whatever the number of members (the program, then the
    accounts pre-selected by month/day in SQL). Raises ``LoyaltyError(INVALID_INPUT, "days")``
    unless ``days`` is 1 to ``MAX_UPCOMING_DAYS``.
    """
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_UPCOMING_DAYS:
        raise LoyaltyError(LoyaltyErrorCode.INVALID_INPUT, f"days must be 1 to {MAX_UPCOMING_DAYS}.", "days")
    program = LoyaltyProgram.objects.filter(shop_id=shop.pk).first()
    if program is None:
        return []
    program.shop = shop
    tz = zoneinfo.ZoneInfo(shop.timezone)
    start = _local_today(shop, now)
    end = start + dt.timedelta(days=days - 1)
    month_days = _month_days(start, end)
    accounts = (
        MemberAccount.objects.filter(program=program)
        .filter(contactable_q("customer__"))
        .alias(
            birth_md=ExtractMonth("customer__birth_date") * 100 + ExtractDay("customer__birth_date"),
            joined_md=ExtractMonth("enrolled_at", tzinfo=tz) * 100 + ExtractDay("enrolled_at", tzinfo=tz),
        )
        .filter(Q(birth_md__in=month_days) | Q(joined_md__in=month_days))
        .select_related("customer", "tier", "program__shop")
        .order_by("pk")
    )
    found: list[UpcomingOccasion] = []
    for account in accounts:
        customer = account.customer
        channels = tuple(contact_channels(customer))
        calendar = _member_calendar(customer.calendar)
        joined = _enrolled_on(account.enrolled_at, shop)
        if customer.birth_date is not None:
            for day, _ in occurrences(origin=customer.birth_date, calendar=calendar, start=start, end=end):
                found.append(UpcomingOccasion(OccasionKind.BIRTHDAY, day, account, channels, None))
        for day, year in occurrences(origin=joined, calendar=calendar, start=start, end=end):
            years = year - calendar_year(joined, calendar)
            found.append(UpcomingOccasion(OccasionKind.ANNIVERSARY, day, account, channels, years))
    kinds = list(OccasionKind)
    found.sort(key=lambda item: (item.date, kinds.index(item.kind), item.account.pk))
    return found
