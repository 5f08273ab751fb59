"""scripts/refresh_automation.sh against the real crontab program.

The script runs from a copy of the repository layout whose `manage.py` stands
in for `get_automation_data` (it prints a JSON-lines file, or fails on demand),
so each test states exactly which automations exist. The end-to-end test with
the real command is in test_get_automation_data.py.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FOREIGN = (
    "# m h dom mon dow command -- kept by hand\n"
    'MAILTO=""\n'
    "17 3 * * * /usr/local/bin/backup --all   # nightly backup\n"
    "\n"
    "@reboot /usr/bin/true\n"
)
FAKE_MANAGE = """
import sys
from pathlib import Path
here = Path(__file__).parent
if sys.argv[1:] != ["get_automation_data"] or (here / "fail").exists():
    sys.exit("CommandError: the database is not reachable")
sys.stdout.write((here / "automations.jsonl").read_text())
"""


class Repo:
    def __init__(self, root: Path, crontab):
        self.root = root
        self.crontab = crontab
        (root / "scripts").mkdir(parents=True)
        (root / "automations").mkdir()
        (root / ".venv" / "bin").mkdir(parents=True)
        shutil.copy2(REPO / "scripts" / "refresh_automation.sh", root / "scripts")
        shutil.copy2(REPO / "automations" / "crontab_block.py", root / "automations")
        (root / "automations" / "__init__.py").write_text("")
        (root / "manage.py").write_text(FAKE_MANAGE)
        (root / ".venv" / "bin" / "python").symlink_to(sys.executable)
        self.set_automations([])

    def set_automations(self, automations: list[dict]) -> None:
        rows = [{"name": f"Automation {a['id']}", "is_active": True} | a for a in automations]
        (self.root / "automations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    def refresh(self, *args: str) -> subprocess.CompletedProcess:
        script = self.root / "scripts" / "refresh_automation.sh"
        return subprocess.run(
            [script, *args], capture_output=True, text=True, env=self.crontab.env, timeout=60
        )

    def line(self, automation_id: int, cron: str) -> str:
        # The repository path has a space: cron's /bin/sh needs it quoted.
        return f"{cron} '{self.root}/scripts/run-automation.sh' {automation_id}"

    def block(self, *lines: str) -> str:
        return "".join(
            f"{line}\n"
            for line in [
                "# BEGIN marketing-os automations",
                *lines,
                "# END marketing-os automations",
            ]
        )


@pytest.fixture
def repo(tmp_path, crontab) -> Repo:
    return Repo(tmp_path / "marketing os", crontab)  # a space in the path, on purpose


def test_it_adds_active_automations_and_keeps_foreign_lines_byte_for_byte(repo, crontab):
    crontab.install(FOREIGN)
    repo.set_automations(
        [
            {"id": 1, "cron": "*/15 * * * *"},
            {"id": 2, "cron": "0 9 * * MON-FRI"},
            {"id": 3, "cron": "0 0 1 1 *", "is_active": False},
        ]
    )

    done = repo.refresh()

    assert done.returncode == 0, done.stderr
    assert crontab.installed() == FOREIGN + repo.block(
        repo.line(1, "*/15 * * * *"), repo.line(2, "0 9 * * MON-FRI")
    )
    assert "added automation 1 (Automation 1): */15 * * * *" in done.stdout
    assert "2 added, 0 updated, 0 removed" in done.stdout


def test_it_updates_changed_and_removes_deactivated_and_deleted_automations(repo, crontab):
    old = repo.block(
        repo.line(1, "0 9 * * *"), repo.line(2, "0 10 * * *"), repo.line(3, "5 4 * * sun")
    )
    crontab.install(FOREIGN + old + "# a comment after the block\n30 2 * * 0 /usr/bin/true\n")
    repo.set_automations(
        [
            {"id": 1, "cron": "30 8 1,15 * *"},
            {"id": 2, "cron": "0 10 * * *", "is_active": False},
            {"id": 4, "cron": "0 */2 * * *"},
        ]
    )

    done = repo.refresh()

    assert done.returncode == 0, done.stderr
    assert crontab.installed() == (
        FOREIGN
        + repo.block(repo.line(1, "30 8 1,15 * *"), repo.line(4, "0 */2 * * *"))
        + "# a comment after the block\n30 2 * * 0 /usr/bin/true\n"
    )
    assert "updated automation 1 (Automation 1): 30 8 1,15 * *" in done.stdout
    assert "removed automation 2 (Automation 2)" in done.stdout
    assert "removed automation 3: 5 4 * * sun" in done.stdout
    assert "added automation 4" in done.stdout
    assert "1 added, 1 updated, 2 removed" in done.stdout


def test_a_second_run_changes_nothing(repo, crontab):
    crontab.install(FOREIGN)
    repo.set_automations([{"id": 7, "cron": "0 9 * * 1-5"}])
    assert repo.refresh().returncode == 0
    first = crontab.installed()

    done = repo.refresh()

    assert done.returncode == 0
    assert "nothing changed" in done.stdout
    assert crontab.installed() == first


def test_dry_run_prints_the_new_crontab_and_installs_nothing(repo, crontab):
    crontab.install(FOREIGN)
    repo.set_automations([{"id": 7, "cron": "0 9 * * 1-5"}])

    done = repo.refresh("--dry-run")

    assert done.returncode == 0, done.stderr
    assert done.stdout == FOREIGN + repo.block(repo.line(7, "0 9 * * 1-5"))
    assert "added automation 7" in done.stderr
    assert crontab.installed() == FOREIGN


def test_a_failing_get_automation_data_leaves_the_old_crontab(repo, crontab):
    old = FOREIGN + repo.block(repo.line(1, "0 9 * * *"))
    crontab.install(old)
    (repo.root / "fail").touch()

    done = repo.refresh()

    assert done.returncode != 0
    assert "get_automation_data failed" in done.stderr
    assert "the database is not reachable" in done.stderr
    assert crontab.installed() == old


def test_it_creates_the_crontab_when_the_user_has_none(repo, crontab):
    repo.set_automations([{"id": 1, "cron": "0 9 * * *"}])

    done = repo.refresh()

    assert done.returncode == 0, done.stderr
    assert crontab.installed() == repo.block(repo.line(1, "0 9 * * *"))


def test_it_leaves_a_crontab_alone_when_there_is_nothing_to_schedule(repo, crontab):
    crontab.install(FOREIGN)

    done = repo.refresh()

    assert done.returncode == 0, done.stderr
    assert crontab.installed() == FOREIGN


def test_it_refuses_a_crontab_with_broken_markers(repo, crontab):
    broken = FOREIGN + "# BEGIN marketing-os automations\n0 9 * * * /usr/bin/true\n"
    crontab.install(broken)
    repo.set_automations([{"id": 1, "cron": "0 9 * * *"}])

    done = repo.refresh()

    assert done.returncode != 0
    assert "markers are broken" in done.stderr
    assert crontab.installed() == broken


@pytest.mark.parametrize(
    "row",
    [{"id": 1, "cron": "0 9 * * *\n* * * * * rm -rf /"}, {"id": "1; rm", "cron": "0 9 * * *"}],
)
def test_it_refuses_automation_data_that_would_inject_lines(repo, crontab, row):
    crontab.install(FOREIGN)
    repo.set_automations([row])

    done = repo.refresh()

    assert done.returncode != 0
    assert crontab.installed() == FOREIGN


def test_it_refuses_unknown_arguments(repo, crontab):
    done = repo.refresh("--force")

    assert done.returncode == 64
    assert "usage" in done.stderr
