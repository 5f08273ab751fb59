"""Management commands started as detached background processes (a big CSV
import, "Run now"), on the very database this process uses.

The child gets DATABASE_URL built from the live connection, so it works the
same under the embedded server, a DATABASE_URL server, and the test database.
"""

import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import connection


def database_url(db: dict) -> str:
    """A DATABASE_URL for the database Django is connected to (for child processes)."""
    user, password = quote(db.get("USER") or "", safe=""), quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(str(db.get("HOST") or ""), safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    options = {k: v for k, v in (db.get("OPTIONS") or {}).items() if isinstance(v, str | int)}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgresql://{auth}{host}{port}/{quote(db['NAME'], safe='')}{query}"


def spawn_command(*args: str, log_name: str) -> subprocess.Popen:
    """Start `manage.py <args>` in its own session, output appended to var/log/<log_name>.

    Raises OSError when the process cannot be started.
    """
    env = os.environ | {"DATABASE_URL": database_url(connection.settings_dict)}
    log_dir = Path(settings.BASE_DIR) / "var" / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    with (log_dir / log_name).open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, manage, *args],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    # Reap the child when it exits: an unreaped (zombie) process would look alive.
    threading.Thread(target=process.wait, daemon=True).start()
    return process
