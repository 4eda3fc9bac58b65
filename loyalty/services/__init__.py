"""Loyalty services: every write of the loyalty app goes through one of these modules."""
