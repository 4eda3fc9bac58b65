"""What members and staff do to subscriptions: subscribe, auto-renewal on or off, cancel, pause,
resume, ask for an overdue charge again (docs/memberships.md).

A member acts on their own subscriptions; staff with ``memberships:write`` (owner, manager) on
their shop's. Every refusal is a :class:`MembershipError` with a code and writes nothing. Each
operation locks the subscription row, then the member's account (the order every path keeps).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from loyalty.services.tiers import account_get_or_enroll
from marketplace.models import Customer
from marketplace.permissions import Capability, has_capability
from memberships.errors import MembershipError, MembershipErrorCode
from memberships.models import HOLDING, LIVE, ActorKind, MembershipPlan, Subscription, SubscriptionStatus
from memberships.services.lifecycle import (
    end,
    hold_tier,
    locked_account,
    period_after,
    release_tier,
    renewing,
    request_charge,
    transition,
)

S = SubscriptionStatus
User = AbstractBaseUser | AnonymousUser


def _logged_in(user: User | None) -> AbstractBaseUser:
    if user is None or not user.is_authenticated:
        raise MembershipError(MembershipErrorCode.NOT_AUTHENTICATED, "Log in first.")
    return user


def require_memberships(user: User | None, shop_id: int) -> None:
    """NOT_AUTHENTICATED, or PERMISSION_DENIED ("shopId") without ``memberships:write`` in the shop."""
    _logged_in(user)
    if not has_capability(user=user, shop_id=shop_id, capability=Capability.MANAGE_MEMBERSHIPS):
        raise MembershipError(
            MembershipErrorCode.PERMISSION_DENIED, "Only the shop's owner or a manager manages memberships.", "shopId"
        )


def actor_of(user: User, subscription: Subscription) -> str:
    """``member`` when ``user`` is the subscription's member, ``staff`` when they hold
    ``memberships:write`` in its shop. NOT_FOUND ("id") otherwise: a member never learns of
    another's subscription."""
    customer_user = (
        Customer.objects.filter(pk=subscription.account.customer_id).values_list("user_id", flat=True).first()
    )
    if customer_user is not None and customer_user == user.pk:
        return ActorKind.MEMBER
    if has_capability(user=user, shop_id=subscription.shop_id, capability=Capability.MANAGE_MEMBERSHIPS):
        return ActorKind.STAFF
    raise MembershipError(MembershipErrorCode.NOT_FOUND, "No such subscription.", "id")


def locked_subscription(subscription_id: int) -> Subscription:
    """The subscription row-locked, with plan, tier and account; NOT_FOUND ("id") when there is none.
    Needs an open transaction."""
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan__tier", "account")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None:
        raise MembershipError(MembershipErrorCode.NOT_FOUND, "No such subscription.", "id")
    return subscription


def membership_subscribe(*, user: User, plan_id: int, at: dt.datetime | None = None) -> Subscription:
    """The logged-in customer subscribes to ``plan_id`` (enrolling in the shop's program if need be).

    A plan with trial days, for a member who never had a trial in the shop, starts ``trialing`` at
    once: the plan's tier is held from now, and the first charge is asked for at the trial's end.
    Otherwise the subscription is ``pending`` until the shop's checkout reports the first payment
    (``membershipPaymentRecord``); unpaid, it expires after a day. Codes: NOT_AUTHENTICATED,
    NOT_FOUND ("planId": no such plan, or the caller is no customer), PLAN_UNAVAILABLE (archived,
    or the program is not running), ALREADY_SUBSCRIBED (a live subscription in the shop).
    """
    user = _logged_in(user)
    at = at or timezone.now()
    plan = MembershipPlan.objects.select_related("tier", "shop__program").filter(pk=plan_id).first()
    customer = Customer.objects.filter(user_id=user.pk).first()
    if plan is None or customer is None:
        raise MembershipError(MembershipErrorCode.NOT_FOUND, "No such plan.", "planId")
    program = getattr(plan.shop, "program", None)
    if plan.archived_at is not None or program is None or not program.active:
        raise MembershipError(MembershipErrorCode.PLAN_UNAVAILABLE, "This plan is not on sale.", "planId")
    try:
        with transaction.atomic():
            account, _ = account_get_or_enroll(customer=customer, program=program, at=at)
            if Subscription.objects.filter(account=account, status__in=LIVE).exists():
                raise MembershipError(
                    MembershipErrorCode.ALREADY_SUBSCRIBED, "You already have a membership in this shop.", "planId"
                )
            had_trial = Subscription.objects.filter(account=account, trial_end__isnull=False).exists()
            trial = plan.trial_days > 0 and not had_trial
            # Saved by its first transition, from no state to pending.
            subscription = Subscription(shop_id=plan.shop_id, plan=plan, account=account, status="", created_at=at)
            transition(
                subscription,
                S.PENDING,
                reason="Subscribed; waiting for the first payment" if not trial else "Subscribed",
                actor_kind=ActorKind.MEMBER,
                actor=user,
                at=at,
            )
            if trial:
                trial_end = at + dt.timedelta(days=plan.trial_days)
                subscription.started_at = at
                subscription.trial_end = trial_end
                subscription.current_period_start = at
                subscription.current_period_end = trial_end
                hold_tier(subscription, at=at, reason=f"{plan.name} membership: free trial started")
                transition(
                    subscription,
                    S.TRIALING,
                    reason=f"Free trial of {plan.trial_days} days",
                    actor_kind=ActorKind.MEMBER,
                    actor=user,
                    at=at,
                )
    except IntegrityError as error:  # a concurrent subscribe of the same member won the unique constraint
        raise MembershipError(
            MembershipErrorCode.ALREADY_SUBSCRIBED, "You already have a membership in this shop.", "planId"
        ) from error
    return subscription


def _changeable(subscription: Subscription, allowed: tuple[str, ...], what: str) -> None:
    if subscription.status not in allowed:
        raise MembershipError(
            MembershipErrorCode.INVALID_STATE,
            f"A {subscription.status.replace('_', ' ')} membership cannot {what}.",
            "id",
        )


def subscription_auto_renew_set(*, user: User, subscription_id: int, auto_renew: bool) -> Subscription:
    """Turn the subscription's auto-renewal on or off (member or staff); recorded as a transition.

    Off: the period runs to its end and then the subscription expires (no charge is asked for).
    On also withdraws a cancellation asked for the period's end (both say "renew at the end", as
    Stripe's ``cancel_at_period_end=false`` does). Codes: NOT_AUTHENTICATED, NOT_FOUND,
    INVALID_STATE (ended or paused). Setting the value it already has writes nothing.
    """
    user = _logged_in(user)
    with transaction.atomic():
        subscription = locked_subscription(subscription_id)
        actor = actor_of(user, subscription)
        _changeable(subscription, (S.PENDING, *HOLDING), "change auto-renewal")
        withdraw = auto_renew and subscription.cancel_at_period_end
        if subscription.auto_renew == auto_renew and not withdraw:
            return subscription
        subscription.auto_renew = auto_renew
        subscription.cancel_at_period_end = subscription.cancel_at_period_end and not auto_renew
        if withdraw:
            reason = "Cancellation withdrawn; auto-renewal turned on"
        else:
            reason = "Auto-renewal turned on" if auto_renew else "Auto-renewal turned off"
        locked_account(subscription)
        transition(
            subscription,
            subscription.status,
            reason=reason,
            actor_kind=actor,
            actor=user,
            at=timezone.now(),
        )
    return subscription


def subscription_cancel(*, user: User, subscription_id: int, at_period_end: bool = True) -> Subscription:
    """Cancel: at the end of the paid period (the tier is held until then), or now (the tier goes now).

    A pending or paused subscription, or a past-due one, is cancelled now whatever ``at_period_end``
    says (nothing paid runs on). Codes: NOT_AUTHENTICATED, NOT_FOUND, INVALID_STATE (already ended).
    """
    user = _logged_in(user)
    now = timezone.now()
    with transaction.atomic():
        subscription = locked_subscription(subscription_id)
        actor = actor_of(user, subscription)
        _changeable(subscription, (S.PENDING, S.PAUSED, *HOLDING), "be cancelled")
        who = "the member" if actor == ActorKind.MEMBER else "staff"
        if at_period_end and subscription.status in (S.TRIALING, S.ACTIVE):
            if subscription.cancel_at_period_end:
                return subscription
            subscription.cancel_at_period_end = True
            locked_account(subscription)
            transition(
                subscription,
                subscription.status,
                reason=f"Cancellation at the end of the period asked by {who}",
                actor_kind=actor,
                actor=user,
                at=now,
            )
        else:
            end(subscription, S.CANCELLED, reason=f"Cancelled by {who}", actor_kind=actor, actor=user, at=now)
    return subscription


def subscription_pause(*, user: User, subscription_id: int) -> Subscription:
    """Pause an active subscription now: the tier goes, no charge is asked for, and the paid time
    left is kept for :func:`subscription_resume`. Codes: NOT_AUTHENTICATED, NOT_FOUND, INVALID_STATE
    (only an active subscription pauses)."""
    user = _logged_in(user)
    now = timezone.now()
    with transaction.atomic():
        subscription = locked_subscription(subscription_id)
        actor = actor_of(user, subscription)
        _changeable(subscription, (S.ACTIVE,), "be paused")
        assert subscription.current_period_end is not None
        subscription.paused_remaining = max(subscription.current_period_end - now, dt.timedelta(0))
        release_tier(subscription, at=now, reason=f"{subscription.plan.name} membership paused")
        transition(subscription, S.PAUSED, reason="Paused", actor_kind=actor, actor=user, at=now)
    return subscription


def subscription_resume(*, user: User, subscription_id: int) -> Subscription:
    """Resume a paused subscription: active again with the paid time it had left, the tier held again.
    Codes: NOT_AUTHENTICATED, NOT_FOUND, INVALID_STATE (not paused)."""
    user = _logged_in(user)
    now = timezone.now()
    with transaction.atomic():
        subscription = locked_subscription(subscription_id)
        actor = actor_of(user, subscription)
        _changeable(subscription, (S.PAUSED,), "be resumed")
        subscription.current_period_start = now
        subscription.current_period_end = now + (subscription.paused_remaining or dt.timedelta(0))
        subscription.paused_remaining = None
        subscription.charge_attempts = 0
        subscription.reminded_for = None
        hold_tier(subscription, at=now, reason=f"{subscription.plan.name} membership resumed")
        transition(subscription, S.ACTIVE, reason="Resumed", actor_kind=actor, actor=user, at=now)
    return subscription


def subscription_retry_now(*, user: User, subscription_id: int) -> Subscription:
    """Staff ask the shop's system for an overdue renewal charge now (``membership.renewal_due`` with
    ``manual: true``); the retry schedule is unchanged. Codes: NOT_AUTHENTICATED, NOT_FOUND,
    PERMISSION_DENIED (members cannot), INVALID_STATE (no charge is overdue: the period has not
    ended, or the subscription does not renew)."""
    user = _logged_in(user)
    now = timezone.now()
    with transaction.atomic():
        subscription = locked_subscription(subscription_id)
        if actor_of(user, subscription) != ActorKind.STAFF:
            raise MembershipError(MembershipErrorCode.PERMISSION_DENIED, "Only staff ask for a charge again.", "id")
        end_at = subscription.current_period_end
        if subscription.status not in HOLDING or end_at is None or end_at > now or not renewing(subscription):
            raise MembershipError(MembershipErrorCode.INVALID_STATE, "No charge is overdue for this membership.", "id")
        locked_account(subscription)
        request_charge(subscription, at=now, attempt=max(subscription.charge_attempts, 1), manual=True)
    return subscription


def renew_period(subscription: Subscription) -> tuple[dt.datetime, dt.datetime]:
    """The period a renewal pays: from the end of the current one, one interval on."""
    start = subscription.current_period_end
    assert start is not None
    return start, period_after(subscription.plan, start)
