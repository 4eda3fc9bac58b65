"""crm's part of the GraphQL schema: staff edit members (record, status, notes, tags), segments, tag thresholds.

Resolvers are thin: they decode ids, call one service and map :class:`CrmError` to payload errors.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api_core.context import current_user
from api_core.errors import handle_domain_errors
from api_core.ids import decode_global_id
from crm.api.types import (
    MEMBER_ACCOUNT,
    CrmError,
    MemberNote,
    MemberStatus,
    Segment,
    SegmentKind,
    TagSettings,
    criteria_in,
)
from crm.services.members import (
    UNSET,
    ProfileInput,
    TagSettingsInput,
    member_create,
    member_note_add,
    member_profile_set,
    member_status_set,
    member_tag_set,
    tag_settings_set,
)
from crm.services.segments import segment_delete, segment_save

ID_ARG = Annotated[strawberry.ID, strawberry.argument(description="Global id.")]
EDIT_CODES = "Codes: NOT_AUTHENTICATED, NOT_FOUND (also an account of a shop you do not manage: members:write)"


@strawberry.input(description="Changes to the shop's record of a member; fields left out stay.")
class MemberRecordInput:
    """Input of memberRecordUpdate and memberCreate."""

    first_name: str | None = strawberry.field(default=strawberry.UNSET, description="First name (100).")
    last_name: str | None = strawberry.field(default=strawberry.UNSET, description="Last name (100).")
    email: str | None = strawberry.field(default=strawberry.UNSET, description="E-mail address; empty clears.")
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="Phone in any usual form; stored as E.164. INVALID_PHONE if not valid."
    )
    phone_region: str | None = strawberry.field(
        default=None, description="ISO 3166 country for numbers without +code, e.g. 'IR'."
    )
    birth_date: dt.date | None = strawberry.field(default=strawberry.UNSET, description="Birth date, 1900 to today.")
    personal_dates: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description='Up to 10 of {"kind": "anniversary" | "custom", "label", "date": "YYYY-MM-DD"}.',
    )
    preferences: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Up to 30 lower-case field names to texts of 200 characters."
    )

    def to_domain(self) -> ProfileInput:
        """The service's partial input (UNSET stays unset; null clears text fields)."""

        def given(value: object, empty: object = "") -> object:
            if value is strawberry.UNSET:
                return UNSET
            return empty if value is None else value

        return ProfileInput(
            first_name=given(self.first_name),
            last_name=given(self.last_name),
            email=given(self.email),
            phone=given(self.phone),
            phone_region=self.phone_region,
            birth_date=UNSET if self.birth_date is strawberry.UNSET else self.birth_date,
            personal_dates=given(self.personal_dates, []),
            preferences=given(self.preferences, {}),
        )


@strawberry.type(description="Result of a member operation.")
class MemberPayload:
    """The member account after the change, or coded errors."""

    account: MEMBER_ACCOUNT | None = strawberry.field(default=None, description="The account; null when refused.")
    errors: list[CrmError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.type(description="Result of memberNoteAdd.")
class MemberNotePayload:
    """The note, or coded errors."""

    note: MemberNote | None = strawberry.field(default=None, description="The note; null when refused.")
    errors: list[CrmError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.input(description="A segment: a list of members, or criteria (docs/crm.md, 'Segments').")
class SegmentInput:
    """Input of segmentCreate and segmentUpdate."""

    name: str = strawberry.field(description="1-120 characters, unique in the shop.")
    kind: SegmentKind = strawberry.field(description="Static or dynamic.")
    description: str = strawberry.field(default="", description="What it is for (500).")
    criteria: JSON | None = strawberry.field(
        default=None, description="Dynamic: the criteria object (docs/crm.md); tierIds as Tier global ids."
    )
    account_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Static: global ids of the shop's member accounts."
    )


@strawberry.type(description="Result of segmentCreate, segmentUpdate and segmentDelete.")
class SegmentPayload:
    """The segment, or coded errors."""

    segment: Segment | None = strawberry.field(default=None, description="The segment; null when refused or deleted.")
    deleted_id: strawberry.ID | None = strawberry.field(default=None, description="segmentDelete: the deleted id.")
    errors: list[CrmError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.input(description="A shop's automatic-tag thresholds (docs/crm.md, 'Automatic tags').")
class TagSettingsInputType:
    """Input of tagSettingsSet."""

    vip_tier_id: strawberry.ID | None = strawberry.field(default=None, description="VIP from this tier up.")
    vip_spend: Decimal | None = strawberry.field(default=None, description="VIP from this total spend.")
    new_days: int = strawberry.field(default=30, description="NEW: enrolled within these days (1-3650).")
    frequent_visits: int = strawberry.field(default=4, description="FREQUENT: visits (1-1000) ...")
    frequent_days: int = strawberry.field(default=90, description="... within these days (1-3650).")
    high_value_percentile: int = strawberry.field(default=90, description="HIGH_VALUE: percentile, 1-99.")
    dormant_days: int = strawberry.field(default=90, description="DORMANT: days without a visit (1-3650).")


@strawberry.type(description="Result of tagSettingsSet.")
class TagSettingsPayload:
    """The thresholds, or coded errors."""

    settings: TagSettings | None = strawberry.field(default=None, description="Null when refused.")
    errors: list[CrmError] = strawberry.field(default_factory=list, description="Empty on success.")


def _segment_saved(
    info: Info, input: SegmentInput, *, shop_id: int | None = None, segment_id: int | None = None
) -> SegmentPayload:
    """Create (``shop_id``) or replace (``segment_id``) a segment from the API's input."""
    segment = segment_save(
        user=current_user(info),
        shop_id=shop_id,
        segment_id=segment_id,
        name=input.name,
        kind=input.kind.value,
        description=input.description,
        criteria=criteria_in(input.criteria),
        account_ids=[_account(i) for i in input.account_ids],
    )
    return SegmentPayload(segment=cast(Segment, segment))


def _account(value: strawberry.ID) -> int:
    return decode_global_id(value, "MemberAccount") or 0


@strawberry.type
class CrmMutation:
    """Staff keep their shop's customer records (capability members:write: owner or manager)."""

    @strawberry.mutation(
        description="Add a customer (by id; created when new) to the shop's program with the shop's record. Codes: "
        "NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, INVALID_INPUT, INVALID_PHONE."
    )
    @handle_domain_errors(MemberPayload, CrmError)
    def member_create(
        self,
        info: Info,
        shop_id: ID_ARG,
        customer_id: Annotated[str, strawberry.argument(description="Marketplace-wide customer id.")],
        input: Annotated[MemberRecordInput, strawberry.argument(description="The shop's record.")],
        display_name: Annotated[str, strawberry.argument(description="Name of a new customer.")] = "",
    ) -> MemberPayload:
        """Call ``member_create``."""
        account = member_create(
            user=current_user(info),
            shop_id=decode_global_id(shop_id, "Shop") or 0,
            external_id=customer_id,
            display_name=display_name,
            data=input.to_domain(),
        )
        return MemberPayload(account=cast(MEMBER_ACCOUNT, account))

    @strawberry.mutation(
        description=f"Change the shop's record of a member. {EDIT_CODES}, INVALID_INPUT, INVALID_PHONE."
    )
    @handle_domain_errors(MemberPayload, CrmError)
    def member_record_update(
        self,
        info: Info,
        account_id: ID_ARG,
        input: Annotated[MemberRecordInput, strawberry.argument(description="Fields to change.")],
    ) -> MemberPayload:
        """Call ``member_profile_set``."""
        profile = member_profile_set(user=current_user(info), account_id=_account(account_id), data=input.to_domain())
        return MemberPayload(account=cast(MEMBER_ACCOUNT, profile.account))

    @strawberry.mutation(
        description=f"Set a member's status; a blocked member earns and redeems nothing. {EDIT_CODES}, INVALID_INPUT."
    )
    @handle_domain_errors(MemberPayload, CrmError)
    def member_status_set(
        self, info: Info, account_id: ID_ARG, status: Annotated[MemberStatus, strawberry.argument(description="New.")]
    ) -> MemberPayload:
        """Call ``member_status_set``."""
        account = member_status_set(user=current_user(info), account_id=_account(account_id), status=status.value)
        return MemberPayload(account=cast(MEMBER_ACCOUNT, account))

    @strawberry.mutation(description=f"Add a staff note to a member. {EDIT_CODES}, INVALID_INPUT.")
    @handle_domain_errors(MemberNotePayload, CrmError)
    def member_note_add(
        self, info: Info, account_id: ID_ARG, text: Annotated[str, strawberry.argument(description="1-2,000.")]
    ) -> MemberNotePayload:
        """Call ``member_note_add``."""
        note = member_note_add(user=current_user(info), account_id=_account(account_id), text=text)
        return MemberNotePayload(note=cast(MemberNote, note))

    @strawberry.mutation(
        description=f"Add or remove a manual tag (automatic ones belong to the rules). {EDIT_CODES}, INVALID_INPUT."
    )
    @handle_domain_errors(MemberPayload, CrmError)
    def member_tag_set(
        self,
        info: Info,
        account_id: ID_ARG,
        tag: Annotated[str, strawberry.argument(description="Lower-case slug, 1-40.")],
        present: Annotated[bool, strawberry.argument(description="True adds, false removes.")] = True,
        reason: Annotated[str, strawberry.argument(description="Why (200).")] = "",
    ) -> MemberPayload:
        """Call ``member_tag_set``."""
        account = member_tag_set(
            user=current_user(info), account_id=_account(account_id), tag=tag, present=present, reason=reason
        )
        return MemberPayload(account=cast(MEMBER_ACCOUNT, account))

    @strawberry.mutation(
        description="Create a segment (capability members:write). Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, "
        "INVALID_INPUT, INVALID_CRITERIA."
    )
    @handle_domain_errors(SegmentPayload, CrmError)
    def segment_create(
        self, info: Info, shop_id: ID_ARG, input: Annotated[SegmentInput, strawberry.argument(description="It.")]
    ) -> SegmentPayload:
        """Call ``segment_save`` for the shop."""
        return _segment_saved(info, input, shop_id=decode_global_id(shop_id, "Shop") or 0)

    @strawberry.mutation(
        description="Replace a segment. Codes: NOT_AUTHENTICATED, NOT_FOUND, INVALID_INPUT, INVALID_CRITERIA."
    )
    @handle_domain_errors(SegmentPayload, CrmError)
    def segment_update(
        self, info: Info, segment_id: ID_ARG, input: Annotated[SegmentInput, strawberry.argument(description="It.")]
    ) -> SegmentPayload:
        """Call ``segment_save`` for the segment."""
        return _segment_saved(info, input, segment_id=decode_global_id(segment_id, "Segment") or 0)

    @strawberry.mutation(description="Delete a segment. Codes: NOT_AUTHENTICATED, NOT_FOUND.")
    @handle_domain_errors(SegmentPayload, CrmError)
    def segment_delete(self, info: Info, segment_id: ID_ARG) -> SegmentPayload:
        """Call ``segment_delete``."""
        pk = segment_delete(user=current_user(info), segment_id=decode_global_id(segment_id, "Segment") or 0)
        return SegmentPayload(deleted_id=segment_id if pk else None)

    @strawberry.mutation(
        description="Set the shop's automatic-tag thresholds (capability members:write). Codes: NOT_AUTHENTICATED, "
        "PERMISSION_DENIED, INVALID_INPUT."
    )
    @handle_domain_errors(TagSettingsPayload, CrmError)
    def tag_settings_set(
        self,
        info: Info,
        shop_id: ID_ARG,
        input: Annotated[TagSettingsInputType, strawberry.argument(description="It.")],
    ) -> TagSettingsPayload:
        """Call ``tag_settings_set``."""
        settings = tag_settings_set(
            user=current_user(info),
            shop_id=decode_global_id(shop_id, "Shop") or 0,
            data=TagSettingsInput(
                vip_tier_id=(decode_global_id(input.vip_tier_id, "Tier") or 0) if input.vip_tier_id else None,
                vip_spend=input.vip_spend,
                new_days=input.new_days,
                frequent_visits=input.frequent_visits,
                frequent_days=input.frequent_days,
                high_value_percentile=input.high_value_percentile,
                dormant_days=input.dormant_days,
            ),
        )
        return TagSettingsPayload(settings=cast(TagSettings, settings))
