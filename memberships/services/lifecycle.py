"""The subscription state machine (docs/memberships.md, "States").

::

    subscribe ──> pending ──first payment──> active ◄──payment── past_due
        │            └──1 day unpaid──> expired        │  ▲          │ └─final failure, or 6 days──> expired
        └─trial──> trialing ──period end, charge asked──┴──┘ failure/1 day
    active ──pause──> paused ──resume──> active
    trialing | active | past_due | paused ──cancel now──> cancelled
    trialing | active ──period end, auto-renewal off──> expired;  ──cancel at period end──> cancelled

Every move is a :class:`SubscriptionTransition` (reason, actor) and a ``membership.status_changed``
shop event in the same transaction; the plan's tier is held (``loyalty.services.tiers.tier_floor_set``)
in trialing, active and past_due and released on leaving them, each with a tier-history reason.

Charges follow a fixed schedule from the end of the period: asked at the end, then 1, 3 and 5 days
later (:data:`CHARGE_OFFSETS`); unpaid one day after the end the subscription is past due; unpaid
six days after the end, or when the last charge asked for fails, it expires. The schedule is fixed
in time, so the outcome never depends on when the job runs: a job that was down asks once for the
latest charge due, never for each it missed. Every step runs under the subscription's row lock
(then the account's), so a job run twice or at once, or beside a payment report, changes nothing
twice: ``charge_attempts`` and ``reminded_for`` record what was asked.

Retry schedule and the one-day limit on an unpaid first checkout follow Stripe Billing's smart
retries and ``incomplete_expired`` (23 hours) as documented at https://docs.stripe.com/billing/subscriptions/overview.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Q

from engagement.models import EngagementKind
from engagement.rendering import day
from engagement.services.planning import plan as engagement_plan
from loyalty.events import member_ref
from loyalty.models import MemberAccount
from loyalty.reasons import language_of
from loyalty.services.ledger import account_lock
from loyalty.services.tiers import tier_floor_clear, tier_floor_set
from marketplace.events import node_id, shop_event_record
from marketplace.models import EventType
from memberships.models import (
    HOLDING,
    ActorKind,
    IntervalUnit,
    MembershipPlan,
    Subscription,
    SubscriptionStatus,
    SubscriptionTransition,
)

#: A pending subscription whose first payment did not come within this long expires.
PENDING_TTL = dt.timedelta(days=1)
#: When a renewal's charge is asked for, counted from the end of the period: at the end, then the
#: retries 1, 3 and 5 days later.
CHARGE_OFFSETS = (dt.timedelta(0), dt.timedelta(days=1), dt.timedelta(days=3), dt.timedelta(days=5))
#: Unpaid this long after the end of the period, a subscription is past due.
PAST_DUE_AFTER = CHARGE_OFFSETS[1]
#: Unpaid this long after the end of the period, a subscription expires (a day after the last retry).
EXPIRE_AFTER = CHARGE_OFFSETS[-1] + dt.timedelta(days=1)

S = SubscriptionStatus


def period_after(plan: MembershipPlan, start: dt.datetime) -> dt.datetime:
    """The end of a billing period of ``plan`` that starts at ``start`` (calendar months and years:
    31 January + 1 month = 28 or 29 February, dateutil's ``relativedelta``)."""
    count = plan.interval_count
    if plan.interval_unit == IntervalUnit.MONTH:
        return start + relativedelta(months=count)
    if plan.interval_unit == IntervalUnit.YEAR:
        return start + relativedelta(years=count)
    return start + dt.timedelta(days=count)


def renewing(subscription: Subscription) -> bool:
    """Whether the subscription renews at the end of its period (auto-renewal on, no cancellation asked)."""
    return subscription.auto_renew and not subscription.cancel_at_period_end


def next_charge_at(subscription: Subscription) -> dt.datetime | None:
    """When the next charge will be asked for: the end of the period, or the next retry; ``None``
    when the subscription will not renew or is not running."""
    if subscription.status not in HOLDING or not renewing(subscription) or subscription.current_period_end is None:
        return None
    index = min(subscription.charge_attempts, len(CHARGE_OFFSETS) - 1)
    if subscription.charge_attempts >= len(CHARGE_OFFSETS):
        return None
    return subscription.current_period_end + CHARGE_OFFSETS[index]


def subscription_event_data(subscription: Subscription, **extra: Any) -> dict[str, Any]:
    """The body of a membership event: the subscription, plan and member ids, state, period and price."""
    _, member = member_ref(subscription.account)
    plan = subscription.plan
    end = subscription.current_period_end
    return {
        "subscription": node_id("MembershipSubscription", subscription.pk),
        "plan": node_id("MembershipPlan", plan.pk),
        "member": member,
        "status": subscription.status,
        "currentPeriodEnd": end.isoformat() if end else None,
        "amount": str(plan.price),
        "currency": plan.currency,
        **extra,
    }


def transition(
    subscription: Subscription,
    to: str,
    *,
    reason: str,
    actor_kind: str,
    at: dt.datetime,
    actor: AbstractBaseUser | AnonymousUser | None = None,
) -> SubscriptionTransition:
    """Record a move of the (locked) subscription to ``to`` (or, with ``to`` its status, a change of
    its settings), save the subscription and record ``membership.status_changed`` when the state moved.
    ``subscription.account`` must be loaded with its program. Ends (cancelled, expired) set ``ended_at``."""
    before = subscription.status
    subscription.status = to
    if to in (S.CANCELLED, S.EXPIRED) and subscription.ended_at is None:
        subscription.ended_at = at
    subscription.save()
    row = SubscriptionTransition.objects.create(
        subscription=subscription,
        from_status=before,
        to_status=to,
        reason=reason[:300],
        actor_kind=actor_kind,
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        created_at=at,
    )
    if before != to:
        shop_event_record(
            shop_id=subscription.shop_id,
            type=EventType.MEMBERSHIP_STATUS_CHANGED,
            data=subscription_event_data(subscription, fromStatus=before, reason=row.reason),
            occurred_at=at,
        )
    return row


def locked_account(subscription: Subscription) -> MemberAccount:
    """The subscription's account, row-locked (after the subscription's lock: always that order),
    with tier, customer and program with its shop loaded."""
    account = (
        account_lock(account_ids=[subscription.account_id]).select_related("tier", "customer", "program__shop").get()
    )
    subscription.account = account
    return account


def hold_tier(subscription: Subscription, *, at: dt.datetime, reason: str) -> None:
    """The member holds the plan's tier (and its extra multiplier) from ``at`` (idempotent)."""
    account = locked_account(subscription)
    plan = subscription.plan
    tier_floor_set(account=account, tier=plan.tier, multiplier=plan.earn_multiplier, at=at, reason=reason)


def release_tier(subscription: Subscription, *, at: dt.datetime, reason: str) -> None:
    """The member goes back to their earned tier from ``at`` (idempotent)."""
    account = locked_account(subscription)
    tier_floor_clear(account=account, at=at, reason=reason)


def end(
    subscription: Subscription,
    to: str,
    *,
    reason: str,
    actor_kind: str,
    at: dt.datetime,
    actor: AbstractBaseUser | AnonymousUser | None = None,
) -> None:
    """Move the (locked) subscription to an end (cancelled or expired) and release the tier if held."""
    held = subscription.status in HOLDING
    if held:
        release_tier(subscription, at=at, reason=f"{subscription.plan.name} membership ended: {reason}")
    else:
        locked_account(subscription)
    transition(subscription, to, reason=reason, actor_kind=actor_kind, actor=actor, at=at)


def request_charge(subscription: Subscription, *, at: dt.datetime, attempt: int, manual: bool = False) -> None:
    """Ask the shop's system to charge the renewal now: a ``membership.renewal_due`` event."""
    subscription.last_charge_request_at = at
    subscription.save(update_fields=["last_charge_request_at", "charge_attempts"])
    shop_event_record(
        shop_id=subscription.shop_id,
        type=EventType.MEMBERSHIP_RENEWAL_DUE,
        data=subscription_event_data(subscription, attempt=attempt, manual=manual, requestedAt=at.isoformat()),
        occurred_at=at,
    )


def remind(subscription: Subscription, *, at: dt.datetime) -> None:
    """Tell the member the renewal is near: an engagement message (``renewal_reminder``, on the
    channels the member consented to) and a ``membership.renewal_upcoming`` event, once per period."""
    end_at = subscription.current_period_end
    assert end_at is not None
    subscription.reminded_for = end_at
    subscription.save(update_fields=["reminded_for"])
    account = subscription.account
    plan = subscription.plan
    language = language_of(account.customer.locale)
    engagement_plan(
        account=account,
        kind=EngagementKind.RENEWAL_REMINDER,
        key=f"{subscription.pk}:{end_at:%Y%m%d%H%M}",
        variables={
            "plan_name": plan_name(plan, language),
            "renewal_date": day(end_at.astimezone(zoneinfo.ZoneInfo(account.program.shop.timezone)).date(), language),
            "amount": f"{plan.price} {plan.currency}",
        },
        planned_at=at,
        expires_at=end_at,
    )
    shop_event_record(
        shop_id=subscription.shop_id,
        type=EventType.MEMBERSHIP_RENEWAL_UPCOMING,
        data=subscription_event_data(subscription),
        occurred_at=at,
    )


def plan_name(plan: MembershipPlan, language: str) -> str:
    """The plan's name in ``language`` (its translation, else the English name)."""
    translated = (plan.translations or {}).get(language, {})
    return str(translated.get("name") or plan.name) if isinstance(translated, dict) else plan.name


@dataclass
class Steps:
    """What :func:`due_steps` found due for one subscription, in the order they apply."""

    names: list[str] = field(default_factory=list)
    attempt: int = 0  # the charge request to make (1-based), when "request_charge" is due


def due_steps(subscription: Subscription, now: dt.datetime) -> Steps:
    """What the scheduled job must do to the subscription at ``now`` (reads nothing; no writes).

    ``expire_unpaid`` (a pending subscription older than :data:`PENDING_TTL`), ``end`` (a period
    over that does not renew), ``remind`` (``plan.reminder_days`` before the end, once), ``request_charge``
    (the latest charge of :data:`CHARGE_OFFSETS` due and not yet asked for), ``past_due`` (unpaid
    :data:`PAST_DUE_AFTER` after the end), ``expire_failed`` (unpaid :data:`EXPIRE_AFTER` after the end).
    """
    steps = Steps()
    if subscription.status == S.PENDING:
        if now >= subscription.created_at + PENDING_TTL:
            steps.names.append("expire_unpaid")
        return steps
    end_at = subscription.current_period_end
    if subscription.status not in HOLDING or end_at is None:
        return steps
    if not renewing(subscription):
        if now >= end_at:
            steps.names.append("end")
        return steps
    reminder_from = end_at - dt.timedelta(days=subscription.plan.reminder_days)
    if subscription.reminded_for != end_at and reminder_from <= now < end_at:
        steps.names.append("remind")
    if now >= end_at + EXPIRE_AFTER:
        steps.names.append("expire_failed")
        return steps
    due = [index for index, offset in enumerate(CHARGE_OFFSETS) if end_at + offset <= now]
    if due and due[-1] + 1 > subscription.charge_attempts:
        steps.names.append("request_charge")
        steps.attempt = due[-1] + 1
    if subscription.status != S.PAST_DUE and now >= end_at + PAST_DUE_AFTER:
        steps.names.append("past_due")
    return steps


def apply_steps(subscription: Subscription, steps: Steps, now: dt.datetime) -> None:
    """Carry out :func:`due_steps`' findings on the (locked) subscription, with ``now`` as their time."""
    for name in steps.names:
        if name == "expire_unpaid":
            end(
                subscription,
                S.EXPIRED,
                reason="The first payment did not come within a day",
                actor_kind=ActorKind.SYSTEM,
                at=now,
            )
        elif name == "end":
            to = S.CANCELLED if subscription.cancel_at_period_end else S.EXPIRED
            why = "Cancelled at the end of the period" if to == S.CANCELLED else "Not renewed: auto-renewal is off"
            end(subscription, to, reason=why, actor_kind=ActorKind.SYSTEM, at=now)
        elif name == "remind":
            locked_account(subscription)
            remind(subscription, at=now)
        elif name == "request_charge":
            subscription.charge_attempts = steps.attempt
            request_charge(subscription, at=now, attempt=steps.attempt)
        elif name == "past_due":
            locked_account(subscription)
            transition(
                subscription,
                S.PAST_DUE,
                reason="The renewal has not been paid a day after the period ended; retries are scheduled",
                actor_kind=ActorKind.SYSTEM,
                at=now,
            )
        elif name == "expire_failed":
            end(
                subscription,
                S.EXPIRED,
                reason=f"The renewal was not paid after {len(CHARGE_OFFSETS) - 1} retries",
                actor_kind=ActorKind.SYSTEM,
                at=now,
            )


@dataclass
class AdvanceSummary:
    """What :func:`subscriptions_advance` did (or would do, in a dry run): subscriptions per step."""

    counts: dict[str, int] = field(default_factory=dict)
    subscriptions: int = 0

    def __str__(self) -> str:
        parts = ", ".join(f"{name} {count}" for name, count in sorted(self.counts.items())) or "nothing due"
        return f"{self.subscriptions} subscriptions: {parts}"


def subscriptions_advance(*, now: dt.datetime, dry_run: bool = False, shop_id: int | None = None) -> AdvanceSummary:
    """The scheduled job: bring every subscription up to ``now`` (reminders, charge requests,
    past due, expiries, ends). Candidates come from one query; each is then locked and rechecked
    in its own short transaction, so the job is idempotent, safe to run twice or at once, and can
    be re-run after a crash. ``dry_run`` writes nothing and reports what is due.
    """
    horizon = now + dt.timedelta(days=31)
    candidates = Subscription.objects.filter(
        Q(status=S.PENDING, created_at__lte=now - PENDING_TTL) | Q(status__in=HOLDING, current_period_end__lte=horizon)
    )
    if shop_id is not None:
        candidates = candidates.filter(shop_id=shop_id)
    summary = AdvanceSummary()
    for pk in candidates.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=1000):
        with transaction.atomic(durable=not dry_run):
            rows = Subscription.objects.select_related("plan__tier", "account")
            subscription = (rows if dry_run else rows.select_for_update(of=("self",))).get(pk=pk)
            steps = due_steps(subscription, now)
            if not steps.names:
                continue
            if not dry_run:
                apply_steps(subscription, steps, now)
        summary.subscriptions += 1
        for name in steps.names:
            summary.counts[name] = summary.counts.get(name, 0) + 1
    return summary
