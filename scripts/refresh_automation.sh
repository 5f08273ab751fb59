#!/bin/bash
# Rewrites the "marketing-os automations" block of the invoking user's crontab
# from the database (CONTRACT §8): one line per active automation. Every other
# line stays byte for byte; a second run changes nothing. When the automation
# data cannot be read, the installed crontab is left as it was.
#
#   scripts/refresh_automation.sh [--dry-run]
#
# --dry-run prints the new crontab (changes go to stderr) and installs nothing.
# The crontab program is ${CRONTAB_BIN:-crontab}.
set -euo pipefail
export PYTHONUTF8=1  # names in the data are UTF-8 whatever the locale

usage() { echo "usage: $0 [--dry-run]" >&2; exit 64; }
dry_run=0
case $# in
  0) ;;
  1) [ "$1" = "--dry-run" ] || usage; dry_run=1 ;;
  *) usage ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
python="$root/.venv/bin/python"
crontab_bin=${CRONTAB_BIN:-crontab}
say() { echo "refresh_automation: $*" >&2; }

[ -x "$python" ] || { say "no $python: run 'make run' (or create .venv) first"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! (cd "$root" && "$python" manage.py get_automation_data) >"$work/data" 2>"$work/error"; then
  say "manage.py get_automation_data failed; the crontab was left as it was:"
  cat "$work/error" >&2
  exit 1
fi

if ! "$crontab_bin" -l >"$work/current" 2>"$work/error"; then
  if grep -q "no crontab for" "$work/error"; then
    : >"$work/current"
  else
    say "cannot read the crontab ($crontab_bin -l):"
    cat "$work/error" >&2
    exit 1
  fi
fi

(cd "$root" && "$python" -m automations.crontab_block --root "$root" \
  --current "$work/current" --output "$work/new") <"$work/data" >"$work/changes"

if [ "$dry_run" = 1 ]; then
  cat "$work/new"
  cat "$work/changes" >&2
  exit 0
fi
if cmp -s "$work/current" "$work/new"; then
  echo "crontab already up to date; nothing changed"
  exit 0
fi
if ! "$crontab_bin" - <"$work/new" 2>"$work/error"; then
  say "$crontab_bin refused the new crontab; the old one stays:"
  cat "$work/error" >&2
  exit 1
fi
cat "$work/changes"
