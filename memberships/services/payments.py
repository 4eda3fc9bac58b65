"""Payments the shop's system reports (``membershipPaymentRecord``; docs/memberships.md, "Payments").

A success pays the first period of a pending subscription or the renewal asked for, moves the
subscription to active, holds the plan's tier and earns points like an order (ledger key
``membership_payment:<payment id>``). A failure moves a renewing subscription to past due, or
ends it when the last scheduled charge failed. Exactly once per ``idempotency_key`` in the shop:
the subscription row is locked first, so duplicate calls and racing payments are serialised;
the same key with the same values replays the first answer, with other values is refused, and
a second success for a period already paid is ``PAYMENT_NOT_DUE`` (the shop should refund it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from loyalty.broadcasts import AccountUpdate, broadcast_on_commit
from loyalty.models import EntryKind, MemberAccount, SourceType, TierBasis
from loyalty.reasons import Reason
from loyalty.services.ledger import Movement, points_earn
from loyalty.services.periods import lot_expires_at
from loyalty.services.rules import QuoteLine, earning_quote, member_segments_of, program_rules
from loyalty.services.tiers import tier_evaluate
from marketplace.events import shop_event_record
from marketplace.models import EventType
from marketplace.money import decimal_places
from marketplace.permissions import Capability, has_capability
from memberships.errors import MembershipError, MembershipErrorCode
from memberships.models import HOLDING, ActorKind, MembershipPayment, PaymentOutcome, Subscription, SubscriptionStatus
from memberships.services.lifecycle import (
    CHARGE_OFFSETS,
    end,
    hold_tier,
    locked_account,
    period_after,
    plan_name,
    subscription_event_data,
    transition,
)
from memberships.services.subscriptions import locked_subscription, renew_period

S = SubscriptionStatus


@dataclass(frozen=True)
class PaymentRecorded:
    """The payment and whether this call replayed an earlier one with the same key."""

    payment: MembershipPayment
    replayed: bool


def _invalid(message: str, field: str) -> MembershipError:
    return MembershipError(MembershipErrorCode.INVALID_INPUT, message, field)


def _check_input(outcome: str, amount: Decimal, provider_reference: str, idempotency_key: str) -> None:
    if outcome not in PaymentOutcome.values:
        raise _invalid("The outcome is SUCCEEDED or FAILED.", "outcome")
    if not amount.is_finite() or amount < 0 or decimal_places(amount) > 2:
        raise _invalid("The amount is a non-negative money amount with at most 2 decimal places.", "amount")
    if not 1 <= len(idempotency_key.strip()) <= 200:
        raise _invalid("An idempotency key of 1 to 200 characters is required.", "idempotencyKey")
    if len(provider_reference) > 200:
        raise _invalid("The provider reference is at most 200 characters.", "providerReference")


def membership_payment_record(
    *,
    user: AbstractBaseUser | AnonymousUser,
    subscription_id: int,
    outcome: str,
    amount: Decimal,
    provider_reference: str,
    idempotency_key: str,
    at: dt.datetime | None = None,
) -> PaymentRecorded:
    """Record what the shop's payment system did with a membership charge.

    ``amount`` is the plan's price in its currency (``Decimal``). Needs ``orders:write`` in the
    subscription's shop (the capability that records the other money that earns points). Codes:
    NOT_AUTHENTICATED, NOT_FOUND ("subscriptionId"), PERMISSION_DENIED, INVALID_INPUT (outcome,
    amount: not the plan's price, idempotencyKey, providerReference), IDEMPOTENCY_CONFLICT (the key
    was used with other values), PAYMENT_NOT_DUE (nothing is due: the period is paid, or the
    subscription ended). One transaction; the subscription's row lock, then the account's.
    """
    if user is None or not user.is_authenticated:
        raise MembershipError(MembershipErrorCode.NOT_AUTHENTICATED, "Log in first.")
    _check_input(outcome, amount, provider_reference, idempotency_key)
    at = at or timezone.now()
    with transaction.atomic():
        try:
            subscription = locked_subscription(subscription_id)
        except MembershipError as error:
            raise MembershipError(error.code, error.message, "subscriptionId") from error
        if not has_capability(user=user, shop_id=subscription.shop_id, capability=Capability.RECORD_ORDERS):
            raise MembershipError(
                MembershipErrorCode.PERMISSION_DENIED,
                "Recording membership payments needs orders:write in the shop.",
                "subscriptionId",
            )
        earlier = MembershipPayment.objects.filter(
            shop_id=subscription.shop_id, idempotency_key=idempotency_key
        ).first()
        if earlier is not None:
            same = (
                earlier.subscription_id == subscription.pk
                and earlier.outcome == outcome
                and earlier.amount == amount
                and earlier.provider_reference == provider_reference
            )
            if not same:
                raise MembershipError(
                    MembershipErrorCode.IDEMPOTENCY_CONFLICT,
                    "This idempotency key was used for another payment.",
                    "idempotencyKey",
                )
            return PaymentRecorded(payment=earlier, replayed=True)
        plan = subscription.plan
        if amount != plan.price:
            raise _invalid(f"The plan's price is {plan.price} {plan.currency}.", "amount")
        first = subscription.status == S.PENDING
        renewal_asked = subscription.status in HOLDING and subscription.charge_attempts > 0
        overdue = (
            subscription.status in HOLDING
            and subscription.current_period_end is not None
            and subscription.current_period_end <= at
            and subscription.auto_renew
            and not subscription.cancel_at_period_end
        )
        if not (first or renewal_asked or overdue):
            raise MembershipError(
                MembershipErrorCode.PAYMENT_NOT_DUE, "No charge is due for this membership.", "subscriptionId"
            )
        account = locked_account(subscription)
        payment = MembershipPayment.objects.create(
            shop_id=subscription.shop_id,
            subscription=subscription,
            outcome=outcome,
            amount=amount,
            currency=plan.currency,
            provider_reference=provider_reference,
            idempotency_key=idempotency_key,
            attempt=subscription.charge_attempts,
            recorded_by_id=user.pk,
            created_at=at,
        )
        if outcome == PaymentOutcome.SUCCEEDED:
            _succeeded(subscription, payment, account, user, at, first=first)
        else:
            _failed(subscription, payment, user, at, first=first)
        shop_event_record(
            shop_id=subscription.shop_id,
            type=EventType.MEMBERSHIP_PAYMENT_RECORDED,
            data=subscription_event_data(
                subscription, outcome=outcome, providerReference=provider_reference, points=payment.points
            ),
            occurred_at=at,
        )
    return PaymentRecorded(payment=payment, replayed=False)


def _succeeded(
    subscription: Subscription,
    payment: MembershipPayment,
    account: MemberAccount,
    user: AbstractBaseUser | AnonymousUser,
    at: dt.datetime,
    *,
    first: bool,
) -> None:
    """Pay the period, hold the tier, earn the points, move to active."""
    plan = subscription.plan
    if first:
        start, period_end = at, period_after(plan, at)
        subscription.started_at = subscription.started_at or at
    else:
        start, period_end = renew_period(subscription)
    subscription.current_period_start = start
    subscription.current_period_end = period_end
    subscription.charge_attempts = 0
    subscription.last_charge_request_at = None
    payment.period_start, payment.period_end = start, period_end
    hold_tier(subscription, at=at, reason=f"{plan.name} membership {'started' if first else 'renewed'}")
    payment.points = _earn(account, payment, at)
    payment.save(update_fields=["period_start", "period_end", "points"])
    transition(
        subscription,
        S.ACTIVE,
        reason=f"Paid {payment.amount} {payment.currency} through {period_end:%Y-%m-%d}",
        actor_kind=ActorKind.SHOP_SYSTEM,
        actor=user,
        at=at,
    )


def _failed(
    subscription: Subscription,
    payment: MembershipPayment,
    user: AbstractBaseUser | AnonymousUser,
    at: dt.datetime,
    *,
    first: bool,
) -> None:
    """A declined charge: the pending checkout may try again; a renewal goes past due, or ends when
    the last scheduled charge failed."""
    reference = f" ({payment.provider_reference})" if payment.provider_reference else ""
    if first:
        transition(
            subscription,
            S.PENDING,
            reason=f"The first payment failed{reference}",
            actor_kind=ActorKind.SHOP_SYSTEM,
            actor=user,
            at=at,
        )
        return
    if subscription.charge_attempts >= len(CHARGE_OFFSETS):
        end(
            subscription,
            S.EXPIRED,
            reason=f"The renewal payment failed after {len(CHARGE_OFFSETS) - 1} retries{reference}",
            actor_kind=ActorKind.SHOP_SYSTEM,
            actor=user,
            at=at,
        )
        return
    transition(
        subscription,
        S.PAST_DUE,
        reason=(
            f"The renewal payment failed (charge {max(subscription.charge_attempts, 1)}){reference}; "
            "retries are scheduled"
        ),
        actor_kind=ActorKind.SHOP_SYSTEM,
        actor=user,
        at=at,
    )


def _earn(account: MemberAccount, payment: MembershipPayment, at: dt.datetime) -> int:
    """Points of a successful payment, as an order of one line of its amount earns them (the
    program's rate, the tier's and the membership's multipliers, the earning rules), available at
    once. Moves the tier like an order's spend. Returns the points (0 for a blocked member)."""
    program = account.program
    if account.blocked or not program.active:
        return 0
    rules = program_rules(program)
    quote = earning_quote(
        program=program,
        rules=rules,
        lines=[QuoteLine(amount=payment.amount)],
        at=at,
        tier=account.tier,
        segments=member_segments_of(account.pk, rules),
        extra_multiplier=account.membership_multiplier,
    )
    if quote.points <= 0:
        return 0
    plan = payment.subscription.plan
    qualifying = payment.amount if program.tier_basis == TierBasis.SPEND else Decimal(quote.points)
    entry = points_earn(
        account=account,
        points=quote.points,
        available_at=at,
        expires_at=lot_expires_at(program=program, available_at=at),
        movement=Movement(
            kind=EntryKind.EARN,
            points=quote.points,
            reason=f"Membership {plan.name} paid",
            reason_code=Reason.MEMBERSHIP_PAYMENT,
            reason_params={"plan": plan.name, "plan_fa": plan_name(plan, "fa") if plan.translations else ""},
            source_type=SourceType.MEMBERSHIP,
            source_id=str(payment.pk),
            idempotency_key=f"membership_payment:{payment.pk}",
            at=at,
            qualifying_delta=qualifying,
            applied_rules=tuple(rule.as_json() for rule in quote.rules),
        ),
    )
    change = tier_evaluate(account=account, at=at, reason=f"Qualified with the {plan.name} membership payment")
    broadcast_on_commit(
        AccountUpdate(
            account_id=account.pk,
            customer_id=account.customer_id,
            shop_id=program.shop_id,
            entry_id=entry.pk,
            kind=entry.kind,
            points=entry.points,
            reason=entry.reason,
            tier_changed=change is not None,
        )
    )
    return quote.points
