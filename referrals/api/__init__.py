"""GraphQL API of the referrals app (filled by its issue)."""
