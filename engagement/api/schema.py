"""engagement's part of the GraphQL schema: staff write templates, campaigns, cultural events and
contact rules (``messages:write``); members read their inbox and register browsers for web push.

Resolvers are thin: they decode ids, call one service and map :class:`EngagementError` to payload
errors (``handle_domain_errors``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry
from django.conf import settings
from strawberry.types import Info

from api_core.context import current_user
from api_core.errors import handle_domain_errors
from api_core.ids import decode_global_id
from engagement.api.types import (
    Campaign,
    ContactRules,
    CulturalEvent,
    EngagementError,
    EngagementKind,
    MessageChannel,
    MessagePreview,
    MessageTemplate,
    OccasionCalendar,
)
from engagement.defaults import DEFAULT_TEMPLATES
from engagement.rendering import allowed_variables
from engagement.services.admin import (
    CampaignData,
    ContactRulesData,
    CulturalEventData,
    campaign_cancel,
    campaign_create,
    cultural_event_delete,
    cultural_event_save,
    engagement_settings_set,
    message_preview,
    message_template_reset,
    message_template_save,
)
from engagement.services.inbox import inbox_mark_read, push_subscription_add

ID_ARG = Annotated[strawberry.ID, strawberry.argument(description="Global id.")]
STAFF_CODES = "Codes: NOT_AUTHENTICATED, PERMISSION_DENIED (messages:write: owner, manager), INVALID_INPUT"


@strawberry.input(description="A kind's wording in one language (Django template language; docs/engagement.md).")
class MessageTemplateInput:
    """Input of messageTemplateSave and messagePreview."""

    kind: EngagementKind = strawberry.field(description="The kind.")
    language: str = strawberry.field(description="'en' or 'fa'.")
    subject: str = strawberry.field(description="1-200 characters, one line.")
    body: str = strawberry.field(description="1-5,000 characters.")


@strawberry.type(description="Result of messageTemplateSave and messageTemplateReset.")
class MessageTemplatePayload:
    """The template now in use, or coded errors."""

    template: MessageTemplate | None = strawberry.field(default=None, description="The template; null when refused.")
    errors: list[EngagementError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.type(description="Result of messagePreview.")
class MessagePreviewPayload:
    """The rendered message, or coded errors (INVALID_TEMPLATE names subject or body)."""

    preview: MessagePreview | None = strawberry.field(default=None, description="Null when refused.")
    errors: list[EngagementError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.input(description="A campaign's text in one language.")
class CampaignTextInput:
    """Subject and body of one language."""

    language: str = strawberry.field(description="'en' (required) or 'fa'.")
    subject: str = strawberry.field(description="1-200 characters, one line (template language).")
    body: str = strawberry.field(description="1-5,000 characters (template language).")


@strawberry.input(description="A campaign to a segment's members (or every member).")
class CampaignInput:
    """Input of campaignCreate."""

    name: str = strawberry.field(description="1-120 characters, for staff.")
    texts: list[CampaignTextInput] = strawberry.field(description="English required; Persian optional.")
    channels: list[MessageChannel] = strawberry.field(description="Channels to use (consent applies to each).")
    segment_id: strawberry.ID | None = strawberry.field(default=None, description="The segment; null: every member.")
    send_at: dt.datetime | None = strawberry.field(default=None, description="When; null: now.")


@strawberry.type(description="Result of campaignCreate and campaignCancel.")
class CampaignPayload:
    """The campaign, or coded errors."""

    campaign: Campaign | None = strawberry.field(default=None, description="Null when refused.")
    errors: list[EngagementError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.input(description="A cultural event's settings.")
class CulturalEventInput:
    """Input of culturalEventSave."""

    name: str = strawberry.field(description="Name (English), 1-120 characters.")
    name_fa: str = strawberry.field(default="", description="Name in Persian.")
    calendar: OccasionCalendar = strawberry.field(description="Jalali or Gregorian.")
    month: int = strawberry.field(description="1-12.")
    day: int = strawberry.field(description="A day the month has.")
    bonus_points: int = strawberry.field(default=0, description="0-1,000,000 points to every active member.")
    message: bool = strawberry.field(default=True, description="Send members a message.")
    active: bool = strawberry.field(default=True, description="Runs.")


@strawberry.type(description="Result of culturalEventSave.")
class CulturalEventPayload:
    """The event, or coded errors."""

    event: CulturalEvent | None = strawberry.field(default=None, description="Null when refused.")
    errors: list[EngagementError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.input(description="A shop's contact rules.")
class ContactRulesInput:
    """Input of contactRulesSet."""

    quiet_start: dt.time = strawberry.field(description="Quiet hours start (local).")
    quiet_end: dt.time = strawberry.field(description="Quiet hours end (local; may be the next morning).")
    weekly_cap: int = strawberry.field(description="1-50 marketing messages per member per 7 days.")
    win_back_days: int = strawberry.field(description="7-730 days without a visit.")
    expiring_days: int = strawberry.field(description="1-90 days ahead of expiring points.")
    sms_sender: str = strawberry.field(default="", description="Sender at the SMS provider.")


@strawberry.type(description="Result of contactRulesSet.")
class ContactRulesPayload:
    """The rules, or coded errors."""

    rules: ContactRules | None = strawberry.field(default=None, description="Null when refused.")
    errors: list[EngagementError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.type(description="Result of a deletion or of marking messages read.")
class EngagementCountPayload:
    """How many rows changed, or coded errors."""

    count: int = strawberry.field(default=0, description="Rows changed.")
    errors: list[EngagementError] = strawberry.field(default_factory=list, description="Empty on success.")


def _template(kind: str, language: str, subject: str, body: str, is_default: bool) -> MessageTemplate:
    return MessageTemplate(
        kind=EngagementKind(kind),
        language=language,
        subject=subject,
        body=body,
        is_default=is_default,
        variables=sorted(allowed_variables(kind)),
    )


@strawberry.type
class EngagementQuery:
    """Read side of engagement outside a shop."""

    @strawberry.field(description="The server's VAPID public key for web push (base64url); null: push is off.")
    def web_push_public_key(self) -> str | None:
        """``PATRON_VAPID_PUBLIC_KEY``, or null."""
        return settings.PATRON_VAPID_PUBLIC_KEY or None


@strawberry.type
class EngagementMutation:
    """Messages: templates, campaigns, cultural events, contact rules, the inbox, web push."""

    @strawberry.mutation(
        description=f"Set the shop's wording of a kind in a language. {STAFF_CODES}, INVALID_TEMPLATE."
    )
    @handle_domain_errors(MessageTemplatePayload, EngagementError)
    def message_template_save(
        self,
        info: Info,
        shop_id: ID_ARG,
        input: Annotated[MessageTemplateInput, strawberry.argument(description="It.")],
    ) -> MessageTemplatePayload:
        """Call ``message_template_save``."""
        saved = message_template_save(
            user=current_user(info),
            shop_id=decode_global_id(shop_id, "Shop") or 0,
            kind=input.kind.value,
            language=input.language,
            subject=input.subject,
            body=input.body,
        )
        return MessageTemplatePayload(template=_template(saved.kind, saved.language, saved.subject, saved.body, False))

    @strawberry.mutation(description=f"Go back to the shipped default of a kind in a language. {STAFF_CODES}.")
    @handle_domain_errors(MessageTemplatePayload, EngagementError)
    def message_template_reset(
        self,
        info: Info,
        shop_id: ID_ARG,
        kind: Annotated[EngagementKind, strawberry.argument(description="The kind.")],
        language: Annotated[str, strawberry.argument(description="'en' or 'fa'.")],
    ) -> MessageTemplatePayload:
        """Call ``message_template_reset``."""
        message_template_reset(
            user=current_user(info), shop_id=decode_global_id(shop_id, "Shop") or 0, kind=kind.value, language=language
        )
        subject, body = DEFAULT_TEMPLATES[kind.value][language]
        return MessageTemplatePayload(template=_template(kind.value, language, subject, body, True))

    @strawberry.mutation(
        description=(
            "Render a template with a member's real data and sample occasion values; saves nothing. "
            f"{STAFF_CODES}, INVALID_TEMPLATE, NOT_FOUND (accountId)."
        )
    )
    @handle_domain_errors(MessagePreviewPayload, EngagementError)
    def message_preview(
        self,
        info: Info,
        shop_id: ID_ARG,
        input: Annotated[MessageTemplateInput, strawberry.argument(description="The template to render.")],
        account_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="A member of the shop; null: samples only.")
        ] = None,
    ) -> MessagePreviewPayload:
        """Call ``message_preview``."""
        subject, body = message_preview(
            user=current_user(info),
            shop_id=decode_global_id(shop_id, "Shop") or 0,
            kind=input.kind.value,
            language=input.language,
            subject=input.subject,
            body=input.body,
            account_id=(decode_global_id(account_id, "MemberAccount") or 0) if account_id else None,
        )
        return MessagePreviewPayload(preview=MessagePreview(subject=subject, body=body))

    @strawberry.mutation(description=f"Schedule a campaign. {STAFF_CODES}, INVALID_TEMPLATE.")
    @handle_domain_errors(CampaignPayload, EngagementError)
    def campaign_create(
        self, info: Info, shop_id: ID_ARG, input: Annotated[CampaignInput, strawberry.argument(description="It.")]
    ) -> CampaignPayload:
        """Call ``campaign_create``."""
        campaign = campaign_create(
            user=current_user(info),
            shop_id=decode_global_id(shop_id, "Shop") or 0,
            data=CampaignData(
                name=input.name,
                texts={t.language: {"subject": t.subject, "body": t.body} for t in input.texts},
                channels=[c.value for c in input.channels],
                send_at=input.send_at,
                segment_id=(decode_global_id(input.segment_id, "Segment") or 0) if input.segment_id else None,
            ),
        )
        return CampaignPayload(campaign=cast(Campaign, campaign))

    @strawberry.mutation(
        description="Cancel a scheduled campaign. Codes: NOT_AUTHENTICATED, NOT_FOUND, CAMPAIGN_CLOSED."
    )
    @handle_domain_errors(CampaignPayload, EngagementError)
    def campaign_cancel(self, info: Info, campaign_id: ID_ARG) -> CampaignPayload:
        """Call ``campaign_cancel``."""
        campaign = campaign_cancel(user=current_user(info), campaign_id=decode_global_id(campaign_id, "Campaign") or 0)
        return CampaignPayload(campaign=cast(Campaign, campaign))

    @strawberry.mutation(description=f"Create (no id) or change a cultural event. {STAFF_CODES}, NOT_FOUND.")
    @handle_domain_errors(CulturalEventPayload, EngagementError)
    def cultural_event_save(
        self,
        info: Info,
        shop_id: ID_ARG,
        input: Annotated[CulturalEventInput, strawberry.argument(description="Settings.")],
        id: Annotated[strawberry.ID | None, strawberry.argument(description="The event to change.")] = None,
    ) -> CulturalEventPayload:
        """Call ``cultural_event_save``."""
        event = cultural_event_save(
            user=current_user(info),
            shop_id=decode_global_id(shop_id, "Shop") or 0,
            event_id=(decode_global_id(id, "CulturalEvent") or 0) if id else None,
            data=CulturalEventData(
                name=input.name,
                name_fa=input.name_fa,
                calendar=input.calendar.value,
                month=input.month,
                day=input.day,
                bonus_points=input.bonus_points,
                message=input.message,
                active=input.active,
            ),
        )
        return CulturalEventPayload(event=cast(CulturalEvent, event))

    @strawberry.mutation(description="Delete a cultural event. Codes: NOT_AUTHENTICATED, NOT_FOUND.")
    @handle_domain_errors(EngagementCountPayload, EngagementError)
    def cultural_event_delete(self, info: Info, id: ID_ARG) -> EngagementCountPayload:
        """Call ``cultural_event_delete``."""
        cultural_event_delete(user=current_user(info), event_id=decode_global_id(id, "CulturalEvent") or 0)
        return EngagementCountPayload(count=1)

    @strawberry.mutation(description=f"Set the shop's contact rules. {STAFF_CODES}.")
    @handle_domain_errors(ContactRulesPayload, EngagementError)
    def contact_rules_set(
        self, info: Info, shop_id: ID_ARG, input: Annotated[ContactRulesInput, strawberry.argument(description="It.")]
    ) -> ContactRulesPayload:
        """Call ``engagement_settings_set``."""
        rules = engagement_settings_set(
            user=current_user(info),
            shop_id=decode_global_id(shop_id, "Shop") or 0,
            rules=ContactRulesData(
                quiet_start=input.quiet_start,
                quiet_end=input.quiet_end,
                weekly_cap=input.weekly_cap,
                win_back_days=input.win_back_days,
                expiring_days=input.expiring_days,
                sms_sender=input.sms_sender,
            ),
        )
        return ContactRulesPayload(rules=cast(ContactRules, rules))

    @strawberry.mutation(
        description=(
            "Mark the caller's inbox messages read (others' ids are ignored). "
            "Codes: NOT_AUTHENTICATED, NOT_FOUND, INVALID_INPUT (over 200 ids)."
        )
    )
    @handle_domain_errors(EngagementCountPayload, EngagementError)
    def inbox_mark_read(
        self, info: Info, ids: Annotated[list[strawberry.ID], strawberry.argument(description="Inbox messages.")]
    ) -> EngagementCountPayload:
        """Call ``inbox_mark_read``."""
        decoded = [decode_global_id(i, "EngagementEvent") or 0 for i in ids]
        return EngagementCountPayload(count=inbox_mark_read(user=current_user(info), event_ids=decoded))

    @strawberry.mutation(
        description=(
            "Keep this browser's web push subscription for the caller (the dashboard's service worker). "
            "Codes: NOT_AUTHENTICATED, NOT_FOUND, INVALID_INPUT."
        )
    )
    @handle_domain_errors(EngagementCountPayload, EngagementError)
    def push_subscription_add(
        self,
        info: Info,
        endpoint: Annotated[str, strawberry.argument(description="The push service's https URL.")],
        p256dh: Annotated[str, strawberry.argument(description="The browser's public key (base64url).")],
        auth: Annotated[str, strawberry.argument(description="The auth secret (base64url).")],
    ) -> EngagementCountPayload:
        """Call ``push_subscription_add``."""
        push_subscription_add(user=current_user(info), endpoint=endpoint, p256dh=p256dh, auth=auth)
        return EngagementCountPayload(count=1)
