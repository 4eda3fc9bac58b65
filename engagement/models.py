"""What Patron tells members, on which channel, when, and what came of it (docs/engagement.md).

An :class:`EngagementEvent` is one message to one member on one channel: planned by a job or a
flow, then delivered by a dramatiq actor (``engagement.tasks``), each try recorded as a
:class:`DeliveryAttempt`. Its ``idempotency_key`` (kind, occasion, member, channel) is unique, so
a job or a retry that plans it again changes nothing, and a message is never sent twice.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from crm.models import Segment
from loyalty.models import MemberAccount
from marketplace.models import Shop


class EngagementKind(models.TextChoices):
    """Why a message is sent. ``marketing`` kinds need the channel's consent and count toward the
    frequency cap; service kinds (a code issued) still need consent for e-mail, SMS and push."""

    BIRTHDAY = "birthday", "Birthday"
    ANNIVERSARY = "anniversary", "Membership anniversary"
    PERSONAL_DATE = "personal_date", "A personal date the shop keeps (wedding anniversary, own occasion)"
    CULTURAL_EVENT = "cultural_event", "Cultural event (Nowruz, Yalda, Mehregan, ...)"
    TIER_UPGRADE = "tier_upgrade", "Moved up a tier"
    POINTS_EXPIRING = "points_expiring", "Points about to expire"
    REDEMPTION_ISSUED = "redemption_issued", "A reward code was issued"
    REFERRAL_COMPLETED = "referral_completed", "A referral completed"
    WIN_BACK = "win_back", "No visit for a long time"
    CAMPAIGN = "campaign", "A shop's own campaign"
    RENEWAL_REMINDER = "renewal_reminder", "A paid membership renews soon"


#: Kinds that are marketing (consent and the weekly cap apply); the rest are service messages.
MARKETING_KINDS = frozenset(
    {
        EngagementKind.BIRTHDAY,
        EngagementKind.ANNIVERSARY,
        EngagementKind.PERSONAL_DATE,
        EngagementKind.CULTURAL_EVENT,
        EngagementKind.WIN_BACK,
        EngagementKind.CAMPAIGN,
    }
)


class Channel(models.TextChoices):
    """Where a message goes. The inbox is in-app (the dashboard), needs no consent and has no cap."""

    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    PUSH = "push", "Web push"
    INBOX = "inbox", "Inbox in the dashboard"


class EventStatus(models.TextChoices):
    """Where a message stands. ``skipped_*`` are final: nothing was or will be sent."""

    PLANNED = "planned", "Planned"
    SENT = "sent", "Sent (handed to the provider)"
    DELIVERED = "delivered", "Delivered (the provider or the inbox confirms)"
    FAILED = "failed", "Failed after every retry"
    SKIPPED_CONSENT = "skipped_consent", "Skipped: no consent for the channel"
    SKIPPED_QUIET = "skipped_quiet", "Skipped: only quiet hours were left before it expired"
    SKIPPED_CAP = "skipped_cap", "Skipped: the member's weekly cap was reached"
    SKIPPED_NO_ADDRESS = "skipped_no_address", "Skipped: no e-mail, phone or push subscription"
    SKIPPED_UNAVAILABLE = "skipped_unavailable", "Skipped: this server has no provider for the channel"
    EXPIRED = "expired", "Not sent: it expired before it could go"


class EventResponse(models.TextChoices):
    """What the member did with a message (the furthest step seen)."""

    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    REDEEMED = "redeemed", "Redeemed"
    REPLIED = "replied", "Replied"


class EngagementSettings(models.Model):
    """A shop's rules for contacting members (defaults when it has no row, docs/engagement.md).

    ``channels`` maps a kind to the channels it uses (missing kinds use :data:`DEFAULT_CHANNELS`);
    quiet hours are read in the member's zone (the shop's when the member has none); the cap
    counts marketing messages per member over 7 days on every channel but the inbox.
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="engagement_settings")
    channels = models.JSONField(default=dict, blank=True)
    quiet_start = models.TimeField(default=dt.time(21, 0))
    quiet_end = models.TimeField(default=dt.time(9, 0))
    weekly_cap = models.PositiveSmallIntegerField(default=3)
    win_back_days = models.PositiveSmallIntegerField(default=90)
    expiring_days = models.PositiveSmallIntegerField(default=14)
    sms_sender = models.CharField(max_length=32, blank=True, help_text="Sender number or name at the SMS provider.")

    def __str__(self) -> str:
        return f"engagement settings of {self.shop_id}"


#: Channels of each kind when a shop has not chosen (the inbox always, e-mail for most).
DEFAULT_CHANNELS: dict[str, list[str]] = {
    EngagementKind.BIRTHDAY: [Channel.INBOX, Channel.EMAIL, Channel.SMS],
    EngagementKind.ANNIVERSARY: [Channel.INBOX, Channel.EMAIL],
    EngagementKind.PERSONAL_DATE: [Channel.INBOX, Channel.EMAIL],
    EngagementKind.CULTURAL_EVENT: [Channel.INBOX, Channel.EMAIL, Channel.SMS],
    EngagementKind.TIER_UPGRADE: [Channel.INBOX, Channel.EMAIL, Channel.PUSH],
    EngagementKind.POINTS_EXPIRING: [Channel.INBOX, Channel.EMAIL, Channel.PUSH],
    EngagementKind.REDEMPTION_ISSUED: [Channel.INBOX, Channel.EMAIL],
    EngagementKind.REFERRAL_COMPLETED: [Channel.INBOX, Channel.PUSH],
    EngagementKind.WIN_BACK: [Channel.INBOX, Channel.EMAIL, Channel.SMS],
    EngagementKind.CAMPAIGN: [Channel.INBOX, Channel.EMAIL],
    EngagementKind.RENEWAL_REMINDER: [Channel.INBOX, Channel.EMAIL],
}


class MessageTemplate(models.Model):
    """A shop's own wording of a kind in one language (Django template syntax; docs/engagement.md
    lists each kind's variables). Kinds without a row use the shipped defaults."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="message_templates")
    kind = models.CharField(max_length=24, choices=EngagementKind.choices)
    language = models.CharField(max_length=8, help_text="'en' or 'fa'.")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind", "language"], name="message_template_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.language} of {self.shop_id}"


class CampaignStatus(models.TextChoices):
    """A campaign's life: scheduled until its time, then sent (its messages planned), or cancelled."""

    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"


class Campaign(models.Model):
    """A shop's own message to a segment's members (or to every member), in both languages.

    ``texts`` is ``{"en": {"subject", "body"}, "fa": {...}}``; a member reads their language, else
    English. When ``send_at`` comes, the members of ``segment`` then (a dynamic segment's live
    criteria) get one message per channel of ``channels`` they may receive.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=120)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    texts = models.JSONField()
    channels = models.JSONField()
    send_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.SCHEDULED)
    planned = models.PositiveIntegerField(default=0, help_text="Messages planned when it was sent.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-send_at", "-id"]

    def __str__(self) -> str:
        return self.name


class OccasionCalendar(models.TextChoices):
    """The calendar a cultural event is dated in."""

    JALALI = "jalali", "Persian (Jalali)"
    GREGORIAN = "gregorian", "Gregorian"


class CulturalEvent(models.Model):
    """A yearly event of a shop (Nowruz 1 Farvardin, Mehregan 16 Mehr, Yalda 30 Azar, ...): on its
    local day, every member gets ``bonus_points`` (once per member and year of its calendar) and,
    when ``message`` is set, a ``cultural_event`` message."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="cultural_events")
    name = models.CharField(max_length=120)
    name_fa = models.CharField(max_length=120, blank=True)
    calendar = models.CharField(max_length=10, choices=OccasionCalendar.choices)
    month = models.PositiveSmallIntegerField()
    day = models.PositiveSmallIntegerField()
    bonus_points = models.PositiveIntegerField(default=0)
    message = models.BooleanField(default=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["calendar", "month", "day", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="cultural_event_month"),
            models.CheckConstraint(condition=Q(day__gte=1, day__lte=31), name="cultural_event_day"),
        ]

    def __str__(self) -> str:
        return self.name


class EngagementEvent(models.Model):
    """One message to one member on one channel (docs/engagement.md, "Engagement events").

    ``key`` names the occasion (``birthday:2026``, ``shopevent:<uid>``, ``campaign:<id>``);
    ``idempotency_key`` = ``<kind>:<key>:<account>:<channel>`` is unique. ``subject`` and ``body``
    are rendered when planned, in ``language``, so the log shows exactly what was sent.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="engagement_events")
    account = models.ForeignKey(MemberAccount, on_delete=models.CASCADE, related_name="engagement_events")
    kind = models.CharField(max_length=24, choices=EngagementKind.choices)
    key = models.CharField(max_length=120)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    idempotency_key = models.CharField(max_length=200, unique=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    planned_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Not sent after this (e.g. the points expired).")
    status = models.CharField(max_length=20, choices=EventStatus.choices, default=EventStatus.PLANNED)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True, help_text="When the member read it (inbox).")
    response = models.CharField(max_length=10, choices=EventResponse.choices, blank=True)
    response_at = models.DateTimeField(null=True, blank=True)
    provider_ref = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-planned_at", "-id"]
        indexes = [
            models.Index(fields=["status", "planned_at"], name="engagement_due"),
            models.Index(fields=["account", "channel", "-planned_at"], name="engagement_inbox"),
            models.Index(fields=["shop", "-planned_at"], name="engagement_log"),
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class AttemptOutcome(models.TextChoices):
    """What one try of a delivery did."""

    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (will be retried)"
    DEFERRED = "deferred", "Deferred (quiet hours)"
    SKIPPED = "skipped", "Skipped (see the event's status)"


class DeliveryAttempt(models.Model):
    """One try to deliver an engagement event: when, what happened, the provider's answer (no secrets)."""

    event = models.ForeignKey(EngagementEvent, on_delete=models.CASCADE, related_name="attempts_made")
    at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.outcome} of {self.event_id}"


class PushSubscription(models.Model):
    """A browser's Web Push subscription of a customer (from the dashboard's service worker)."""

    customer = models.ForeignKey("marketplace.Customer", on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=500, unique=True)
    p256dh = models.CharField(max_length=120)
    auth = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"push of {self.customer_id}"


class FeedCursor(models.Model):
    """How far engagement has read the shops' event feed (``ShopEvent.position``)."""

    name = models.CharField(max_length=40, unique=True)
    position = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"
