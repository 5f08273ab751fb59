import json
import subprocess
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection

from tests.automations.factories import make_automation, make_segment, make_template

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_it_prints_every_automation_as_a_json_line_with_its_names():
    first = make_automation(
        "Welcome",
        cron="*/15 * * * *",
        segment=make_segment("New leads"),
        template=make_template("Hi"),
    )
    second = make_automation("Winback", cron="0 9 * * MON-FRI", is_active=False)
    out = StringIO()

    call_command("get_automation_data", stdout=out)

    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows == [
        {"id": first.pk, "cron": "*/15 * * * *", "is_active": True, "name": "Welcome",
         "segment_name": "New leads", "template_name": "Hi"},
        {"id": second.pk, "cron": "0 9 * * MON-FRI", "is_active": False, "name": "Winback",
         "segment_name": second.customer_segment.name,
         "template_name": second.message_template.name},
    ]  # fmt: skip


def database_url() -> str:
    """A URL for the test database, for subprocesses (embedded server: its socket dir)."""
    db = connection.settings_dict
    host = quote(db["HOST"] or "", safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgresql://{db['USER']}{password}@{host}{port}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_the_refresh_script_installs_what_the_database_holds(crontab, logged_in, monkeypatch):
    """End to end: real command, real script, real crontab, and the detail page agrees."""
    crontab.install("# kept\n")
    active = make_automation("Daily", cron="0 9 * * *")
    inactive = make_automation("Paused", cron="0 10 * * *", is_active=False)
    env = crontab.env | {"DATABASE_URL": database_url()}

    done = subprocess.run(
        [REPO / "scripts" / "refresh_automation.sh"], capture_output=True, text=True, env=env
    )

    assert done.returncode == 0, done.stderr
    assert crontab.installed() == (
        "# kept\n# BEGIN marketing-os automations\n"
        f"0 9 * * * {REPO}/scripts/run-automation.sh {active.pk}\n"
        "# END marketing-os automations\n"
    )
    monkeypatch.setenv("CRONTAB_BIN", str(crontab.wrapper))
    page = logged_in.get(f"/automations/{active.pk}/").content.decode()
    assert 'data-state="installed"' in page
    page = logged_in.get(f"/automations/{inactive.pk}/").content.decode()
    assert 'data-state="off"' in page


@pytest.mark.django_db(transaction=True)
def test_the_refresh_script_keeps_the_crontab_when_the_database_is_unreachable(crontab):
    crontab.install("# kept\n")
    env = crontab.env | {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}

    done = subprocess.run(
        [REPO / "scripts" / "refresh_automation.sh"], capture_output=True, text=True, env=env
    )

    assert done.returncode != 0
    assert "get_automation_data failed" in done.stderr
    assert crontab.installed() == "# kept\n"
