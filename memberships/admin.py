"""Django admin of memberships: read-mostly views for operators."""

from __future__ import annotations

from django.contrib import admin

from memberships.models import MembershipPayment, MembershipPlan, Subscription, SubscriptionTransition

admin.site.register(MembershipPlan)
admin.site.register(Subscription)
admin.site.register(SubscriptionTransition)
admin.site.register(MembershipPayment)
