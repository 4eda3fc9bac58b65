"""The one GraphQL schema, merged from every app's ``api/`` package.

Extensions: the strawberry-django query optimizer (joins and prefetches from the selection),
depth / alias / token limits against abusive documents, and parser and validation caches.
"""

from __future__ import annotations

import strawberry
from django.conf import settings
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry_django.optimizer import DjangoOptimizerExtension

from loyalty.api.rules import EarningRuleMutation
from loyalty.api.schema import LoyaltyMutation, LoyaltyQuery, LoyaltySubscription
from loyalty.api.tiers import TierMutation
from marketplace.api.orders import OrderMutation
from marketplace.api.profile import ProfileMutation
from marketplace.api.schema import MarketplaceMutation, MarketplaceQuery
from referrals.api.schema import ReferralsMutation, ReferralsQuery
from rewards.api.schema import RewardsMutation


@strawberry.type(description="Everything that can be read: the member view (viewer) and the public shops.")
class Query(LoyaltyQuery, MarketplaceQuery, ReferralsQuery):
    """Root query, merged from the apps' query types."""


@strawberry.type(description="Every change; each mutation returns a payload with coded errors.")
class Mutation(
    MarketplaceMutation,
    OrderMutation,
    ProfileMutation,
    LoyaltyMutation,
    TierMutation,
    EarningRuleMutation,
    RewardsMutation,
    ReferralsMutation,
):
    """Root mutation, merged from the apps' mutation types."""


@strawberry.type(description="Live updates over graphql-transport-ws, authenticated when the socket connects.")
class Subscription(LoyaltySubscription):
    """Root subscription, merged from the apps' subscription types."""


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    config=StrawberryConfig(relay_max_results=settings.PATRON_GRAPHQL_MAX_PAGE_SIZE),
    extensions=[
        # Joins and prefetches only: column pruning ("only") would defer the fields that
        # computed fields such as tierProgress read, turning one query into one per row.
        lambda: DjangoOptimizerExtension(enable_only_optimization=False),
        lambda: QueryDepthLimiter(max_depth=settings.PATRON_GRAPHQL_MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=settings.PATRON_GRAPHQL_MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=settings.PATRON_GRAPHQL_MAX_TOKENS),
        # The caches live at module level inside strawberry (keyed by size), so a fresh
        # extension per request still hits the shared cache.
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ],
)
