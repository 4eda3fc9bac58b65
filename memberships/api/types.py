"""GraphQL types of paid memberships: plans, subscriptions, their history and payments, figures.

``ShopMembershipsPart`` adds the plans on sale (public) and the staff's fields to ``Shop``;
``AccountMembershipsPart`` adds the member's subscription to ``MemberAccount`` (the member, or
staff with ``members:read``). Both are composed in ``config.nodes``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, cast

import strawberry
import strawberry_django
from django.utils import timezone
from strawberry import relay
from strawberry_django.relay import DjangoListConnection

from api_core.errors import PayloadError
from api_core.ids import decode_global_id
from api_core.permissions import requires
from loyalty import models as loyalty_models
from loyalty.api.types import Tier
from marketplace import models as mp
from marketplace.permissions import Capability
from memberships import errors as domain
from memberships import models
from memberships.analytics import membership_figures, monthly_price
from memberships.selectors import (
    bulk_action_of_shop,
    current_subscription,
    plans_of_shop,
    plans_on_sale,
    subscriptions_of_account,
    subscriptions_of_shop,
)
from memberships.services.lifecycle import next_charge_at, plan_name

MembershipErrorCode = domain.MembershipErrorCode
strawberry.enum(MembershipErrorCode, name="MembershipErrorCode", description="Why a membership operation was refused.")
SubscriptionStatus = models.SubscriptionStatus
strawberry.enum(
    SubscriptionStatus, name="SubscriptionStatus", description="Where a subscription stands (docs/memberships.md)."
)
BillingInterval = models.IntervalUnit
strawberry.enum(BillingInterval, name="BillingInterval", description="The unit of a plan's billing interval.")
PaymentOutcome = models.PaymentOutcome
strawberry.enum(PaymentOutcome, name="MembershipPaymentOutcome", description="What the shop's payment system did.")
SubscriptionActor = models.ActorKind
strawberry.enum(SubscriptionActor, name="SubscriptionActor", description="Who moved a subscription.")
BulkActionKind = models.BulkActionKind
strawberry.enum(BulkActionKind, name="SubscriptionBulkActionKind", description="What a staff bulk action does.")

NODES = "config.nodes"  # a string: this layer never imports config (strawberry resolves it lazily)
MEMBER_ACCOUNT = Annotated["MemberAccount", strawberry.lazy(NODES)]  # type: ignore[name-defined]  # noqa: F821
_STAFF = "Only the shop's owner or a manager manages memberships."
_READERS = "Only the shop's owner or a manager can see its subscriptions."
_ANALYSTS = "Only the shop's owner or a manager can see its figures."
_MEMBERS = "Only the member, or the shop's owner or manager, can see a member's subscription."


@strawberry.type(description="A refused membership operation; nothing was changed.")
class MembershipError(PayloadError):
    """One reason a plan, subscription or payment operation was refused."""

    codes = MembershipErrorCode
    code: MembershipErrorCode = strawberry.field(description="Stable machine-readable code.")


@strawberry.type(description="A plan's name and benefits in one language.")
class PlanTranslation:
    """The translated texts."""

    language: str = strawberry.field(description="'fa'.")
    name: str = strawberry.field(description="Name in that language (empty: the English name).")
    benefits: list[str] = strawberry.field(description="Benefit lines in that language.")


@strawberry_django.type(
    models.MembershipPlan, name="MembershipPlan", description="A paid membership a shop sells, granting a tier."
)
class MembershipPlan(relay.Node):
    """Price, billing interval, trial, the tier it grants and its benefits."""

    name: str = strawberry_django.field(description="Name (English).")
    benefits: list[str] = strawberry_django.field(description="Benefit lines (English).")
    price: Decimal = strawberry_django.field(description="Price per billing period, in `currency`.")
    currency: str = strawberry_django.field(description="ISO 4217 code: the shop's currency.")
    interval_unit: BillingInterval = strawberry_django.field(description="Days, months or years.")
    interval_count: int = strawberry_django.field(description="Units per billing period (1 month, 30 days...).")
    trial_days: int = strawberry_django.field(description="Free days before the first charge (0: none).")
    earn_multiplier: Decimal = strawberry_django.field(
        description="Extra earning multiplier while subscribed, on top of the tier's (1: none)."
    )
    reminder_days: int = strawberry_django.field(description="Days before a renewal that members are reminded.")
    archived_at: dt.datetime | None = strawberry_django.field(description="When it stopped being sold; null: on sale.")
    created_at: dt.datetime = strawberry_django.field(description="When it was created.")

    @strawberry_django.field(description="The tier subscribers hold at least.", select_related=["tier"])
    def tier(self) -> Tier:
        """The plan's tier."""
        return cast(Tier, cast(models.MembershipPlan, self).tier)

    @strawberry_django.field(
        description="The name in a language ('en' or 'fa'; the English name when not translated).",
        only=["name", "translations"],
    )
    def localized_name(self, language: Annotated[str, strawberry.argument(description="'en' or 'fa'.")] = "en") -> str:
        """Call ``plan_name``."""
        return plan_name(cast(models.MembershipPlan, self), language)

    @strawberry_django.field(description="Name and benefits per language other than English.", only=["translations"])
    def translations(self) -> list[PlanTranslation]:
        """The stored translations."""
        stored = cast(models.MembershipPlan, self).translations or {}
        return [
            PlanTranslation(language=lang, name=str(t.get("name") or ""), benefits=list(t.get("benefits") or []))
            for lang, t in sorted(stored.items())
        ]

    @strawberry_django.field(
        description="The price per month (a year's over 12; N days' over N x 365/12), to the cent.",
        only=["price", "interval_unit", "interval_count"],
    )
    def monthly_price(self) -> Decimal:
        """Call ``monthly_price``."""
        return monthly_price(cast(models.MembershipPlan, self)).quantize(Decimal("0.01"))


@strawberry_django.type(
    models.SubscriptionTransition, name="SubscriptionTransition", description="One move of a subscription."
)
class SubscriptionTransition:
    """From which state to which, why, by whom and when (a settings change keeps the state)."""

    reason: str = strawberry_django.field(description="Why, in words.")
    actor_kind: SubscriptionActor = strawberry_django.field(description="Who did it.")
    created_at: dt.datetime = strawberry_django.field(description="When.")
    to_status: SubscriptionStatus = strawberry_django.field(description="The state after.")

    @strawberry_django.field(description="The state before; null for the first.", only=["from_status"])
    def from_status(self) -> SubscriptionStatus | None:
        """The stored state, or null."""
        value = cast(models.SubscriptionTransition, self).from_status
        return SubscriptionStatus(value) if value else None


@strawberry_django.type(
    models.MembershipPayment, name="MembershipPayment", description="A charge the shop's payment system reported."
)
class MembershipPayment(relay.Node):
    """Outcome, amount, the period it paid and the points it earned."""

    outcome: PaymentOutcome = strawberry_django.field(description="Charged or failed.")
    amount: Decimal = strawberry_django.field(description="Amount in `currency`.")
    currency: str = strawberry_django.field(description="ISO 4217 code.")
    provider_reference: str = strawberry_django.field(description="The payment system's reference.")
    period_start: dt.datetime | None = strawberry_django.field(description="Start of the period paid; null: failed.")
    period_end: dt.datetime | None = strawberry_django.field(description="End of the period paid; null: failed.")
    points: int = strawberry_django.field(description="Points it earned (0 for a failure).")
    created_at: dt.datetime = strawberry_django.field(description="When it was reported.")


@strawberry_django.type(
    models.Subscription, name="MembershipSubscription", description="A member's subscription to a paid membership plan."
)
class Subscription(relay.Node):
    """State, period, renewal, history and payments."""

    status: SubscriptionStatus = strawberry_django.field(description="Where it stands.")
    created_at: dt.datetime = strawberry_django.field(description="When the member subscribed.")
    started_at: dt.datetime | None = strawberry_django.field(description="First trialing or active moment.")
    trial_end: dt.datetime | None = strawberry_django.field(description="End of the free trial; null: none.")
    current_period_start: dt.datetime | None = strawberry_django.field(
        description="Start of the period paid (or trial)."
    )
    current_period_end: dt.datetime | None = strawberry_django.field(description="End of the period paid (or trial).")
    auto_renew: bool = strawberry_django.field(description="Renews at the period's end.")
    cancel_at_period_end: bool = strawberry_django.field(description="Ends at the period's end (cancelled).")
    charge_attempts: int = strawberry_django.field(description="Charges asked for the renewal due (0: none yet).")
    ended_at: dt.datetime | None = strawberry_django.field(description="When it was cancelled or expired.")

    @strawberry_django.field(description="The plan.", select_related=["plan__tier"])
    def plan(self) -> MembershipPlan:
        """The subscription's plan."""
        return cast(MembershipPlan, cast(models.Subscription, self).plan)

    @strawberry_django.field(
        description="When the shop's system will next be asked to charge; null: it will not renew.",
        only=["status", "auto_renew", "cancel_at_period_end", "current_period_end", "charge_attempts"],
    )
    def next_charge_at(self) -> dt.datetime | None:
        """Call ``next_charge_at``."""
        return next_charge_at(cast(models.Subscription, self))

    @strawberry_django.field(description="Every move, oldest first.", prefetch_related=["transitions"])
    def transitions(self) -> list[SubscriptionTransition]:
        """The history."""
        return cast(list[SubscriptionTransition], list(cast(models.Subscription, self).transitions.all()))

    @strawberry_django.field(description="Payments reported, newest first.", prefetch_related=["payments"])
    def payments(self) -> list[MembershipPayment]:
        """The payments."""
        return cast(list[MembershipPayment], list(cast(models.Subscription, self).payments.all()))

    @strawberry_django.field(description="The member.", select_related=["account"])
    def member(self) -> MEMBER_ACCOUNT:
        """The account."""
        return cast(Any, cast(models.Subscription, self).account)


@strawberry.type(description="A subscription a bulk action could not change.")
class BulkFailure:
    """Which, and why."""

    subscription_id: strawberry.ID = strawberry.field(description="The subscription's global id.")
    code: str = strawberry.field(description="A MembershipErrorCode value.")
    message: str = strawberry.field(description="Why, in words.")


@strawberry_django.type(
    models.SubscriptionBulkAction,
    name="SubscriptionBulkAction",
    description="A staff action over many subscriptions, run by a worker; poll it for progress.",
)
class SubscriptionBulkAction(relay.Node):
    """Kind, progress and failures."""

    kind: BulkActionKind = strawberry_django.field(description="What it does.")
    total: int = strawberry_django.field(description="Subscriptions chosen.")
    done: int = strawberry_django.field(description="Subscriptions handled so far.")
    changed: int = strawberry_django.field(description="Of those, how many it changed.")
    created_at: dt.datetime = strawberry_django.field(description="When it was started.")
    finished_at: dt.datetime | None = strawberry_django.field(description="When it finished; null: running.")

    @strawberry_django.field(description="Subscriptions it could not change, with why.", only=["failures"])
    def failures(self) -> list[BulkFailure]:
        """The stored failures."""
        return [
            BulkFailure(
                subscription_id=strawberry.ID(relay.to_base64("MembershipSubscription", row["subscription"])),
                code=str(row["code"]),
                message=str(row["message"]),
            )
            for row in cast(models.SubscriptionBulkAction, self).failures
        ]


@strawberry.type(description="One plan's subscribers now and revenue over the period.")
class PlanFigures:
    """Per plan."""

    plan: MembershipPlan = strawberry.field(description="The plan.")
    subscribers: int = strawberry.field(description="Trialing, active and past-due subscriptions now.")
    revenue: Decimal = strawberry.field(description="Successful payments over the period, shop currency.")


@strawberry.type(description="A shop's membership figures (docs/memberships.md, 'Figures').")
class MembershipFigures:
    """Subscribers, MRR, churn and revenue."""

    currency: str = strawberry.field(description="ISO 4217 code of the amounts.")
    days: int = strawberry.field(description="The period's length in days, ending now.")
    active_subscribers: int = strawberry.field(description="Active or past-due subscriptions now.")
    trialing: int = strawberry.field(description="Subscriptions in their free trial now.")
    past_due: int = strawberry.field(description="Subscriptions whose renewal is unpaid now.")
    mrr: Decimal = strawberry.field(description="Monthly recurring revenue of the active subscribers.")
    churned: int = strawberry.field(description="Subscriptions that ended over the period.")
    churn_rate: Decimal | None = strawberry.field(
        description="Churned over those running when the period began (0-1, 4 places); null: none were."
    )
    revenue: Decimal = strawberry.field(description="Successful payments over the period.")
    plans: list[PlanFigures] = strawberry.field(description="Per plan, cheapest first.")


def _account_shop(account: Any, arguments: dict[str, Any]) -> int | None:
    return cast(loyalty_models.MemberAccount, account).program.shop_id


def _account_member(account: Any) -> int | None:
    return cast(loyalty_models.MemberAccount, account).customer_id


@strawberry.type
class ShopMembershipsPart(relay.Node):
    """Paid memberships of a shop."""

    @strawberry_django.field(description="The plans on sale, cheapest first (public).")
    def membership_plans(self) -> list[MembershipPlan]:
        """Call ``plans_on_sale``."""
        return cast(list[MembershipPlan], list(plans_on_sale(cast(mp.Shop, self).pk)))

    @strawberry_django.field(
        description="Every plan, archived ones too, cheapest first (capability memberships:write).",
        extensions=[requires(Capability.MANAGE_MEMBERSHIPS, message=_STAFF)],
    )
    def all_membership_plans(
        self,
        archived: Annotated[
            bool | None, strawberry.argument(description="true: only archived; false: only on sale; null: all.")
        ] = None,
    ) -> list[MembershipPlan]:
        """Call ``plans_of_shop``."""
        return cast(list[MembershipPlan], list(plans_of_shop(cast(mp.Shop, self).pk, archived=archived)))

    @strawberry_django.connection(
        DjangoListConnection[Subscription],
        description="The shop's subscriptions, newest first, filtered (capability members:read).",
        extensions=[requires(Capability.READ_MEMBERS, message=_READERS)],
    )
    def subscriptions(
        self,
        statuses: Annotated[
            list[SubscriptionStatus] | None, strawberry.argument(description="Only these states.")
        ] = None,
        plan_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this plan's.")] = None,
        search: Annotated[
            str, strawberry.argument(description="Part of the member's name, e-mail or external id.")
        ] = "",
    ) -> list[models.Subscription]:
        """Call ``subscriptions_of_shop``."""
        return subscriptions_of_shop(  # type: ignore[return-value]
            cast(mp.Shop, self).pk,
            statuses=[s.value for s in statuses] if statuses else None,
            plan_id=(decode_global_id(plan_id, "MembershipPlan") or 0) if plan_id else None,
            search=search[:100],
        )

    @strawberry_django.field(
        description="Subscribers, MRR, churn and revenue per plan over the last `days` (capability analytics:read).",
        extensions=[requires(Capability.READ_ANALYTICS, message=_ANALYSTS)],
        only=["id", "currency"],
    )
    def membership_figures(
        self, days: Annotated[int, strawberry.argument(description="1-366 days, ending now.")] = 30
    ) -> MembershipFigures:
        """Call ``membership_figures``."""
        shop = cast(mp.Shop, self)
        figures = membership_figures(
            shop_id=shop.pk, currency=shop.currency, at=timezone.now(), days=min(max(days, 1), 366)
        )
        return MembershipFigures(
            currency=figures.currency,
            days=figures.days,
            active_subscribers=figures.active_subscribers,
            trialing=figures.trialing,
            past_due=figures.past_due,
            mrr=figures.mrr,
            churned=figures.churned,
            churn_rate=figures.churn_rate,
            revenue=figures.revenue,
            plans=[
                PlanFigures(plan=cast(MembershipPlan, p.plan), subscribers=p.subscribers, revenue=p.revenue)
                for p in figures.plans
            ],
        )

    @strawberry_django.field(
        description="A bulk action of the shop, for its progress; null: no such action (capability memberships:write).",
        extensions=[requires(Capability.MANAGE_MEMBERSHIPS, message=_STAFF)],
    )
    def subscription_bulk_action(
        self, id: Annotated[strawberry.ID, strawberry.argument(description="Its global id.")]
    ) -> SubscriptionBulkAction | None:
        """The shop's action with that id."""
        pk = decode_global_id(id, "SubscriptionBulkAction") or 0
        return cast(SubscriptionBulkAction | None, bulk_action_of_shop(cast(mp.Shop, self).pk, pk))


@strawberry.type
class AccountMembershipsPart(relay.Node):
    """The member's paid membership in one shop."""

    @strawberry_django.field(
        description=(
            "The member's live subscription in this shop, else their latest; null: never subscribed "
            "(the member, or staff with capability members:read)."
        ),
        extensions=[
            requires(Capability.READ_MEMBERS, message=_MEMBERS, shop_of=_account_shop, member_of=_account_member)
        ],
        select_related=["program"],
    )
    def subscription(self) -> Subscription | None:
        """Call ``current_subscription``."""
        return cast(Subscription | None, current_subscription(cast(loyalty_models.MemberAccount, self).pk))

    @strawberry_django.field(
        description=(
            "Every subscription of the member in this shop, newest first (the member, or staff with "
            "capability members:read)."
        ),
        extensions=[
            requires(Capability.READ_MEMBERS, message=_MEMBERS, shop_of=_account_shop, member_of=_account_member)
        ],
        select_related=["program"],
    )
    def subscription_history(self) -> list[Subscription]:
        """The account's subscriptions."""
        account = cast(loyalty_models.MemberAccount, self)
        return cast(list[Subscription], list(subscriptions_of_account(account.pk)))
