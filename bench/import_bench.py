"""Import throughput on PostgreSQL, its ratio to the machine's raw "ledger append" rate, and its memory.

Run from the repository root against a PostgreSQL server (the database named in the URL is not
touched; a scratch database next to it is created, migrated and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron .venv/bin/python bench/import_bench.py [ROWS] \
        [--per-event-rows N]

Imports the first ROWS (default 20000; 0 for the whole file) CDNOW purchases with ``manage.py
import_orders`` (the set-based replay: one event per row, the same rows the services would
write, in batches), optionally N rows again with ``--per-event`` (every event through the
services, as the worker does) into a second scratch database, then runs
``../shared/bench/ledger_anchor.sh 10 8`` and prints, one per line:

    events=N seconds=S events_per_second=E import_rss_mb=M
    per_event events=N seconds=S events_per_second=P import_rss_mb=M      (with --per-event-rows)
    ledger_append_tps=T clients=8 seconds=10
    ratio_to_ledger_anchor=R
    per_event_ratio_to_ledger_anchor=Q set_based_speedup=X                 (with --per-event-rows)

``import_rss_mb`` is the import process's peak resident memory. The anchor is raw SQL with 8
concurrent clients (two statements per transaction) while the import is one process writing
about ten rows per event (order, line, outbox, entries, lot, account, shop events), so R is a
figure to compare between runs and commits of Patron, measured in the same run as its anchor.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT.parent / "shared" / "data" / "cdnow" / "transactions.csv.gz"
ANCHOR = ROOT.parent / "shared" / "bench" / "ledger_anchor.sh"
SUMMARY = re.compile(r"^imported .* events=(\d+) .* seconds=([\d.]+) events_per_second=([\d.]+)$", re.MULTILINE)


def admin_connection(config: dict):
    """An autocommit connection to the server's ``postgres`` database (to create and drop); shared by the benches."""
    connection = psycopg2.connect(
        dbname="postgres",
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
    )
    connection.autocommit = True
    return connection


def _manage(url: str, *args: str) -> str:
    """Run ``manage.py`` with ``DATABASE_URL=url``; return its stdout (raise on failure)."""
    return _manage_measured(url, *args)[0]


def _manage_measured(url: str, *args: str) -> tuple[str, float]:
    """Run ``manage.py`` with ``DATABASE_URL=url``; return its stdout and its peak RSS in MB (raise on failure).

    The peak is the child's own ``ru_maxrss``, read with ``os.wait4`` (its output goes to
    temporary files meanwhile, so nothing reaps it first).
    """
    env = {**os.environ, "DATABASE_URL": url}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen not to wait again
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{err.read()[-2000:]}")
        return out.read(), usage.ru_maxrss / 1024


def _anchor() -> float | None:
    """Raw ledger-append transactions per second (10 s, 8 clients), or ``None`` when unavailable."""
    if not ANCHOR.is_file() or shutil.which("pgbench") is None or shutil.which("bash") is None:
        missing = "pgbench" if ANCHOR.is_file() else str(ANCHOR)
        print(f"ratio_to_ledger_anchor skipped: {missing} not found")
        return None
    done = subprocess.run(["bash", str(ANCHOR), "10", "8"], capture_output=True, text=True, check=False)
    line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    match = re.search(r"ledger_append_tps=([\d.]+)", line)
    if done.returncode != 0 or match is None:
        print(f"ratio_to_ledger_anchor skipped: the anchor failed ({done.stderr.strip()[-300:]})")
        return None
    print(line)
    return float(match.group(1))


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A migrated scratch database ``<prefix>_<pid>`` beside ``DATABASE_URL``'s; yields its URL, drops it after.

    Refuses anything but PostgreSQL; never touches the database the URL names. Shared by the
    benches (``dashboard_bench.py`` too).
    """
    url = os.environ.get("DATABASE_URL", "")
    config = dj_database_url.parse(url) if url else {}
    if "postgresql" not in config.get("ENGINE", ""):
        raise SystemExit("bench: set DATABASE_URL to a PostgreSQL server (postgres://...); it refuses SQLite")
    scratch = f"{prefix}_{os.getpid()}"
    parts = urlsplit(url)
    scratch_url = urlunsplit((parts.scheme, parts.netloc, f"/{scratch}", parts.query, parts.fragment))
    admin = admin_connection(config)
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
    try:
        _manage(scratch_url, "migrate", "-v0")
        yield scratch_url
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))
        admin.close()


def _import(url: str, data: Path, rows: int | None, *flags: str) -> tuple[int, float, float, float]:
    """Import ``rows`` CDNOW rows (all when ``None``) into ``url``; return (events, seconds, events/s, peak RSS MB)."""
    limit = ("--limit", str(rows)) if rows else ()
    out, rss = _manage_measured(url, "import_orders", "--format", "cdnow", str(data), *limit, *flags)
    match = SUMMARY.search(out)
    if match is None:
        raise SystemExit(f"no summary line in the import's output:\n{out}")
    return int(match.group(1)), float(match.group(2)), float(match.group(3)), rss


def main() -> None:
    """Create the scratch database(s), import, measure the anchor, print the figures, drop them."""
    parser = argparse.ArgumentParser(description="CDNOW import throughput on PostgreSQL.")
    parser.add_argument(
        "rows", nargs="?", type=int, default=20000, help="CDNOW rows to import (default 20000; 0: the whole file)."
    )
    parser.add_argument("--data", type=Path, default=CDNOW, help="The CDNOW transactions file.")
    parser.add_argument(
        "--per-event-rows",
        type=int,
        default=0,
        help="Also import this many rows with --per-event (the services, one event at a time) for comparison.",
    )
    args = parser.parse_args()
    with scratch_database("patron_import_bench") as scratch_url:
        events, seconds, rate, rss = _import(scratch_url, args.data, args.rows or None)
        print(f"events={events} seconds={seconds:.2f} events_per_second={rate:.1f} import_rss_mb={rss:.0f}")
    per_event = None
    if args.per_event_rows:
        with scratch_database("patron_import_bench_pe") as scratch_url:
            events, seconds, per_event, rss = _import(scratch_url, args.data, args.per_event_rows, "--per-event")
            print(
                f"per_event events={events} seconds={seconds:.2f} events_per_second={per_event:.1f} "
                f"import_rss_mb={rss:.0f}"
            )
    anchor = _anchor()
    if anchor:
        print(f"ratio_to_ledger_anchor={rate / anchor:.4f}")
        if per_event:
            print(f"per_event_ratio_to_ledger_anchor={per_event / anchor:.4f} set_based_speedup={rate / per_event:.1f}")


if __name__ == "__main__":
    main()
