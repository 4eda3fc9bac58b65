"""Owners and managers edit the tier ladder: create, update, delete, reorder, save it whole, and preview a change.

The ladder's rules (issue 4): along the positions of the live tiers the thresholds increase
strictly and the first is 0; names are unique in the program (ignoring case); multiplier 1-20,
discount 0-100 %, benefits a list of texts, colour ``#rrggbb``, name translations per language.
Every call validates everything before it writes, so a refusal (``LoyaltyError`` with a code and
the camelCase field at fault) changes nothing. Writes run in one durable transaction under a
row lock on the program, so two editors serialize, and write one ``ProgramChange`` audit record.

A change that can move members (a new tier, a threshold, a deletion or a reorder) queues
``tiers_reevaluate_task`` after commit: upgrades happen at once, members of a deleted tier move
to the tier their value earns, and nobody else moves down before requalification (the
program's downgrade policy). ``tier_preview`` counts those moves for a proposed ladder first, and
``tier_ladder_save`` saves such a ladder in one step (one transaction, one audit row, one
re-evaluation), so members never pass through the in-between ladders of several edits.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Count, ForeignObjectRel
from django.utils import timezone

from loyalty.errors import LoyaltyError, LoyaltyErrorCode
from loyalty.models import LoyaltyProgram, MemberAccount, Tier, TierBasis
from loyalty.services.editing import (
    UNSET,
    PartialInput,
    audit_record,
    audit_text,
    camel,
    can_edit,
    decimal_between,
    invalid,
    require_editor,
)
from loyalty.services.tiers import program_tiers, tier_target_case
from loyalty.signals import tier_ladder_committed

MAX_THRESHOLD = Decimal("10000000000")
MAX_MULTIPLIER = Decimal("20")
MAX_BENEFITS = 20
MAX_TRANSLATIONS = 20
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: A BCP 47 language with an optional region: ``fa``, ``en-GB``.
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
#: Relations that are a tier's history or holders, not configuration that depends on it.
_HISTORY_MODELS = {"loyalty.memberaccount", "loyalty.tierchange"}


@dataclass(frozen=True)
class TierData(PartialInput):
    """A tier's editable fields; those left as ``UNSET`` are not given (partial update).

    ``threshold`` is in the program's basis (shop currency, or whole points); ``multiplier``
    and ``discount_percent`` are ``Decimal``; ``name_translations`` maps a language to a name.
    """

    name: str | object = UNSET
    threshold: Decimal | object = UNSET
    multiplier: Decimal | object = UNSET
    discount_percent: Decimal | object = UNSET
    benefits: list[str] | object = UNSET
    color: str | object = UNSET
    name_translations: dict[str, str] | object = UNSET


class _TierFields(TypedDict, total=False):
    """The validated, normalised fields of a tier edit (only those given)."""

    name: str
    threshold: Decimal
    multiplier: Decimal
    discount_percent: Decimal
    benefits: list[str]
    color: str
    name_translations: dict[str, str]


@dataclass(frozen=True)
class TierPlacement:
    """One rung of a proposed ladder: an existing tier (``tier_id``) or a new one (``name``)."""

    tier_id: int | None
    threshold: Decimal
    name: str = ""


@dataclass(frozen=True)
class TierPreviewRow:
    """A tier of the proposed ladder: its holders now and right after the change."""

    tier_id: int | None
    name: str
    threshold: Decimal
    members_now: int
    members_after: int


@dataclass(frozen=True)
class TierPreview:
    """How many members a proposed ladder moves, computed on their cached qualifying values.

    ``upgraded`` move up at once; ``moved_from_deleted`` hold a tier the proposal drops and
    move to the tier their value earns; ``below_threshold`` would qualify only for a lower tier
    but keep theirs until requalification (or forever under the ``never`` policy).
    """

    members: int
    upgraded: int
    moved_from_deleted: int
    below_threshold: int
    unchanged: int
    downgrade_policy: str
    tiers: tuple[TierPreviewRow, ...]


def _editable_program(user: AbstractBaseUser | AnonymousUser, shop_id: int, *, lock: bool) -> LoyaltyProgram:
    """The shop's program if ``user`` is its owner or manager (locked when ``lock``)."""
    require_editor(user, shop_id=shop_id, what="tiers")
    programs = LoyaltyProgram.objects.select_related("shop")
    if lock:
        programs = programs.select_for_update(of=("self",))
    program = programs.filter(shop_id=shop_id).first()
    if program is None:
        raise LoyaltyError(LoyaltyErrorCode.NOT_FOUND, "This shop runs no loyalty program.", "shopId")
    return program


def _tier_shop_id(user: AbstractBaseUser | AnonymousUser, tier_id: int) -> int:
    """The shop of live tier ``tier_id`` if ``user`` may edit it; NOT_FOUND otherwise (ids stay private)."""
    if not user.is_authenticated:
        raise LoyaltyError(LoyaltyErrorCode.NOT_AUTHENTICATED, "Log in first.")
    shop_id = Tier.objects.filter(pk=tier_id).values_list("program__shop_id", flat=True).first()
    if shop_id is None or not can_edit(user, shop_id=shop_id):
        raise LoyaltyError(LoyaltyErrorCode.NOT_FOUND, "No such tier.", "id")
    return shop_id


def _decimal(value: object, field: str, low: Decimal, high: Decimal, what: str) -> Decimal:
    """``value`` as a finite Decimal with at most 2 decimals within ``low``..``high``."""
    return decimal_between(
        value, field=field, low=low, high=high, message=f"{what} must be {low} to {high} with at most 2 decimals."
    )


def _clean(data: TierData, program: LoyaltyProgram) -> _TierFields:
    """Validate and normalise every given field; raise INVALID_INPUT naming the first bad one."""
    clean: _TierFields = {}
    given = data.given()
    if "name" in given:
        name = given["name"].strip() if isinstance(given["name"], str) else ""  # null is no name
        if not 1 <= len(name) <= 80:
            raise invalid("A tier name has 1 to 80 characters.", "name")
        clean["name"] = name
    if "threshold" in given:
        threshold = _decimal(given["threshold"], "threshold", Decimal(0), MAX_THRESHOLD, "The threshold")
        if program.tier_basis == TierBasis.POINTS and threshold != threshold.to_integral_value():
            raise invalid("On the points basis a threshold is a whole number of points.", "threshold")
        clean["threshold"] = threshold
    if "multiplier" in given:
        clean["multiplier"] = _decimal(given["multiplier"], "multiplier", Decimal(1), MAX_MULTIPLIER, "The multiplier")
    if "discount_percent" in given:
        clean["discount_percent"] = _decimal(
            given["discount_percent"], "discountPercent", Decimal(0), Decimal(100), "The discount"
        )
    if "benefits" in given:
        given_benefits = given["benefits"]
        if not isinstance(given_benefits, list | tuple) or not all(isinstance(text, str) for text in given_benefits):
            raise invalid("Benefits are a list of texts (an empty list for none).", "benefits")
        benefits = [text.strip() for text in given_benefits]
        if len(benefits) > MAX_BENEFITS or not all(1 <= len(text) <= 200 for text in benefits):
            raise invalid(f"Up to {MAX_BENEFITS} benefits of 1 to 200 characters each.", "benefits")
        clean["benefits"] = benefits
    if "color" in given:
        if not isinstance(given["color"], str) or not _COLOR.match(given["color"]):
            raise invalid("A colour is #RRGGBB, for example #d4af37.", "color")
        clean["color"] = given["color"].lower()
    if "name_translations" in given:
        given_translations = given["name_translations"]
        if not isinstance(given_translations, dict) or not all(
            isinstance(language, str) and isinstance(text, str) for language, text in given_translations.items()
        ):
            raise invalid(
                "Translations are a list of languages and names (an empty list for none).", "nameTranslations"
            )
        translations = {language: text.strip() for language, text in given_translations.items()}
        if len(translations) > MAX_TRANSLATIONS or not all(
            _LANGUAGE.match(language) and 1 <= len(text) <= 80 for language, text in translations.items()
        ):
            raise invalid(
                f"Up to {MAX_TRANSLATIONS} translations: a language code such as fa or en-GB and 1 to 80 characters.",
                "nameTranslations",
            )
        clean["name_translations"] = dict(sorted(translations.items()))
    return clean


def _check_ladder(thresholds: list[Decimal], field: str = "threshold") -> None:
    """Thresholds in position order must start at 0 and increase strictly."""
    if thresholds and thresholds[0] != 0:
        raise invalid("The first tier's threshold must be 0: every member holds at least the entry tier.", field)
    for lower, upper in itertools.pairwise(thresholds):
        if upper <= lower:
            raise invalid(f"Thresholds must increase strictly from one tier to the next ({lower} >= {upper}).", field)


def _check_names(names: list[str]) -> None:
    """Names must be unique in the program, ignoring case."""
    seen: set[str] = set()
    for name in names:
        if name.casefold() in seen:
            raise invalid(f"Another tier is already called {name}.", "name")
        seen.add(name.casefold())


def _audit(
    program: LoyaltyProgram, user: AbstractBaseUser | AnonymousUser, changes: dict[str, dict[str, str | None]]
) -> None:
    """One audit record of a ladder edit (keys ``tier[<id>].<field>``), when anything changed."""
    audit_record(program=program, user=user, changes=changes)


def _reevaluate_after_commit(program: LoyaltyProgram, reason: str) -> None:
    """Queue the background re-evaluation of the program's members once the edit commits.

    Sends ``tier_ladder_committed`` after commit; its receiver (``loyalty.tasks``) queues the actor.
    """
    program_id = program.pk
    transaction.on_commit(
        lambda: tier_ladder_committed.send(sender=LoyaltyProgram, program_id=program_id, reason=reason)
    )


def _renumber(tiers: list[Tier]) -> None:
    """Store positions 0..n-1 for ``tiers`` in this order, without ever breaking uniqueness.

    Positions move in two steps (all out of the way first, then to their place) because the
    unique constraint on (program, position) is checked row by row.
    """
    offset = len(tiers) + max((tier.position for tier in tiers), default=0) + 1
    moving = [tier for position, tier in enumerate(tiers) if tier.position != position]
    for tier in moving:
        Tier.objects.filter(pk=tier.pk).update(position=tier.position + offset)
    for position, tier in enumerate(tiers):
        if tier in moving:
            Tier.objects.filter(pk=tier.pk).update(position=position)
        tier.position = position


def tier_create(*, user: AbstractBaseUser | AnonymousUser, shop_id: int, data: TierData) -> Tier:
    """Add a tier to the shop's ladder at the place its threshold gives it (owner or manager).

    ``name`` and ``threshold`` are required; the rest default (multiplier 1, no discount, no
    benefits, grey). Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, INVALID_INPUT
    (field at fault). Locks the program; queues the re-evaluation (members whose value reaches
    the new tier move up).
    """
    _editable_program(user, shop_id, lock=False)
    for required in ("name", "threshold"):
        if required not in data.given():
            raise invalid(f"A new tier needs a {required}.", required)
    with transaction.atomic(durable=True):
        program = _editable_program(user, shop_id, lock=True)
        clean = _clean(data, program)
        tiers = program_tiers(program)
        _check_names([tier.name for tier in tiers] + [clean["name"]])
        thresholds = sorted([tier.threshold for tier in tiers] + [clean["threshold"]])
        _check_ladder(thresholds)
        place = sum(1 for tier in tiers if tier.threshold < clean["threshold"])
        for tier in reversed(tiers[place:]):  # top down, so no two tiers share a position
            Tier.objects.filter(pk=tier.pk).update(position=tier.position + 1)
        tier = Tier.objects.create(program=program, position=place, **clean)
        tier.refresh_from_db()  # answer and audit with the stored values (150 -> 150.00)
        _audit(
            program,
            user,
            {f"tier[{tier.pk}].{camel(name)}": {"old": None, "new": audit_text(getattr(tier, name))} for name in clean},
        )
        _reevaluate_after_commit(program, f"New tier {tier.name} at {tier.threshold}")
    return tier


def tier_update(*, user: AbstractBaseUser | AnonymousUser, tier_id: int, data: TierData) -> Tier:
    """Change a tier's fields (owner or manager of its shop); its place in the ladder stays.

    A new threshold must stay between the neighbouring tiers' (the entry tier's stays 0); to
    move a tier use ``tier_reorder``. Codes: NOT_AUTHENTICATED, NOT_FOUND (unknown tier or
    another shop's), INVALID_INPUT. Locks the program; a threshold change queues the
    re-evaluation (a lower threshold upgrades members at once, a higher one moves nobody down
    before requalification).
    """
    shop_id = _tier_shop_id(user, tier_id)
    with transaction.atomic(durable=True):
        program = _editable_program(user, shop_id, lock=True)
        tiers = program_tiers(program)
        tier = next((t for t in tiers if t.pk == tier_id), None)
        if tier is None:  # deleted while we waited for the lock
            raise LoyaltyError(LoyaltyErrorCode.NOT_FOUND, "No such tier.", "id")
        clean = _clean(data, program)
        if "name" in clean:
            _check_names([t.name for t in tiers if t.pk != tier_id] + [clean["name"]])
        if "threshold" in clean:
            _check_ladder([clean["threshold"] if t.pk == tier_id else t.threshold for t in tiers])
        old = {name: getattr(tier, name) for name in clean}
        for name, value in clean.items():
            setattr(tier, name, value)
        tier.save(update_fields=list(clean) or None)
        tier.refresh_from_db()
        changes = {
            f"tier[{tier.pk}].{camel(name)}": {"old": audit_text(old[name]), "new": audit_text(getattr(tier, name))}
            for name in clean
            if old[name] != getattr(tier, name)
        }
        _audit(program, user, changes)
        if f"tier[{tier.pk}].threshold" in changes:
            _reevaluate_after_commit(program, f"Tier {tier.name} now starts at {tier.threshold}")
    return tier


def _dependants(tier: Tier) -> list[str]:
    """What configuration refers to ``tier`` (earning rules, rewards, ...), as readable counts.

    Found through the model's reverse relations, so a higher app's references (a reward's
    minimum tier) count without this lower app importing it; history and holders do not count.
    """
    found = []
    for relation in Tier._meta.get_fields(include_hidden=True):
        if not (relation.is_relation and relation.auto_created and not relation.concrete):
            continue
        # Auto-created, non-concrete relations are the reverse sides of other models' relations.
        assert isinstance(relation, ForeignObjectRel)
        model = relation.related_model
        # An M2M's own table is seen twice (as the table and as the M2M); count the M2M.
        if model._meta.label_lower in _HISTORY_MODELS or model._meta.auto_created:
            continue
        count = model._base_manager.filter(**{relation.field.name: tier}).count()
        if count:
            found.append(f"{count} {model._meta.verbose_name_plural if count > 1 else model._meta.verbose_name}")
    return found


def tier_delete(*, user: AbstractBaseUser | AnonymousUser, tier_id: int) -> int:
    """Take a tier off the ladder (owner or manager); return its id.

    The tier is archived, not erased, so members' tier history keeps its name; its holders move
    in the background to the tier their value earns. Refused (INVALID_INPUT, field ``id``) for
    the entry tier (the ladder must start at 0) and for a tier that earning rules or rewards
    still name (change those first). Codes also NOT_AUTHENTICATED, NOT_FOUND. Locks the program.
    """
    shop_id = _tier_shop_id(user, tier_id)
    with transaction.atomic(durable=True):
        program = _editable_program(user, shop_id, lock=True)
        tiers = program_tiers(program)
        tier = next((t for t in tiers if t.pk == tier_id), None)
        if tier is None:
            raise LoyaltyError(LoyaltyErrorCode.NOT_FOUND, "No such tier.", "id")
        if tier is tiers[0]:
            raise invalid("The entry tier cannot be deleted: every program keeps a tier at 0.", "id")
        dependants = _dependants(tier)
        if dependants:
            raise invalid(f"Tier {tier.name} is still used by {', '.join(dependants)}; change them first.", "id")
        Tier.all_objects.filter(pk=tier.pk).update(archived_at=timezone.now())
        _renumber([t for t in tiers if t.pk != tier_id])
        _audit(program, user, {f"tier[{tier.pk}]": {"old": tier.name, "new": None}})
        _reevaluate_after_commit(program, f"Tier {tier.name} was removed from the program")
    return tier_id


def tier_reorder(
    *, user: AbstractBaseUser | AnonymousUser, shop_id: int, placements: list[TierPlacement]
) -> list[Tier]:
    """Put the ladder in a new order with new thresholds in one step (owner or manager).

    ``placements`` name every live tier exactly once, lowest first, each with its threshold;
    the thresholds must start at 0 and increase strictly. Codes: NOT_AUTHENTICATED,
    PERMISSION_DENIED, NOT_FOUND, INVALID_INPUT (field ``tiers`` or ``threshold``). Locks the
    program; queues the re-evaluation. Returns the tiers lowest first.
    """
    _editable_program(user, shop_id, lock=False)
    with transaction.atomic(durable=True):
        program = _editable_program(user, shop_id, lock=True)
        tiers = {tier.pk: tier for tier in program_tiers(program)}
        ids = [placement.tier_id for placement in placements]
        if sorted(i for i in ids if i is not None) != sorted(tiers) or None in ids:
            raise invalid("List every tier of the program exactly once (use tierCreate to add one).", "tiers")
        thresholds = [_clean(TierData(threshold=p.threshold), program)["threshold"] for p in placements]
        _check_ladder(thresholds)
        ordered = [tiers[i] for i in ids if i is not None]  # None was refused above
        changes: dict[str, dict[str, str | None]] = {}
        for position, (tier, threshold) in enumerate(zip(ordered, thresholds, strict=True)):
            if tier.position != position:
                changes[f"tier[{tier.pk}].position"] = {"old": str(tier.position), "new": str(position)}
            if tier.threshold != threshold:
                changes[f"tier[{tier.pk}].threshold"] = {"old": str(tier.threshold), "new": str(threshold)}
                Tier.objects.filter(pk=tier.pk).update(threshold=threshold)
                tier.threshold = threshold
        _renumber(ordered)
        if changes:
            _audit(program, user, changes)
            _reevaluate_after_commit(program, "The tier ladder was reordered")
    return list(Tier.objects.filter(program=program).order_by("position"))


def tier_preview(
    *, user: AbstractBaseUser | AnonymousUser, shop_id: int, placements: list[TierPlacement]
) -> TierPreview:
    """Count the members a proposed ladder would move, before saving it (owner or manager).

    ``placements`` is the whole proposed ladder, lowest first: existing tiers by id (with a
    possibly new threshold) and new ones by name; tiers left out count as deleted. Validated
    like the edits (INVALID_INPUT on ``tiers``, ``threshold`` or ``name``). Reads the cached
    qualifying values in one grouped query, so the cost does not grow with members; writes
    nothing.
    """
    program = _editable_program(user, shop_id, lock=False)
    current = program_tiers(program)
    by_id = {tier.pk: tier for tier in current}
    ids = [p.tier_id for p in placements if p.tier_id is not None]
    if len(ids) != len(set(ids)) or any(i not in by_id for i in ids) or not placements:
        raise invalid("Name each of the program's tiers at most once, and at least one tier.", "tiers")
    thresholds = [_clean(TierData(threshold=p.threshold), program)["threshold"] for p in placements]
    _check_ladder(thresholds)
    names = [by_id[p.tier_id].name if p.tier_id is not None else p.name.strip() for p in placements]
    if any(not name for name in names):
        raise invalid("A new tier needs a name.", "name")
    _check_names(names)
    proposed = [
        Tier(pk=p.tier_id, name=name, threshold=threshold)
        for p, name, threshold in zip(placements, names, thresholds, strict=True)
    ]
    groups = (
        MemberAccount.objects.filter(program=program)
        .annotate(target=tier_target_case(proposed))
        .values_list("tier_id", "target")
        .annotate(members=Count("pk"))
    )
    index_of = {p.tier_id: index for index, p in enumerate(placements) if p.tier_id is not None}
    now = [0] * len(placements)
    after = [0] * len(placements)
    upgraded = moved = below = unchanged = total = 0
    for tier_id, target, members in groups:
        total += members
        target = max(target, 0)
        held = index_of.get(tier_id)
        if held is None:  # no tier yet, or a tier the proposal drops: moves to what it earns
            moved += members
            after[target] += members
            continue
        now[held] += members
        if target > held:
            upgraded += members
            after[target] += members
        else:
            after[held] += members
            if target < held:
                below += members
            else:
                unchanged += members
    return TierPreview(
        members=total,
        upgraded=upgraded,
        moved_from_deleted=moved,
        below_threshold=below,
        unchanged=unchanged,
        downgrade_policy=program.downgrade_policy,
        tiers=tuple(
            TierPreviewRow(
                tier_id=p.tier_id, name=name, threshold=threshold, members_now=now[i], members_after=after[i]
            )
            for i, (p, name, threshold) in enumerate(zip(placements, names, thresholds, strict=True))
        ),
    )


@dataclass(frozen=True)
class TierRung:
    """One rung of a ladder to save: an existing tier (``tier_id``) with the fields to change, or a new one.

    A new rung (``tier_id`` None) needs ``data.name`` and ``data.threshold``; an existing one
    keeps every field left ``UNSET`` (its threshold too, which must still fit the ladder).
    """

    tier_id: int | None
    data: TierData


#: The tier-history reason of the moves a ladder save causes.
LADDER_SAVE_REASON = "Tier ladder changed"


def _at_rung(error: LoyaltyError, index: int) -> LoyaltyError:
    """``error`` (INVALID_INPUT on a tier field) as the same refusal on ``tiers[index].<field>``."""
    return invalid(error.message, f"tiers[{index}].{error.field}" if error.field else f"tiers[{index}]")


def _check_rungs(check: Callable[[list[Any]], None], values: list[Any], field: str) -> None:
    """Run a whole-ladder ``check`` on ``values``; a refusal names the first rung at fault (``tiers[i].field``)."""
    try:
        check(values)
    except LoyaltyError:
        for index in range(len(values)):  # the shortest failing prefix ends at the rung at fault
            try:
                check(values[: index + 1])
            except LoyaltyError as error:
                raise invalid(error.message, f"tiers[{index}].{field}") from error
        raise


def tier_ladder_save(*, user: AbstractBaseUser | AnonymousUser, shop_id: int, tiers: list[TierRung]) -> list[Tier]:
    """Save the shop's whole tier ladder in one step (owner or manager); return the live tiers lowest first.

    ``tiers`` is the whole ladder, lowest first: each rung is an existing live tier of the program
    (``tier_id``) with the fields to change, or a new tier (``tier_id`` None) with ``name``,
    ``threshold`` and optional fields (the ``TierData`` rules of ``tier_create``: threshold in the
    program's basis, shop currency or whole points; multiplier 1-20; discount 0-100 %; colour
    ``#rrggbb``). The order gives the positions; along it the thresholds start at 0 and increase
    strictly; names are unique ignoring case. Live tiers left out are deleted (archived, as
    ``tier_delete`` does), which is refused for the current entry tier and for a tier that earning
    rules or rewards still name.

    Codes: NOT_AUTHENTICATED (anonymous), PERMISSION_DENIED (``shopId``: not the shop's owner or
    manager), NOT_FOUND (``shopId``: the shop runs no program; ``tiers[i].id``: not a live tier of
    this program), INVALID_INPUT with the camelCase path at fault: ``tiers`` (empty ladder, a
    refused deletion), ``tiers[i].id`` (a tier named twice), ``tiers[i].<field>`` (a bad or
    missing value, a threshold out of order, a duplicate name).

    Everything is validated before anything is written, so a refusal changes nothing. Then, in
    one durable transaction under ``SELECT ... FOR UPDATE`` on the program row (two editors
    serialize): archive the deleted tiers, update the changed fields, create the new tiers and
    renumber positions 0..n-1; write one ``ProgramChange`` audit row; after commit queue one
    re-evaluation (reason ``LADDER_SAVE_REASON``) when members can move (a new or deleted tier, a
    threshold or an order change). A database failure on the way rolls everything back and queues
    nothing. Saving the current ladder unchanged writes nothing.
    """
    _editable_program(user, shop_id, lock=False)
    with transaction.atomic(durable=True):
        program = _editable_program(user, shop_id, lock=True)
        current = program_tiers(program)
        by_id = {tier.pk: tier for tier in current}
        if not tiers:
            raise invalid("A ladder has at least one tier, the entry tier at 0.", "tiers")

        # 1. Validate everything; nothing is written before this block ends.
        cleaned: list[_TierFields] = []
        seen: set[int] = set()
        for index, rung in enumerate(tiers):
            if rung.tier_id is not None:
                if rung.tier_id not in by_id:
                    raise LoyaltyError(
                        LoyaltyErrorCode.NOT_FOUND, "No such tier in this program.", f"tiers[{index}].id"
                    )
                if rung.tier_id in seen:
                    raise invalid("Each tier appears once in the ladder.", f"tiers[{index}].id")
                seen.add(rung.tier_id)
            else:
                for required in ("name", "threshold"):
                    if required not in rung.data.given():
                        raise invalid(f"A new tier needs a {required}.", f"tiers[{index}].{required}")
            try:
                cleaned.append(_clean(rung.data, program))
            except LoyaltyError as error:
                raise _at_rung(error, index) from error
        existing = [by_id[rung.tier_id] if rung.tier_id is not None else None for rung in tiers]
        final = [
            {name: clean.get(name, getattr(tier, name)) for name in ("name", "threshold")} if tier else clean
            for tier, clean in zip(existing, cleaned, strict=True)
        ]
        _check_rungs(_check_names, [str(values["name"]) for values in final], "name")
        _check_rungs(_check_ladder, [values["threshold"] for values in final], "threshold")
        deleted = [tier for tier in current if tier.pk not in seen]
        for tier in deleted:
            if tier is current[0]:
                raise invalid(f"The entry tier {tier.name} cannot be deleted: keep it in the ladder.", "tiers")
            dependants = _dependants(tier)
            if dependants:
                raise invalid(f"Tier {tier.name} is still used by {', '.join(dependants)}; change them first.", "tiers")

        # 2. Write: archive, update, create, renumber; one audit row.
        changes: dict[str, dict[str, str | None]] = {}
        if deleted:
            Tier.all_objects.filter(pk__in=[tier.pk for tier in deleted]).update(archived_at=timezone.now())
            changes.update({f"tier[{tier.pk}]": {"old": tier.name, "new": None} for tier in deleted})
        updates = {
            tier.pk: {name: value for name, value in clean.items() if getattr(tier, name) != value}
            for tier, clean in zip(existing, cleaned, strict=True)
            if tier is not None
        }
        updates = {pk: fields for pk, fields in updates.items() if fields}
        held = {by_id[pk].name for pk in seen}
        renamed = [pk for pk, fields in updates.items() if "name" in fields]
        if any(updates[pk]["name"] in held for pk in renamed):
            # Names are unique among live tiers row by row: a swap goes through names no tier can have.
            for pk in renamed:
                Tier.objects.filter(pk=pk).update(name=f" renaming {pk}")
        old = {pk: {name: getattr(by_id[pk], name) for name in fields} for pk, fields in updates.items()}
        for pk, fields in updates.items():
            Tier.objects.filter(pk=pk).update(**fields)
        top = max((tier.position for tier in current), default=-1)
        ladder: list[Tier] = []
        for kept, clean in zip(existing, cleaned, strict=True):
            if kept is None:
                top += 1  # above every live position until the renumbering
                kept = Tier.objects.create(program=program, position=top, **clean)
            ladder.append(kept)
        before = {pk: by_id[pk].position for pk in seen}
        _renumber(ladder)
        stored = {tier.pk: tier for tier in Tier.objects.filter(program=program)}  # 150 -> 150.00
        for tier, clean in zip(ladder, cleaned, strict=True):
            after = stored[tier.pk]
            if tier.pk not in by_id:
                for name in clean:
                    changes[f"tier[{tier.pk}].{camel(name)}"] = {"old": None, "new": audit_text(getattr(after, name))}
                continue
            for name, value in old.get(tier.pk, {}).items():
                changes[f"tier[{tier.pk}].{camel(name)}"] = {
                    "old": audit_text(value),
                    "new": audit_text(getattr(after, name)),
                }
            if before[tier.pk] != after.position:
                changes[f"tier[{tier.pk}].position"] = {"old": str(before[tier.pk]), "new": str(after.position)}
        _audit(program, user, changes)
        moves_members = (
            bool(deleted)
            or len(ladder) > len(seen)
            or any("threshold" in fields for fields in updates.values())
            or any(before[pk] != stored[pk].position for pk in seen)
        )
        if moves_members:
            _reevaluate_after_commit(program, LADDER_SAVE_REASON)
    return list(Tier.objects.filter(program=program).order_by("position"))
