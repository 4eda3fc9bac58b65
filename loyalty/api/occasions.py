"""GraphQL types of ``Shop.upcomingOccasions`` and its resolver: members' birthdays and anniversaries.

This module does not import ``loyalty.api.types`` (which imports it for the ``Shop`` field);
the composite ``MemberAccount`` is referenced lazily from the composition root.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from django.utils import timezone

from api_core.errors import domain_error
from loyalty.errors import LoyaltyError
from loyalty.services import occasions as domain
from marketplace import models as mp

MEMBER_ACCOUNT = Annotated["MemberAccount", strawberry.lazy("config.nodes")]  # type: ignore[name-defined]  # noqa: F821  (resolved lazily by strawberry)

OccasionKind = domain.OccasionKind
strawberry.enum(
    OccasionKind,
    name="OccasionKind",
    description="A member's yearly occasion: their birthday, or the anniversary of joining the program.",
)


@strawberry.type(description="A member's birthday or membership anniversary, for staff who reach out.")
class Occasion:
    """One upcoming occasion of a consenting member."""

    kind: OccasionKind = strawberry.field(description="Birthday or membership anniversary.")
    date: dt.date = strawberry.field(
        description="The (Gregorian) date it falls on, in the member's calendar (a Jalali birthday on its Jalali date)."
    )
    member: MEMBER_ACCOUNT = strawberry.field(description="The member's account in this shop.")
    channels: list[str] = strawberry.field(
        description=(
            "Channels the member agreed to be contacted through: email, sms, push (never empty: members "
            "who agreed to none are not listed)."
        )
    )
    years_as_member: int | None = strawberry.field(
        description="For an anniversary, the whole years of membership it completes (1 and up); null for a birthday."
    )


def upcoming_occasions_resolve(*, shop: mp.Shop, days: int) -> list[Occasion]:
    """The domain's list (``INVALID_INPUT`` on ``days`` as a coded error); the field checks the capability."""
    try:
        found = domain.upcoming_occasions(shop=shop, days=days, now=timezone.now())
    except LoyaltyError as error:
        raise domain_error(error) from error
    return [
        Occasion(
            kind=item.kind,
            date=item.date,
            member=item.account,
            channels=list(item.channels),
            years_as_member=item.years_as_member,
        )
        for item in found
    ]
