"""The database URL: `DATABASE_URL`, or an embedded PostgreSQL kept under `var/`.

Only this module knows about the embedded server (the `pgserver` wheel). It is
started on demand; every process that asks shares the one server, which stops
after the last of them exits. Nothing here ever deletes data.
"""

import os
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

EMBEDDED_DATABASE = "marketing_os"


def embedded_data_dir(base_dir: Path) -> Path:
    return Path(os.environ.get("EMBEDDED_PGDATA", base_dir / "var" / "pgdata"))


def embedded_database_settings(base_dir: Path) -> dict:
    """Start (or join) the embedded server and return Django settings for it."""
    # pgserver's platformdirs warns when XDG_RUNTIME_DIR is unset (cron, CI); harmless.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver  # imported lazily: only needed without DATABASE_URL

    data_dir = embedded_data_dir(base_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    uri = urlparse(server.get_uri(EMBEDDED_DATABASE))
    socket_dir = parse_qs(uri.query)["host"][0]
    # Keep a reference so the server is not cleaned up while this process runs.
    embedded_database_settings.server = server
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": EMBEDDED_DATABASE,
        "USER": uri.username or "postgres",
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": "",
    }
