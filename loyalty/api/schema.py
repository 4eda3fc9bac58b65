"""Loyalty's part of the GraphQL schema: the member's accounts, previews, console mutations, subscriptions.

Resolvers are thin: they read the caller, decode ids, call one service or selector and map
domain errors to coded payload errors.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import AsyncGenerator
from decimal import Decimal
from functools import partial
from typing import Annotated, cast

import strawberry
import strawberry_django
from asgiref.sync import sync_to_async
from django.db import connections
from strawberry import relay
from strawberry.types import Info
from strawberry_django.relay import DjangoListConnection

from api_core.context import ViewerIdentity, current_user, require_capability
from api_core.errors import handle_domain_errors, not_authenticated, permission_denied
from api_core.ids import decode_global_id
from loyalty import models
from loyalty.api.errors import LedgerError, LoyaltyError, LoyaltyErrorsPayload
from loyalty.api.types import (
    MEMBER_ACCOUNT,
    AppliedRule,
    PointsEntry,
    Program,
    TierBasis,
    TierWindow,
)
from loyalty.broadcasts import ACCOUNT_UPDATED, member_group, shop_group
from loyalty.reasons import reason_text
from loyalty.services.adjustments import points_adjust
from loyalty.services.programs_update import ProgramSettings, program_update
from loyalty.services.rules import earning_preview
from marketplace.api.orders import OrderLineInputType
from marketplace.permissions import Capability
from marketplace.selectors import customer_for_user


@strawberry.type(name="ViewerLoyaltyPart", description="Loyalty part of Viewer (not in the schema).")
class ViewerLoyaltyPart:
    """The caller as a member of the marketplace's shops."""

    @strawberry_django.connection(
        DjangoListConnection[MEMBER_ACCOUNT], description="The member's accounts, one per shop, oldest first."
    )
    def accounts(self) -> list[models.MemberAccount]:
        """Accounts of the viewer's customer record (none for a staff-only login)."""
        customer_id = cast(ViewerIdentity, self).customer_id
        if customer_id is None:
            return models.MemberAccount.objects.none()  # type: ignore[return-value]
        return models.MemberAccount.objects.filter(customer_id=customer_id).order_by("enrolled_at", "pk")  # type: ignore[return-value]

    @strawberry.field(
        description=(
            "One of the member's own accounts by its global id (the account page); null when the id is not one "
            "of the viewer's accounts, so another member's account never shows."
        )
    )
    def account(
        self, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the member account.")]
    ) -> MEMBER_ACCOUNT | None:
        """The account, if it belongs to the viewer's customer record (one query)."""
        customer_id = cast(ViewerIdentity, self).customer_id
        account_id = decode_global_id(id, "MemberAccount")
        if customer_id is None or account_id is None:
            return None
        return cast(
            MEMBER_ACCOUNT,
            models.MemberAccount.objects.select_related("program__shop", "tier")
            .filter(pk=account_id, customer_id=customer_id)
            .first(),
        )


@strawberry.input(description="An order to preview: its lines, when it is placed and the member's tier.")
class EarningPreviewInput:
    """Input of ``earningPreview``."""

    lines: list[OrderLineInputType] = strawberry.field(description="The goods lines (shipping never earns).")
    placed_at: dt.datetime | None = strawberry.field(default=None, description="When it is placed; now when null.")
    tier_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the member's tier; the entry tier when null."
    )
    points_paid_amount: Decimal = strawberry.field(
        default=Decimal("0"),
        description="Part of the goods paid with points, shop currency: it earns nothing (clamped to 0..goods).",
    )
    segment_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Global ids of segments the member is taken to be in (rules targeting them apply); empty: none.",
    )


@strawberry.type(description="The points an order would earn, and each earning rule's contribution.")
class EarningPreview:
    """Result of ``earningPreview``: the same computation as the real earning."""

    base_points: int = strawberry.field(description="Points before earning rules (rate x tier multiplier).")
    points: int = strawberry.field(description="Points with the rules that apply.")
    rules: list[AppliedRule] = strawberry.field(description="The rules that apply, in the order applied.")


@strawberry.type
class LoyaltyQuery:
    """Read side of the loyalty API."""

    @strawberry.field(
        description=(
            "Points an order would earn in a shop now, with each earning rule's contribution (public: "
            "shows what campaigns give). Null for an unknown shop, one without a program or a paused (inactive) "
            "program."
        )
    )
    def earning_preview(
        self,
        shop_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the shop.")],
        input: Annotated[EarningPreviewInput, strawberry.argument(description="The order to preview.")],
    ) -> EarningPreview | None:
        """Call ``earning_preview`` with the decoded ids."""
        quote = earning_preview(
            shop_id=decode_global_id(shop_id, "Shop") or 0,
            lines=[(line.quantity, line.unit_price, line.category_slug) for line in input.lines],
            placed_at=input.placed_at,
            tier_id=decode_global_id(input.tier_id, "Tier") if input.tier_id else None,
            points_paid=input.points_paid_amount,
            segment_ids=[decode_global_id(segment_id, "Segment") or 0 for segment_id in input.segment_ids],
        )
        if quote is None:
            return None
        return EarningPreview(
            base_points=quote.base_points,
            points=quote.points,
            rules=[
                AppliedRule(
                    rule_id=strawberry.ID(str(relay.GlobalID("EarningRule", str(r.rule_id)))),
                    name=r.name,
                    points=r.points,
                )
                for r in quote.rules
            ],
        )


@strawberry.input(description="A staff correction of a member's points.")
class PointsAdjustInput:
    """Input of ``pointsAdjust``."""

    account_id: strawberry.ID = strawberry.field(description="Global id of the member account.")
    points: int = strawberry.field(description="Points to add (> 0) or take (< 0), at most 10,000,000 either way.")
    reason: str = strawberry.field(description="Why, 3-281 characters; shown on the member's history.")


@strawberry.type(description="Result of pointsAdjust.")
class PointsAdjustPayload:
    """The ADJUST entry and the account after it, or coded errors."""

    entry: PointsEntry | None = strawberry.field(default=None, description="The ledger entry; null when refused.")
    account: MEMBER_ACCOUNT | None = strawberry.field(default=None, description="The account after the adjustment.")
    replayed: bool = strawberry.field(
        default=False, description="True when this idempotency key was used before (no change)."
    )
    errors: list[LedgerError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


@strawberry.input(description="Program settings to change; fields left out stay as they are.")
class ProgramUpdateInput:
    """Input of ``programUpdate`` (all optional)."""

    points_per_currency_unit: Decimal | None = strawberry.field(default=strawberry.UNSET, description="0-1000.")
    minimum_order_amount: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Shop currency.")
    pending_days: int | None = strawberry.field(default=strawberry.UNSET, description="0-365; null = return window.")
    expiry_months: int | None = strawberry.field(default=strawberry.UNSET, description="1-120; null = never.")
    tier_basis: TierBasis | None = strawberry.field(default=strawberry.UNSET, description="Spend or points.")
    tier_window: TierWindow | None = strawberry.field(default=strawberry.UNSET, description="Qualifying window.")
    downgrade_policy: str | None = strawberry.field(default=strawberry.UNSET, description="never or requalification.")
    downgrade_grace_days: int | None = strawberry.field(default=strawberry.UNSET, description="0-365.")
    welcome_bonus_points: int | None = strawberry.field(default=strawberry.UNSET, description="0-1,000,000.")
    birthday_bonus_points: int | None = strawberry.field(default=strawberry.UNSET, description="0-1,000,000.")
    point_value: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Currency per point.")
    points_payment_max_percent: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="0-100: largest share of a basket payable with points; 0 = never."
    )
    points_payment_min_points: int | None = strawberry.field(
        default=strawberry.UNSET, description="0-1,000,000,000: fewest points spent at one checkout."
    )
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Whether orders earn points.")

    def to_domain(self) -> ProgramSettings:
        """The service's partial settings (enums as their values; UNSET stays unset)."""
        values = {}
        for name in ProgramSettings.__dataclass_fields__:
            value = getattr(self, name)
            if value is strawberry.UNSET:
                continue
            values[name] = value.value if hasattr(value, "value") else value
        return ProgramSettings(**values)


@strawberry.type(description="Result of programUpdate.")
class ProgramUpdatePayload(LoyaltyErrorsPayload):
    """The program after the change, or coded errors."""

    program: Program | None = strawberry.field(default=None, description="The program; null when refused.")


@strawberry.type
class LoyaltyMutation:
    """Write side of the loyalty API."""

    @strawberry.mutation(
        description=(
            "Change the shop's program settings (owner or manager); each change is audited. Codes: "
            "NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, INVALID_INPUT."
        )
    )
    @handle_domain_errors(ProgramUpdatePayload, LoyaltyError)
    def program_update(
        self,
        info: Info,
        shop_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the shop.")],
        input: Annotated[ProgramUpdateInput, strawberry.argument(description="The settings to change.")],
    ) -> ProgramUpdatePayload:
        """Call ``program_update``."""
        program = program_update(
            user=current_user(info), shop_id=decode_global_id(shop_id, "Shop") or 0, settings=input.to_domain()
        )
        return ProgramUpdatePayload(program=cast(Program, program))

    @strawberry.mutation(
        description=(
            "Add or take points on a member account with a reason (the shop's owner or manager). Codes: "
            "NOT_AUTHENTICATED, NOT_FOUND, INVALID_POINTS, REASON_REQUIRED, INSUFFICIENT_POINTS, "
            "IDEMPOTENCY_CONFLICT, INVALID_INPUT."
        )
    )
    @handle_domain_errors(PointsAdjustPayload, LedgerError)
    def points_adjust(
        self,
        info: Info,
        input: Annotated[PointsAdjustInput, strawberry.argument(description="Account, points and reason.")],
        idempotency_key: Annotated[str, strawberry.argument(description="Unique per adjustment in the shop.")],
    ) -> PointsAdjustPayload:
        """Call ``points_adjust``."""
        result = points_adjust(
            user=current_user(info),
            account_id=decode_global_id(input.account_id, "MemberAccount") or 0,
            points=input.points,
            reason=input.reason,
            idempotency_key=idempotency_key,
        )
        return PointsAdjustPayload(
            entry=cast(PointsEntry, result.entry),
            account=models.MemberAccount.objects.get(pk=result.entry.account_id),
            replayed=result.replayed,
            errors=[],
        )


async def _event_reason(
    root: AccountUpdateEvent,
    language: Annotated[
        str | None, strawberry.argument(description="'en' or 'fa'; null: the stored English text.")
    ] = None,
) -> str:
    """The update's reason; with ``language`` and one ledger entry behind it, rendered as
    ``PointsEntry.reason`` renders it (``loyalty.reasons``; one read of the entry)."""
    entry_id = root.message.get("entry_id")
    if not language or not entry_id:
        return root.stored_reason
    row = await sync_to_async(
        lambda: (
            models.PointsEntry.objects.filter(pk=entry_id).values_list("reason", "reason_code", "reason_params").first()
        )
    )()
    if row is None:
        return root.stored_reason
    return reason_text(row[1], row[2], stored=row[0], language=language)


async def _event_account(root: AccountUpdateEvent) -> MEMBER_ACCOUNT:
    """The account named by the event's message, read once for every subscriber of this process."""
    return cast(MEMBER_ACCOUNT, await _shared_account(root.message))


@strawberry.type(description="A live change of a member account.")
class AccountUpdateEvent:
    """Pushed to the member's dashboards and the shop's consoles after a change commits.

    ``account`` is read from the database only when the subscription selects it, once per
    broadcast message and web process however many sockets receive it (``_shared_account``).
    """

    message: strawberry.Private[dict]
    account: MEMBER_ACCOUNT = strawberry.field(description="The account as it is now.", resolver=_event_account)
    kind: str = strawberry.field(
        description="What happened: an EntryKind value, 'enrolled', or 'tier' (moved by a tier ladder change)."
    )
    points: int = strawberry.field(description="Signed points of the movement (0 for enrolment).")
    stored_reason: strawberry.Private[str]
    reason: str = strawberry.field(
        description="Human-readable reason; with `language` ('en' or 'fa'), in that language when one ledger entry is "
        "behind the update.",
        resolver=_event_reason,
    )
    tier_changed: bool = strawberry.field(description="True when the member moved to another tier.")
    entry_id: strawberry.ID | None = strawberry.field(
        description=(
            "Global id of the ledger entry behind the update (the PointsEntry id in entries and shop.activity); null "
            "when several entries moved at once (a job's release or expiry) or none did (enrolment, tier moves)."
        )
    )


def _account_for_event(account_id: int) -> models.MemberAccount:
    """Load an account with what the live payload shows (tier, program, shop, tiers)."""
    return (
        models.MemberAccount.objects.select_related("tier", "program__shop")
        .prefetch_related("program__tiers")
        .get(pk=account_id)
    )


def _account_for_event_then_close(account_id: int) -> models.MemberAccount:
    """``_account_for_event`` in a thread of the default executor, then close its connection unless
    ``CONN_MAX_AGE`` keeps it (as at the end of a request): that thread serves no request."""
    try:
        return _account_for_event(account_id)
    finally:
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()


def _account_reader():
    """How ``_shared_account`` reads: beside asgiref's one shared thread (which every socket's sync
    resolvers queue on) on PostgreSQL; on it with SQLite (the embedded default), whose in-memory and
    shared-cache databases refuse a read from another thread while a write is open ("table is locked")."""
    if connections["default"].vendor == "sqlite":
        return sync_to_async(_account_for_event)
    return sync_to_async(_account_for_event_then_close, thread_sensitive=False)


#: Seconds a loaded account stays shared after its read, for sockets that take the same message later.
SHARED_ACCOUNT_SECONDS = 10.0
#: Per event loop: the read of each broadcast message's account (its ``message_id``), done or in flight.
_account_reads: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Future]] = (
    weakref.WeakKeyDictionary()
)


async def _shared_account(message: dict) -> models.MemberAccount:
    """The message's account, read once per message in this process (concurrent sockets share the read).

    A channel-layer message goes to every socket of the member's and the shop's groups; with a
    ``message_id`` (``loyalty.broadcasts``) they all await the same read, so an event costs one
    database read per web process instead of one per socket. The shared instance is only read by
    the resolvers. Messages without an id (older senders) are read on their own.
    """
    read = partial(_account_reader(), message["account_id"])
    key = message.get("message_id")
    if not key:
        return await read()
    loop = asyncio.get_running_loop()
    reads = _account_reads.setdefault(loop, {})
    future = reads.get(key)
    if future is None:
        future = reads[key] = asyncio.ensure_future(read())
        future.add_done_callback(lambda _: loop.call_later(SHARED_ACCOUNT_SECONDS, reads.pop, key, None))
    return await asyncio.shield(future)


async def _events(
    info: Info, groups: list[str], *, customer_id: int | None = None, shop_pk: int | None = None
) -> AsyncGenerator[AccountUpdateEvent, None]:
    """Yield an ``AccountUpdateEvent`` for every account update sent to ``groups`` that is this
    subscription's: of ``customer_id`` and of shop ``shop_pk`` when given.

    The filter is needed even though the groups already say whose updates they carry: a socket's
    messages reach every subscription listening on it, so with ``accountUpdated`` and
    ``shopActivity`` on one socket each would otherwise also get the other's.
    """
    ws = info.context["ws"]
    async with ws.listen_to_channel(ACCOUNT_UPDATED, groups=groups) as messages:
        async for message in messages:
            if customer_id is not None and message["customer_id"] != customer_id:
                continue
            if shop_pk is not None and message["shop_id"] != shop_pk:
                continue
            yield AccountUpdateEvent(
                message=message,
                kind=message["kind"],
                points=message["points"],
                stored_reason=message["reason"],
                tier_changed=message["tier_changed"],
                entry_id=(
                    strawberry.ID(str(relay.GlobalID("PointsEntry", str(message["entry_id"]))))
                    if message.get("entry_id")
                    else None
                ),
            )


@strawberry.type
class LoyaltySubscription:
    """Live updates over graphql-ws; the caller is authenticated when the socket connects."""

    @strawberry.subscription(
        description=(
            "Changes of the viewer's own accounts (optionally one shop's). "
            "Errors: NOT_AUTHENTICATED, PERMISSION_DENIED (a staff-only login has no accounts)."
        )
    )
    async def account_updated(
        self,
        info: Info,
        shop_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this shop's account (global id); all when null."),
        ] = None,
    ) -> AsyncGenerator[AccountUpdateEvent, None]:
        """Listen on the viewer's member group."""
        user = current_user(info)
        if not user.is_authenticated:
            raise not_authenticated()
        customer = await sync_to_async(customer_for_user)(user=user)
        if customer is None:
            raise permission_denied("Only customers have member accounts.")
        shop_pk = decode_global_id(shop_id, "Shop") if shop_id else None
        async for event in _events(info, [member_group(customer.pk)], customer_id=customer.pk, shop_pk=shop_pk):
            yield event

    @strawberry.subscription(
        description="Points activity of one shop, for its staff. Errors: NOT_AUTHENTICATED, PERMISSION_DENIED."
    )
    async def shop_activity(
        self, info: Info, shop_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the shop.")]
    ) -> AsyncGenerator[AccountUpdateEvent, None]:
        """Listen on the shop's group after checking the caller's staff role."""
        user = current_user(info)
        if not user.is_authenticated:
            raise not_authenticated()
        shop_pk = decode_global_id(shop_id, "Shop")
        await sync_to_async(require_capability)(
            info,
            shop_id=shop_pk,
            capability=Capability.READ_ACTIVITY,
            message="Only the shop's owner or manager can watch its activity.",
        )
        async for event in _events(info, [shop_group(cast(int, shop_pk))], shop_pk=cast(int, shop_pk)):
            yield event
