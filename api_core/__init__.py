"""The GraphQL API core: what every app's ``api/`` package shares, below all of them.

``context`` (the caller, their staff roles, the viewer identity), ``ids`` (global ids read
without raising), ``errors`` (query errors and the one mapping of domain errors to payload
errors), ``permissions`` (the strawberry permission extension over the capability table).
It imports the domain (marketplace's models and capability table), never an app's ``api/``;
the schema assembly in ``config`` sits above every ``api/`` (docs/architecture.md).
"""
