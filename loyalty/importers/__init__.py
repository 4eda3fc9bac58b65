"""Readers that turn a shop's order history into order events, and the replay that posts them.

Each reader (``cdnow``, ``olist``, ``csv``) parses and validates a whole source before anything is
written and returns an :class:`~loyalty.importers.base.ImportBatch`: the shops to create and the
order events, each with the file line it came from. :func:`~loyalty.importers.replay.batch_replay`
then posts the events, in event-time order, through the same services the worker uses
(``order_event_record`` then ``order_event_process``). See docs/importing.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from loyalty.importers.base import ImportBatch, ImportFormatError
from loyalty.importers.cdnow import read_cdnow
from loyalty.importers.olist import read_olist
from loyalty.importers.patron_csv import read_patron_csv

#: Reader of each ``--format``: ``reader(path, limit=N)`` returns the batch to replay.
READERS: dict[str, Callable[..., ImportBatch]] = {
    "cdnow": read_cdnow,
    "olist": read_olist,
    "csv": read_patron_csv,
}


def batch_read(fmt: str, path: Path, *, limit: int | None = None) -> ImportBatch:
    """Read ``path`` in format ``fmt`` (first ``limit`` orders in file order when given).

    Raises :class:`ImportFormatError` naming the file and line of the first bad row, and
    ``KeyError`` for an unknown format.
    """
    return READERS[fmt](path, limit=limit)


__all__ = ["READERS", "ImportBatch", "ImportFormatError", "batch_read"]
