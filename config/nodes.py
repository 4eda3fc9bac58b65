"""The composition root of the node types that gather fields from several apps.

Each app's ``api`` contributes a *part* (a strawberry type that is never in the schema by
itself); the composite type here inherits all parts. Lower apps reference these composites
lazily (``strawberry.lazy("config.nodes")``), so no app imports a higher one and a new
app extends ``Shop``, ``MemberAccount`` or ``Viewer`` by adding its part here.
"""

from __future__ import annotations

import strawberry
import strawberry_django

from checkout.api.types import ShopCheckoutPart
from crm.api.analytics import ShopCrmAnalyticsPart
from crm.api.types import AccountCrmPart, ShopCrmPart
from engagement.api.types import AccountEngagementPart, ShopEngagementPart
from integrations.api.types import ShopIntegrationsPart
from loyalty import models as loyalty_models
from loyalty.api.schema import ViewerLoyaltyPart
from loyalty.api.types import AccountLoyaltyPart, ShopActivityPart, ShopLoyaltyPart
from marketplace import models as mp
from marketplace.api.profile import ViewerMarketplacePart
from marketplace.api.types import ShopMarketplacePart
from memberships.api.types import AccountMembershipsPart, ShopMembershipsPart
from referrals.api.types import AccountReferralsPart, ShopReferralsPart, ViewerReferralsPart
from rewards.api.types import AccountRewardsPart, ShopRewardsPart, ViewerRewardsPart


@strawberry_django.type(mp.Shop, name="Shop", description="A shop of the marketplace with its loyalty program.")
class Shop(
    ShopMembershipsPart,
    ShopEngagementPart,
    ShopCrmAnalyticsPart,
    ShopCrmPart,
    ShopCheckoutPart,
    ShopIntegrationsPart,
    ShopReferralsPart,
    ShopRewardsPart,
    ShopActivityPart,
    ShopLoyaltyPart,
    ShopMarketplacePart,
):
    """A shop: its public face, program and catalogue."""


@strawberry_django.type(
    loyalty_models.MemberAccount, name="MemberAccount", description="A customer's membership in one shop's program."
)
class MemberAccount(
    AccountMembershipsPart,
    AccountEngagementPart,
    AccountCrmPart,
    AccountReferralsPart,
    AccountRewardsPart,
    AccountLoyaltyPart,
):
    """Balances, tier and history of one member in one shop."""


@strawberry.type(name="Viewer", description="The logged-in user: every shop account on one page.")
class Viewer(ViewerReferralsPart, ViewerRewardsPart, ViewerLoyaltyPart, ViewerMarketplacePart):
    """The caller as a member of the marketplace's shops."""
