#!/bin/bash
# What cron calls (CONTRACT §8): runs `manage.py run_automation <id>` from the
# repository root with .venv (settings read .env themselves), appends all output
# to var/log/automation-<id>.log, and never runs one automation twice at once
# (flock on var/lock/automation-<id>.lock; a second start exits 75).
#
# Safe under cron's minimal environment: PATH is set here and every program is
# called by a path this script knows.
set -u
PATH=/usr/local/bin:/usr/bin:/bin
export PATH PYTHONUTF8=1

if [ $# -ne 1 ] || [[ ! $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 <automation_id>" >&2
  exit 64
fi
id=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P) || exit 1
mkdir -p "$root/var/log" "$root/var/lock" || exit 1
log="$root/var/log/automation-$id.log"
stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }
note() { echo "$(stamp) automation $id: $*" >>"$log"; }

exec 9>>"$root/var/lock/automation-$id.lock" || exit 1
if ! flock --nonblock 9; then
  note "already running; this start was refused"
  echo "automation $id is already running; not started again" >&2
  exit 75
fi
if [ ! -x "$root/.venv/bin/python" ]; then
  note "no $root/.venv/bin/python; run 'make run' once to create it"
  exit 1
fi

cd "$root" || exit 1
note "start (pid $$)"
# fd 9 (the lock) stays with this shell: whatever the command starts must not keep it.
"$root/.venv/bin/python" "$root/manage.py" run_automation "$id" >>"$log" 2>&1 9>&-
status=$?
note "exit $status"
exit "$status"
