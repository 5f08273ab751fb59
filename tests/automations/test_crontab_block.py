import pytest

from automations.crontab_block import (
    BEGIN,
    END,
    BlockError,
    Entry,
    automation_line,
    entry_status,
    parse_entries,
    replace_block,
)

ROOT = "/srv/mos"


def crontab_with(*lines: str, before: str = "MAILTO=ops@example.com\n") -> str:
    return before + "".join(f"{line}\n" for line in [BEGIN, *lines, END])


@pytest.mark.parametrize(
    ("entry", "installed", "state"),
    [
        (Entry(1, "0 9 * * *", True), f"0 9 * * * {ROOT}/scripts/run-automation.sh 1", "installed"),
        (Entry(1, "0 9 * * *", True), f"0 8 * * * {ROOT}/scripts/run-automation.sh 1", "stale"),
        (Entry(1, "0 9 * * *", True), "0 9 * * * /old/scripts/run-automation.sh 1", "stale"),
        (Entry(1, "0 9 * * *", True), f"0 9 * * * {ROOT}/scripts/run-automation.sh 2", "missing"),
        (Entry(1, "0 9 * * *", False), f"0 9 * * * {ROOT}/scripts/run-automation.sh 1", "stale"),
        (Entry(1, "0 9 * * *", False), f"0 9 * * * {ROOT}/scripts/run-automation.sh 2", "off"),
    ],
)
def test_it_tells_whether_the_crontab_runs_an_automation_as_saved(entry, installed, state):
    assert entry_status(entry, crontab_with(installed), root=ROOT) == state


def test_an_automation_outside_the_block_counts_as_missing():
    line = f"0 9 * * * {ROOT}/scripts/run-automation.sh 1\n"

    assert entry_status(Entry(1, "0 9 * * *", True), line, root=ROOT) == "missing"


def test_broken_markers_are_refused_and_shown_as_stale():
    broken = f"{BEGIN}\n0 9 * * * {ROOT}/scripts/run-automation.sh 1\n"

    with pytest.raises(BlockError, match="markers are broken"):
        replace_block(broken, [])
    assert entry_status(Entry(1, "0 9 * * *", True), broken, root=ROOT) == "stale"


def test_the_block_is_appended_after_a_last_line_without_newline():
    assert replace_block("0 1 * * * /usr/bin/true", ["x"]) == (
        f"0 1 * * * /usr/bin/true\n{BEGIN}\nx\n{END}\n"
    )


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        '{"id": 1, "cron": "0 9 * * *"}',
        '{"id": true, "cron": "0 9 * * *", "is_active": true}',
        '{"id": 1, "cron": "0 9 * * * ; reboot", "is_active": true}',
        '{"id": 1, "cron": "@reboot", "is_active": true}',
        '{"id": 1, "cron": "0 9 * * *", "is_active": "yes"}',
    ],
)
def test_it_distrusts_automation_data_it_cannot_read_exactly(line):
    with pytest.raises(BlockError):
        parse_entries([line])


@pytest.mark.parametrize(
    ("root", "line"),
    [
        ("/srv/mos", "0 9 * * * /srv/mos/scripts/run-automation.sh 7"),
        ("/srv/marketing os", "0 9 * * * '/srv/marketing os/scripts/run-automation.sh' 7"),
        ("/srv/100%", "0 9 * * * /srv/100\\%/scripts/run-automation.sh 7"),
    ],
)
def test_the_line_survives_cron_and_its_shell_whatever_the_path(root, line):
    entry = Entry(7, "0 9 * * *", True)

    assert automation_line(entry, root=root) == line
    assert entry_status(entry, crontab_with(line), root=root) == "installed"
