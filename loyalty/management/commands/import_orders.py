"""``manage.py import_orders``: replay a shop's order history through the loyalty services."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import dramatiq
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from loyalty.importers import READERS, ImportFormatError, batch_read
from loyalty.importers.base import ImportEvent
from loyalty.importers.replay import ReplayError, batch_replay
from marketplace.health import broker_check


def _positive(value: str) -> int:
    """argparse type of ``--limit``: a whole number >= 1."""
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    """Import an order history (CDNOW, Olist or Patron's CSV) as order events, idempotently.

    Events are replayed in event-time order through ``order_event_record`` and
    ``order_event_process`` (or queued for the workers with ``--via-worker``); pending points
    whose return window has passed are then released. Points are integers; money is Decimal in
    each shop's currency. Prints a one-line summary to stdout; see docs/importing.md.
    """

    help = (
        "Replay an order history (--format cdnow|olist|csv) through the loyalty services; "
        "safe to run twice. See docs/importing.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """PATH, --format, --limit, --via-worker, --no-release, --per-event."""
        parser.add_argument("path", help="File (cdnow, csv; .gz or plain) or directory (olist).")
        parser.add_argument("--format", required=True, choices=sorted(READERS), help="Format of PATH.")
        parser.add_argument(
            "--limit", type=_positive, default=None, help="Import only the first N orders, in file order."
        )
        parser.add_argument(
            "--via-worker",
            action="store_true",
            help="Record the events and let the dramatiq workers process them (instead of processing here).",
        )
        parser.add_argument(
            "--no-release", action="store_true", help="Do not release pending points whose return window passed."
        )
        parser.add_argument(
            "--per-event",
            action="store_true",
            help="Replay every event through the services one by one (slower; the default writes the same rows).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Read and validate the whole source, replay it, print the summary line."""
        path = Path(str(options["path"]))
        fmt = str(options["format"])
        if not path.exists():
            raise CommandError(f"{path}: no such file or directory")
        try:
            batch = batch_read(fmt, path, limit=options["limit"])
        except ImportFormatError as exc:
            raise CommandError(f"nothing imported: {exc}") from exc
        for note in batch.notes:
            self.stderr.write(f"note: {note}")
        via_worker = bool(options["via_worker"])
        if via_worker and (problem := broker_check()):
            # Before writing anything: each event would be recorded but not queued (the outbox sweep
            # would send them later), with a warning per event.
            raise CommandError(
                f"nothing imported: {problem} (start Redis, or import without --via-worker to apply the "
                "events in this process)"
            )

        def progress(events: list[ImportEvent]) -> Iterable[ImportEvent]:
            # To the real stderr (tqdm redraws with \r, which Django's OutputWrapper would break);
            # disable=None hides the bar when stderr is not a terminal (CI logs, tests).
            return tqdm(events, total=len(events), desc=f"import {fmt}", unit="event", file=sys.stderr, disable=None)

        try:
            summary = batch_replay(
                batch,
                via_worker=via_worker,
                release=not options["no_release"],
                per_event=bool(options["per_event"]),
                progress=progress,
            )
        except ReplayError as exc:
            raise CommandError(
                f"stopped at {exc}; the {exc.done} events before it are imported and "
                "re-running the import after fixing the file is safe"
            ) from exc
        if via_worker:
            broker = type(dramatiq.get_broker()).__name__
            self.stdout.write(
                f"queued {summary.events} order events for the loyalty workers (broker {broker}); "
                "points are posted as the workers process them"
            )
            if broker == "StubBroker":
                self.stderr.write(
                    "note: the in-process broker has no worker in this command; the events stay in the "
                    "outbox until a worker's outbox sweep re-sends them"
                )
        elif summary.released is not None:
            self.stderr.write(
                f"released {summary.released.points} points of {summary.released.lots} lots "
                f"on {summary.released.accounts} accounts"
            )
        self.stdout.write(summary.line())
