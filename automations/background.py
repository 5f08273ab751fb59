"""Starting `manage.py run_automation <id> --now` detached, for the "Run now" button.

The child runs the very code path cron runs, on the database this process
uses (DATABASE_URL from the live connection, as background imports do), and
logs to var/log/automation-<id>.log like scripts/run-automation.sh.
"""

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from django.conf import settings
from django.db import connection

from automations.models import Automation
from customers.import_jobs import database_url

logger = logging.getLogger(__name__)


def start_background_run(automation: Automation) -> str:
    """Start the run; return "" or why it could not start."""
    try:
        process = _spawn(automation)
    except OSError as error:
        logger.exception("Could not start automation %s", automation.pk)
        return f"The run could not be started: {error}."
    threading.Thread(target=process.wait, daemon=True).start()  # reap it: no zombie
    return ""


def _spawn(automation: Automation) -> subprocess.Popen:
    env = os.environ | {"DATABASE_URL": database_url(connection.settings_dict)}
    log_dir = Path(settings.BASE_DIR) / "var" / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    command = [sys.executable, manage, "run_automation", str(automation.pk), "--now"]
    with (log_dir / f"automation-{automation.pk}.log").open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
