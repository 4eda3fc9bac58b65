"""Tier ladder mutations: create, update, delete and reorder tiers (the shop's owner or manager).

Resolvers are thin: decode ids, call one service of ``loyalty.services.tier_admin`` and turn
its ``LedgerError`` into coded payload errors. The preview query is ``Shop.tierPreview``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, cast

import strawberry
from strawberry import relay
from strawberry.types import Info

from config.graphql.context import current_user
from config.graphql.ids import decode_global_id
from loyalty.api.errors import LedgerError
from loyalty.api.types import Tier, TierPlacementInput, tier_placements
from loyalty.errors import LedgerError as LedgerDomainError
from loyalty.services.tier_admin import UNSET, TierData, tier_create, tier_delete, tier_reorder, tier_update


@strawberry.input(description="A tier's name in one language.")
class TranslationInput:
    """One translation of a tier name."""

    language: str = strawberry.field(description="BCP 47 language code, e.g. fa or en-GB.")
    text: str = strawberry.field(description="The name in that language, 1-80 characters.")


@strawberry.input(description="A tier's fields; on update, fields left out stay as they are.")
class TierInput:
    """Input of tierCreate (name and threshold required there) and tierUpdate (all optional)."""

    name: str | None = strawberry.field(default=strawberry.UNSET, description="1-80 characters, unique in the shop.")
    threshold: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Qualifying value needed, shop currency or whole points per the program's basis; 0 for the first.",
    )
    multiplier: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Points multiplier, 1-20.")
    discount_percent: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Discount, 0-100.")
    benefits: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Benefit texts, up to 20 of 1-200 characters."
    )
    color: str | None = strawberry.field(default=strawberry.UNSET, description="Badge colour, #RRGGBB.")
    name_translations: list[TranslationInput] | None = strawberry.field(
        default=strawberry.UNSET, description="The name in other languages (replaces all stored translations)."
    )

    def to_domain(self) -> TierData:
        """The service's partial data; an explicit null counts as given (and is refused as invalid)."""
        values: dict[str, object] = {}
        for name in TierData.__dataclass_fields__:
            value = getattr(self, name)
            if value is strawberry.UNSET:
                continue
            if name == "name_translations" and value is not None:
                value = {t.language: t.text for t in value}
                if len(value) != len(self.name_translations):  # type: ignore[arg-type]
                    value = {"": ""}  # a language named twice: refused by validation
            values[name] = value
        return TierData(**{name: values.get(name, UNSET) for name in TierData.__dataclass_fields__})


@strawberry.type(description="Result of tierCreate and tierUpdate.")
class TierPayload:
    """The tier after the change, or coded errors (and then nothing changed)."""

    tier: Tier | None = strawberry.field(description="The tier; null when refused.")
    errors: list[LedgerError] = strawberry.field(description="Why it was refused; empty on success.")


@strawberry.type(description="Result of tierDelete.")
class TierDeletePayload:
    """The deleted tier's id, or coded errors."""

    deleted_id: strawberry.ID | None = strawberry.field(description="Global id of the deleted tier; null when refused.")
    errors: list[LedgerError] = strawberry.field(description="Why it was refused; empty on success.")


@strawberry.type(description="Result of tierReorder.")
class TierReorderPayload:
    """The ladder after the change, or coded errors."""

    tiers: list[Tier] = strawberry.field(description="The tiers lowest first; empty when refused.")
    errors: list[LedgerError] = strawberry.field(description="Why it was refused; empty on success.")


@strawberry.type
class TierMutation:
    """Editing a shop's tier ladder; members are re-evaluated in the background after each change."""

    @strawberry.mutation(
        description=(
            "Add a tier at the place its threshold gives it (owner or manager). Members whose value reaches it "
            "move up in the background. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, INVALID_INPUT."
        )
    )
    def tier_create(
        self,
        info: Info,
        shop_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the shop.")],
        input: Annotated[TierInput, strawberry.argument(description="The tier; name and threshold required.")],
    ) -> TierPayload:
        """Call ``tier_create``."""
        try:
            tier = tier_create(
                user=current_user(info), shop_id=decode_global_id(shop_id, "Shop") or 0, data=input.to_domain()
            )
        except LedgerDomainError as error:
            return TierPayload(tier=None, errors=[LedgerError.from_domain(error)])
        return TierPayload(tier=cast(Tier, tier), errors=[])

    @strawberry.mutation(
        description=(
            "Change a tier's fields; a threshold must stay between its neighbours' (owner or manager). A lower "
            "threshold upgrades members in the background; nobody moves down before requalification. Codes: "
            "NOT_AUTHENTICATED, NOT_FOUND, INVALID_INPUT."
        )
    )
    def tier_update(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the tier.")],
        input: Annotated[TierInput, strawberry.argument(description="The fields to change.")],
    ) -> TierPayload:
        """Call ``tier_update``."""
        try:
            tier = tier_update(
                user=current_user(info), tier_id=decode_global_id(id, "Tier") or 0, data=input.to_domain()
            )
        except LedgerDomainError as error:
            return TierPayload(tier=None, errors=[LedgerError.from_domain(error)])
        return TierPayload(tier=cast(Tier, tier), errors=[])

    @strawberry.mutation(
        description=(
            "Delete a tier (owner or manager): it leaves the ladder, history keeps its name, its members move to "
            "the tier their value earns. Not the entry tier, nor one that earning rules or rewards use. Codes: "
            "NOT_AUTHENTICATED, NOT_FOUND, INVALID_INPUT."
        )
    )
    def tier_delete(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the tier.")]
    ) -> TierDeletePayload:
        """Call ``tier_delete``."""
        try:
            deleted = tier_delete(user=current_user(info), tier_id=decode_global_id(id, "Tier") or 0)
        except LedgerDomainError as error:
            return TierDeletePayload(deleted_id=None, errors=[LedgerError.from_domain(error)])
        return TierDeletePayload(deleted_id=strawberry.ID(str(relay.GlobalID("Tier", str(deleted)))), errors=[])

    @strawberry.mutation(
        description=(
            "Reorder the whole ladder with its thresholds in one step (owner or manager): list every tier once, "
            "lowest first, thresholds from 0 strictly up. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, "
            "INVALID_INPUT."
        )
    )
    def tier_reorder(
        self,
        info: Info,
        shop_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the shop.")],
        tiers: Annotated[
            list[TierPlacementInput],
            strawberry.argument(description="Every tier by id with its threshold, lowest first."),
        ],
    ) -> TierReorderPayload:
        """Call ``tier_reorder``."""
        try:
            ordered = tier_reorder(
                user=current_user(info),
                shop_id=decode_global_id(shop_id, "Shop") or 0,
                placements=tier_placements(tiers),
            )
        except LedgerDomainError as error:
            return TierReorderPayload(tiers=[], errors=[LedgerError.from_domain(error)])
        return TierReorderPayload(tiers=cast(list[Tier], ordered), errors=[])
