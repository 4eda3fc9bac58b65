"""GraphQL types of crm: the shop's profile of a member, statistics, tags, notes, segments, the crm error.

``AccountCrmPart`` adds ``status``, ``record``, ``stats``, ``tags`` and ``notes`` to ``MemberAccount``;
``ShopCrmPart`` adds ``segments``, ``segment``, ``segmentPreview`` and ``tagSettings`` to ``Shop``
and extends ``members`` with crm's filters and sort orders (``config.nodes``). Staff fields need
``members:read``; a member reads their own status and statistics.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, cast

import strawberry
import strawberry_django
from strawberry import relay
from strawberry.scalars import JSON
from strawberry_django.relay import DjangoListConnection

from api_core.errors import PayloadError, coded_error, domain_error
from api_core.ids import decode_global_id
from api_core.permissions import requires
from crm import errors as domain
from crm import models
from crm.errors import CrmError as DomainCrmError
from crm.segments import criteria_clean
from crm.selectors import members_crm_filtered, segment_members, segments_of_shop
from crm.services.stats import settings_of
from loyalty import models as loyalty_models
from loyalty.api.types import MemberFilterInput
from marketplace import models as mp
from marketplace.permissions import Capability

NODES = "config.nodes"
MEMBER_ACCOUNT = Annotated["MemberAccount", strawberry.lazy(NODES)]  # type: ignore[name-defined]  # noqa: F821

CrmErrorCode = domain.CrmErrorCode
strawberry.enum(CrmErrorCode, name="CrmErrorCode", description="Why a customer-record operation was refused.")
MemberStatus = loyalty_models.MemberStatus
strawberry.enum(MemberStatus, name="MemberStatus", description="A member's standing in a shop (docs/crm.md).")
TagSource = models.TagSource
strawberry.enum(TagSource, name="TagSource", description="Who set a tag.")
SegmentKind = models.SegmentKind
strawberry.enum(SegmentKind, name="SegmentKind", description="A list of members, or criteria.")


@strawberry.type(description="A refused customer-record operation; nothing was changed.")
class CrmError(PayloadError):
    """One reason a profile, note, tag, segment or privacy operation was refused."""

    codes = domain.CrmErrorCode
    code: CrmErrorCode = strawberry.field(description="Stable machine-readable code.")


def _account_shop(account: Any, arguments: dict[str, Any]) -> int | None:
    return cast(loyalty_models.MemberAccount, account).program.shop_id


def _account_member(account: Any) -> int | None:
    return cast(loyalty_models.MemberAccount, account).customer_id


_STAFF = "Only the shop's owner or manager can see its members' records."


def criteria_in(criteria: Any) -> Any:
    """Criteria as the API takes them (``tierIds`` as Tier global ids) -> as the domain keeps them (pks).

    Anything that is not a global id of a Tier is left for ``criteria_clean`` to refuse.
    """
    if isinstance(criteria, dict) and isinstance(criteria.get("tierIds"), list):
        decoded = [decode_global_id(v, "Tier") if isinstance(v, str) else v for v in criteria["tierIds"]]
        return {**criteria, "tierIds": [v if v is not None else "?" for v in decoded]}
    return criteria


def criteria_out(criteria: dict[str, Any]) -> dict[str, Any]:
    """Stored criteria -> as the API shows them (``tierIds`` as Tier global ids)."""
    if "tierIds" in criteria:
        return {**criteria, "tierIds": [relay.to_base64("Tier", pk) for pk in criteria["tierIds"]]}
    return criteria


def staff_only() -> Any:
    """The permission extension of a staff-only account field (``members:read`` in the account's shop)."""
    return requires(Capability.READ_MEMBERS, message=_STAFF, shop_of=_account_shop)


def member_or_staff() -> Any:
    """The account's own member, or staff with ``members:read``."""
    return requires(Capability.READ_MEMBERS, message=_STAFF, shop_of=_account_shop, member_of=_account_member)


@strawberry_django.type(models.MemberProfile, name="MemberRecord", description="The shop's own record of a member.")
class MemberRecord:
    """Contact details, dates and preferences the shop's staff keep (docs/crm.md, "Profiles")."""

    first_name: str = strawberry_django.field(description="First name.")
    last_name: str = strawberry_django.field(description="Last name.")
    email: str = strawberry_django.field(description="E-mail address (may be empty).")
    phone: str = strawberry_django.field(description="Phone, E.164 (may be empty).")
    birth_date: dt.date | None = strawberry_django.field(description="Birth date (Gregorian).")
    personal_dates: JSON = strawberry_django.field(
        description='Personal dates: [{"kind": "anniversary" | "custom", "label", "date": "YYYY-MM-DD"}].'
    )
    preferences: JSON = strawberry_django.field(description="The shop's fields (lower-case names) to short texts.")
    updated_at: dt.datetime = strawberry_django.field(description="Last change.")


@strawberry_django.type(models.MemberStats, name="MemberStats", description="Visits and spend, kept current.")
class MemberStats:
    """A member's statistics in one shop (docs/crm.md, "Statistics"); money in the shop's currency."""

    visits: int = strawberry_django.field(description="Delivered orders not wholly given back.")
    total_spend: Decimal = strawberry_django.field(description="Goods kept, all time.")
    year: int = strawberry_django.field(description="The shop-local calendar year of yearSpend.")
    year_spend: Decimal = strawberry_django.field(description="Goods kept in that year.")
    average_order_value: Decimal = strawberry_django.field(description="Total spend / visits.")
    first_visit_at: dt.datetime | None = strawberry_django.field(description="First delivered order.")
    last_visit_at: dt.datetime | None = strawberry_django.field(description="Last delivered order.")
    visit_interval_days: Decimal | None = strawberry_django.field(
        description="Mean days between consecutive visits; null below two visits."
    )
    lifetime_value: Decimal = strawberry_django.field(description="Customer lifetime value so far (total spend).")
    refreshed_at: dt.datetime = strawberry_django.field(description="When they were last computed.")


@strawberry_django.type(models.MemberTag, name="MemberTag", description="A tag on a member, with its origin.")
class MemberTag:
    """A manual or automatic tag and why it is there."""

    tag: str = strawberry_django.field(description="Lower-case slug, e.g. 'vip'.")
    source: TagSource = strawberry_django.field(description="Manual or automatic.")
    reason: str = strawberry_django.field(description="The rule and figure, or the staff member's words.")
    assigned_at: dt.datetime = strawberry_django.field(description="When it was set.")


@strawberry_django.type(models.MemberNote, name="MemberNote", description="A staff note; never shown to the member.")
class MemberNote:
    """A note, who wrote it and when."""

    text: str = strawberry_django.field(description="The note.")
    created_at: dt.datetime = strawberry_django.field(description="When.")

    @strawberry_django.field(description="Username of the staff member who wrote it (empty once removed).")
    def author(self) -> str:
        """The author's username."""
        author = cast(models.MemberNote, self).author
        return author.get_username() if author else ""


@strawberry_django.type(
    loyalty_models.MemberAccount, name="AccountCrmPart", description="crm part (not in the schema)."
)
class AccountCrmPart(relay.Node):
    """Status, the shop's record, statistics, tags and notes of a member account."""

    status: MemberStatus = strawberry_django.field(
        description="Active, inactive or blocked (a blocked member earns and redeems nothing).",
        extensions=[member_or_staff()],
        select_related=["program"],
    )

    @strawberry_django.field(
        description="The shop's record of the member (staff: members:read); null before staff saved one.",
        extensions=[staff_only()],
        select_related=["profile", "program"],
    )
    def record(self) -> MemberRecord | None:
        """The MemberProfile row, if any."""
        return cast(MemberRecord | None, getattr(cast(loyalty_models.MemberAccount, self), "profile", None))

    @strawberry_django.field(
        description="Visits and spend (the member, or staff: members:read); null before the first order.",
        extensions=[member_or_staff()],
        select_related=["stats", "program"],
    )
    def stats(self) -> MemberStats | None:
        """The MemberStats row, if any."""
        return cast(MemberStats | None, getattr(cast(loyalty_models.MemberAccount, self), "stats", None))

    @strawberry_django.field(
        description="Tags, by name (staff: members:read).",
        extensions=[staff_only()],
        prefetch_related=["tags"],
        select_related=["program"],
    )
    def tags(self) -> list[MemberTag]:
        """From the prefetch."""
        return cast(list[MemberTag], list(cast(loyalty_models.MemberAccount, self).tags.all()))

    @strawberry_django.field(
        description="Staff notes, newest first (staff: members:read).",
        extensions=[staff_only()],
        prefetch_related=["notes__author"],
        select_related=["program"],
    )
    def notes(self) -> list[MemberNote]:
        """From the prefetch, newest first."""
        notes = cast(loyalty_models.MemberAccount, self).notes.all()
        return cast(list[MemberNote], sorted(notes, key=lambda n: (n.created_at, n.pk), reverse=True))


@strawberry_django.type(models.Segment, name="Segment", description="A named group of a shop's members.")
class Segment(relay.Node):
    """A static list or dynamic criteria (docs/crm.md, "Segments")."""

    name: str = strawberry_django.field(description="Name, unique in the shop.")
    description: str = strawberry_django.field(description="What it is for.")
    kind: SegmentKind = strawberry_django.field(description="Static or dynamic.")
    updated_at: dt.datetime = strawberry_django.field(description="Last change.")
    snapshot_at: dt.datetime | None = strawberry_django.field(
        description=(
            "When the members of a dynamic segment were last stored (on save and nightly): earning rules that "
            "target it read that snapshot. Null for a static segment, whose list is what rules read."
        )
    )
    snapshot_count: int = strawberry_django.field(description="Members in that snapshot (0 for a static segment).")

    @strawberry_django.field(
        description="The criteria of a dynamic segment ({} for a static one); tierIds as global ids."
    )
    def criteria(self) -> JSON:
        """Stored criteria with tier ids encoded."""
        return cast(JSON, criteria_out(cast(models.Segment, self).criteria))

    @strawberry_django.field(description="How many members it holds now (one query).")
    def count(self) -> int:
        """Count of ``segment_members``."""
        return segment_members(cast(models.Segment, self)).count()

    @strawberry_django.field(description="Its first members by join date, newest first (1-50).")
    def preview(
        self, first: Annotated[int, strawberry.argument(description="How many, 1 to 50.")] = 10
    ) -> list[MEMBER_ACCOUNT]:
        """The first ``first`` members."""
        if not 1 <= first <= 50:
            raise coded_error("first is 1 to 50.", code="INVALID_INPUT", field="first")
        members = segment_members(cast(models.Segment, self)).select_related("customer", "tier", "program")
        return list(members.order_by("-enrolled_at", "pk")[:first])


@strawberry.type(description="What criteria would select now, before a segment is saved.")
class SegmentPreview:
    """A live count and the first members."""

    count: int = strawberry.field(description="Members matching.")
    members: list[MEMBER_ACCOUNT] = strawberry.field(description="The first ten, newest first.")


@strawberry_django.type(models.CrmSettings, name="TagSettings", description="A shop's automatic-tag thresholds.")
class TagSettings:
    """Thresholds of the automatic tags (docs/crm.md, "Automatic tags")."""

    vip_spend: Decimal | None = strawberry_django.field(description="VIP from this total spend; null: not by spend.")
    new_days: int = strawberry_django.field(description="NEW: enrolled within these days.")
    frequent_visits: int = strawberry_django.field(description="FREQUENT: at least these visits ...")
    frequent_days: int = strawberry_django.field(description="... within these days.")
    high_value_percentile: int = strawberry_django.field(description="HIGH_VALUE: spend percentile, 1-99.")
    high_value_spend: Decimal | None = strawberry_django.field(
        description="The spend at that percentile as of the nightly job; null before it ran."
    )
    dormant_days: int = strawberry_django.field(description="DORMANT: no visit for these days.")

    @strawberry_django.field(description="VIP from this tier up (global id); null: not by tier.")
    def vip_tier_id(self) -> strawberry.ID | None:
        """The tier's global id."""
        tier_id = cast(models.CrmSettings, self).vip_tier_id
        return strawberry.ID(relay.to_base64("Tier", tier_id)) if tier_id else None


@strawberry.input(name="MemberFilterInput", description="Filters of shop.members; every field optional.")
class CrmMemberFilterInput(MemberFilterInput):
    """loyalty's member filters plus crm's: segment, tag, status and statistics."""

    segment_id: strawberry.ID | None = strawberry.field(default=None, description="Only this segment's members.")
    tag: str | None = strawberry.field(default=None, description="Only members holding this tag.")
    statuses: list[MemberStatus] | None = strawberry.field(default=None, description="Only these statuses.")
    visits_min: int | None = strawberry.field(default=None, description="At least these visits.")
    visits_max: int | None = strawberry.field(default=None, description="At most these visits.")
    total_spend_min: Decimal | None = strawberry.field(default=None, description="Total spend at least.")
    total_spend_max: Decimal | None = strawberry.field(default=None, description="Total spend at most.")
    last_visit_days_min: int | None = strawberry.field(default=None, description="Visited, but not in these days.")
    last_visit_days_max: int | None = strawberry.field(default=None, description="Visited within these days.")


#: camelCase criteria names of the crm filter fields (``crm.segments``).
_FILTER_CRITERIA = {
    "statuses": "statuses",
    "visits_min": "visitsMin",
    "visits_max": "visitsMax",
    "total_spend_min": "totalSpendMin",
    "total_spend_max": "totalSpendMax",
    "last_visit_days_min": "lastVisitDaysMin",
    "last_visit_days_max": "lastVisitDaysMax",
}


@strawberry_django.type(mp.Shop, name="ShopCrmPart", description="crm part of Shop (not in the schema).")
class ShopCrmPart(relay.Node):
    """Members with crm's filters, segments and tag thresholds of a shop (staff: members:read)."""

    @strawberry_django.connection(
        DjangoListConnection[MEMBER_ACCOUNT],
        description=(
            "The shop's members, filtered and sorted (capability members:read: owner or manager). orderBy: joined, "
            "available, lifetime, last_activity, visits, spend or last_visit; a leading - reverses. Errors: "
            "NOT_AUTHENTICATED, PERMISSION_DENIED, INVALID_INPUT (extensions.field names the first bad filter, "
            "extensions.fields each of them)."
        ),
        extensions=[requires(Capability.READ_MEMBERS, message="Only the shop's owner or manager can see its members.")],
    )
    def members(
        self,
        filter: Annotated[
            CrmMemberFilterInput | None, strawberry.argument(description="Filters; all optional.")
        ] = None,
        order_by: Annotated[str, strawberry.argument(description="A sort order; a leading - reverses.")] = "-joined",
    ) -> list[loyalty_models.MemberAccount]:
        """Let loyalty's FilterSet and crm's criteria filter (the capability is checked by the extension)."""
        shop = cast(mp.Shop, self)
        data: dict[str, Any] = {}
        crm: dict[str, Any] = {}
        criteria: dict[str, Any] = {}
        if filter is not None:
            for name, value in vars(filter).items():
                if value is None or value is strawberry.UNSET:
                    continue
                if name == "tier_id":
                    data["tier"] = decode_global_id(value, "Tier") or 0
                elif name == "segment_id":
                    segment = models.Segment.objects.filter(
                        pk=decode_global_id(value, "Segment") or 0, shop_id=shop.pk
                    ).first()
                    if segment is None:
                        raise coded_error("No such segment in this shop.", code="INVALID_INPUT", field="segmentId")
                    crm["segment"] = segment
                elif name == "tag":
                    crm["tag"] = value.strip().lower()
                elif name in _FILTER_CRITERIA:
                    criteria[_FILTER_CRITERIA[name]] = (
                        [getattr(v, "value", v) for v in value] if isinstance(value, list) else value
                    )
                else:
                    data[name] = value
        try:
            crm["criteria"] = criteria_clean({k: str(v) if isinstance(v, Decimal) else v for k, v in criteria.items()})
        except DomainCrmError as refused:
            raise domain_error(refused) from None
        accounts, errors = members_crm_filtered(shop_id=shop.pk, data=data, crm=crm, order_by=order_by)
        if accounts is None:
            error = coded_error("Invalid member filters.", code="INVALID_INPUT", field=next(iter(errors), None))
            error.extensions["fields"] = errors  # type: ignore[index]
            raise error
        return accounts  # type: ignore[return-value]

    @strawberry_django.field(
        description="The shop's segments by name (capability members:read).",
        extensions=[requires(Capability.READ_MEMBERS, message=_STAFF)],
    )
    def segments(self) -> list[Segment]:
        """Call ``segments_of_shop``."""
        return cast(list[Segment], list(segments_of_shop(shop_id=cast(mp.Shop, self).pk)))

    @strawberry_django.field(
        description="Count and first members of criteria before saving them (capability members:read). Errors: "
        "INVALID_CRITERIA (extensions.field names the key).",
        extensions=[requires(Capability.READ_MEMBERS, message=_STAFF)],
    )
    def segment_preview(
        self, criteria: Annotated[JSON, strawberry.argument(description="Criteria as a dynamic segment takes.")]
    ) -> SegmentPreview:
        """Validate, count (one query) and list the first ten."""
        try:
            cleaned = criteria_clean(criteria_in(criteria))
        except DomainCrmError as refused:
            raise domain_error(refused) from None
        probe = models.Segment(shop_id=cast(mp.Shop, self).pk, kind=models.SegmentKind.DYNAMIC, criteria=cleaned)
        members = segment_members(probe)
        first = members.select_related("customer", "tier", "program").order_by("-enrolled_at", "pk")[:10]
        return SegmentPreview(count=members.count(), members=list(first))

    @strawberry_django.field(
        description="The automatic-tag thresholds (capability members:read).",
        extensions=[requires(Capability.READ_MEMBERS, message=_STAFF)],
    )
    def tag_settings(self) -> TagSettings:
        """The shop's row, or the defaults."""
        return cast(TagSettings, settings_of(cast(mp.Shop, self).pk))
