"""Reads of engagement: templates with their defaults, the delivery log and its figures, the inbox."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from engagement.defaults import DEFAULT_TEMPLATES
from engagement.models import (
    Campaign,
    Channel,
    CulturalEvent,
    EngagementEvent,
    EngagementKind,
    EventStatus,
    MessageTemplate,
)
from engagement.rendering import allowed_variables
from loyalty.reasons import LANGUAGES


@dataclass(frozen=True)
class TemplateRow:
    """A kind's wording in one language as the shop sends it, and whether it is the shipped default."""

    kind: str
    language: str
    subject: str
    body: str
    is_default: bool
    variables: tuple[str, ...]


def templates_of_shop(*, shop_id: int) -> list[TemplateRow]:
    """Every kind in every language: the shop's own template, else the default. One query."""
    own = {(t.kind, t.language): t for t in MessageTemplate.objects.filter(shop_id=shop_id)}
    rows = []
    for kind in EngagementKind.values:
        for language in LANGUAGES:
            template = own.get((kind, language))
            subject, body = (template.subject, template.body) if template else DEFAULT_TEMPLATES[kind][language]
            rows.append(
                TemplateRow(kind, language, subject, body, template is None, tuple(sorted(allowed_variables(kind))))
            )
    return rows


def engagement_log(
    *,
    shop_id: int,
    kind: str | None = None,
    channel: str | None = None,
    status: str | None = None,
    account_id: int | None = None,
) -> QuerySet[EngagementEvent]:
    """The shop's messages, newest planned first, filtered (lazy; the API pages it)."""
    events = EngagementEvent.objects.filter(shop_id=shop_id)
    if kind:
        events = events.filter(kind=kind)
    if channel:
        events = events.filter(channel=channel)
    if status:
        events = events.filter(status=status)
    if account_id is not None:
        events = events.filter(account_id=account_id)
    return events.order_by("-planned_at", "-pk")


@dataclass(frozen=True)
class KindFigures:
    """Per kind over a period: messages planned, sent or delivered, failed, skipped, and read (inbox)."""

    kind: str
    planned: int
    sent: int
    failed: int
    skipped: int
    opened: int


def engagement_figures(*, shop_id: int, start: dt.datetime, end: dt.datetime) -> list[KindFigures]:
    """Counts per kind of the messages planned in ``[start, end)``, in one query."""
    rows = (
        EngagementEvent.objects.filter(shop_id=shop_id, planned_at__gte=start, planned_at__lt=end)
        .values("kind")
        .annotate(
            planned=Count("pk"),
            sent=Count("pk", filter=Q(status__in=(EventStatus.SENT, EventStatus.DELIVERED))),
            failed=Count("pk", filter=Q(status=EventStatus.FAILED)),
            skipped=Count("pk", filter=Q(status__startswith="skipped")),
            opened=Count("pk", filter=Q(response__in=("opened", "clicked", "redeemed", "replied"))),
        )
        .order_by("kind")
    )
    return [KindFigures(**row) for row in rows]


def campaigns_of_shop(*, shop_id: int) -> QuerySet[Campaign]:
    """The shop's campaigns, latest sending time first."""
    return Campaign.objects.filter(shop_id=shop_id).select_related("segment").order_by("-send_at", "-pk")


def cultural_events_of_shop(*, shop_id: int) -> QuerySet[CulturalEvent]:
    """The shop's cultural events by calendar and date."""
    return CulturalEvent.objects.filter(shop_id=shop_id).order_by("calendar", "month", "day", "pk")


def inbox_of(*, account_id: int) -> QuerySet[EngagementEvent]:
    """A member account's inbox: delivered in-app messages, newest first."""
    return EngagementEvent.objects.filter(
        account_id=account_id, channel=Channel.INBOX, status=EventStatus.DELIVERED
    ).order_by("-sent_at", "-pk")
