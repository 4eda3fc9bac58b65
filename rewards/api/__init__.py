"""GraphQL API of the rewards app (filled by its issue)."""
