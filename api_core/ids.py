"""Relay global ids received as plain ``ID`` inputs, decoded without raising."""

from __future__ import annotations

from strawberry import relay


def decode_global_id(value: str | None, type_name: str) -> int | None:
    """Primary key encoded in ``value`` if it is a global id of ``type_name``, else ``None``.

    Inputs take ids as ``ID`` rather than ``GlobalID`` so that a malformed id reaches the
    resolver and becomes the mutation's coded error instead of a parse failure.
    """
    if not value:
        return None
    try:
        gid = relay.GlobalID.from_id(value)
    except (ValueError, TypeError):
        return None
    if gid.type_name != type_name:
        return None
    try:
        return int(gid.node_id)
    except ValueError:
        return None
