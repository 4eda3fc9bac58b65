"""The member's own profile settings in GraphQL: ``viewer.profile`` and ``memberProfileUpdate``."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, cast

import strawberry
import strawberry_django
from strawberry.types import Info

from api_core.context import ViewerIdentity, current_user
from api_core.errors import handle_domain_errors
from marketplace import models as mp
from marketplace.api.errors import ProfileError
from marketplace.api.types import SHOP
from marketplace.selectors import staff_memberships
from marketplace.services.profile import ProfileChanges, member_profile_update

StaffRole = mp.StaffRole
strawberry.enum(StaffRole, name="StaffRole", description="What a staff member may do in one shop.")


@strawberry.enum(name="Calendar", description="The calendar a member keeps their occasions in.")
class Calendar(enum.Enum):
    """Gregorian, or Persian (Jalali): a Jalali birthday recurs on its Jalali date every year."""

    GREGORIAN = "gregorian"
    JALALI = "jalali"


@strawberry_django.type(
    mp.Customer,
    name="ViewerProfile",
    description="The logged-in customer's own settings: birth date, calendar and marketing consent.",
)
class ViewerProfile:
    """What the member tells the marketplace about themselves (see docs/lifecycle.md, occasions)."""

    birth_date: dt.date | None = strawberry_django.field(
        description="Date of birth (Gregorian), or null; the birthday bonus needs it."
    )
    consent_email: bool = strawberry_django.field(description="Agreed to marketing e-mail.")
    consent_sms: bool = strawberry_django.field(description="Agreed to marketing SMS.")
    consent_push: bool = strawberry_django.field(description="Agreed to marketing push notifications.")

    @strawberry_django.field(description="Calendar of the member's birthday and membership anniversaries.")
    def calendar(self) -> Calendar:
        """The stored calendar (an unknown stored value reads as Gregorian)."""
        value = cast(mp.Customer, self).calendar
        return Calendar(value) if value in Calendar._value2member_map_ else Calendar.GREGORIAN


@strawberry.type(description="A shop the logged-in user works for, with their role there.")
class StaffShop:
    """One staff membership of the viewer: which console or till the dashboard offers."""

    role: StaffRole = strawberry.field(
        description="OWNER and MANAGER tune the program and adjust points; CASHIER handles codes at the till."
    )
    shop: SHOP = strawberry.field(description="The shop.")


@strawberry.type(name="ViewerMarketplacePart", description="Marketplace part of Viewer (not in the schema).")
class ViewerMarketplacePart:
    """The caller as a customer of the marketplace."""

    display_name: str = strawberry.field(description="Name shown on the dashboard.")
    email: str = strawberry.field(description="Contact e-mail.")

    @strawberry.field(description="The member's own settings; null for a staff-only login (no customer record).")
    def profile(self) -> ViewerProfile | None:
        """The viewer's customer record (one query)."""
        customer_id = cast(ViewerIdentity, self).customer_id
        if customer_id is None:
            return None
        return cast(ViewerProfile, mp.Customer.objects.filter(pk=customer_id).first())

    @strawberry.field(
        description="The shops the logged-in user works for, by shop name, with their role; empty for a member."
    )
    def staff_shops(self) -> list[StaffShop]:
        """The viewer's staff memberships with their shops (one query)."""
        memberships = staff_memberships(user_id=cast(ViewerIdentity, self).user_id)
        return [StaffShop(role=mp.StaffRole(m.role), shop=cast(SHOP, m.shop)) for m in memberships]


@strawberry.input(description="Profile settings to change; fields left out stay as they are.")
class MemberProfileUpdateInput:
    """Input of ``memberProfileUpdate`` (all optional)."""

    birth_date: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="Date of birth (Gregorian), 1900-01-01 to today; null removes it."
    )
    calendar: Calendar | None = strawberry.field(
        default=strawberry.UNSET, description="Calendar of the member's occasions."
    )
    consent_email: bool | None = strawberry.field(default=strawberry.UNSET, description="Marketing e-mail allowed.")
    consent_sms: bool | None = strawberry.field(default=strawberry.UNSET, description="Marketing SMS allowed.")
    consent_push: bool | None = strawberry.field(default=strawberry.UNSET, description="Marketing push allowed.")

    def to_domain(self) -> ProfileChanges:
        """The service's partial changes (the calendar as its value; UNSET stays unset)."""
        values = {}
        for name in ProfileChanges.__dataclass_fields__:
            value = getattr(self, name)
            if value is strawberry.UNSET:
                continue
            values[name] = value.value if isinstance(value, enum.Enum) else value
        return ProfileChanges(**values)


@strawberry.type(description="Result of memberProfileUpdate.")
class MemberProfileUpdatePayload:
    """The profile after the change, or coded errors (and then nothing changed)."""

    profile: ViewerProfile | None = strawberry.field(default=None, description="The profile; null when refused.")
    errors: list[ProfileError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


@strawberry.type
class ProfileMutation:
    """The logged-in customer's own settings."""

    @strawberry.mutation(
        description=(
            "Set the logged-in customer's birth date, calendar and marketing consents. Codes: NOT_AUTHENTICATED, "
            "NOT_A_CUSTOMER, INVALID_BIRTH_DATE, INVALID_CALENDAR, INVALID_INPUT."
        )
    )
    @handle_domain_errors(MemberProfileUpdatePayload, ProfileError)
    def member_profile_update(
        self,
        info: Info,
        input: Annotated[MemberProfileUpdateInput, strawberry.argument(description="The settings to change.")],
    ) -> MemberProfileUpdatePayload:
        """Call ``member_profile_update``."""
        customer = member_profile_update(user=current_user(info), changes=input.to_domain())
        return MemberProfileUpdatePayload(profile=cast(ViewerProfile, customer), errors=[])
