"""Marketplace services: every write of the marketplace app goes through one of these modules."""
