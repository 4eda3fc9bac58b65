"""Tier ladder mutations: create, update, delete and reorder tiers, or save the whole ladder (owner or manager).

Resolvers are thin: decode ids, call one service of ``loyalty.services.tier_admin`` and turn
its ``LoyaltyError`` into coded payload errors (``api_core.errors.handle_domain_errors``).
The preview query is ``Shop.tierPreview``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, cast

import strawberry
from strawberry import relay
from strawberry.types import Info

from api_core.context import current_user
from api_core.errors import handle_domain_errors
from api_core.ids import decode_global_id
from loyalty.api.errors import LoyaltyError, LoyaltyErrorsPayload
from loyalty.api.types import Tier, TierPlacementInput, tier_placements
from loyalty.services.tier_admin import (
    UNSET,
    TierData,
    TierRung,
    tier_create,
    tier_delete,
    tier_ladder_save,
    tier_reorder,
    tier_update,
)


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


@strawberry.input(
    description=(
        "One rung of a ladder to save: an existing tier (id) with the fields to change, or a new tier "
        "(no id) with name, threshold and optional fields."
    )
)
class TierLadderRungInput(TierInput):
    """Input of tierLadderSave: ``TierInput``'s fields plus the tier's id (absent for a new tier)."""

    id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of an existing tier; leave out (or null) for a new tier."
    )

    def to_rung(self) -> TierRung:
        """The service's rung (an undecodable id becomes id 0: not a tier of the program)."""
        tier_id = (decode_global_id(self.id, "Tier") or 0) if self.id else None
        return TierRung(tier_id=tier_id, data=self.to_domain())


@strawberry.type(description="Result of tierCreate and tierUpdate.")
class TierPayload(LoyaltyErrorsPayload):
    """The tier after the change, or coded errors (and then nothing changed)."""

    tier: Tier | None = strawberry.field(default=None, description="The tier; null when refused.")


@strawberry.type(description="Result of tierDelete.")
class TierDeletePayload(LoyaltyErrorsPayload):
    """The deleted tier's id, or coded errors."""

    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the deleted tier; null when refused."
    )


@strawberry.type(description="Result of tierReorder.")
class TierReorderPayload(LoyaltyErrorsPayload):
    """The ladder after the change, or coded errors."""

    tiers: list[Tier] = strawberry.field(
        default_factory=list, description="The tiers lowest first; empty when refused."
    )


@strawberry.type(description="Result of tierLadderSave.")
class TierLadderSavePayload:
    """The saved ladder, or coded errors (and then nothing changed)."""

    tiers: list[Tier] = strawberry.field(
        default_factory=list, description="The live tiers after the save, lowest first; empty when refused."
    )
    errors: list[LoyaltyError] = strawberry.field(
        default_factory=list, description="Why the save was refused; empty on success."
    )


@strawberry.type
class TierMutation:
    """Editing a shop's tier ladder; members are re-evaluated in the background after each change."""

    @strawberry.mutation(
        description=(
            "Add a tier at the place its threshold gives it (owner or manager). Members whose value reaches it "
            "move up in the background. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, INVALID_INPUT."
        )
    )
    @handle_domain_errors(TierPayload, LoyaltyError)
    def tier_create(
        self,
        info: Info,
        shop_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the shop.")],
        input: Annotated[TierInput, strawberry.argument(description="The tier; name and threshold required.")],
    ) -> TierPayload:
        """Call ``tier_create``."""
        tier = tier_create(
            user=current_user(info), shop_id=decode_global_id(shop_id, "Shop") or 0, data=input.to_domain()
        )
        return TierPayload(tier=cast(Tier, tier))

    @strawberry.mutation(
        description=(
            "Change a tier's fields; a threshold must stay between its neighbours' (owner or manager). A lower "
            "threshold upgrades members in the background; nobody moves down before requalification. Codes: "
            "NOT_AUTHENTICATED, NOT_FOUND, INVALID_INPUT."
        )
    )
    @handle_domain_errors(TierPayload, LoyaltyError)
    def tier_update(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the tier.")],
        input: Annotated[TierInput, strawberry.argument(description="The fields to change.")],
    ) -> TierPayload:
        """Call ``tier_update``."""
        tier = tier_update(user=current_user(info), tier_id=decode_global_id(id, "Tier") or 0, data=input.to_domain())
        return TierPayload(tier=cast(Tier, tier))

    @strawberry.mutation(
        description=(
            "Delete a tier (owner or manager): it leaves the ladder, history keeps its name, its members move to "
            "the tier their value earns. Not the entry tier, nor one that earning rules or rewards use. Codes: "
            "NOT_AUTHENTICATED, NOT_FOUND, INVALID_INPUT."
        )
    )
    @handle_domain_errors(TierDeletePayload, LoyaltyError)
    def tier_delete(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the tier.")]
    ) -> TierDeletePayload:
        """Call ``tier_delete``."""
        deleted = tier_delete(user=current_user(info), tier_id=decode_global_id(id, "Tier") or 0)
        return TierDeletePayload(deleted_id=strawberry.ID(str(relay.GlobalID("Tier", str(deleted)))))

    @strawberry.mutation(
        description=(
            "Reorder the whole ladder with its thresholds in one step (owner or manager): list every tier once, "
            "lowest first, thresholds from 0 strictly up. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, "
            "INVALID_INPUT."
        )
    )
    @handle_domain_errors(TierReorderPayload, LoyaltyError)
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
        ordered = tier_reorder(
            user=current_user(info),
            shop_id=decode_global_id(shop_id, "Shop") or 0,
            placements=tier_placements(tiers),
        )
        return TierReorderPayload(tiers=cast(list[Tier], ordered))

    @strawberry.mutation(
        description=(
            "Save the whole tier ladder in one step (owner or manager): the tiers lowest first, existing ones by "
            "id with the fields to change, new ones without id; tiers left out are deleted (not the entry tier, "
            "nor one earning rules or rewards use). One transaction, one audit record and one background "
            "re-evaluation of members. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, INVALID_INPUT "
            "(field a path such as tiers[2].threshold)."
        )
    )
    @handle_domain_errors(TierLadderSavePayload, LoyaltyError)
    def tier_ladder_save(
        self,
        info: Info,
        shop_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the shop.")],
        tiers: Annotated[
            list[TierLadderRungInput],
            strawberry.argument(description="The whole ladder, lowest first; live tiers left out are deleted."),
        ],
    ) -> TierLadderSavePayload:
        """Call ``tier_ladder_save``."""
        saved = tier_ladder_save(
            user=current_user(info),
            shop_id=decode_global_id(shop_id, "Shop") or 0,
            tiers=[rung.to_rung() for rung in tiers],
        )
        return TierLadderSavePayload(tiers=cast(list[Tier], saved))
