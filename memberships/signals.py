"""Signals of memberships (received by ``memberships.tasks`` through ``apps.ready``, so services never
import the actors)."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent after the commit of a new staff bulk action: keyword ``action_id``. The receiver queues its run.
bulk_action_created = Signal()
