"""Plans a shop sells (capability ``memberships:write``: owner, manager). Every refusal is a
:class:`MembershipError` with a code and the input field, and writes nothing (docs/memberships.md).

A price change applies from each subscription's next renewal; the tier a plan grants cannot change
while subscriptions hold it (archive the plan and sell a new one), so a member's tier never moves
under them between payments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from loyalty.models import Tier
from loyalty.reasons import LANGUAGES
from marketplace.models import Shop
from marketplace.money import decimal_places
from memberships.errors import MembershipError, MembershipErrorCode
from memberships.models import LIVE, IntervalUnit, MembershipPlan, Subscription
from memberships.services.subscriptions import require_memberships

#: Longest interval per unit (a year of days, 12 months, 5 years).
MAX_INTERVAL = {IntervalUnit.DAY: 365, IntervalUnit.MONTH: 12, IntervalUnit.YEAR: 5}


@dataclass(frozen=True)
class PlanData:
    """A plan's fields as staff send them (money ``Decimal`` in the shop's currency)."""

    name: str
    price: Decimal
    interval_unit: str
    tier_id: int
    interval_count: int = 1
    trial_days: int = 0
    earn_multiplier: Decimal = Decimal("1")
    reminder_days: int = 3
    benefits: list[str] = field(default_factory=list)
    #: ``{"fa": {"name": "...", "benefits": ["..."]}}``
    translations: dict[str, dict] = field(default_factory=dict)


def _invalid(message: str, field_name: str) -> MembershipError:
    return MembershipError(MembershipErrorCode.INVALID_INPUT, message, field_name)


def _lines(lines: list[str], field_name: str) -> list[str]:
    cleaned = [line.strip() for line in lines]
    if len(cleaned) > 10 or any(not 1 <= len(line) <= 200 for line in cleaned):
        raise _invalid("Up to 10 benefit lines of 1 to 200 characters.", field_name)
    return cleaned


def _validated(shop: Shop, data: PlanData) -> dict:
    """The model fields of ``data`` after every check (INVALID_INPUT naming the field)."""
    name = data.name.strip()
    if not 1 <= len(name) <= 120:
        raise _invalid("A name of 1 to 120 characters is required.", "name")
    if not data.price.is_finite() or data.price <= 0 or decimal_places(data.price) > 2:
        raise _invalid("The price is a positive amount with at most 2 decimal places.", "price")
    if data.price >= Decimal("1e12"):
        raise _invalid("The price is too large.", "price")
    if data.interval_unit not in IntervalUnit.values:
        raise _invalid("The interval is in days, months or years.", "intervalUnit")
    if not 1 <= data.interval_count <= MAX_INTERVAL[IntervalUnit(data.interval_unit)]:
        raise _invalid(f"1 to {MAX_INTERVAL[IntervalUnit(data.interval_unit)]} {data.interval_unit}s.", "intervalCount")
    if not 0 <= data.trial_days <= 365:
        raise _invalid("0 to 365 trial days.", "trialDays")
    if not 0 <= data.reminder_days <= 30:
        raise _invalid("0 to 30 days before a renewal.", "reminderDays")
    multiplier = data.earn_multiplier
    if not multiplier.is_finite() or not Decimal("1") <= multiplier <= Decimal("10") or decimal_places(multiplier) > 3:
        raise _invalid("The extra earning multiplier is 1 to 10 with at most 3 decimal places.", "earnMultiplier")
    tier = Tier.objects.filter(pk=data.tier_id, program__shop=shop).first()
    if tier is None:
        raise _invalid("The tier is one of the shop's program's tiers.", "tierId")
    translations: dict[str, dict] = {}
    for language, texts in data.translations.items():
        if language not in LANGUAGES or language == "en" or not isinstance(texts, dict):
            raise _invalid(
                f"Translations are for {', '.join(lang for lang in LANGUAGES if lang != 'en')}.", "translations"
            )
        translated_name = str(texts.get("name") or "").strip()
        if len(translated_name) > 120:
            raise _invalid("A translated name is at most 120 characters.", "translations")
        translations[language] = {
            "name": translated_name,
            "benefits": _lines(list(texts.get("benefits") or []), "translations"),
        }
    return {
        "name": name,
        "price": data.price,
        "currency": shop.currency,
        "interval_unit": data.interval_unit,
        "interval_count": data.interval_count,
        "trial_days": data.trial_days,
        "reminder_days": data.reminder_days,
        "earn_multiplier": multiplier,
        "tier": tier,
        "benefits": _lines(data.benefits, "benefits"),
        "translations": translations,
    }


def membership_plan_create(*, user: AbstractBaseUser | AnonymousUser, shop_id: int, data: PlanData) -> MembershipPlan:
    """Create a plan in the shop's currency. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED ("shopId"),
    NOT_FOUND ("shopId"), INVALID_INPUT (name, price, intervalUnit, intervalCount, trialDays,
    reminderDays, earnMultiplier, tierId, benefits, translations)."""
    require_memberships(user, shop_id)
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        raise MembershipError(MembershipErrorCode.NOT_FOUND, "No such shop.", "shopId")
    return MembershipPlan.objects.create(shop=shop, **_validated(shop, data))


def _staff_plan(user: AbstractBaseUser | AnonymousUser, plan_id: int) -> MembershipPlan:
    plan = MembershipPlan.objects.select_for_update().select_related("shop", "tier").filter(pk=plan_id).first()
    if plan is None:
        raise MembershipError(MembershipErrorCode.NOT_FOUND, "No such plan.", "id")
    require_memberships(user, plan.shop_id)
    return plan


def membership_plan_update(*, user: AbstractBaseUser | AnonymousUser, plan_id: int, data: PlanData) -> MembershipPlan:
    """Change a plan (all fields as in :func:`membership_plan_create`). A new price applies from each
    subscription's next renewal. Codes as create, plus NOT_FOUND ("id") and INVALID_INPUT ("tierId")
    for a new tier while live subscriptions hold the old one. Locks the plan row."""
    with transaction.atomic():
        plan = _staff_plan(user, plan_id)
        fields = _validated(plan.shop, data)
        live = Subscription.objects.filter(plan=plan, status__in=LIVE).exists()
        if fields["tier"].pk != plan.tier_id and live:
            raise _invalid("Members hold this plan's tier now: archive the plan and sell a new one instead.", "tierId")
        for name, value in fields.items():
            setattr(plan, name, value)
        plan.save()
    return plan


def membership_plan_archive(
    *, user: AbstractBaseUser | AnonymousUser, plan_id: int, archived: bool = True
) -> MembershipPlan:
    """Stop (or, with ``archived=False``, resume) selling a plan; its subscriptions go on. Codes:
    NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND ("id"). Idempotent."""
    with transaction.atomic():
        plan = _staff_plan(user, plan_id)
        plan.archived_at = (plan.archived_at or timezone.now()) if archived else None
        plan.save(update_fields=["archived_at"])
    return plan
