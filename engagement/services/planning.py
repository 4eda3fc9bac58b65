"""Planning messages: who gets what, on which channels, in which words (docs/engagement.md).

:func:`plan` is the one way a message comes into being: the jobs (occasions, cultural events,
win-back, expiring points), the feed follower (tier upgrades, codes, referrals) and campaigns all
call it. For each channel of the kind it writes one :class:`EngagementEvent`, keyed
``<kind>:<key>:<account>:<channel>``: planned when the member may receive it, else recorded as
skipped with the reason (no consent, no address, channel not set up). Writing the same key
again changes nothing, so every job may run twice, or at once, and nothing is planned twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from crm.models import MemberProfile
from engagement.defaults import DEFAULT_TEMPLATES
from engagement.models import (
    DEFAULT_CHANNELS,
    Channel,
    EngagementEvent,
    EngagementSettings,
    EventStatus,
    MessageTemplate,
    PushSubscription,
)
from engagement.rendering import day, number, render
from engagement.signals import events_due
from loyalty.models import MemberAccount
from loyalty.reasons import language_of
from marketplace.models import Customer

UNSUBSCRIBE_SALT = "patron.engagement.unsubscribe"
CLICK_SALT = "patron.engagement.click"
#: Consent fields of the channels that need one (the inbox needs none).
CONSENT_FIELDS: dict[str, str] = {
    Channel.EMAIL: "consent_email",
    Channel.SMS: "consent_sms",
    Channel.PUSH: "consent_push",
}


def settings_of(shop_id: int) -> EngagementSettings:
    """The shop's engagement settings (an unsaved row of defaults when it has none)."""
    return EngagementSettings.objects.filter(shop_id=shop_id).first() or EngagementSettings(shop_id=shop_id)


def channels_of(shop_settings: EngagementSettings, kind: str) -> list[str]:
    """The channels ``kind`` uses in the shop (its choice, else :data:`DEFAULT_CHANNELS`)."""
    chosen = shop_settings.channels.get(kind)
    return list(chosen) if isinstance(chosen, list) else list(DEFAULT_CHANNELS.get(kind, [Channel.INBOX]))


def template_of(shop_id: int, kind: str, language: str) -> tuple[str, str]:
    """``(subject, body)`` of the shop's template of ``kind`` in ``language``, else the shipped default."""
    own = MessageTemplate.objects.filter(shop_id=shop_id, kind=kind, language=language).first()
    if own is not None:
        return own.subject, own.body
    return DEFAULT_TEMPLATES[kind][language]


def unsubscribe_token(customer_id: int, channel: str) -> str:
    """The signed token of a customer's unsubscribe link for ``channel`` (Django's signing; no expiry)."""
    return signing.dumps({"c": customer_id, "ch": channel}, salt=UNSUBSCRIBE_SALT, compress=True)


def click_url(idempotency_key: str) -> str:
    """The dashboard link of one message: it records the *clicked* response, then opens the member's
    page (``engagement.api.views.click_view``). Signed (Django's signing), so it names one message only."""
    token = signing.dumps(idempotency_key, salt=CLICK_SALT, compress=True)
    return f"{settings.PATRON_PUBLIC_URL}/engagement/r/{token}"


def unsubscribe_url(customer_id: int, channel: str) -> str:
    """The link that turns off ``channel``'s marketing consent without logging in (RFC 8058 one-click)."""
    return f"{settings.PATRON_PUBLIC_URL}/engagement/unsubscribe/{unsubscribe_token(customer_id, channel)}"


def profile_of(account: MemberAccount) -> MemberProfile | None:
    """The shop's record of the member, or ``None``. No query when the account was read with
    ``select_related("profile")`` (the jobs and the delivery do), one otherwise."""
    try:
        return account.profile
    except MemberProfile.DoesNotExist:
        return None


def address_of(account: MemberAccount, channel: str) -> str | None:
    """Where ``channel`` reaches the member: the shop's record first, then the customer's own
    e-mail or phone; for push, any subscription; for the inbox, the account. ``None``: nowhere."""
    customer = account.customer
    profile = profile_of(account)
    if channel == Channel.EMAIL:
        return (profile.email if profile else "") or customer.email or None
    if channel == Channel.SMS:
        return (profile.phone if profile else "") or customer.phone or None
    if channel == Channel.PUSH:
        return "push" if PushSubscription.objects.filter(customer=customer).exists() else None
    return str(account.pk)


def channel_available(channel: str) -> bool:
    """Whether this server can send on ``channel`` (an SMS provider, VAPID keys; e-mail and inbox always)."""
    if channel == Channel.SMS:
        return bool(settings.PATRON_SMS_PROVIDER)
    if channel == Channel.PUSH:
        return bool(settings.PATRON_VAPID_PRIVATE_KEY)
    return True


def may_receive(customer: Customer, channel: str) -> bool:
    """The member's consent to ``channel`` (the inbox needs none)."""
    consent = CONSENT_FIELDS.get(channel)
    return consent is None or bool(getattr(customer, consent))


def member_name(account: MemberAccount) -> str:
    """The name the shop knows the member by: its record's first name, else the display name."""
    profile = profile_of(account)
    return (profile.first_name if profile else "") or account.customer.display_name or ""


def common_variables(account: MemberAccount, language: str) -> dict[str, Any]:
    """The variables every kind offers (``engagement.rendering.COMMON_VARIABLES``), for ``language``."""
    shop = account.program.shop
    return {
        "member_name": member_name(account),
        "shop_name": shop.name,
        "points_available": number(account.points_available, language),
        "tier_name": account.tier.name if account.tier else "",
        "dashboard_url": f"{settings.PATRON_PUBLIC_URL}/accounts/{account.pk}",
    }


@dataclass
class Planned:
    """What :func:`plan` wrote: the events, and how many were new."""

    events: list[EngagementEvent] = field(default_factory=list)
    created: int = 0


def plan(
    *,
    account: MemberAccount,
    kind: str,
    key: str,
    variables: dict[str, Any] | None = None,
    planned_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    channels: Iterable[str] | None = None,
    texts: dict[str, dict[str, str]] | None = None,
    campaign_id: int | None = None,
    dry_run: bool = False,
) -> Planned:
    """Plan one message of ``kind`` about occasion ``key`` to the member, one event per channel.

    ``account`` comes with ``customer``, ``tier`` and ``program.shop`` loaded. ``variables`` are
    the kind's own (formatted, see ``engagement.rendering``); the common ones are added. The
    words are the shop's template of the kind in the member's language (``Customer.locale``),
    else the default, or ``texts`` (a campaign's ``{language: {subject, body}}``). Statuses: planned,
    or skipped for no consent (first: it is the member's choice), a channel this server cannot
    send on, or no address. Idempotent
    per ``<kind>:<key>:<account>:<channel>`` (``INSERT ... ON CONFLICT DO NOTHING``). Deliveries
    of what is due are enqueued after the commit. With ``dry_run`` nothing is written.
    """
    shop = account.program.shop
    customer = account.customer
    language = language_of(customer.locale)
    at = planned_at or timezone.now()
    shop_settings = settings_of(shop.pk)
    wanted = list(channels) if channels is not None else channels_of(shop_settings, kind)
    if texts is not None:
        chosen = texts.get(language) or texts["en"]
        subject_template, body_template = chosen["subject"], chosen["body"]
    else:
        subject_template, body_template = template_of(shop.pk, kind, language)
    base = common_variables(account, language) | (variables or {})
    rows = []
    for channel in wanted:
        status = EventStatus.PLANNED
        if not may_receive(customer, channel):
            status = EventStatus.SKIPPED_CONSENT
        elif not channel_available(channel):
            status = EventStatus.SKIPPED_UNAVAILABLE
        elif address_of(account, channel) is None:
            status = EventStatus.SKIPPED_NO_ADDRESS
        link = unsubscribe_url(customer.pk, channel) if channel in CONSENT_FIELDS else ""
        message_key = f"{kind}:{key}:{account.pk}:{channel}"
        per_message = {"unsubscribe_url": link, "dashboard_url": click_url(message_key)}
        subject, body = render(subject_template, body_template, kind=kind, variables=base | per_message)
        rows.append(
            EngagementEvent(
                shop=shop,
                account=account,
                kind=kind,
                key=key,
                channel=channel,
                idempotency_key=message_key,
                campaign_id=campaign_id,
                language=language,
                subject=subject,
                body=body,
                planned_at=at,
                expires_at=expires_at,
                status=status,
            )
        )
    if dry_run:
        existing = set(
            EngagementEvent.objects.filter(idempotency_key__in=[r.idempotency_key for r in rows]).values_list(
                "idempotency_key", flat=True
            )
        )
        return Planned(events=rows, created=sum(1 for r in rows if r.idempotency_key not in existing))
    keys = [row.idempotency_key for row in rows]
    before = set(EngagementEvent.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    EngagementEvent.objects.bulk_create(rows, ignore_conflicts=True)
    events = list(EngagementEvent.objects.filter(idempotency_key__in=keys).order_by("pk"))
    fresh = [e.pk for e in events if e.idempotency_key not in before and e.status == EventStatus.PLANNED]
    now = timezone.now()
    due = [e.pk for e in events if e.pk in fresh and e.planned_at <= now]
    if due:
        transaction.on_commit(lambda: events_due.send(sender=EngagementEvent, event_ids=due))
    return Planned(events=events, created=len(events) - len(before))


def expiring_variables(points: int, expires_on: dt.date, language: str) -> dict[str, Any]:
    """The ``points_expiring`` kind's variables, formatted for ``language``."""
    return {"expiring_points": number(points, language), "expires_on": day(expires_on, language)}
