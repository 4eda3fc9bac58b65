"""Shared GraphQL plumbing used by every app's ``api/`` package (no domain logic here)."""
