"""Referrals app configuration."""

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    """Referral codes, referrals and both-sides bonuses of a shop's loyalty program."""

    name = "referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect to the loyalty order worker and to new member accounts (loyalty never imports referrals)."""
        from django.db.models.signals import post_save

        from loyalty.models import MemberAccount
        from loyalty.signals import order_points_posted, order_replay_check
        from referrals.selectors import on_order_replay_check
        from referrals.services import on_member_account_saved, on_order_points_posted

        order_points_posted.connect(on_order_points_posted, dispatch_uid="referrals.on_order_points_posted")
        order_replay_check.connect(on_order_replay_check, dispatch_uid="referrals.on_order_replay_check")
        post_save.connect(
            on_member_account_saved, sender=MemberAccount, dispatch_uid="referrals.on_member_account_saved"
        )
