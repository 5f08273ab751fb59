"""The benchmark database: a dedicated PostgreSQL database, created and migrated on demand.

Benchmarks wipe their tables, so they refuse a database whose name does not
contain "bench" (a guard against pointing one at real data by mistake).
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/mos_bench"


class NotABenchDatabase(SystemExit):
    pass


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def check_bench_database(url: str) -> None:
    if "bench" not in database_name(url):
        raise NotABenchDatabase(
            f"refusing {database_name(url)!r}: benchmarks wipe tables, so the database "
            "name must contain 'bench'"
        )


def ensure_database(url: str) -> None:
    """Create the database if missing, then apply migrations (as `make run` would)."""
    check_bench_database(url)
    server = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as conn:
        name = database_name(url)
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    manage("migrate", "--noinput", "-v0", url=url)


def manage_env(url: str) -> dict:
    return os.environ | {"DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}


def manage(*args: str, url: str) -> str:
    """Run `manage.py` with this database; return its standard output."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=manage_env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)
