"""Referrals models (none yet: the referrals issue adds them)."""
