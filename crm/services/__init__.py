"""Every write of the crm app: statistics and tags, profiles and notes, segments, privacy."""
