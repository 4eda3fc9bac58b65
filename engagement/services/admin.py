# ruff: noqa: RUF001  (Persian sample values)
"""What staff change in engagement (capability ``messages:write``: owner and manager): templates,
campaigns, cultural events, a shop's contact rules. Every refusal is an :class:`EngagementError`
with a code and the input field, and writes nothing (docs/engagement.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from crm.models import Segment
from engagement.errors import EngagementError, EngagementErrorCode
from engagement.models import (
    Campaign,
    CampaignStatus,
    Channel,
    CulturalEvent,
    EngagementKind,
    EngagementSettings,
    MessageTemplate,
    OccasionCalendar,
)
from engagement.rendering import compiled, render
from engagement.services.planning import common_variables, unsubscribe_url
from loyalty.models import MemberAccount
from loyalty.reasons import LANGUAGES
from marketplace.permissions import Capability, has_capability

CAMPAIGN_CHANNELS = (Channel.INBOX, Channel.EMAIL, Channel.SMS, Channel.PUSH)


def _invalid(message: str, field: str | None = None) -> EngagementError:
    return EngagementError(EngagementErrorCode.INVALID_INPUT, message, field)


def require_messages(user: AbstractBaseUser | AnonymousUser | None, shop_id: int) -> None:
    """NOT_AUTHENTICATED, or PERMISSION_DENIED ("shopId") without ``messages:write`` in the shop."""
    if user is None or not user.is_authenticated:
        raise EngagementError(EngagementErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if not has_capability(user=user, shop_id=shop_id, capability=Capability.MANAGE_MESSAGES):
        raise EngagementError(
            EngagementErrorCode.PERMISSION_DENIED, "Only the shop's owner or a manager edits messages.", "shopId"
        )


def _kind_language(kind: str, language: str) -> None:
    if kind not in EngagementKind.values:
        raise _invalid("Unknown kind.", "kind")
    if language not in LANGUAGES:
        raise _invalid(f"The language is one of {', '.join(LANGUAGES)}.", "language")


def _texts(subject: str, body: str, kind: str) -> None:
    """Subject 1-200 characters on one line, body 1-5,000; both compile for ``kind`` (INVALID_TEMPLATE)."""
    if not 1 <= len(subject.strip()) <= 200 or "\n" in subject:
        raise _invalid("A subject of 1 to 200 characters on one line is required.", "subject")
    if not 1 <= len(body.strip()) <= 5000:
        raise _invalid("A body of 1 to 5,000 characters is required.", "body")
    compiled(subject, kind=kind, field="subject")
    compiled(body, kind=kind, field="body")


def message_template_save(
    *, user: AbstractBaseUser | AnonymousUser, shop_id: int, kind: str, language: str, subject: str, body: str
) -> MessageTemplate:
    """Set the shop's wording of ``kind`` in ``language`` (replacing the default or its earlier one).

    Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, INVALID_INPUT (kind, language, subject, body),
    INVALID_TEMPLATE (Django's message, or the unknown variable, on subject or body).
    """
    require_messages(user, shop_id)
    _kind_language(kind, language)
    _texts(subject, body, kind)
    template, _ = MessageTemplate.objects.update_or_create(
        shop_id=shop_id,
        kind=kind,
        language=language,
        defaults={"subject": subject.strip(), "body": body.strip(), "updated_by_id": user.pk},
    )
    return template


def message_template_reset(*, user: AbstractBaseUser | AnonymousUser, shop_id: int, kind: str, language: str) -> bool:
    """Go back to the shipped default of ``kind`` in ``language``; whether the shop had its own."""
    require_messages(user, shop_id)
    _kind_language(kind, language)
    deleted, _ = MessageTemplate.objects.filter(shop_id=shop_id, kind=kind, language=language).delete()
    return bool(deleted)


#: Sample values of the kind variables a preview cannot take from the member.
_SAMPLES: dict[str, dict[str, Any]] = {
    "en": {
        "bonus_points": "500",
        "years": "3",
        "event_name": "Yalda Night",
        "previous_tier": "Silver",
        "expiring_points": "1,200",
        "expires_on": "March 20, 2027",
        "reward_name": "Free coffee",
        "code": "K7Q2-M9XD",
        "days_since_visit": "95",
        "gifts": ["Gift card", "Saffron tin"],
        "plan_name": "VIP Gold",
        "renewal_date": "January 8, 2027",
        "amount": "9.99 USD",
    },
    "fa": {
        "bonus_points": "۵۰۰",
        "years": "۳",
        "event_name": "شب یلدا",
        "previous_tier": "نقره‌ای",
        "expiring_points": "۱٬۲۰۰",
        "expires_on": "۲۹ اسفند ۱۴۰۵",
        "reward_name": "قهوهٔ رایگان",
        "code": "K7Q2-M9XD",
        "days_since_visit": "۹۵",
        "gifts": ["کارت هدیه", "قوطی زعفران"],
        "plan_name": "طلایی ویژه",
        "renewal_date": "۱۸ دی ۱۴۰۵",
        "amount": "9.99 USD",
    },
}


def message_preview(
    *,
    user: AbstractBaseUser | AnonymousUser,
    shop_id: int,
    kind: str,
    language: str,
    subject: str,
    body: str,
    account_id: int | None,
) -> tuple[str, str]:
    """``(subject, body)`` rendered with a real member's data (``account_id``, a member of the shop)
    and sample values for the occasion's own variables; nothing is saved. Codes as
    :func:`message_template_save`, and NOT_FOUND ("accountId") for another shop's member."""
    require_messages(user, shop_id)
    _kind_language(kind, language)
    _texts(subject, body, kind)
    variables: dict[str, Any] = dict(_SAMPLES[language])
    if account_id is not None:
        account = (
            MemberAccount.objects.select_related("customer", "tier", "program__shop")
            .filter(pk=account_id, program__shop_id=shop_id)
            .first()
        )
        if account is None:
            raise EngagementError(EngagementErrorCode.NOT_FOUND, "No such member in this shop.", "accountId")
        variables |= common_variables(account, language)
        variables["unsubscribe_url"] = unsubscribe_url(account.customer_id, Channel.EMAIL)
    return render(subject, body, kind=kind, variables=variables)


@dataclass(frozen=True)
class CampaignData:
    """A campaign as staff send it: ``texts`` maps ``en`` (required) and ``fa`` to subject and body."""

    name: str
    texts: dict[str, dict[str, str]]
    channels: list[str]
    send_at: dt.datetime | None = None
    segment_id: int | None = None


def campaign_create(*, user: AbstractBaseUser | AnonymousUser, shop_id: int, data: CampaignData) -> Campaign:
    """Schedule a campaign to the members of a segment (all members without one) at ``send_at``
    (now when omitted; sent by the dispatcher within a minute). Codes: NOT_AUTHENTICATED,
    PERMISSION_DENIED, INVALID_INPUT (name, segmentId, channels, sendAt, texts), INVALID_TEMPLATE."""
    require_messages(user, shop_id)
    if not 1 <= len(data.name.strip()) <= 120:
        raise _invalid("A name of 1 to 120 characters is required.", "name")
    if data.segment_id is not None and not Segment.objects.filter(pk=data.segment_id, shop_id=shop_id).exists():
        raise _invalid("The segment is not one of this shop's.", "segmentId")
    if not data.channels or any(c not in CAMPAIGN_CHANNELS for c in data.channels):
        raise _invalid("Choose one or more channels: inbox, email, sms, push.", "channels")
    now = timezone.now()
    if data.send_at is not None and data.send_at < now - dt.timedelta(minutes=5):
        raise _invalid("The sending time is in the past.", "sendAt")
    if "en" not in data.texts:
        raise _invalid("The English text is required (members of other languages read it).", "texts")
    for language, text in data.texts.items():
        if language not in LANGUAGES:
            raise _invalid(f"Texts are given in {', '.join(LANGUAGES)}.", "texts")
        _texts(text.get("subject", ""), text.get("body", ""), EngagementKind.CAMPAIGN)
    return Campaign.objects.create(
        shop_id=shop_id,
        name=data.name.strip(),
        segment_id=data.segment_id,
        texts={lang: {"subject": t["subject"].strip(), "body": t["body"].strip()} for lang, t in data.texts.items()},
        channels=sorted(set(data.channels), key=CAMPAIGN_CHANNELS.index),
        send_at=data.send_at or now,
        created_by_id=user.pk if user.is_authenticated else None,
    )


def campaign_cancel(*, user: AbstractBaseUser | AnonymousUser, campaign_id: int) -> Campaign:
    """Cancel a scheduled campaign. Codes: NOT_AUTHENTICATED, NOT_FOUND (also another shop's),
    CAMPAIGN_CLOSED (sent or cancelled already). Locks the campaign's row."""
    if not user.is_authenticated:
        raise EngagementError(EngagementErrorCode.NOT_AUTHENTICATED, "Log in first.")
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None or not has_capability(
            user=user, shop_id=campaign.shop_id, capability=Capability.MANAGE_MESSAGES
        ):
            raise EngagementError(EngagementErrorCode.NOT_FOUND, "No such campaign.", "campaignId")
        if campaign.status != CampaignStatus.SCHEDULED:
            raise EngagementError(EngagementErrorCode.CAMPAIGN_CLOSED, f"The campaign is {campaign.status}.")
        campaign.status = CampaignStatus.CANCELLED
        campaign.save(update_fields=["status"])
    return campaign


@dataclass(frozen=True)
class CulturalEventData:
    """A cultural event's settings (see :class:`engagement.models.CulturalEvent`)."""

    name: str
    calendar: str
    month: int
    day: int
    name_fa: str = ""
    bonus_points: int = 0
    message: bool = True
    active: bool = True


#: Days in each month: Jalali (the 12th has 30 in a leap year) and Gregorian (February 29 in a leap year).
_MONTH_DAYS = {
    OccasionCalendar.JALALI: (31, 31, 31, 31, 31, 31, 30, 30, 30, 30, 30, 30),
    OccasionCalendar.GREGORIAN: (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31),
}


def cultural_event_save(
    *, user: AbstractBaseUser | AnonymousUser, shop_id: int, event_id: int | None, data: CulturalEventData
) -> CulturalEvent:
    """Create (``event_id`` None) or change a shop's cultural event. Codes: NOT_AUTHENTICATED,
    PERMISSION_DENIED, NOT_FOUND (``id``), INVALID_INPUT (name, calendar, month, day, bonusPoints)."""
    require_messages(user, shop_id)
    if not 1 <= len(data.name.strip()) <= 120 or len(data.name_fa) > 120:
        raise _invalid("A name of 1 to 120 characters is required.", "name")
    if data.calendar not in OccasionCalendar.values:
        raise _invalid("The calendar is jalali or gregorian.", "calendar")
    if not 1 <= data.month <= 12:
        raise _invalid("The month is 1 to 12.", "month")
    if not 1 <= data.day <= _MONTH_DAYS[OccasionCalendar(data.calendar)][data.month - 1]:
        raise _invalid("That month has no such day.", "day")
    if not 0 <= data.bonus_points <= 1_000_000:
        raise _invalid("Bonus points are 0 to 1,000,000.", "bonusPoints")
    event = CulturalEvent(shop_id=shop_id)
    if event_id is not None:
        found = CulturalEvent.objects.filter(pk=event_id, shop_id=shop_id).first()
        if found is None:
            raise EngagementError(EngagementErrorCode.NOT_FOUND, "No such cultural event.", "id")
        event = found
    event.name, event.name_fa = data.name.strip(), data.name_fa.strip()
    event.calendar, event.month, event.day = data.calendar, data.month, data.day
    event.bonus_points, event.message, event.active = data.bonus_points, data.message, data.active
    event.save()
    return event


def cultural_event_delete(*, user: AbstractBaseUser | AnonymousUser, event_id: int) -> int:
    """Delete a cultural event (bonuses and messages already given stay). Codes: NOT_AUTHENTICATED, NOT_FOUND."""
    if not user.is_authenticated:
        raise EngagementError(EngagementErrorCode.NOT_AUTHENTICATED, "Log in first.")
    event = CulturalEvent.objects.filter(pk=event_id).first()
    if event is None or not has_capability(user=user, shop_id=event.shop_id, capability=Capability.MANAGE_MESSAGES):
        raise EngagementError(EngagementErrorCode.NOT_FOUND, "No such cultural event.", "id")
    event.delete()
    return event_id


@dataclass(frozen=True)
class ContactRulesData:
    """A shop's contact rules: quiet hours (local), the weekly cap, win-back and expiry warning days."""

    quiet_start: dt.time
    quiet_end: dt.time
    weekly_cap: int
    win_back_days: int
    expiring_days: int
    sms_sender: str = ""


def engagement_settings_set(
    *, user: AbstractBaseUser | AnonymousUser, shop_id: int, rules: ContactRulesData
) -> EngagementSettings:
    """Set the shop's contact rules. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, INVALID_INPUT
    (weeklyCap 1-50, winBackDays 7-730, expiringDays 1-90, smsSender up to 32 characters)."""
    require_messages(user, shop_id)
    if not 1 <= rules.weekly_cap <= 50:
        raise _invalid("The weekly cap is 1 to 50 messages.", "weeklyCap")
    if not 7 <= rules.win_back_days <= 730:
        raise _invalid("Win-back is 7 to 730 days.", "winBackDays")
    if not 1 <= rules.expiring_days <= 90:
        raise _invalid("The expiry warning is 1 to 90 days ahead.", "expiringDays")
    if len(rules.sms_sender) > 32:
        raise _invalid("The SMS sender is up to 32 characters.", "smsSender")
    settings, _ = EngagementSettings.objects.update_or_create(
        shop_id=shop_id,
        defaults={
            "quiet_start": rules.quiet_start,
            "quiet_end": rules.quiet_end,
            "weekly_cap": rules.weekly_cap,
            "win_back_days": rules.win_back_days,
            "expiring_days": rules.expiring_days,
            "sms_sender": rules.sms_sender,
        },
    )
    return settings
