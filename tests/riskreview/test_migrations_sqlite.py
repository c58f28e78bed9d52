"""`make run` migrates the embedded SQLite database; the suite runs on
PostgreSQL, so a migration written in PostgreSQL-only SQL would pass every
other test and break the first command of the README."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_every_migration_applies_to_an_empty_sqlite_database(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "riskreview.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path),
        "SECRET_KEY": "migration-test-only",
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    migrated = manage("migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    plan = manage("showmigrations", "--plan")
    assert plan.returncode == 0, plan.stderr
    assert "[X]" in plan.stdout
    assert "[ ]" not in plan.stdout
