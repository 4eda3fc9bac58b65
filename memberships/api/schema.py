"""memberships' part of the GraphQL schema: staff sell plans and act on subscriptions
(``memberships:write``), members subscribe and manage theirs, and the shop's payment system reports
charges (``orders:write``; docs/memberships.md).

Resolvers are thin: they decode ids, call one service and map :class:`MembershipError` to payload
errors (``handle_domain_errors``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from api_core.context import current_user
from api_core.errors import handle_domain_errors
from api_core.ids import decode_global_id
from memberships.api.types import (
    BillingInterval,
    BulkActionKind,
    MembershipError,
    MembershipPayment,
    MembershipPlan,
    PaymentOutcome,
    Subscription,
    SubscriptionBulkAction,
)
from memberships.services.bulk import subscription_bulk_start
from memberships.services.payments import membership_payment_record
from memberships.services.plans import PlanData, membership_plan_archive, membership_plan_create, membership_plan_update
from memberships.services.subscriptions import (
    membership_subscribe,
    subscription_auto_renew_set,
    subscription_cancel,
    subscription_pause,
    subscription_resume,
    subscription_retry_now,
)

ID_ARG = Annotated[strawberry.ID, strawberry.argument(description="Global id.")]
STAFF_CODES = (
    "Codes: NOT_AUTHENTICATED, PERMISSION_DENIED (memberships:write: owner, manager), NOT_FOUND, INVALID_INPUT"
)
MEMBER_CODES = (
    "The member, or staff with memberships:write. Codes: NOT_AUTHENTICATED, NOT_FOUND (id), INVALID_STATE (id)"
)


@strawberry.input(description="A plan's name and benefits in another language.")
class PlanTranslationInput:
    """One language's texts."""

    language: str = strawberry.field(description="'fa'.")
    name: str = strawberry.field(default="", description="Name, up to 120 characters (empty: the English one).")
    benefits: list[str] = strawberry.field(default_factory=list, description="Up to 10 lines of 1-200 characters.")


@strawberry.input(description="A membership plan's settings.")
class MembershipPlanInput:
    """Input of membershipPlanCreate and membershipPlanUpdate."""

    name: str = strawberry.field(description="1-120 characters.")
    price: Decimal = strawberry.field(description="Per billing period, in the shop's currency; > 0, 2 places.")
    interval_unit: BillingInterval = strawberry.field(description="Days, months or years.")
    tier_id: strawberry.ID = strawberry.field(description="The tier subscribers hold at least (the shop's program's).")
    interval_count: int = strawberry.field(
        default=1, description="Units per period: 1-365 days, 1-12 months, 1-5 years."
    )
    trial_days: int = strawberry.field(default=0, description="Free days before the first charge, 0-365.")
    earn_multiplier: Decimal = strawberry.field(
        default=Decimal("1"), description="Extra earning multiplier, 1-10 (3 places), on top of the tier's."
    )
    reminder_days: int = strawberry.field(default=3, description="Days before a renewal that members hear, 0-30.")
    benefits: list[str] = strawberry.field(default_factory=list, description="Up to 10 lines of 1-200 characters.")
    translations: list[PlanTranslationInput] = strawberry.field(
        default_factory=list, description="Name and benefits in other languages."
    )

    def to_domain(self) -> PlanData:
        """The service's input."""
        return PlanData(
            name=self.name,
            price=self.price,
            interval_unit=self.interval_unit.value,
            tier_id=decode_global_id(self.tier_id, "Tier") or 0,
            interval_count=self.interval_count,
            trial_days=self.trial_days,
            earn_multiplier=self.earn_multiplier,
            reminder_days=self.reminder_days,
            benefits=list(self.benefits),
            translations={t.language: {"name": t.name, "benefits": list(t.benefits)} for t in self.translations},
        )


@strawberry.type(description="Result of membershipPlanCreate, membershipPlanUpdate and membershipPlanArchive.")
class MembershipPlanPayload:
    """The plan, or coded errors."""

    plan: MembershipPlan | None = strawberry.field(default=None, description="The plan; null when refused.")
    errors: list[MembershipError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.type(description="Result of the mutations on one subscription.")
class SubscriptionPayload:
    """The subscription as it is now, or coded errors."""

    subscription: Subscription | None = strawberry.field(default=None, description="Null when refused.")
    errors: list[MembershipError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.input(description="A charge the shop's payment system made for a membership.")
class MembershipPaymentInput:
    """Input of membershipPaymentRecord."""

    subscription_id: strawberry.ID = strawberry.field(description="The subscription charged.")
    outcome: PaymentOutcome = strawberry.field(description="Charged or failed.")
    amount: Decimal = strawberry.field(description="The plan's price, in its currency.")
    idempotency_key: str = strawberry.field(description="1-200 characters, unique per payment in the shop.")
    provider_reference: str = strawberry.field(default="", description="The payment system's reference, up to 200.")


@strawberry.type(description="Result of membershipPaymentRecord.")
class MembershipPaymentPayload:
    """The payment and the subscription after it, or coded errors."""

    payment: MembershipPayment | None = strawberry.field(default=None, description="Null when refused.")
    subscription: Subscription | None = strawberry.field(default=None, description="Null when refused.")
    replayed: bool = strawberry.field(default=False, description="True when the key was recorded before.")
    errors: list[MembershipError] = strawberry.field(default_factory=list, description="Empty on success.")


@strawberry.type(description="Result of subscriptionsBulkStart.")
class SubscriptionBulkPayload:
    """The queued action (poll Shop.subscriptionBulkAction for progress), or coded errors."""

    action: SubscriptionBulkAction | None = strawberry.field(default=None, description="Null when refused.")
    errors: list[MembershipError] = strawberry.field(default_factory=list, description="Empty on success.")


def _subscription_id(value: strawberry.ID) -> int:
    return decode_global_id(value, "MembershipSubscription") or 0


@strawberry.type
class MembershipsMutation:
    """Plans, subscriptions and their payments."""

    @strawberry.mutation(description=f"Create a plan in the shop's currency. {STAFF_CODES}.")
    @handle_domain_errors(MembershipPlanPayload, MembershipError)
    def membership_plan_create(
        self, info: Info, shop_id: ID_ARG, input: Annotated[MembershipPlanInput, strawberry.argument(description="It.")]
    ) -> MembershipPlanPayload:
        """Call ``membership_plan_create``."""
        plan = membership_plan_create(
            user=current_user(info), shop_id=decode_global_id(shop_id, "Shop") or 0, data=input.to_domain()
        )
        return MembershipPlanPayload(plan=cast(MembershipPlan, plan))

    @strawberry.mutation(
        description=(
            "Change a plan; a new price applies from each subscription's next renewal. "
            f"{STAFF_CODES} (tierId: members hold the plan's tier now)."
        )
    )
    @handle_domain_errors(MembershipPlanPayload, MembershipError)
    def membership_plan_update(
        self, info: Info, id: ID_ARG, input: Annotated[MembershipPlanInput, strawberry.argument(description="It.")]
    ) -> MembershipPlanPayload:
        """Call ``membership_plan_update``."""
        plan = membership_plan_update(
            user=current_user(info), plan_id=decode_global_id(id, "MembershipPlan") or 0, data=input.to_domain()
        )
        return MembershipPlanPayload(plan=cast(MembershipPlan, plan))

    @strawberry.mutation(description=f"Stop (or resume) selling a plan; its subscriptions go on. {STAFF_CODES}.")
    @handle_domain_errors(MembershipPlanPayload, MembershipError)
    def membership_plan_archive(
        self,
        info: Info,
        id: ID_ARG,
        archived: Annotated[bool, strawberry.argument(description="false: back on sale.")] = True,
    ) -> MembershipPlanPayload:
        """Call ``membership_plan_archive``."""
        plan = membership_plan_archive(
            user=current_user(info), plan_id=decode_global_id(id, "MembershipPlan") or 0, archived=archived
        )
        return MembershipPlanPayload(plan=cast(MembershipPlan, plan))

    @strawberry.mutation(
        description=(
            "Subscribe the logged-in customer to a plan: trialing at once (the plan's tier from now) when it "
            "has a trial, else pending until the shop's checkout reports the first payment. Codes: "
            "NOT_AUTHENTICATED, NOT_FOUND (planId), PLAN_UNAVAILABLE, ALREADY_SUBSCRIBED."
        )
    )
    @handle_domain_errors(SubscriptionPayload, MembershipError)
    def membership_subscribe(
        self, info: Info, plan_id: Annotated[strawberry.ID, strawberry.argument(description="The plan.")]
    ) -> SubscriptionPayload:
        """Call ``membership_subscribe``."""
        subscription = membership_subscribe(
            user=current_user(info), plan_id=decode_global_id(plan_id, "MembershipPlan") or 0
        )
        return SubscriptionPayload(subscription=cast(Subscription, subscription))

    @strawberry.mutation(
        description=(
            f"Turn auto-renewal on or off; on also withdraws a cancellation asked for the period's end. {MEMBER_CODES}."
        )
    )
    @handle_domain_errors(SubscriptionPayload, MembershipError)
    def subscription_auto_renew_set(
        self,
        info: Info,
        id: ID_ARG,
        auto_renew: Annotated[bool, strawberry.argument(description="On or off.")],
    ) -> SubscriptionPayload:
        """Call ``subscription_auto_renew_set``."""
        subscription = subscription_auto_renew_set(
            user=current_user(info), subscription_id=_subscription_id(id), auto_renew=auto_renew
        )
        return SubscriptionPayload(subscription=cast(Subscription, subscription))

    @strawberry.mutation(
        description=(
            "Cancel at the end of the paid period (the tier is kept until then) or now (the tier goes now). "
            f"{MEMBER_CODES}."
        )
    )
    @handle_domain_errors(SubscriptionPayload, MembershipError)
    def subscription_cancel(
        self,
        info: Info,
        id: ID_ARG,
        at_period_end: Annotated[bool, strawberry.argument(description="false: now.")] = True,
    ) -> SubscriptionPayload:
        """Call ``subscription_cancel``."""
        subscription = subscription_cancel(
            user=current_user(info), subscription_id=_subscription_id(id), at_period_end=at_period_end
        )
        return SubscriptionPayload(subscription=cast(Subscription, subscription))

    @strawberry.mutation(description=f"Pause an active subscription, keeping its paid time. {MEMBER_CODES}.")
    @handle_domain_errors(SubscriptionPayload, MembershipError)
    def subscription_pause(self, info: Info, id: ID_ARG) -> SubscriptionPayload:
        """Call ``subscription_pause``."""
        subscription = subscription_pause(user=current_user(info), subscription_id=_subscription_id(id))
        return SubscriptionPayload(subscription=cast(Subscription, subscription))

    @strawberry.mutation(description=f"Resume a paused subscription. {MEMBER_CODES}.")
    @handle_domain_errors(SubscriptionPayload, MembershipError)
    def subscription_resume(self, info: Info, id: ID_ARG) -> SubscriptionPayload:
        """Call ``subscription_resume``."""
        subscription = subscription_resume(user=current_user(info), subscription_id=_subscription_id(id))
        return SubscriptionPayload(subscription=cast(Subscription, subscription))

    @strawberry.mutation(
        description=(
            "Ask the shop's payment system for an overdue renewal charge now (membership.renewal_due, "
            "manual). Staff with memberships:write. Codes: NOT_AUTHENTICATED, NOT_FOUND, PERMISSION_DENIED, "
            "INVALID_STATE."
        )
    )
    @handle_domain_errors(SubscriptionPayload, MembershipError)
    def subscription_retry_now(self, info: Info, id: ID_ARG) -> SubscriptionPayload:
        """Call ``subscription_retry_now``."""
        subscription = subscription_retry_now(user=current_user(info), subscription_id=_subscription_id(id))
        return SubscriptionPayload(subscription=cast(Subscription, subscription))

    @strawberry.mutation(
        description=(
            "Start a bulk action over the shop's subscriptions; a worker runs it (poll "
            f"Shop.subscriptionBulkAction). {STAFF_CODES} (kind, subscriptionIds)."
        )
    )
    @handle_domain_errors(SubscriptionBulkPayload, MembershipError)
    def subscriptions_bulk_start(
        self,
        info: Info,
        shop_id: ID_ARG,
        kind: Annotated[BulkActionKind, strawberry.argument(description="What to do.")],
        subscription_ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="1-5,000 subscriptions of the shop.")
        ],
    ) -> SubscriptionBulkPayload:
        """Call ``subscription_bulk_start``."""
        action = subscription_bulk_start(
            user=current_user(info),
            shop_id=decode_global_id(shop_id, "Shop") or 0,
            kind=kind.value,
            subscription_ids=[_subscription_id(value) for value in subscription_ids],
        )
        return SubscriptionBulkPayload(action=cast(SubscriptionBulkAction, action))

    @strawberry.mutation(
        description=(
            "Record what the shop's payment system did with a membership charge, exactly once per "
            "idempotency key: a success pays the period, holds the plan's tier and earns points; a failure "
            "makes a renewal past due, or ends it after the last retry. Capability orders:write. Codes: "
            "NOT_AUTHENTICATED, NOT_FOUND (subscriptionId), PERMISSION_DENIED, INVALID_INPUT (outcome, amount, "
            "idempotencyKey, providerReference), IDEMPOTENCY_CONFLICT, PAYMENT_NOT_DUE."
        )
    )
    @handle_domain_errors(MembershipPaymentPayload, MembershipError)
    def membership_payment_record(
        self, info: Info, input: Annotated[MembershipPaymentInput, strawberry.argument(description="The charge.")]
    ) -> MembershipPaymentPayload:
        """Call ``membership_payment_record``."""
        recorded = membership_payment_record(
            user=current_user(info),
            subscription_id=_subscription_id(input.subscription_id),
            outcome=input.outcome.value,
            amount=input.amount,
            provider_reference=input.provider_reference,
            idempotency_key=input.idempotency_key,
        )
        payment = recorded.payment
        return MembershipPaymentPayload(
            payment=cast(MembershipPayment, payment),
            subscription=cast(Subscription, payment.subscription),
            replayed=recorded.replayed,
        )
