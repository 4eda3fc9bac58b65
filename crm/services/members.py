"""Staff work on a shop's members: enrol a customer, edit the shop's profile, status, notes and tags.

Every function checks ``members:write`` (owner, manager) in the member's shop: NOT_AUTHENTICATED
for an anonymous caller, NOT_FOUND for an account the caller may not edit (other shops' ids are
not confirmed). Each is one transaction; a refusal changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from crm.errors import CrmError, CrmErrorCode
from crm.models import CrmSettings, MemberNote, MemberProfile, MemberTag, TagSource
from loyalty.models import LoyaltyProgram, MemberAccount, MemberStatus, Tier
from loyalty.services.tiers import account_get_or_enroll
from marketplace.models import Customer
from marketplace.permissions import Capability, has_capability

UNSET: Any = object()
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
#: Tags the automatic rules own; staff cannot set them by hand (they would be cleared or doubled).
AUTO_TAGS = frozenset({"vip", "new", "frequent", "high_value", "dormant", "birthday_month"})
MAX_PREFERENCES = 30


def _refuse(code: CrmErrorCode, message: str, field_name: str | None = None) -> CrmError:
    return CrmError(code, message, field_name)


def editable_account(user: AbstractBaseUser | AnonymousUser | None, account_id: int) -> MemberAccount:
    """Account ``account_id`` if ``user`` holds ``members:write`` in its shop (NOT_AUTHENTICATED / NOT_FOUND)."""
    if user is None or not user.is_authenticated:
        raise _refuse(CrmErrorCode.NOT_AUTHENTICATED, "Log in first.")
    account = MemberAccount.objects.select_related("program__shop", "customer", "tier").filter(pk=account_id).first()
    if account is None or not has_capability(
        user=user, shop_id=account.program.shop_id, capability=Capability.EDIT_MEMBERS
    ):
        raise _refuse(CrmErrorCode.NOT_FOUND, "No such member in a shop you manage.", "accountId")
    return account


def phone_normalise(text: str, region: str | None = None) -> str:
    """``text`` as E.164 (``+989121234567``), or "" for blank; INVALID_PHONE when not a possible number.

    Numbers without a country code are read in ``region`` (ISO 3166 alpha-2, e.g. "IR"); parsing
    and the possibility check are libphonenumber's (the ``phonenumbers`` package).
    """
    if not text.strip():
        return ""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise _refuse(CrmErrorCode.INVALID_PHONE, "Not a phone number.", "phone") from None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise _refuse(CrmErrorCode.INVALID_PHONE, "Not a valid phone number.", "phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True, kw_only=True)
class ProfileInput:
    """A partial change of the shop's profile of a member: fields left ``UNSET`` stay."""

    first_name: Any = UNSET
    last_name: Any = UNSET
    email: Any = UNSET
    phone: Any = UNSET
    phone_region: str | None = None
    birth_date: Any = UNSET
    personal_dates: Any = UNSET
    preferences: Any = UNSET

    def given(self) -> dict[str, Any]:
        """The fields set, by model field name."""
        names = ("first_name", "last_name", "email", "phone", "birth_date", "personal_dates", "preferences")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not UNSET}


def _clean_profile(data: ProfileInput, today: dt.date) -> dict[str, Any]:
    """The given fields validated and normalised (INVALID_INPUT / INVALID_PHONE naming the field)."""
    given = data.given()
    for name in ("first_name", "last_name"):
        if name in given and (not isinstance(given[name], str) or len(given[name].strip()) > 100):
            raise _refuse(CrmErrorCode.INVALID_INPUT, "A name is at most 100 characters.", _camel(name))
        if name in given:
            given[name] = given[name].strip()
    if "email" in given:
        email = (given["email"] or "").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise _refuse(CrmErrorCode.INVALID_INPUT, "Not an e-mail address.", "email") from None
        given["email"] = email
    if "phone" in given:
        given["phone"] = phone_normalise(given["phone"] or "", data.phone_region)
    birth = given.get("birth_date")
    if birth is not None and not dt.date(1900, 1, 1) <= birth <= today:
        raise _refuse(CrmErrorCode.INVALID_INPUT, "A birth date is from 1900 to today.", "birthDate")
    if "personal_dates" in given:
        given["personal_dates"] = _clean_dates(given["personal_dates"])
    if "preferences" in given:
        prefs = given["preferences"]
        if (
            not isinstance(prefs, dict)
            or len(prefs) > MAX_PREFERENCES
            or not all(
                isinstance(k, str) and _TAG.match(k) and isinstance(v, str) and len(v) <= 200 for k, v in prefs.items()
            )
        ):
            raise _refuse(
                CrmErrorCode.INVALID_INPUT,
                f"Preferences map up to {MAX_PREFERENCES} field names (lower-case) to texts of 200 characters.",
                "preferences",
            )
    return given


def _clean_dates(value: Any) -> list[dict[str, str]]:
    """Personal dates: a list (up to 10) of ``{"kind": "anniversary"|"custom", "label", "date"}``."""
    if not isinstance(value, list) or len(value) > 10:
        raise _refuse(CrmErrorCode.INVALID_INPUT, "Up to 10 personal dates.", "personalDates")
    cleaned = []
    for item in value:
        try:
            kind, label, date = item["kind"], item.get("label", ""), dt.date.fromisoformat(item["date"])
        except (TypeError, KeyError, ValueError):
            raise _refuse(
                CrmErrorCode.INVALID_INPUT, 'Each date is {"kind", "label", "date": "YYYY-MM-DD"}.', "personalDates"
            ) from None
        if kind not in ("anniversary", "custom") or not isinstance(label, str) or len(label) > 80:
            raise _refuse(
                CrmErrorCode.INVALID_INPUT, "Kinds are anniversary or custom; labels 80 characters.", "personalDates"
            )
        cleaned.append({"kind": kind, "label": label.strip(), "date": date.isoformat()})
    return cleaned


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def member_profile_set(
    *, user: AbstractBaseUser | AnonymousUser, account_id: int, data: ProfileInput, now: dt.datetime | None = None
) -> MemberProfile:
    """Change the shop's profile of member ``account_id`` (created on first change).

    Codes: NOT_AUTHENTICATED, NOT_FOUND, INVALID_INPUT, INVALID_PHONE (docs/crm.md, "Profiles").
    """
    now = now or timezone.now()
    account = editable_account(user, account_id)
    given = _clean_profile(data, now.date())
    with transaction.atomic():
        profile, _ = MemberProfile.objects.select_for_update().get_or_create(account=account)
        for name, value in given.items():
            setattr(profile, name, value)
        profile.updated_by_id = user.pk
        profile.save()
    return profile


def member_create(
    *,
    user: AbstractBaseUser | AnonymousUser,
    shop_id: int,
    external_id: str,
    display_name: str,
    data: ProfileInput,
    now: dt.datetime | None = None,
) -> MemberAccount:
    """Enrol a customer (created when new, by the marketplace-wide ``external_id``) in the shop's program,
    with the shop's profile. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND (no program),
    INVALID_INPUT, INVALID_PHONE. An existing member gets the profile changes (idempotent)."""
    now = now or timezone.now()
    if user is None or not user.is_authenticated:
        raise _refuse(CrmErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if not has_capability(user=user, shop_id=shop_id, capability=Capability.EDIT_MEMBERS):
        raise _refuse(CrmErrorCode.PERMISSION_DENIED, "Only the shop's owner or a manager adds members.", "shopId")
    program = LoyaltyProgram.objects.select_related("shop").filter(shop_id=shop_id).first()
    if program is None:
        raise _refuse(CrmErrorCode.NOT_FOUND, "This shop runs no loyalty program.", "shopId")
    external_id = (external_id or "").strip()
    if not 1 <= len(external_id) <= 100 or len(display_name) > 200:
        raise _refuse(CrmErrorCode.INVALID_INPUT, "A customer id of 1 to 100 characters is required.", "customerId")
    given = _clean_profile(data, now.date())
    with transaction.atomic():
        customer, _ = Customer.objects.get_or_create(
            external_id=external_id, defaults={"display_name": display_name.strip()}
        )
        account, _ = account_get_or_enroll(customer=customer, program=program, at=now)
        profile, _ = MemberProfile.objects.get_or_create(account=account)
        for name, value in given.items():
            setattr(profile, name, value)
        profile.updated_by_id = user.pk
        profile.save()
    return account


def member_status_set(
    *, user: AbstractBaseUser | AnonymousUser, account_id: int, status: str, now: dt.datetime | None = None
) -> MemberAccount:
    """Set a member's status (active, inactive, blocked: docs/crm.md, "Status"). Codes: NOT_AUTHENTICATED,
    NOT_FOUND, INVALID_INPUT. Locks the account (the worker reads the status under the same lock)."""
    now = now or timezone.now()
    account = editable_account(user, account_id)
    if status not in MemberStatus.values:
        raise _refuse(CrmErrorCode.INVALID_INPUT, f"Status is one of {', '.join(MemberStatus.values)}.", "status")
    with transaction.atomic():
        locked = MemberAccount.objects.select_for_update().get(pk=account.pk)
        if locked.status != status:
            locked.status, locked.status_changed_at = status, now
            locked.save(update_fields=["status", "status_changed_at"])
    account.status, account.status_changed_at = locked.status, locked.status_changed_at
    return account


def member_note_add(*, user: AbstractBaseUser | AnonymousUser, account_id: int, text: str) -> MemberNote:
    """Add a staff note (1-2,000 characters) to a member; never shown to them. Codes: NOT_AUTHENTICATED,
    NOT_FOUND, INVALID_INPUT."""
    account = editable_account(user, account_id)
    text = (text or "").strip()
    if not 1 <= len(text) <= 2000 or "\x00" in text:
        raise _refuse(CrmErrorCode.INVALID_INPUT, "A note is 1 to 2,000 characters.", "text")
    return MemberNote.objects.create(account=account, author_id=user.pk, text=text)


def member_tag_set(
    *,
    user: AbstractBaseUser | AnonymousUser,
    account_id: int,
    tag: str,
    present: bool,
    reason: str = "",
    now: dt.datetime | None = None,
) -> MemberAccount:
    """Add (``present``) or remove a manual tag; automatic ones belong to the rules. Codes: NOT_AUTHENTICATED,
    NOT_FOUND, INVALID_INPUT (a tag is a lower-case slug of 1-40; not one of :data:`AUTO_TAGS`)."""
    now = now or timezone.now()
    account = editable_account(user, account_id)
    tag = (tag or "").strip().lower()
    if not _TAG.match(tag) or tag in AUTO_TAGS:
        raise _refuse(CrmErrorCode.INVALID_INPUT, "A tag is a lower-case slug, not one the automatic rules set.", "tag")
    if len(reason) > 200:
        raise _refuse(CrmErrorCode.INVALID_INPUT, "A reason is at most 200 characters.", "reason")
    if present:
        MemberTag.objects.update_or_create(
            account=account,
            tag=tag,
            source=TagSource.MANUAL,
            defaults={"reason": reason.strip(), "assigned_by_id": user.pk, "assigned_at": now},
        )
    else:
        MemberTag.objects.filter(account=account, tag=tag, source=TagSource.MANUAL).delete()
    return account


@dataclass(frozen=True, kw_only=True)
class TagSettingsInput:
    """The shop's automatic-tag thresholds (``CrmSettings``); ``vip_tier_id`` a tier of the shop or None."""

    vip_tier_id: int | None = None
    vip_spend: Any = None
    new_days: int = 30
    frequent_visits: int = 4
    frequent_days: int = 90
    high_value_percentile: int = 90
    dormant_days: int = 90
    extra: dict = field(default_factory=dict)


def tag_settings_set(*, user: AbstractBaseUser | AnonymousUser, shop_id: int, data: TagSettingsInput) -> CrmSettings:
    """Replace the shop's thresholds. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, INVALID_INPUT."""
    if user is None or not user.is_authenticated:
        raise _refuse(CrmErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if not has_capability(user=user, shop_id=shop_id, capability=Capability.EDIT_MEMBERS):
        raise _refuse(CrmErrorCode.PERMISSION_DENIED, "Only the shop's owner or a manager sets the tags.", "shopId")
    checks = (
        ("newDays", data.new_days, 1, 3650),
        ("frequentVisits", data.frequent_visits, 1, 1000),
        ("frequentDays", data.frequent_days, 1, 3650),
        ("highValuePercentile", data.high_value_percentile, 1, 99),
        ("dormantDays", data.dormant_days, 1, 3650),
    )
    for name, value, low, high in checks:
        if not low <= value <= high:
            raise _refuse(CrmErrorCode.INVALID_INPUT, f"{name} is {low} to {high}.", name)
    if data.vip_spend is not None and (not data.vip_spend.is_finite() or data.vip_spend < 0):
        raise _refuse(CrmErrorCode.INVALID_INPUT, "The VIP spend is 0 or more.", "vipSpend")
    if data.vip_tier_id is not None and not Tier.objects.filter(pk=data.vip_tier_id, program__shop_id=shop_id).exists():
        raise _refuse(CrmErrorCode.INVALID_INPUT, "The tier is not one of this shop's.", "vipTierId")
    settings, _ = CrmSettings.objects.update_or_create(
        shop_id=shop_id,
        defaults={
            "vip_tier_id": data.vip_tier_id,
            "vip_spend": data.vip_spend,
            "new_days": data.new_days,
            "frequent_visits": data.frequent_visits,
            "frequent_days": data.frequent_days,
            "high_value_percentile": data.high_value_percentile,
            "dormant_days": data.dormant_days,
        },
    )
    return settings
