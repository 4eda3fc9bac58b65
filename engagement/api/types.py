"""GraphQL types of engagement: templates, campaigns, cultural events, the delivery log, the inbox.

``ShopEngagementPart`` adds the staff's fields to ``Shop`` (capability ``messages:write``: owner,
manager); ``AccountEngagementPart`` adds the inbox to ``MemberAccount`` (the member, or staff with
``members:read``). Both are composed in ``config.nodes``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, cast

import strawberry
import strawberry_django
from strawberry import relay
from strawberry_django.relay import DjangoListConnection

from api_core.errors import PayloadError, coded_error
from api_core.ids import decode_global_id
from api_core.permissions import requires
from engagement import errors as domain
from engagement import models
from engagement.selectors import (
    campaigns_of_shop,
    cultural_events_of_shop,
    engagement_figures,
    engagement_log,
    inbox_of,
    templates_of_shop,
)
from engagement.services.gifts import gift_suggestions
from engagement.services.planning import settings_of
from loyalty import models as loyalty_models
from marketplace import models as mp
from marketplace.permissions import Capability

EngagementErrorCode = domain.EngagementErrorCode
strawberry.enum(EngagementErrorCode, name="EngagementErrorCode", description="Why an engagement operation was refused.")
EngagementKind = models.EngagementKind
strawberry.enum(EngagementKind, name="EngagementKind", description="Why a message is sent (docs/engagement.md).")
MessageChannel = models.Channel
strawberry.enum(MessageChannel, name="MessageChannel", description="Where a message goes.")
MessageStatus = models.EventStatus
strawberry.enum(MessageStatus, name="MessageStatus", description="Where a message stands; skipped ones say why.")
MessageResponse = models.EventResponse
strawberry.enum(MessageResponse, name="MessageResponse", description="What the member did with a message.")
CampaignStatus = models.CampaignStatus
strawberry.enum(CampaignStatus, name="CampaignStatus", description="Scheduled, sent or cancelled.")
OccasionCalendar = models.OccasionCalendar
strawberry.enum(OccasionCalendar, name="OccasionCalendar", description="The calendar a cultural event is dated in.")
AttemptOutcome = models.AttemptOutcome
strawberry.enum(AttemptOutcome, name="DeliveryOutcome", description="What one try of a delivery did.")

NODES = "config.nodes"  # a string: this layer never imports config (strawberry resolves it lazily)
MEMBER_ACCOUNT = Annotated["MemberAccount", strawberry.lazy(NODES)]  # type: ignore[name-defined]  # noqa: F821
_STAFF = "Only the shop's owner or a manager can see its messages."
_MEMBERS = "Only the member, or the shop's owner or manager, can read the inbox."


@strawberry.type(description="A refused engagement operation; nothing was changed.")
class EngagementError(PayloadError):
    """One reason a template, campaign, cultural event, settings or inbox operation was refused."""

    codes = EngagementErrorCode
    code: EngagementErrorCode = strawberry.field(description="Stable machine-readable code.")


@strawberry.type(description="A kind's wording in one language, as the shop sends it.")
class MessageTemplate:
    """The shop's own template, or the shipped default."""

    kind: EngagementKind = strawberry.field(description="The kind.")
    language: str = strawberry.field(description="'en' or 'fa' (written right to left).")
    subject: str = strawberry.field(description="Subject (Django template language).")
    body: str = strawberry.field(description="Body (Django template language).")
    is_default: bool = strawberry.field(description="True while the shop uses the shipped default.")
    variables: list[str] = strawberry.field(description="The variables a template of this kind may use.")


@strawberry.type(description="A message rendered for a preview (nothing is saved or sent).")
class MessagePreview:
    """Subject and body as the member would read them."""

    subject: str = strawberry.field(description="Rendered subject.")
    body: str = strawberry.field(description="Rendered body.")


@strawberry_django.type(models.DeliveryAttempt, name="DeliveryAttempt", description="One try to deliver a message.")
class DeliveryAttempt:
    """When, what happened and the provider's answer (no secrets)."""

    at: dt.datetime = strawberry_django.field(description="When.")
    outcome: AttemptOutcome = strawberry_django.field(description="Sent, failed, deferred or skipped.")
    detail: str = strawberry_django.field(description="The provider's answer or the reason.")


@strawberry_django.type(
    models.EngagementEvent, name="EngagementEvent", description="One message to one member on one channel."
)
class EngagementEvent(relay.Node):
    """A planned, sent or skipped message and what came of it."""

    kind: EngagementKind = strawberry_django.field(description="Why it is sent.")
    key: str = strawberry_django.field(description="The occasion, e.g. birthday:2026 or campaign:12.")
    channel: MessageChannel = strawberry_django.field(description="Where it goes.")
    status: MessageStatus = strawberry_django.field(description="Where it stands.")
    response: MessageResponse | None = strawberry_django.field(description="What the member did; null: nothing yet.")
    language: str = strawberry_django.field(description="The language it is written in.")
    subject: str = strawberry_django.field(description="Rendered subject.")
    body: str = strawberry_django.field(description="Rendered body.")
    planned_at: dt.datetime = strawberry_django.field(description="When it is (was) to go.")
    sent_at: dt.datetime | None = strawberry_django.field(description="When it went.")
    read_at: dt.datetime | None = strawberry_django.field(description="When the member read it (inbox).")
    attempts: int = strawberry_django.field(description="Tries to send it so far.")

    @strawberry_django.field(description="Every try, in order.", prefetch_related=["attempts_made"])
    def delivery_attempts(self) -> list[DeliveryAttempt]:
        """The event's attempts."""
        return cast(list[DeliveryAttempt], list(cast(models.EngagementEvent, self).attempts_made.all()))

    @strawberry_django.field(description="The member it is for.", select_related=["account"])
    def member(self) -> MEMBER_ACCOUNT:
        """The account."""
        return cast(Any, cast(models.EngagementEvent, self).account)


@strawberry_django.type(models.Campaign, name="Campaign", description="A shop's own message to a segment.")
class Campaign(relay.Node):
    """Its texts, channels, time and outcome."""

    name: str = strawberry_django.field(description="Name, for staff.")
    channels: list[MessageChannel] = strawberry_django.field(description="The channels it uses.")
    send_at: dt.datetime = strawberry_django.field(description="When it goes.")
    status: CampaignStatus = strawberry_django.field(description="Scheduled, sent or cancelled.")
    planned: int = strawberry_django.field(description="Messages planned when it was sent.")
    sent_at: dt.datetime | None = strawberry_django.field(description="When it was sent.")

    @strawberry_django.field(description="The segment's global id; null: every member.", only=["segment_id"])
    def segment_id(self) -> strawberry.ID | None:
        """The segment as a ``Segment`` global id."""
        pk = cast(models.Campaign, self).segment_id
        return strawberry.ID(relay.to_base64("Segment", pk)) if pk else None

    @strawberry_django.field(description="Subject and body per language ('en' required, 'fa').", only=["texts"])
    def texts(self) -> list[CampaignText]:
        """The stored texts."""
        stored = cast(models.Campaign, self).texts
        return [CampaignText(language=lang, subject=t["subject"], body=t["body"]) for lang, t in sorted(stored.items())]


@strawberry.type(description="A campaign's text in one language.")
class CampaignText:
    """Subject and body."""

    language: str = strawberry.field(description="'en' or 'fa'.")
    subject: str = strawberry.field(description="Subject (template language).")
    body: str = strawberry.field(description="Body (template language).")


@strawberry_django.type(models.CulturalEvent, name="CulturalEvent", description="A yearly event of a shop.")
class CulturalEvent(relay.Node):
    """Nowruz, Mehregan, Yalda or any yearly date: a bonus and/or a message to every member."""

    name: str = strawberry_django.field(description="Name (English).")
    name_fa: str = strawberry_django.field(description="Name in Persian.")
    calendar: OccasionCalendar = strawberry_django.field(description="Jalali or Gregorian.")
    month: int = strawberry_django.field(description="Month of its calendar, 1-12.")
    day: int = strawberry_django.field(description="Day of the month.")
    bonus_points: int = strawberry_django.field(description="Points to every active member, once a year (0: none).")
    message: bool = strawberry_django.field(description="Whether members get a message.")
    active: bool = strawberry_django.field(description="Whether it runs.")


@strawberry_django.type(models.EngagementSettings, name="ContactRules", description="A shop's contact rules.")
class ContactRules:
    """Quiet hours, the weekly cap, win-back and expiry warning days."""

    quiet_start: dt.time = strawberry_django.field(description="Quiet hours start (member's local time).")
    quiet_end: dt.time = strawberry_django.field(description="Quiet hours end.")
    weekly_cap: int = strawberry_django.field(description="Marketing messages per member per 7 days (inbox aside).")
    win_back_days: int = strawberry_django.field(description="Days without a visit before a win-back message.")
    expiring_days: int = strawberry_django.field(description="Days ahead of expiring points to warn.")
    sms_sender: str = strawberry_django.field(description="Sender at the SMS provider (empty: the default).")


@strawberry.type(description="Messages of one kind over a period.")
class KindFigures:
    """Counts per status group."""

    kind: EngagementKind = strawberry.field(description="The kind.")
    planned: int = strawberry.field(description="Messages planned.")
    sent: int = strawberry.field(description="Sent or delivered.")
    failed: int = strawberry.field(description="Failed after every retry.")
    skipped: int = strawberry.field(description="Skipped (consent, address, quiet hours, cap, channel).")
    opened: int = strawberry.field(description="Read or answered by the member.")


@strawberry.type
class ShopEngagementPart(relay.Node):
    """Messages of a shop (capability messages:write)."""

    @strawberry_django.field(
        description="Every kind in every language: the shop's template or the default (capability messages:write).",
        extensions=[requires(Capability.MANAGE_MESSAGES, message=_STAFF)],
    )
    def message_templates(self) -> list[MessageTemplate]:
        """Call ``templates_of_shop``."""
        return [
            MessageTemplate(
                kind=EngagementKind(row.kind),
                language=row.language,
                subject=row.subject,
                body=row.body,
                is_default=row.is_default,
                variables=list(row.variables),
            )
            for row in templates_of_shop(shop_id=cast(mp.Shop, self).pk)
        ]

    @strawberry_django.field(
        description="The shop's campaigns, latest first (capability messages:write).",
        extensions=[requires(Capability.MANAGE_MESSAGES, message=_STAFF)],
    )
    def campaigns(self) -> list[Campaign]:
        """Call ``campaigns_of_shop``."""
        return cast(list[Campaign], list(campaigns_of_shop(shop_id=cast(mp.Shop, self).pk)))

    @strawberry_django.field(
        description="The shop's cultural events (capability messages:write).",
        extensions=[requires(Capability.MANAGE_MESSAGES, message=_STAFF)],
    )
    def cultural_events(self) -> list[CulturalEvent]:
        """Call ``cultural_events_of_shop``."""
        return cast(list[CulturalEvent], list(cultural_events_of_shop(shop_id=cast(mp.Shop, self).pk)))

    @strawberry_django.field(
        description="The shop's contact rules (capability messages:write).",
        extensions=[requires(Capability.MANAGE_MESSAGES, message=_STAFF)],
    )
    def contact_rules(self) -> ContactRules:
        """Call ``settings_of`` (defaults when the shop set none)."""
        return cast(ContactRules, settings_of(cast(mp.Shop, self).pk))

    @strawberry_django.connection(
        DjangoListConnection[EngagementEvent],
        description="The delivery log, newest first, filtered (capability messages:write).",
        extensions=[requires(Capability.MANAGE_MESSAGES, message=_STAFF)],
    )
    def engagement_log(
        self,
        kind: Annotated[EngagementKind | None, strawberry.argument(description="Only this kind.")] = None,
        channel: Annotated[MessageChannel | None, strawberry.argument(description="Only this channel.")] = None,
        status: Annotated[MessageStatus | None, strawberry.argument(description="Only this status.")] = None,
        account_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this member's.")] = None,
    ) -> list[models.EngagementEvent]:
        """Call ``engagement_log``."""
        return engagement_log(  # type: ignore[return-value]
            shop_id=cast(mp.Shop, self).pk,
            kind=kind.value if kind else None,
            channel=channel.value if channel else None,
            status=status.value if status else None,
            account_id=(decode_global_id(account_id, "MemberAccount") or 0) if account_id else None,
        )

    @strawberry_django.field(
        description="Messages per kind planned in [from, to) (capability messages:write); at most 366 days.",
        extensions=[requires(Capability.MANAGE_MESSAGES, message=_STAFF)],
    )
    def engagement_figures(
        self,
        from_: Annotated[dt.datetime, strawberry.argument(name="from", description="Start (inclusive).")],
        to: Annotated[dt.datetime, strawberry.argument(description="End (exclusive).")],
    ) -> list[KindFigures]:
        """Call ``engagement_figures``; INVALID_INPUT on ``to`` for a bad period."""
        if not from_ < to or to - from_ > dt.timedelta(days=366):
            raise coded_error("The period ends after it starts, within 366 days.", code="INVALID_INPUT", field="to")
        rows = engagement_figures(shop_id=cast(mp.Shop, self).pk, start=from_, end=to)
        return [
            KindFigures(
                kind=EngagementKind(r.kind),
                planned=r.planned,
                sent=r.sent,
                failed=r.failed,
                skipped=r.skipped,
                opened=r.opened,
            )
            for r in rows
        ]


def _account_shop(account: Any, arguments: dict[str, Any]) -> int | None:
    return cast(loyalty_models.MemberAccount, account).program.shop_id


def _account_member(account: Any) -> int | None:
    return cast(loyalty_models.MemberAccount, account).customer_id


def _inbox_reader() -> Any:
    return requires(Capability.READ_MEMBERS, message=_MEMBERS, shop_of=_account_shop, member_of=_account_member)


@strawberry.type
class AccountEngagementPart(relay.Node):
    """The member's inbox in one shop."""

    @strawberry_django.connection(
        DjangoListConnection[EngagementEvent],
        description="The dashboard inbox, newest first (the member, or staff with capability members:read).",
        extensions=[_inbox_reader()],
        select_related=["program"],
    )
    def inbox(self) -> list[models.EngagementEvent]:
        """Call ``inbox_of``."""
        return inbox_of(account_id=cast(loyalty_models.MemberAccount, self).pk)  # type: ignore[return-value]

    @strawberry_django.field(
        description=(
            "Up to three gift ideas for the member: rewards their points buy now, then products of their "
            "favourite categories (docs/engagement.md, 'Gift suggestions'; staff with capability members:read)."
        ),
        extensions=[requires(Capability.READ_MEMBERS, message=_MEMBERS, shop_of=_account_shop)],
        select_related=["program", "tier"],
    )
    def gift_suggestions(self) -> list[str]:
        """Call ``gift_suggestions``."""
        return gift_suggestions(cast(loyalty_models.MemberAccount, self))

    @strawberry_django.field(
        description="Inbox messages not read yet (the member, or staff with capability members:read).",
        extensions=[_inbox_reader()],
        select_related=["program"],
    )
    def inbox_unread_count(self) -> int:
        """Count of unread inbox messages."""
        return inbox_of(account_id=cast(loyalty_models.MemberAccount, self).pk).filter(read_at__isnull=True).count()
