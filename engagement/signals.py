"""Signals of engagement, so that its services never import its actors (which import the services)."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent after a commit that planned messages due now: keyword argument ``event_ids``.
#: ``engagement.apps`` connects it to the delivery actor.
events_due = Signal()
