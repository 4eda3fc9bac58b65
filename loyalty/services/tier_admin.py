"""Owners and managers edit the tier ladder: create, update, delete, reorder, and preview a change.

The ladder's rules (issue 4): along the positions of the live tiers the thresholds increase
strictly and the first is 0; names are unique in the program (ignoring case); multiplier 1-20,
discount 0-100 %, benefits a list of texts, colour ``#rrggbb``, name translations per language.
Every call validates everything before it writes, so a refusal (``LedgerError`` with a code and
the camelCase field at fault) changes nothing. Writes run in one durable transaction under a
row lock on the program, so two editors serialize, and write one ``ProgramChange`` audit record.

A change that can move members (a new tier, a threshold, a deletion or a reorder) queues
``tiers_reevaluate_task`` after commit: upgrades happen at once, members of a deleted tier move
to the tier their value earns, and nobody else moves down before requalification (the
program's downgrade policy). ``tier_preview`` counts those moves for a proposed ladder first.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from loyalty.errors import LedgerError, LedgerErrorCode
from loyalty.models import LoyaltyProgram, MemberAccount, Tier, TierBasis
from loyalty.services.editing import (
    EDITORS,
    UNSET,
    PartialInput,
    audit_record,
    audit_text,
    camel,
    decimal_between,
    invalid,
    require_editor,
)
from loyalty.services.tiers import program_tiers, tier_target_case
from marketplace.selectors import staff_role

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
        raise LedgerError(LedgerErrorCode.NOT_FOUND, "This shop runs no loyalty program.", "shopId")
    return program


def _tier_shop_id(user: AbstractBaseUser | AnonymousUser, tier_id: int) -> int:
    """The shop of live tier ``tier_id`` if ``user`` may edit it; NOT_FOUND otherwise (ids stay private)."""
    if not user.is_authenticated:
        raise LedgerError(LedgerErrorCode.NOT_AUTHENTICATED, "Log in first.")
    shop_id = Tier.objects.filter(pk=tier_id).values_list("program__shop_id", flat=True).first()
    if shop_id is None or staff_role(user=user, shop_id=shop_id) not in EDITORS:
        raise LedgerError(LedgerErrorCode.NOT_FOUND, "No such tier.", "id")
    return shop_id


def _decimal(value: object, field: str, low: Decimal, high: Decimal, what: str) -> Decimal:
    """``value`` as a finite Decimal with at most 2 decimals within ``low``..``high``."""
    return decimal_between(
        value, field=field, low=low, high=high, message=f"{what} must be {low} to {high} with at most 2 decimals."
    )


def _clean(data: TierData, program: LoyaltyProgram) -> dict[str, object]:
    """Validate and normalise every given field; raise INVALID_INPUT naming the first bad one."""
    clean: dict[str, object] = {}
    given = data.given()
    if "name" in given:
        name = str(given["name"]).strip()
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
        benefits = [str(text).strip() for text in given["benefits"]]  # type: ignore[attr-defined]
        if len(benefits) > MAX_BENEFITS or not all(1 <= len(text) <= 200 for text in benefits):
            raise invalid(f"Up to {MAX_BENEFITS} benefits of 1 to 200 characters each.", "benefits")
        clean["benefits"] = benefits
    if "color" in given:
        if not isinstance(given["color"], str) or not _COLOR.match(given["color"]):
            raise invalid("A colour is #RRGGBB, for example #d4af37.", "color")
        clean["color"] = given["color"].lower()
    if "name_translations" in given:
        translations = {str(k): str(v).strip() for k, v in given["name_translations"].items()}  # type: ignore[attr-defined]
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


def _audit(program: LoyaltyProgram, user: AbstractBaseUser, changes: dict[str, dict[str, str | None]]) -> None:
    """One audit record of a ladder edit (keys ``tier[<id>].<field>``), when anything changed."""
    audit_record(program=program, user=user, changes=changes)


def _reevaluate_after_commit(program: LoyaltyProgram, reason: str) -> None:
    """Queue the background re-evaluation of the program's members once the edit commits."""
    from loyalty.tasks import tiers_reevaluate_task  # the actor module imports the services

    program_id = program.pk
    transaction.on_commit(lambda: tiers_reevaluate_task.send(program_id, reason))


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
        _check_names([tier.name for tier in tiers] + [clean["name"]])  # type: ignore[list-item]
        thresholds = sorted([tier.threshold for tier in tiers] + [clean["threshold"]])  # type: ignore[list-item]
        _check_ladder(thresholds)
        place = sum(1 for tier in tiers if tier.threshold < clean["threshold"])  # type: ignore[operator]
        for tier in reversed(tiers[place:]):  # top down, so no two tiers share a position
            Tier.objects.filter(pk=tier.pk).update(position=tier.position + 1)
        tier = Tier.objects.create(program=program, position=place, **clean)
        tier.refresh_from_db()  # answer and audit with the stored values (150 -> 150.00)
        _audit(
            program,
            user,  # type: ignore[arg-type]
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
            raise LedgerError(LedgerErrorCode.NOT_FOUND, "No such tier.", "id")
        clean = _clean(data, program)
        if "name" in clean:
            _check_names([t.name for t in tiers if t.pk != tier_id] + [clean["name"]])  # type: ignore[list-item]
        if "threshold" in clean:
            _check_ladder([clean["threshold"] if t.pk == tier_id else t.threshold for t in tiers])  # type: ignore[misc]
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
        _audit(program, user, changes)  # type: ignore[arg-type]
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
            raise LedgerError(LedgerErrorCode.NOT_FOUND, "No such tier.", "id")
        if tier is tiers[0]:
            raise invalid("The entry tier cannot be deleted: every program keeps a tier at 0.", "id")
        dependants = _dependants(tier)
        if dependants:
            raise invalid(f"Tier {tier.name} is still used by {', '.join(dependants)}; change them first.", "id")
        Tier.all_objects.filter(pk=tier.pk).update(archived_at=timezone.now())
        _renumber([t for t in tiers if t.pk != tier_id])
        _audit(program, user, {f"tier[{tier.pk}]": {"old": tier.name, "new": None}})  # type: ignore[arg-type]
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
        _check_ladder(thresholds)  # type: ignore[arg-type]
        ordered = [tiers[i] for i in ids]  # type: ignore[index]
        changes = {}
        for position, (tier, threshold) in enumerate(zip(ordered, thresholds, strict=True)):
            if tier.position != position:
                changes[f"tier[{tier.pk}].position"] = {"old": str(tier.position), "new": str(position)}
            if tier.threshold != threshold:
                changes[f"tier[{tier.pk}].threshold"] = {"old": str(tier.threshold), "new": str(threshold)}
                Tier.objects.filter(pk=tier.pk).update(threshold=threshold)
                tier.threshold = threshold  # type: ignore[assignment]
        _renumber(ordered)
        if changes:
            _audit(program, user, changes)  # type: ignore[arg-type]
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
    _check_ladder(thresholds)  # type: ignore[arg-type]
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
