"""The one GraphQL schema, merged from every app's ``api/`` package.

Extensions: the strawberry-django query optimizer (joins and prefetches from the selection),
depth / alias / token limits against abusive documents, the operation cost budget (refused
before validation), the introspection switch, error masking (``INTERNAL_ERROR`` with a request
id; api_core.extensions), and parser and validation caches. ``PatronSchema`` logs expected
refusals at INFO and only unexpected errors at ERROR with their traceback.
"""

from __future__ import annotations

import strawberry
from django.conf import settings
from strawberry.extensions import MaxTokensLimiter, ParserCache
from strawberry.schema.config import StrawberryConfig

from api_core.extensions import (
    DocumentLimits,
    ErrorMasking,
    FieldOptimizer,
    GuardedValidationCache,
    IntrospectionSwitch,
    PatronSchema,
    QueryCostLimiter,
)
from api_core.input_guard import InputGuard
from api_core.scalars import SCALAR_MAP
from checkout.api.schema import CheckoutMutation
from config.metrics import OperationMetrics
from crm.api.privacy import PrivacyMutation
from crm.api.schema import CrmMutation
from engagement.api.schema import EngagementMutation, EngagementQuery
from integrations.api.schema import IntegrationsMutation
from loyalty.api.rules import EarningRuleMutation
from loyalty.api.schema import LoyaltyMutation, LoyaltyQuery, LoyaltySubscription
from loyalty.api.tiers import TierMutation
from marketplace.api.orders import OrderMutation
from marketplace.api.profile import ProfileMutation
from marketplace.api.schema import MarketplaceMutation, MarketplaceQuery
from memberships.api.schema import MembershipsMutation
from referrals.api.schema import ReferralsMutation, ReferralsQuery
from rewards.api.schema import RewardsMutation


@strawberry.type(
    description=(
        "Everything that can be read: the member view (viewer) and the public shops. "
        "Cost budget per operation: each selected field costs 1 for every row it can be resolved for "
        "(a connection's edges count `first`, or 100; another list its `first`, or 10); an operation "
        "over 2,000 (anonymous) or 20,000 (logged in), or a document writing more than 300 fields, is "
        "refused with QUERY_TOO_COSTLY before it runs (docs/api.md, 'Cost budget')."
    )
)
class Query(LoyaltyQuery, MarketplaceQuery, ReferralsQuery, EngagementQuery):
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
    IntegrationsMutation,
    CheckoutMutation,
    CrmMutation,
    PrivacyMutation,
    EngagementMutation,
    MembershipsMutation,
):
    """Root mutation, merged from the apps' mutation types."""


@strawberry.type(description="Live updates over graphql-transport-ws, authenticated when the socket connects.")
class Subscription(LoyaltySubscription):
    """Root subscription, merged from the apps' subscription types."""


schema = PatronSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    config=StrawberryConfig(relay_max_results=settings.PATRON_GRAPHQL_MAX_PAGE_SIZE, scalar_map=SCALAR_MAP),
    extensions=[
        # First, so that its timing covers the others (config.metrics: latency by operation).
        OperationMetrics,
        # Next: its end of the operation runs after every other extension's, so it masks every
        # unexpected error (INTERNAL_ERROR + request id) and codes the document's errors.
        ErrorMasking,
        # Joins and prefetches only: column pruning ("only") would defer the fields that
        # computed fields such as tierProgress read, turning one query into one per row. No
        # per-field middleware (api_core.extensions.FieldOptimizer).
        FieldOptimizer,
        # Depth and alias limits, with rule classes stable across operations so that the
        # validation cache below hits (strawberry's own limiters made a new class per operation).
        DocumentLimits,
        lambda: MaxTokensLimiter(max_token_count=settings.PATRON_GRAPHQL_MAX_TOKENS),
        # The caches live at module level inside strawberry (keyed by size), so a fresh
        # extension per request still hits the shared cache.
        lambda: ParserCache(maxsize=256),
        # The cost budget is counted before validation (graphql-core's overlapping-fields rule is
        # quadratic in the fields) and the cache does not validate a refused operation.
        QueryCostLimiter,
        IntrospectionSwitch,
        lambda: GuardedValidationCache(maxsize=256),
        # NUL characters and scalar-refused variables answer INVALID_INPUT before execution.
        InputGuard,
    ],
)
