"""The embedded default's database: every migration applies on a fresh SQLite file, and the
config_version triggers (loyalty 0008, referrals 0003) survive migrations that rebuild the program's
table (SQLite alters a table by building a new one and renaming it; loyalty/migrations/_sqlite_triggers.py)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_migration_applies_on_sqlite_and_keeps_the_triggers(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"PATRON_SQLITE_PATH": str(tmp_path / "patron.sqlite3"), "PATRON_SECRET_KEY": "test-only"}
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with sqlite3.connect(tmp_path / "patron.sqlite3") as db:
        triggers = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    expected = {
        f"{prefix}_config_{op}"
        for prefix in (
            "loyalty_tier",
            "loyalty_earningrule",
            "loyalty_earningrule_categories",
            "loyalty_earningrule_tiers",
            "referrals_referralprogram",
        )
        for op in ("insert", "update", "delete")
    } | {"loyalty_program_config_never_lower", "loyalty_pointsentry_no_update", "loyalty_pointsentry_no_delete"}
    assert expected <= triggers
