"""Mutations of earning rules (campaigns) for the shop's owner and managers.

Thin resolvers: decode the global ids, call one service of ``loyalty.services.rules_admin`` and
map its ``LoyaltyError`` to a coded payload error (``api_core.errors.handle_domain_errors``).
The ``EarningRule`` type itself lives in ``loyalty.api.types`` (it is a field of ``Program``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from api_core.context import current_user
from api_core.errors import handle_domain_errors
from api_core.ids import decode_global_id
from loyalty.api.errors import LoyaltyError, LoyaltyErrorsPayload
from loyalty.api.types import EarningRule, EarningRuleKind
from loyalty.services.rules_admin import (
    EarningRuleData,
    earning_rule_create,
    earning_rule_delete,
    earning_rule_update,
)

__all__ = ["EarningRuleDeletePayload", "EarningRuleInput", "EarningRuleKind", "EarningRuleMutation"]


@strawberry.input(
    description=(
        "An earning rule's settings. On create, name and kind are required; on update, fields left out keep their "
        "value and the merged rule must be valid (switching kind needs the other kind's field sent as null)."
    )
)
class EarningRuleInput:
    """Input of ``earningRuleCreate`` and ``earningRuleUpdate`` (all optional)."""

    name: str | None = strawberry.field(default=strawberry.UNSET, description="1-200 characters.")
    kind: EarningRuleKind | None = strawberry.field(default=strawberry.UNSET, description="Multiplier or fixed bonus.")
    multiplier: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="1-20, at most 2 decimals; multiplier rules only (else null)."
    )
    bonus_points: int | None = strawberry.field(
        default=strawberry.UNSET, description="1-1,000,000 points; fixed-bonus rules only (else null)."
    )
    starts_at: dt.datetime | None = strawberry.field(
        default=strawberry.UNSET, description="First instant it applies (with offset); null = always."
    )
    ends_at: dt.datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Instant it stops (exclusive, after startsAt); null = open-ended."
    )
    days_of_week: list[int] | None = strawberry.field(
        default=strawberry.UNSET, description="Weekdays 0 (Monday) to 6 in the shop's time zone; empty or null = all."
    )
    start_time: dt.time | None = strawberry.field(
        default=strawberry.UNSET, description="Local start time (inclusive); give endTime too, or neither."
    )
    end_time: dt.time | None = strawberry.field(
        default=strawberry.UNSET, description="Local end time (exclusive), after startTime on the same day."
    )
    category_slugs: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Slugs of existing categories; empty or null = any."
    )
    tier_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Global ids of this program's tiers; empty or null = every tier."
    )
    segment_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Global ids of the shop's segments: only their members earn it (a dynamic segment as of its last "
            "snapshot, taken when it is saved and nightly); empty or null = every member."
        ),
    )
    min_order_amount: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Goods at least (shop currency, >= 0, 2 decimals); null = any."
    )
    priority: int | None = strawberry.field(default=strawberry.UNSET, description="-1000 to 1000; higher first.")
    stackable: bool | None = strawberry.field(default=strawberry.UNSET, description="Combines with other rules.")
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Applies at all.")

    def to_domain(self) -> EarningRuleData:
        """The service's partial settings: enums as values, tier and segment ids decoded (an undecodable one as 0)."""
        values: dict[str, object] = {}
        for name in EarningRuleData.__dataclass_fields__:
            value = getattr(self, name)
            if value is strawberry.UNSET:
                continue
            if name == "tier_ids" and value is not None:
                value = [decode_global_id(tier_id, "Tier") or 0 for tier_id in value]
            elif name == "segment_ids" and value is not None:
                value = [decode_global_id(segment_id, "Segment") or 0 for segment_id in value]
            elif name == "kind" and value is not None:
                value = value.value
            values[name] = value
        return EarningRuleData(**values)


@strawberry.type(description="Result of earningRuleCreate and earningRuleUpdate.")
class EarningRulePayload(LoyaltyErrorsPayload):
    """The rule after the change, or coded errors (and then nothing changed)."""

    rule: EarningRule | None = strawberry.field(default=None, description="The rule; null when refused.")


@strawberry.type(description="Result of earningRuleDelete.")
class EarningRuleDeletePayload(LoyaltyErrorsPayload):
    """The deleted rule's id, or coded errors."""

    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the deleted rule; null when refused."
    )


ID_ARG = Annotated[strawberry.ID, strawberry.argument(description="Global id of the earning rule.")]
CODES = "Codes: NOT_AUTHENTICATED, NOT_FOUND (unknown rule or another shop's), INVALID_INPUT."


@strawberry.type
class EarningRuleMutation:
    """Owners and managers edit their program's earning rules; each change is audited on the program."""

    @strawberry.mutation(
        description=(
            "Add an earning rule (campaign) to the shop's program (owner or manager); it applies to orders "
            "processed from now on. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND (no program), "
            "INVALID_INPUT."
        )
    )
    @handle_domain_errors(EarningRulePayload, LoyaltyError)
    def earning_rule_create(
        self,
        info: Info,
        shop_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the shop.")],
        input: Annotated[EarningRuleInput, strawberry.argument(description="The rule; name and kind required.")],
    ) -> EarningRulePayload:
        """Call ``earning_rule_create``."""
        rule = earning_rule_create(
            user=current_user(info), shop_id=decode_global_id(shop_id, "Shop") or 0, data=input.to_domain()
        )
        return EarningRulePayload(rule=cast(EarningRule, rule))

    @strawberry.mutation(
        description=(
            "Change the given fields of an earning rule (owner or manager of its shop); orders processed from now "
            f"on see the change, points already posted stay. {CODES}"
        )
    )
    @handle_domain_errors(EarningRulePayload, LoyaltyError)
    def earning_rule_update(
        self,
        info: Info,
        id: ID_ARG,
        input: Annotated[EarningRuleInput, strawberry.argument(description="The fields to change.")],
    ) -> EarningRulePayload:
        """Call ``earning_rule_update``."""
        rule = earning_rule_update(
            user=current_user(info), rule_id=decode_global_id(id, "EarningRule") or 0, data=input.to_domain()
        )
        return EarningRulePayload(rule=cast(EarningRule, rule))

    @strawberry.mutation(
        description=(
            "Delete an earning rule (owner or manager of its shop); ledger entries keep its name. To pause a "
            f"campaign, set active to false instead. {CODES}"
        )
    )
    @handle_domain_errors(EarningRuleDeletePayload, LoyaltyError)
    def earning_rule_delete(self, info: Info, id: ID_ARG) -> EarningRuleDeletePayload:
        """Call ``earning_rule_delete``."""
        deleted = earning_rule_delete(user=current_user(info), rule_id=decode_global_id(id, "EarningRule") or 0)
        return EarningRuleDeletePayload(
            deleted_id=strawberry.ID(str(strawberry.relay.GlobalID("EarningRule", str(deleted))))
        )
