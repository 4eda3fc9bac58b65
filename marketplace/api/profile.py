"""The member's own profile settings in GraphQL: ``viewer.profile`` and ``memberProfileUpdate``."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, cast

import strawberry
import strawberry_django
from strawberry.types import Info

from config.graphql.context import ViewerIdentity, current_user
from marketplace import models as mp
from marketplace.errors import ProfileError as ProfileDomainError
from marketplace.errors import ProfileErrorCode as ProfileDomainErrorCode
from marketplace.selectors import staff_memberships
from marketplace.services.profile import ProfileChanges, member_profile_update

SHOP = Annotated["Shop", strawberry.lazy("config.graphql.nodes")]  # noqa: F821  (resolved lazily)

StaffRole = strawberry.enum(mp.StaffRole, name="StaffRole", description="What a staff member may do in one shop.")


@strawberry.enum(name="Calendar", description="The calendar a member keeps their occasions in.")
class Calendar(enum.Enum):
    """Gregorian, or Persian (Jalali): a Jalali birthday recurs on its Jalali date every year."""

    GREGORIAN = "gregorian"
    JALALI = "jalali"


ProfileErrorCode = strawberry.enum(
    ProfileDomainErrorCode, name="ProfileErrorCode", description="Why a profile change was refused."
)


@strawberry.type(description="A refused profile change; nothing was changed.")
class ProfileError:
    """One reason a profile change was refused."""

    field: str | None = strawberry.field(description="Input field at fault (camelCase), or null.")
    message: str = strawberry.field(description="Human-readable explanation.")
    code: ProfileErrorCode = strawberry.field(description="Stable machine-readable code.")

    @classmethod
    def from_domain(cls, error: ProfileDomainError) -> ProfileError:
        """The API form of a domain ``ProfileError``."""
        return cls(field=error.field, message=error.message, code=error.code)


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

    profile: ViewerProfile | None = strawberry.field(description="The profile; null when refused.")
    errors: list[ProfileError] = strawberry.field(description="Why it was refused; empty on success.")


@strawberry.type
class ProfileMutation:
    """The logged-in customer's own settings."""

    @strawberry.mutation(
        description=(
            "Set the logged-in customer's birth date, calendar and marketing consents. Codes: NOT_AUTHENTICATED, "
            "NOT_A_CUSTOMER, INVALID_BIRTH_DATE, INVALID_CALENDAR, INVALID_INPUT."
        )
    )
    def member_profile_update(
        self,
        info: Info,
        input: Annotated[MemberProfileUpdateInput, strawberry.argument(description="The settings to change.")],
    ) -> MemberProfileUpdatePayload:
        """Call ``member_profile_update``."""
        try:
            customer = member_profile_update(user=current_user(info), changes=input.to_domain())
        except ProfileDomainError as error:
            return MemberProfileUpdatePayload(profile=None, errors=[ProfileError.from_domain(error)])
        return MemberProfileUpdatePayload(profile=cast(ViewerProfile, customer), errors=[])
