"""Signals loyalty sends so that higher apps (referrals) can react without loyalty importing them."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent by the order worker inside its transaction after it applied one order event to an
#: account: keyword arguments ``order``, ``account`` (locked), ``event_status``, ``at`` and
#: ``broadcast``. Receivers run in the same transaction; an exception rolls the event back.
order_points_posted = Signal()

#: Sent once per worker transaction, after its order events were applied and before the commit:
#: keyword argument ``accounts``, the member accounts those events touched (locked). Receivers
#: that keep something per member (crm's statistics and tags) refresh them all at once, so a
#: batch of any size costs them the same statements; an exception rolls the batch back.
order_events_posted = Signal()

#: Sent after a tier ladder edit commits: keyword arguments ``program_id`` and ``reason`` (the
#: tier-history reason). ``loyalty.apps`` connects it to the re-evaluation actor, so the services
#: never import the actor module (which imports the services).
tier_ladder_committed = Signal()

#: Sent by the set-based importer (``loyalty.importers.bulk``) before it replays a program's
#: history without sending ``order_points_posted`` per event: keyword argument ``program``. A
#: receiver whose app must see every order event of that program (e.g. referrals, when the program
#: has referrals) returns a short reason; the importer then replays that program event by event
#: through the services. Receivers return ``None`` when they do not care.
order_replay_check = Signal()

#: Sent by the importer (``loyalty.importers.replay``) after a set-based replay wrote orders and
#: ledgers without ``order_points_posted`` per event: keyword argument ``pairs``, a set of
#: ``(customer_id, program_id)``. Receivers (crm's statistics) bring what they keep per member up to
#: date in one pass; they run outside the import's batches, after its last commit.
orders_replayed = Signal()
