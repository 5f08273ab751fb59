"""Starting `manage.py run_automation <id> --now` detached, for the "Run now" button.

The child runs the very code path cron runs, on the database this process
uses (DATABASE_URL from the live connection, as background imports do), and
logs to var/log/automation-<id>.log like scripts/run-automation.sh.
"""

import logging

from automations.models import Automation
from marketing_os.background import spawn_command

logger = logging.getLogger(__name__)


def start_background_run(automation: Automation, *, user) -> str:
    """Start the run for `user` (who the audit trail names); return "" or why it could not."""
    try:
        spawn_command(
            "run_automation",
            str(automation.pk),
            "--now",
            f"--requested-by={user.pk}",
            log_name=f"automation-{automation.pk}.log",
        )
    except OSError as error:
        logger.exception("Could not start automation %s", automation.pk)
        return f"The run could not be started: {error}."
    return ""
