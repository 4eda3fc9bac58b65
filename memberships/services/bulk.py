"""Staff actions over many subscriptions at once, with progress (docs/memberships.md, "Bulk actions").

:func:`subscription_bulk_start` records the action and queues it; a worker runs
:func:`subscription_bulk_run`, which applies the single-subscription service of the action to each
subscription in its own transaction, as the staff member who started it, and saves ``done`` after
each so the console can show progress. A refusal of one subscription (its code and message) is
listed in ``failures`` and the run goes on. A run that stops is resumed from ``done`` by running
it again; an applied action is idempotent anyway (auto-renewal already set, already cancelled).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from memberships.errors import MembershipError, MembershipErrorCode
from memberships.models import BulkActionKind, Subscription, SubscriptionBulkAction, SubscriptionStatus
from memberships.services.subscriptions import (
    require_memberships,
    subscription_auto_renew_set,
    subscription_cancel,
    subscription_retry_now,
)
from memberships.signals import bulk_action_created

#: Most subscriptions one action takes.
MAX_BULK = 5000


def subscription_bulk_start(
    *, user: AbstractBaseUser | AnonymousUser, shop_id: int, kind: str, subscription_ids: list[int]
) -> SubscriptionBulkAction:
    """Record a bulk action over the shop's subscriptions among ``subscription_ids`` and queue it.

    Codes: NOT_AUTHENTICATED, PERMISSION_DENIED ("shopId"), INVALID_INPUT ("kind"; "subscriptionIds":
    none, more than :data:`MAX_BULK`, or one that is not the shop's).
    """
    require_memberships(user, shop_id)
    if kind not in BulkActionKind.values:
        raise MembershipError(MembershipErrorCode.INVALID_INPUT, "Unknown bulk action.", "kind")
    wanted = list(dict.fromkeys(subscription_ids))
    if not 1 <= len(wanted) <= MAX_BULK:
        raise MembershipError(
            MembershipErrorCode.INVALID_INPUT, f"Choose 1 to {MAX_BULK} subscriptions.", "subscriptionIds"
        )
    found = set(Subscription.objects.filter(shop_id=shop_id, pk__in=wanted).values_list("pk", flat=True))
    if len(found) != len(wanted):
        raise MembershipError(
            MembershipErrorCode.INVALID_INPUT, "Some subscriptions are not this shop's.", "subscriptionIds"
        )
    with transaction.atomic():
        action = SubscriptionBulkAction.objects.create(
            shop_id=shop_id,
            kind=kind,
            subscription_ids=wanted,
            total=len(wanted),
            created_by_id=user.pk if user.is_authenticated else None,
            created_at=timezone.now(),
        )
        transaction.on_commit(lambda: bulk_action_created.send(sender=SubscriptionBulkAction, action_id=action.pk))
    return action


def _apply(action: SubscriptionBulkAction, user: AbstractBaseUser, subscription_id: int) -> bool:
    """Apply the action to one subscription; whether it changed anything."""
    before = (
        Subscription.objects.filter(pk=subscription_id)
        .values_list("status", "auto_renew", "last_charge_request_at")
        .first()
    )
    if action.kind == BulkActionKind.ENABLE_AUTO_RENEW:
        subscription_auto_renew_set(user=user, subscription_id=subscription_id, auto_renew=True)
    elif action.kind == BulkActionKind.DISABLE_AUTO_RENEW:
        subscription_auto_renew_set(user=user, subscription_id=subscription_id, auto_renew=False)
    elif action.kind == BulkActionKind.RETRY_NOW:
        subscription_retry_now(user=user, subscription_id=subscription_id)
    else:
        current = Subscription.objects.filter(pk=subscription_id).values_list("status", flat=True).first()
        if current in (SubscriptionStatus.CANCELLED, SubscriptionStatus.EXPIRED):
            return False
        subscription_cancel(user=user, subscription_id=subscription_id, at_period_end=False)
    after = (
        Subscription.objects.filter(pk=subscription_id)
        .values_list("status", "auto_renew", "last_charge_request_at")
        .first()
    )
    return before != after


def subscription_bulk_run(action_id: int) -> SubscriptionBulkAction:
    """Run (or resume) a bulk action: each remaining subscription in its own transaction, progress
    saved after each. Idempotent: a finished action does nothing."""
    action = SubscriptionBulkAction.objects.select_related("created_by").get(pk=action_id)
    user = action.created_by
    for index in range(action.done, action.total):
        subscription_id = action.subscription_ids[index]
        changed = False
        if user is None:
            action.failures.append(
                {"subscription": subscription_id, "code": "PERMISSION_DENIED", "message": "The staff member is gone."}
            )
        else:
            try:
                changed = _apply(action, user, subscription_id)
            except MembershipError as error:
                action.failures.append(
                    {"subscription": subscription_id, "code": error.code.value, "message": error.message}
                )
        action.done = index + 1
        action.changed += int(changed)
        action.save(update_fields=["done", "changed", "failures"])
    if action.finished_at is None:
        action.finished_at = timezone.now()
        action.save(update_fields=["finished_at"])
    return action
