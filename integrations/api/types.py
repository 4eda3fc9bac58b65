"""GraphQL types of integrations: API keys, webhook endpoints and deliveries, the shop event feed.

``ShopIntegrationsPart`` adds ``apiKeys`` (``apikeys:manage``), ``webhookEndpoints``
(``webhooks:manage``) and ``events`` (``events:read``) to ``Shop`` (``config.nodes``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry
import strawberry_django
from strawberry import relay
from strawberry.relay.utils import from_base64, to_base64
from strawberry.scalars import JSON

from api_core.errors import PayloadError, coded_error
from api_core.permissions import requires
from integrations import errors as domain
from integrations import models
from integrations.selectors import (
    FEED_PAGE_MAX,
    shop_events_after,
    webhook_deliveries_of_endpoint,
    webhook_endpoints_of_shop,
)
from marketplace import errors as mp_errors
from marketplace import models as mp
from marketplace.permissions import KEY_SCOPES, Capability
from marketplace.services.api_keys import api_keys_of_shop

WebhookErrorCode = domain.WebhookErrorCode
strawberry.enum(WebhookErrorCode, name="WebhookErrorCode", description="Why a webhook operation was refused.")
ApiKeyErrorCode = mp_errors.ApiKeyErrorCode
strawberry.enum(ApiKeyErrorCode, name="ApiKeyErrorCode", description="Why an API-key operation was refused.")

DeliveryStatus = models.DeliveryStatus
strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus", description="Where a delivery stands.")


@strawberry.type(description="A refused API-key operation; nothing changed.")
class ApiKeyError(PayloadError):
    """One reason an API-key operation was refused."""

    codes = mp_errors.ApiKeyErrorCode
    code: ApiKeyErrorCode = strawberry.field(description="Stable machine-readable code.")


@strawberry.type(description="A refused webhook operation; nothing changed.")
class WebhookError(PayloadError):
    """One reason a webhook operation was refused."""

    codes = domain.WebhookErrorCode
    code: WebhookErrorCode = strawberry.field(description="Stable machine-readable code.")


@strawberry_django.type(
    mp.ApiKey, name="ApiKey", description="A shop's API key (the secret itself is never shown again)."
)
class ApiKey(relay.Node):
    """Name, visible prefix, scopes, expiry and use of a key."""

    name: str = strawberry_django.field(description="What the key is for.")
    prefix: str = strawberry_django.field(description="The key's visible part: it starts `ptn_<prefix>_`.")
    scopes: list[str] = strawberry_django.field(description="Capabilities the key holds, e.g. 'orders:write'.")
    rate_limit: str = strawberry_django.field(
        description="Its own request rate, e.g. '600/minute'; empty: the server's."
    )
    created_at: dt.datetime = strawberry_django.field(description="When it was created.")
    expires_at: dt.datetime | None = strawberry_django.field(description="When it stops working; null: never.")
    last_used_at: dt.datetime | None = strawberry_django.field(description="Last request with it (to the minute).")
    revoked_at: dt.datetime | None = strawberry_django.field(description="When it was revoked; null: not revoked.")

    @strawberry_django.field(
        description="Whether a request with the key would be accepted now (not revoked or expired)."
    )
    def is_active(self) -> bool:
        """Not revoked and not past its expiry."""
        key = cast(mp.ApiKey, self)
        now = dt.datetime.now(dt.UTC)
        return key.revoked_at is None and (key.expires_at is None or key.expires_at > now)


@strawberry.type(description="A key just created or rotated: `key` is shown this once; store it now.")
class IssuedApiKey:
    """The new key's row and its full secret."""

    api_key: ApiKey = strawberry.field(description="The key's details.")
    key: str = strawberry.field(
        description="The full key, `ptn_<prefix>_<secret>`: send it as `Authorization: Bearer`."
    )


@strawberry_django.type(models.WebhookAttempt, name="WebhookAttempt", description="One HTTP try of a delivery.")
class WebhookAttempt:
    """When, what came back, how long it took."""

    attempted_at: dt.datetime = strawberry_django.field(description="When the request was sent.")
    status_code: int | None = strawberry_django.field(
        description="HTTP status answered; null: no answer (timeout, refused)."
    )
    latency_ms: int = strawberry_django.field(description="Milliseconds until the answer or the failure.")
    error: str = strawberry_django.field(description="Why it failed; empty on success.")
    response_excerpt: str = strawberry_django.field(description="The first 500 characters of the answer's body.")


@strawberry_django.type(models.WebhookDelivery, name="WebhookDelivery", description="One event sent to one endpoint.")
class WebhookDelivery(relay.Node):
    """Status, attempts and the log of one delivery."""

    status: DeliveryStatus = strawberry_django.field(description="Pending, succeeded or failed.")
    attempts: int = strawberry_django.field(description="Attempts since it was created or last redelivered.")
    next_attempt_at: dt.datetime | None = strawberry_django.field(description="When the next attempt is due.")
    last_status_code: int | None = strawberry_django.field(description="HTTP status of the last attempt.")
    last_attempt_at: dt.datetime | None = strawberry_django.field(description="When the last attempt was made.")
    created_at: dt.datetime = strawberry_django.field(description="When the event was published to the endpoint.")

    @strawberry_django.field(description="The event delivered (its id is the `webhook-id` header).")
    def event(self) -> ShopEvent:
        """The delivery's event."""
        return _shop_event(cast(models.WebhookDelivery, self).event)

    @strawberry_django.field(description="Every attempt, oldest first.")
    def log(self) -> list[WebhookAttempt]:
        """The delivery's attempts (prefetched by ``webhook_deliveries_of_endpoint``)."""
        return cast(list[WebhookAttempt], list(cast(models.WebhookDelivery, self).log.all()))


@strawberry_django.type(
    models.WebhookEndpoint,
    name="WebhookEndpoint",
    description="Where a shop's events are POSTed, signed (Standard Webhooks).",
)
class WebhookEndpoint(relay.Node):
    """URL, event types, state and recent deliveries of an endpoint."""

    url: str = strawberry_django.field(description="Where deliveries are POSTed.")
    description: str = strawberry_django.field(description="What it is, for people.")
    is_active: bool = strawberry_django.field(description="False: nothing is sent (paused, or disabled after failing).")
    disabled_at: dt.datetime | None = strawberry_django.field(description="When it was disabled after failing.")
    disabled_reason: str = strawberry_django.field(description="Why it was disabled.")
    failing_since: dt.datetime | None = strawberry_django.field(description="First failure since the last success.")
    created_at: dt.datetime = strawberry_django.field(description="When it was added.")
    secret: str = strawberry_django.field(
        description="Signing secret (`whsec_...`): verify deliveries with it (standardwebhooks library)."
    )
    previous_secret_expires_at: dt.datetime | None = strawberry_django.field(
        description="Until when the secret before the last rotation also signs; null: no overlap."
    )

    @strawberry_django.field(description="Event types delivered (wire names, e.g. 'points.earned').")
    def event_types(self) -> list[str]:
        """The endpoint's chosen types."""
        return list(cast(models.WebhookEndpoint, self).event_types)

    @strawberry_django.field(description="The latest deliveries, newest first (the delivery log).")
    def deliveries(
        self, first: Annotated[int, strawberry.argument(description="How many, 1 to 100.")] = 20
    ) -> list[WebhookDelivery]:
        """The endpoint's latest deliveries."""
        if not 1 <= first <= 100:
            raise coded_error("first is 1 to 100.", code="INVALID_INPUT", field="first")
        endpoint = cast(models.WebhookEndpoint, self)
        return cast(list[WebhookDelivery], webhook_deliveries_of_endpoint(endpoint_id=endpoint.pk, limit=first))


@strawberry.type(name="ShopEvent", description="Something that happened in a shop, as webhooks carry it.")
class ShopEvent:
    """One event of the feed; ``id`` is the webhooks' ``webhook-id``."""

    _event: strawberry.Private[mp.ShopEvent]

    @strawberry.field(description="Stable event id (`evt_...`), the `webhook-id` header of its deliveries.")
    def id(self) -> strawberry.ID:
        """The event's uid."""
        return strawberry.ID(self._event.uid)

    @strawberry.field(description="Wire name of the type, e.g. 'points.earned'.")
    def type(self) -> str:
        """The event's type."""
        return self._event.type

    @strawberry.field(description="When it happened.")
    def occurred_at(self) -> dt.datetime:
        """The event's time."""
        return self._event.occurred_at

    @strawberry.field(description="The body, as in the webhook's `data` (docs/integrations.md lists each type's).")
    def data(self) -> JSON:
        """The event's body."""
        return self._event.data

    @strawberry.field(description="Position in the shop's feed (increasing; gaps are other shops' events).")
    def position(self) -> str:
        """The feed position as a decimal string (64-bit)."""
        return str(self._event.position)


def _shop_event(event: mp.ShopEvent) -> ShopEvent:
    return ShopEvent(_event=event)


@strawberry.type(description="An event and its cursor in the feed.")
class ShopEventEdge:
    """One feed edge."""

    cursor: str = strawberry.field(description="Pass as `after` to read the events after this one.")
    node: ShopEvent = strawberry.field(description="The event.")


@strawberry.type(description="A page of a shop's event feed, oldest first.")
class ShopEventConnection:
    """Edges and page info (Relay)."""

    edges: list[ShopEventEdge] = strawberry.field(description="The events of this page.")
    page_info: relay.PageInfo = strawberry.field(description="Where this page ends and whether more follow.")


def feed_cursor(position: int) -> str:
    """The opaque cursor of feed position ``position`` (the API's one cursor shape, ``arrayconnection:<n>``)."""
    return to_base64("arrayconnection", position)


def feed_position(cursor: str | None) -> int:
    """The position a feed cursor names (0 for none); ``INVALID_INPUT`` for a malformed one."""
    if not cursor:
        return 0
    try:
        kind, number = from_base64(cursor)
        if kind != "arrayconnection":
            raise ValueError(kind)
        return int(number)
    except (ValueError, TypeError):
        raise coded_error("`after` is not a cursor of this feed.", code="INVALID_INPUT", field="after") from None


@strawberry_django.type(
    mp.Shop, name="ShopIntegrationsPart", description="Integrations part of Shop (not in the schema)."
)
class ShopIntegrationsPart(relay.Node):
    """API keys, webhook endpoints and the event feed of a shop (for its owner, managers and keys)."""

    @strawberry_django.field(
        description="The shop's API keys, newest first, revoked ones too (capability apikeys:manage: owner).",
        extensions=[requires(Capability.MANAGE_API_KEYS, message="Only the shop's owner can see its API keys.")],
    )
    def api_keys(self) -> list[ApiKey]:
        """The shop's keys (capability checked by the extension)."""
        return cast(list[ApiKey], list(api_keys_of_shop(shop_id=cast(mp.Shop, self).pk)))

    @strawberry_django.field(
        description="The scopes an API key may hold (capability values), for the key form.",
        extensions=[requires(Capability.MANAGE_API_KEYS, message="Only the shop's owner can manage API keys.")],
    )
    def api_key_scopes(self) -> list[str]:
        """Every grantable scope, sorted."""
        return sorted(capability.value for capability in KEY_SCOPES)

    @strawberry_django.field(
        description="Every event type an endpoint may choose (wire names, e.g. 'points.earned'), for the form.",
        extensions=[requires(Capability.MANAGE_WEBHOOKS, message="Only the shop's owner can manage webhooks.")],
    )
    def webhook_event_types(self) -> list[str]:
        """Every ``EventType`` value, in declaration order."""
        return list(mp.EventType.values)

    @strawberry_django.field(
        description="The shop's webhook endpoints, oldest first (capability webhooks:manage).",
        extensions=[requires(Capability.MANAGE_WEBHOOKS, message="Only the shop's owner can see its webhooks.")],
    )
    def webhook_endpoints(self) -> list[WebhookEndpoint]:
        """The shop's endpoints (capability checked by the extension)."""
        return cast(list[WebhookEndpoint], list(webhook_endpoints_of_shop(shop_id=cast(mp.Shop, self).pk)))

    @strawberry_django.field(
        description=(
            "The shop's published events in order, the same as its webhooks carry, so an integrator who missed "
            "deliveries catches up: pass the last `endCursor` as `after` (capability events:read). An event "
            "appears once it is published, normally within a second of its commit. Errors: INVALID_INPUT "
            "(bad cursor, `first` out of 1-100), NOT_AUTHENTICATED, PERMISSION_DENIED."
        ),
        extensions=[requires(Capability.READ_EVENTS, message="Only the shop's owner or manager can read its events.")],
    )
    def events(
        self,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor of the last event read; null: from the start.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="Events per page, 1 to 100.")] = 100,
        types: Annotated[
            list[str] | None, strawberry.argument(description="Only these types (wire names); null or empty: all.")
        ] = None,
    ) -> ShopEventConnection:
        """One page of the feed after ``after``."""
        if not 1 <= first <= FEED_PAGE_MAX:
            raise coded_error(f"first is 1 to {FEED_PAGE_MAX}.", code="INVALID_INPUT", field="first")
        known = set(mp.EventType.values)
        if types and any(value not in known for value in types):
            raise coded_error("Unknown event type in `types`.", code="INVALID_INPUT", field="types")
        page, has_next = shop_events_after(
            shop_id=cast(mp.Shop, self).pk, after_position=feed_position(after), types=types, first=first
        )
        edges = [ShopEventEdge(cursor=feed_cursor(event.position or 0), node=_shop_event(event)) for event in page]
        return ShopEventConnection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=has_next,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else after,
            ),
        )
