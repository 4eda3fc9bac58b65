"""Signals crm sends so that higher apps (checkout) can answer without crm importing them."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent before a segment is deleted: keyword argument ``segment``. A receiver whose rows target the
#: segment (checkout's promotions) returns a short reason; the deletion is then refused with
#: ``SEGMENT_IN_USE``, since a promotion that lost its only segment would apply to every member.
segment_delete_check = Signal()
