"""Rewards models (none yet: the rewards issue adds them)."""
