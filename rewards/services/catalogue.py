"""Owners' and managers' edits of a shop's rewards catalogue, validated before anything is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from loyalty.models import LoyaltyProgram, Tier
from marketplace.money import decimal_places
from marketplace.permissions import Capability, has_capability
from marketplace.validation import NUL
from rewards.errors import RewardError, RewardErrorCode
from rewards.models import LimitPeriod, Reward, RewardKind, RewardStatus

MAX_POINTS_COST = 1_000_000_000
MAX_CODE_LIFETIME_DAYS = 3650
#: Most languages a reward's translations may hold.
MAX_TRANSLATIONS = 20
#: Longest translated text per key (characters): a name as long as the name column, a description.
TRANSLATION_LIMITS = {"name": 200, "description": 2000}


@dataclass(frozen=True)
class RewardInput:
    """A reward as an owner describes it. ``value`` is shop currency or a percentage, per ``kind``."""

    name: str
    kind: str
    points_cost: int
    description: str = ""
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    value: Decimal | None = None
    min_tier_id: int | None = None
    stock: int | None = None
    per_member_limit: int | None = None
    limit_period: str = LimitPeriod.EVER
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    image_url: str = ""
    sort_order: int = 0
    code_lifetime_days: int = 30
    refund_on_expiry: bool = True


def _invalid(message: str, field_name: str) -> RewardError:
    return RewardError(RewardErrorCode.INVALID_INPUT, message, field_name)


def _validate(data: RewardInput, program: LoyaltyProgram) -> None:
    """Raise INVALID_INPUT (with the field) for the first broken rule; reads the tier if one is named."""
    if not data.name.strip() or len(data.name) > 200:
        raise _invalid("A name of 1 to 200 characters is required.", "name")
    if data.kind not in RewardKind.values:
        raise _invalid(f"Unknown kind {data.kind!r}.", "kind")
    if not isinstance(data.points_cost, int) or not 0 < data.points_cost <= MAX_POINTS_COST:
        raise _invalid(f"The points cost must be 1 to {MAX_POINTS_COST}.", "pointsCost")
    if data.kind == RewardKind.FIXED_AMOUNT and (data.value is None or data.value <= 0):
        raise _invalid("A fixed-amount discount needs a positive value in the shop's currency.", "value")
    if data.kind == RewardKind.PERCENTAGE and (data.value is None or not 0 < data.value <= 100):
        raise _invalid("A percentage discount needs a value above 0 and at most 100.", "value")
    if data.value is not None and (not data.value.is_finite() or data.value < 0 or decimal_places(data.value) > 2):
        raise _invalid("The value must be zero or more with at most 2 decimals.", "value")
    if data.stock is not None and data.stock < 0:
        raise _invalid("Stock cannot be negative (leave it empty for unlimited).", "stock")
    if data.per_member_limit is not None and data.per_member_limit < 1:
        raise _invalid("A per-member limit must be at least 1 (leave it empty for none).", "perMemberLimit")
    if data.limit_period not in LimitPeriod.values:
        raise _invalid(f"Unknown limit period {data.limit_period!r}.", "limitPeriod")
    if data.valid_from and data.valid_until and data.valid_until <= data.valid_from:
        raise _invalid("validUntil must be after validFrom.", "validUntil")
    if not 1 <= data.code_lifetime_days <= MAX_CODE_LIFETIME_DAYS:
        raise _invalid(f"Codes must live 1 to {MAX_CODE_LIFETIME_DAYS} days.", "codeLifetimeDays")
    if data.image_url:
        try:
            URLValidator(schemes=["https", "http"])(data.image_url)
        except ValidationError as exc:
            raise _invalid("The image URL is not a valid http(s) URL.", "imageUrl") from exc
    if not isinstance(data.translations, dict) or len(data.translations) > MAX_TRANSLATIONS:
        raise _invalid(f"Translations map up to {MAX_TRANSLATIONS} language codes to texts.", "translations")
    for language, texts in data.translations.items():
        if not (isinstance(language, str) and 2 <= len(language) <= 8 and language.replace("-", "").isalnum()):
            raise _invalid(f"{language!r} is not a language code.", "translations")
        if not isinstance(texts, dict) or set(texts) - {"name", "description"}:
            raise _invalid("Translations hold only name and description.", "translations")
        for key, text in texts.items():
            limit = TRANSLATION_LIMITS[key]
            if not isinstance(text, str) or len(text) > limit or NUL in text:
                raise _invalid(f"A translated {key} is a text of at most {limit} characters.", "translations")
    if data.min_tier_id is not None and not Tier.objects.filter(pk=data.min_tier_id, program=program).exists():
        raise _invalid("The tier is not one of this program's tiers.", "minTierId")


def _editor_program(user: AbstractBaseUser | AnonymousUser, shop_id: int) -> LoyaltyProgram:
    """The shop's program if ``user`` is its owner or manager; raise the coded refusal otherwise."""
    if not user.is_authenticated:
        raise RewardError(RewardErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if not has_capability(user=user, shop_id=shop_id, capability=Capability.EDIT_CATALOGUE):
        raise RewardError(
            RewardErrorCode.PERMISSION_DENIED, "Only the shop's owner or manager edit its rewards.", "shopId"
        )
    program = LoyaltyProgram.objects.filter(shop_id=shop_id).first()
    if program is None:
        raise RewardError(RewardErrorCode.NOT_FOUND, "This shop runs no loyalty program.", "shopId")
    return program


def _fields(data: RewardInput) -> dict:
    return {name: getattr(data, name) for name in RewardInput.__dataclass_fields__}


def reward_create(*, user: AbstractBaseUser | AnonymousUser, shop_id: int, data: RewardInput) -> Reward:
    """Add a reward to the shop's catalogue (owner or manager). Codes: NOT_AUTHENTICATED,
    PERMISSION_DENIED, NOT_FOUND (no program), INVALID_INPUT (with the field)."""
    program = _editor_program(user, shop_id)
    _validate(data, program)
    return Reward.objects.create(program=program, **_fields(data))


def _editable(user: AbstractBaseUser | AnonymousUser, reward_id: int) -> Reward:
    """The reward if ``user`` may edit it; a reward of another shop is NOT_FOUND, as if it did not exist."""
    reward = Reward.objects.select_related("program").filter(pk=reward_id).first()
    if reward is None:
        if not user.is_authenticated:
            raise RewardError(RewardErrorCode.NOT_AUTHENTICATED, "Log in first.")
        raise RewardError(RewardErrorCode.NOT_FOUND, "No such reward.", "rewardId")
    try:
        _editor_program(user, reward.program.shop_id)
    except RewardError as error:
        if error.code == RewardErrorCode.PERMISSION_DENIED:
            raise RewardError(RewardErrorCode.NOT_FOUND, "No such reward.", "rewardId") from error
        raise
    return reward


def reward_update(*, user: AbstractBaseUser | AnonymousUser, reward_id: int, data: RewardInput) -> Reward:
    """Replace a reward's settings (owner or manager of its shop). Past redemptions keep the
    points they cost. Codes as :func:`reward_create`, NOT_FOUND for another shop's reward."""
    reward = _editable(user, reward_id)
    _validate(data, reward.program)
    with transaction.atomic():
        Reward.objects.filter(pk=reward.pk).update(**_fields(data))
    reward.refresh_from_db()
    return reward


def reward_archive(*, user: AbstractBaseUser | AnonymousUser, reward_id: int) -> Reward:
    """Take a reward out of the catalogue; it stays visible in past redemptions (idempotent)."""
    return _status_set(user, reward_id, RewardStatus.ARCHIVED)


def reward_restore(*, user: AbstractBaseUser | AnonymousUser, reward_id: int) -> Reward:
    """Put an archived reward back in the catalogue (idempotent); its validity window still applies.

    Codes as :func:`reward_archive` (NOT_AUTHENTICATED, NOT_FOUND for a reward the caller may not edit).
    """
    return _status_set(user, reward_id, RewardStatus.ACTIVE)


def _status_set(user: AbstractBaseUser | AnonymousUser, reward_id: int, status: str) -> Reward:
    """Set an editable reward's status and return it as stored."""
    reward = _editable(user, reward_id)
    Reward.objects.filter(pk=reward.pk).update(status=status)
    reward.refresh_from_db()
    return reward
