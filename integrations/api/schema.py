"""Mutations of integrations: API keys (owners) and webhook endpoints (``webhooks:manage``).

Resolvers decode ids and call one service each; the services check the capability and refuse
with coded errors (``ApiKeyErrorCode``, ``WebhookErrorCode``), which ``handle_domain_errors``
puts in the payload.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from api_core.context import current_user
from api_core.errors import handle_domain_errors
from api_core.ids import decode_global_id
from integrations.api.types import (
    ApiKey,
    ApiKeyError,
    IssuedApiKey,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookError,
)
from integrations.services.endpoints import (
    EndpointChanges,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_redeliver,
    webhook_secret_rotate,
)
from integrations.tasks import webhook_deliver_task
from marketplace.services.api_keys import IssuedKey, api_key_create, api_key_revoke, api_key_rotate


@strawberry.input(description="A new API key of a shop.")
class ApiKeyCreateInput:
    """Input of ``apiKeyCreate``."""

    shop_id: strawberry.ID = strawberry.field(description="Global id of the shop.")
    name: str = strawberry.field(description="What the key is for (1-100 characters).")
    scopes: list[str] = strawberry.field(
        description="Capabilities it holds, e.g. ['orders:write'] (Shop.apiKeyScopes)."
    )
    expires_at: dt.datetime | None = strawberry.field(default=None, description="When it stops working; null: never.")
    rate_limit: str = strawberry.field(default="", description="Its own rate, e.g. '600/minute'; empty: the server's.")


@strawberry.type(description="Result of apiKeyCreate and apiKeyRotate.")
class ApiKeyIssuePayload:
    """The new key (shown once) or coded errors."""

    issued: IssuedApiKey | None = strawberry.field(
        default=None, description="The key and its secret; null when refused."
    )
    errors: list[ApiKeyError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


@strawberry.type(description="Result of apiKeyRevoke.")
class ApiKeyRevokePayload:
    """The revoked key or coded errors."""

    api_key: ApiKey | None = strawberry.field(default=None, description="The key, now revoked.")
    errors: list[ApiKeyError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


@strawberry.input(description="A new webhook endpoint of a shop.")
class WebhookEndpointCreateInput:
    """Input of ``webhookEndpointCreate``."""

    shop_id: strawberry.ID = strawberry.field(description="Global id of the shop.")
    url: str = strawberry.field(description="https URL (http allowed on development servers) receiving POSTs.")
    event_types: list[str] = strawberry.field(description="Event types to deliver (Shop.webhookEventTypes).")
    description: str = strawberry.field(default="", description="What it is, for people (200 characters at most).")


@strawberry.input(description="Changes to a webhook endpoint; null leaves a field as it is.")
class WebhookEndpointUpdateInput:
    """Input of ``webhookEndpointUpdate``."""

    url: str | None = strawberry.field(default=None, description="New URL.")
    event_types: list[str] | None = strawberry.field(default=None, description="New event types.")
    description: str | None = strawberry.field(default=None, description="New description.")
    is_active: bool | None = strawberry.field(
        default=None, description="False pauses it; true resumes it, or re-enables one disabled after failing."
    )


@strawberry.type(description="Result of the webhook endpoint mutations.")
class WebhookEndpointPayload:
    """The endpoint or coded errors."""

    endpoint: WebhookEndpoint | None = strawberry.field(default=None, description="The endpoint; null when refused.")
    errors: list[WebhookError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


@strawberry.type(description="Result of webhookEndpointDelete.")
class WebhookEndpointDeletePayload:
    """The deleted endpoint's id or coded errors."""

    deleted_id: strawberry.ID | None = strawberry.field(default=None, description="Global id of the deleted endpoint.")
    errors: list[WebhookError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


@strawberry.type(description="Result of webhookRedeliver.")
class WebhookRedeliverPayload:
    """The delivery queued again or coded errors."""

    delivery: WebhookDelivery | None = strawberry.field(default=None, description="The delivery, pending again.")
    errors: list[WebhookError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


def _issued(result: IssuedKey) -> ApiKeyIssuePayload:
    return ApiKeyIssuePayload(issued=IssuedApiKey(api_key=cast(ApiKey, result.api_key), key=result.key))


def _endpoint_id(value: strawberry.ID) -> int:
    return decode_global_id(value, "WebhookEndpoint") or 0


@strawberry.type
class IntegrationsMutation:
    """API keys and webhook endpoints."""

    @strawberry.mutation(
        description=(
            "Create an API key for a shop (owner only, capability apikeys:manage); the full key is in the "
            "result only. Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, INVALID_NAME, SCOPES_REQUIRED, "
            "INVALID_SCOPE, INVALID_EXPIRY, INVALID_RATE_LIMIT."
        )
    )
    @handle_domain_errors(ApiKeyIssuePayload, ApiKeyError)
    def api_key_create(
        self, info: Info, input: Annotated[ApiKeyCreateInput, strawberry.argument(description="The key.")]
    ) -> ApiKeyIssuePayload:
        """Decode the shop id and call ``api_key_create``."""
        return _issued(
            api_key_create(
                user=current_user(info),  # type: ignore[arg-type]
                shop_id=decode_global_id(input.shop_id, "Shop") or 0,
                name=input.name,
                scopes=input.scopes,
                expires_at=input.expires_at,
                rate_limit=input.rate_limit,
            )
        )

    @strawberry.mutation(
        description=(
            "Replace an API key by a new one with the same name, scopes, expiry and rate (owner only). The old "
            "key works `overlapSeconds` longer (0 to 604800; 0 revokes it now). Codes: NOT_AUTHENTICATED, "
            "NOT_FOUND, ALREADY_REVOKED, INVALID_INPUT."
        )
    )
    @handle_domain_errors(ApiKeyIssuePayload, ApiKeyError)
    def api_key_rotate(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the ApiKey.")],
        overlap_seconds: Annotated[int, strawberry.argument(description="Seconds the old key keeps working.")] = 0,
    ) -> ApiKeyIssuePayload:
        """Decode the id and call ``api_key_rotate``."""
        return _issued(
            api_key_rotate(
                user=current_user(info),  # type: ignore[arg-type]
                key_id=decode_global_id(id, "ApiKey") or 0,
                overlap=dt.timedelta(seconds=overlap_seconds),
            )
        )

    @strawberry.mutation(
        description="Revoke an API key now (owner only). Codes: NOT_AUTHENTICATED, NOT_FOUND, ALREADY_REVOKED."
    )
    @handle_domain_errors(ApiKeyRevokePayload, ApiKeyError)
    def api_key_revoke(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the ApiKey.")]
    ) -> ApiKeyRevokePayload:
        """Decode the id and call ``api_key_revoke``."""
        key = api_key_revoke(user=current_user(info), key_id=decode_global_id(id, "ApiKey") or 0)  # type: ignore[arg-type]
        return ApiKeyRevokePayload(api_key=cast(ApiKey, key))

    @strawberry.mutation(
        description=(
            "Add a webhook endpoint (capability webhooks:manage). Deliveries are signed per Standard Webhooks "
            "with the endpoint's `secret`. Codes: NOT_AUTHENTICATED, NOT_FOUND, PERMISSION_DENIED, INVALID_URL, "
            "EVENT_TYPES_REQUIRED, INVALID_EVENT_TYPE, INVALID_INPUT."
        )
    )
    @handle_domain_errors(WebhookEndpointPayload, WebhookError)
    def webhook_endpoint_create(
        self, info: Info, input: Annotated[WebhookEndpointCreateInput, strawberry.argument(description="The endpoint.")]
    ) -> WebhookEndpointPayload:
        """Decode the shop id and call ``webhook_endpoint_create``."""
        endpoint = webhook_endpoint_create(
            user=current_user(info),
            shop_id=decode_global_id(input.shop_id, "Shop") or 0,
            url=input.url,
            event_types=input.event_types,
            description=input.description,
        )
        return WebhookEndpointPayload(endpoint=cast(WebhookEndpoint, endpoint))

    @strawberry.mutation(
        description=(
            "Change a webhook endpoint: URL, event types, description, pause / resume / re-enable (capability "
            "webhooks:manage). Codes: as webhookEndpointCreate."
        )
    )
    @handle_domain_errors(WebhookEndpointPayload, WebhookError)
    def webhook_endpoint_update(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the WebhookEndpoint.")],
        input: Annotated[WebhookEndpointUpdateInput, strawberry.argument(description="The changes.")],
    ) -> WebhookEndpointPayload:
        """Decode the id and call ``webhook_endpoint_update``."""
        endpoint = webhook_endpoint_update(
            user=current_user(info),
            endpoint_id=_endpoint_id(id),
            changes=EndpointChanges(
                url=input.url, event_types=input.event_types, description=input.description, is_active=input.is_active
            ),
        )
        return WebhookEndpointPayload(endpoint=cast(WebhookEndpoint, endpoint))

    @strawberry.mutation(
        description=(
            "Give a webhook endpoint a new secret; the old one also signs for `overlapSeconds` (0 to 604800, "
            "default a day), so receivers can switch without rejecting a delivery. Codes: NOT_AUTHENTICATED, "
            "NOT_FOUND, INVALID_INPUT."
        )
    )
    @handle_domain_errors(WebhookEndpointPayload, WebhookError)
    def webhook_secret_rotate(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the WebhookEndpoint.")],
        overlap_seconds: Annotated[int, strawberry.argument(description="Seconds both secrets sign.")] = 86_400,
    ) -> WebhookEndpointPayload:
        """Decode the id and call ``webhook_secret_rotate``."""
        endpoint = webhook_secret_rotate(
            user=current_user(info), endpoint_id=_endpoint_id(id), overlap=dt.timedelta(seconds=overlap_seconds)
        )
        return WebhookEndpointPayload(endpoint=cast(WebhookEndpoint, endpoint))

    @strawberry.mutation(
        description="Delete a webhook endpoint and its delivery log. Codes: NOT_AUTHENTICATED, NOT_FOUND."
    )
    @handle_domain_errors(WebhookEndpointDeletePayload, WebhookError)
    def webhook_endpoint_delete(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the WebhookEndpoint.")],
    ) -> WebhookEndpointDeletePayload:
        """Decode the id and call ``webhook_endpoint_delete``."""
        webhook_endpoint_delete(user=current_user(info), endpoint_id=_endpoint_id(id))
        return WebhookEndpointDeletePayload(deleted_id=id)

    @strawberry.mutation(
        description=(
            "Send a delivery again from its first attempt, with the same `webhook-id` (capability "
            "webhooks:manage). Codes: NOT_AUTHENTICATED, NOT_FOUND, ENDPOINT_INACTIVE."
        )
    )
    @handle_domain_errors(WebhookRedeliverPayload, WebhookError)
    def webhook_redeliver(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the WebhookDelivery.")],
    ) -> WebhookRedeliverPayload:
        """Decode the id, call ``webhook_redeliver`` and queue the send."""
        delivery = webhook_redeliver(user=current_user(info), delivery_id=decode_global_id(id, "WebhookDelivery") or 0)
        webhook_deliver_task.send(delivery.pk)
        return WebhookRedeliverPayload(delivery=cast(WebhookDelivery, delivery))
