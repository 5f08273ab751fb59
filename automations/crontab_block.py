"""The managed block of a crontab: one line per active automation.

`scripts/refresh_automation.sh` runs this module (standard library only, no
Django) to compute the new crontab; the automation pages use it to tell
whether the installed crontab is in step with the database. Everything
outside the block is kept byte for byte.

    python -m automations.crontab_block --root ROOT --current FILE --output FILE < data.jsonl

reads `manage.py get_automation_data` output on stdin, writes the new crontab
to --output and prints what changed. Exit 1 (and no output file) when the
data or the current crontab cannot be trusted.
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass

BEGIN = "# BEGIN marketing-os automations"
END = "# END marketing-os automations"
# Only what a valid five-field expression can hold: no newline, no shell syntax.
RUN_LINE = re.compile(r"/run-automation\.sh'? +([0-9]+) *$")
CRON_TEXT = re.compile(r"[A-Za-z0-9*/,-]+( [A-Za-z0-9*/,-]+){4}")


class BlockError(ValueError):
    """The data or the crontab cannot be trusted; nothing should be installed."""


@dataclass(frozen=True)
class Entry:
    id: int
    cron: str
    is_active: bool
    name: str = ""


def automation_line(entry: Entry, *, root: str) -> str:
    """The crontab line of one automation (CONTRACT §8).

    cron hands the command to /bin/sh, so a path with spaces is shell-quoted, and
    `%` (a newline to cron) is escaped; a plain path stays as it is.
    """
    script = shlex.quote(f"{root}/scripts/run-automation.sh").replace("%", "\\%")
    return f"{entry.cron} {script} {entry.id}"


def parse_entries(lines: Iterable[str]) -> list[Entry]:
    """`get_automation_data` output → entries; BlockError on anything unexpected."""
    entries = []
    for number, text in enumerate(lines, start=1):
        if text.strip():
            entries.append(_entry(text, number))
    return entries


def _entry(text: str, number: int) -> Entry:
    try:
        data = json.loads(text)
        entry = Entry(data["id"], data["cron"], data["is_active"], data.get("name") or "")
    except (ValueError, KeyError, TypeError) as error:
        raise BlockError(f"line {number} of the automation data is not valid: {error}") from None
    if type(entry.id) is not int or type(entry.is_active) is not bool:
        raise BlockError(f"line {number}: id must be a number and is_active true or false")
    if not isinstance(entry.cron, str) or not CRON_TEXT.fullmatch(entry.cron):
        raise BlockError(f"line {number}: automation {entry.id} has a bad cron {entry.cron!r}")
    return entry


def managed_lines(entries: Iterable[Entry], *, root: str) -> list[str]:
    active = sorted((entry for entry in entries if entry.is_active), key=lambda e: e.id)
    return [automation_line(entry, root=root) for entry in active]


def split_crontab(text: str) -> tuple[str, list[str], str]:
    """(text before the block, the block's lines, text after); no block: (text, [], "")."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == END]
    if not starts and not ends:
        return text, [], ""
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise BlockError(f"the crontab's {BEGIN!r} / {END!r} markers are broken; fix them by hand")
    start, end = starts[0], ends[0]
    block = [line.rstrip("\r\n") for line in lines[start + 1 : end]]
    return "".join(lines[:start]), block, "".join(lines[end + 1 :])


def replace_block(text: str, new_lines: list[str]) -> str:
    """The crontab with its managed block replaced (appended at the end when absent)."""
    before, old_lines, after = split_crontab(text)
    if not new_lines and not old_lines and BEGIN not in text:
        return text  # nothing to schedule and never scheduled: leave the crontab alone
    if before and not before.endswith("\n"):
        before += "\n"
    block = "".join(f"{line}\n" for line in [BEGIN, *new_lines, END])
    return before + block + after


def block_by_id(lines: Iterable[str]) -> dict[int, str]:
    """Lines of a managed block keyed by the automation id they run."""
    found = {}
    for line in lines:
        if match := RUN_LINE.search(line):
            found[int(match[1])] = line
    return found


def describe_changes(old: list[str], new: list[str], names: dict[int, str]) -> list[str]:
    """One line per added, updated and removed automation, then a total."""
    before, after = block_by_id(old), block_by_id(new)
    report, counts = [], {"added": 0, "updated": 0, "removed": 0}
    for key in sorted(before.keys() | after.keys()):
        if key not in before:
            change = "added"
        elif key not in after:
            change = "removed"
        elif before[key] != after[key]:
            change = "updated"
        else:
            continue
        counts[change] += 1
        label = f"automation {key}" + (f" ({names[key]})" if names.get(key) else "")
        report.append(f"{change} {label}: {after.get(key) or before[key]}")
    report.append(", ".join(f"{n} {change}" for change, n in counts.items()))
    return report


# -- Reading the installed crontab (for the pages) ----------------------------------------------


class CrontabUnreadable(RuntimeError):
    pass


def read_crontab() -> str:
    """The invoking user's crontab ("" when there is none), via ${CRONTAB_BIN:-crontab}."""
    program = os.environ.get("CRONTAB_BIN") or "crontab"
    try:
        done = subprocess.run([program, "-l"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CrontabUnreadable(f"cannot run {program}: {error}") from None
    if done.returncode == 0:
        return done.stdout
    if "no crontab for" in done.stderr:
        return ""
    raise CrontabUnreadable(done.stderr.strip() or f"{program} -l failed")


def entry_status(entry: Entry, crontab: str, *, root: str) -> str:
    """installed | missing | stale | off (inactive and absent), for one automation."""
    try:
        _, block, _ = split_crontab(crontab)
    except BlockError:
        return "stale"
    line = block_by_id(block).get(entry.id)
    if not entry.is_active:
        return "off" if line is None else "stale"
    if line is None:
        return "missing"
    return "installed" if line == automation_line(entry, root=root) else "stale"


# -- The script's entry point -------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="absolute path of the repository")
    parser.add_argument("--current", required=True, help="file holding the current crontab")
    parser.add_argument("--output", required=True, help="where to write the new crontab")
    args = parser.parse_args(argv)
    try:
        entries = parse_entries(sys.stdin)
        with open(args.current, encoding="utf-8", newline="") as file:
            current = file.read()
        _, old_block, _ = split_crontab(current)
    except (BlockError, UnicodeDecodeError) as error:
        print(f"refresh_automation: {error}", file=sys.stderr)
        return 1
    new_block = managed_lines(entries, root=args.root)
    with open(args.output, "w", encoding="utf-8", newline="") as file:
        file.write(replace_block(current, new_block))
    names = {entry.id: entry.name for entry in entries}
    print("\n".join(describe_changes(old_block, new_block, names)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
