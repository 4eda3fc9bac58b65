"""Calendar arithmetic of a program: when a lot of points expires, and the qualifying windows.

The one home of two rules that were written out at each caller before (issue 12):

- **lot expiry** (:func:`lot_expires_at`): a lot expires ``expiry_months`` after it became
  available (docs/lifecycle.md, "Expiry");
- **qualifying windows** (:func:`calendar_year_bounds`, :func:`year_start`,
  :func:`years_after`): a calendar year is the shop's local year; a rolling window is the 12
  months before a moment, stepping year by year from the member's anchor (docs/lifecycle.md,
  "Tier requalification"; docs/ledger.md, "Tiers").

Calendar years are the shop's (``Shop.timezone``), because members and owners read them as
"2027". Months and years added to a moment (expiry, rolling windows) are counted on the UTC
calendar: the moment is converted to UTC first, so the result depends only on the instant and
never on the offset a caller's datetime happens to carry, and daylight saving time cannot
create or skip a wall time. In the shop's zone the local time of day therefore moves by the
change of offset in between (12:00 EDT in July + 6 months is 11:00 EST in January), and near
local midnight the local date can differ from the UTC date by one. Month arithmetic is
dateutil's :class:`~dateutil.relativedelta.relativedelta`: a day the target month lacks falls
on its last day (31 January + 1 month = 28 or 29 February; 29 February + 12 months = 28
February in a common year), as the occasions do for birthdays and anniversaries.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from dateutil.relativedelta import relativedelta

from loyalty.models import LoyaltyProgram


def shop_zone(program: LoyaltyProgram) -> zoneinfo.ZoneInfo:
    """The time zone of the program's shop (an IANA name in ``Shop.timezone``, e.g. ``America/New_York``).

    Reads ``program.shop`` (one query unless it is loaded). Raises
    ``zoneinfo.ZoneInfoNotFoundError`` for a name the tz database does not know.
    """
    return zoneinfo.ZoneInfo(program.shop.timezone)


def _utc_shift(moment: dt.datetime, delta: relativedelta) -> dt.datetime:
    """``moment`` moved by ``delta`` on the UTC calendar (rules: the module docstring); aware, in UTC."""
    if moment.tzinfo is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment.astimezone(dt.UTC) + delta


def lot_expires_at(*, program: LoyaltyProgram, available_at: dt.datetime) -> dt.datetime | None:
    """When a lot of points that becomes available at ``available_at`` expires, or ``None`` (never).

    The rule (docs/lifecycle.md, "Expiry"): points expire ``program.expiry_months`` calendar
    months after they became available — after the order's pending days for an earning, at once
    for welcome, birthday, anniversary and referral bonuses and staff adjustments — and never
    when ``expiry_months`` is empty (``None`` or 0). Pending points never expire, which is why
    the count starts at ``available_at`` and not at the order.

    ``available_at`` must be timezone-aware (any zone: only the instant matters). The months are
    added on the UTC calendar (see the module docstring): 31 January + 1 month is 28 (or 29)
    February at the same UTC time, 29 February + 12 months is 28 February; the shop's local
    time of day moves by any daylight-saving change in between. Returns an aware datetime in
    UTC. Reads only ``program.expiry_months`` (no query). Raises ``ValueError`` for a naive
    ``available_at`` when the program has an expiry.
    """
    if not program.expiry_months:
        return None
    return _utc_shift(available_at, relativedelta(months=program.expiry_months))


def years_after(*, moment: dt.datetime, years: int) -> dt.datetime:
    """``moment`` plus ``years`` whole years (negative: before) on the UTC calendar; aware, in UTC.

    The step of rolling 12-month qualifying windows: the window that ends at a moment starts at
    ``years_after(moment=end, years=-1)``, and a member anchored (last upgrade, enrolment or
    last requalification) at ``anchor`` is requalified on each ``years_after(moment=anchor,
    years=n)``, n ≥ 1 (docs/lifecycle.md, "Tier requalification"). Same UTC date and time;
    29 February falls on 28 February in a common year. Raises ``ValueError`` for a naive
    ``moment``.
    """
    return _utc_shift(moment, relativedelta(years=years))


def year_start(*, program: LoyaltyProgram, year: int) -> dt.datetime:
    """Local midnight starting 1 January of ``year`` in the shop's time zone (an aware datetime in that zone).

    The boundary of calendar-year qualifying windows (docs/lifecycle.md). Reads ``program.shop``.
    """
    return dt.datetime(year, 1, 1, tzinfo=shop_zone(program))


def calendar_year_bounds(*, program: LoyaltyProgram, at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """``(start, end)`` of the shop's local calendar year containing ``at``: ``[1 January, next 1 January)``.

    Both are local midnights, aware datetimes in the shop's zone. ``at`` must be timezone-aware;
    its year is read in the shop's zone, so 31 December 23:30 in New York is still that year
    although it is 1 January in UTC. Reads ``program.shop``.
    """
    year = at.astimezone(shop_zone(program)).year
    return year_start(program=program, year=year), year_start(program=program, year=year + 1)
