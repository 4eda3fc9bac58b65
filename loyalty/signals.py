"""Signals loyalty sends so that higher apps (referrals) can react without loyalty importing them."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent by the order worker inside its transaction after it applied one order event to an
#: account: keyword arguments ``order``, ``account`` (locked), ``event_status``, ``at`` and
#: ``broadcast``. Receivers run in the same transaction; an exception rolls the event back.
order_points_posted = Signal()

#: Sent once per worker transaction, after its order events were applied and before the commit:
#: keyword arguments ``accounts``, the member accounts those events touched (locked; each with
#: ``program`` and its ``shop``, ``customer`` and ``tier`` loaded), and ``deliveries``, a list of
#: ``(account, order)`` for the common case: the order's first delivery, posted in bulk, the only
#: event of that account in the batch. Any other touched account had some other event (a return,
#: a cancellation, several events, a new member). Receivers that keep something per member (crm's
#: statistics and tags) bring them all up to date at once, so a batch of any size costs them the
#: same statements; an exception rolls the batch back.
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

#: Asked by ``services.rules.member_segments_of`` while pricing an order for earning rules that
#: name segments: keyword arguments ``account_id`` and ``segment_ids`` (a frozenset). The app that
#: keeps segments (crm) returns the ids of those the member belongs to: a static segment's list, a
#: dynamic segment's last snapshot. Receivers must not write.
member_segments = Signal()

#: Asked when an earning rule is saved with segments: keyword arguments ``shop_id`` and
#: ``segment_ids`` (a frozenset). The app that keeps segments returns those that are the shop's.
segments_check = Signal()
