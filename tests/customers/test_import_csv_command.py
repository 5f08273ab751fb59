import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from customers.csv_import import create_job
from customers.import_jobs import mark_dead_jobs, start_background_import
from customers.models import Customer, CustomerAttribute, ImportJob
from marketing_os import background
from marketing_os.background import database_url
from tests.factories import make_customer

Status = ImportJob.Status


def import_csv(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_csv", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path: Path, content: str | bytes, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


@pytest.mark.django_db
def test_it_prints_each_bad_line_and_ends_with_the_counts(tmp_path):
    make_customer(lms_lead_id="L-1")
    path = write(
        tmp_path,
        "lms_lead_id,field_name,field_type,field_value,note\n"
        "L-1,age,numeric,41,x\n"
        "L-2,age,numeric,3,y\n"
        "L-1,vip,boolean,maybe,z\n",
    )

    out, err = import_csv("attributes", path)

    assert out.splitlines() == [
        "line 3: lms_lead_id: no customer has lms_lead_id 'L-2'",
        "line 4: field_value: must be true or false",
        "created 1, updated 0, skipped 2",
    ]
    assert "ignored unknown columns: note" in err
    assert CustomerAttribute.objects.get().field_value == 41
    job = ImportJob.objects.get()
    assert (job.status, job.user, job.original_filename) == (Status.DONE, None, "in.csv")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "code", "reason"),
    [
        (["planets", "x.csv"], 2, "usage: import_csv {customers|attributes|events} FILE"),
        (["customers", "/no/such/file.csv"], 2, "no such file: /no/such/file.csv"),
        (["--job", "4242"], 2, "import job 4242 does not exist"),
        (["customers", "x.csv", "--job", "1"], 2, "give either KIND FILE or --job ID, not both"),
    ],
)
def test_it_exits_2_on_a_bad_command_line(args, code, reason):
    with pytest.raises(CommandError, match=reason) as raised:
        import_csv(*args)

    assert raised.value.returncode == code


@pytest.mark.django_db
def test_it_exits_3_when_the_file_is_refused_and_stores_nothing(tmp_path):
    path = write(tmp_path, "first_name\nAsha\n")

    with pytest.raises(CommandError, match="refused: The file lacks the required column") as raised:
        import_csv("customers", path)

    assert raised.value.returncode == 3
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_it_will_not_run_a_job_twice(tmp_path, now):
    job = create_job(kind="customers", filename="a.csv", size=1)
    ImportJob.objects.filter(pk=job.pk).update(status=Status.DONE)

    with pytest.raises(CommandError, match=f"import job {job.pk} is done, not queued") as raised:
        import_csv("--job", str(job.pk))

    assert raised.value.returncode == 2


@pytest.mark.django_db
def test_a_worker_that_cannot_start_fails_the_job_instead_of_leaving_it_queued(monkeypatch):
    job = create_job(kind="customers", filename="big.csv", size=40, stored_path="/x.csv")
    monkeypatch.setattr(background.sys, "executable", "/no/such/python")

    start_background_import(job)

    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.message.startswith("The import process could not be started:")


def wait_for(job: ImportJob, seconds: float = 60) -> ImportJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if not job.is_active:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job still {job.status} after {seconds}s")


@pytest.mark.django_db(transaction=True)
def test_a_background_import_runs_in_its_own_process_on_the_same_database(tmp_path):
    stored = write(tmp_path, "lms_lead_id,email\nB-1,b1@x.com\nB-2,\n,x\n")
    job = create_job(kind="customers", filename="big.csv", size=40, stored_path=stored)

    start_background_import(job)
    job = wait_for(job)

    assert (job.status, job.created, job.skipped, job.last_line) == (Status.DONE, 2, 1, 4)
    assert job.pid and job.pid != os.getpid()
    assert sorted(Customer.objects.values_list("lms_lead_id", flat=True)) == ["B-1", "B-2"]
    assert not Path(stored).exists()  # the uploaded copy is removed once imported


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_non_zero_with_a_one_line_reason_in_a_real_process(tmp_path):
    path = write(tmp_path, b"lms_lead_id\nL-1\nRen\xe9\n")
    env = os.environ | {"DATABASE_URL": database_url(connection.settings_dict)}

    finished = subprocess.run(
        [sys.executable, "manage.py", "import_csv", "customers", path],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 3
    assert finished.stderr.strip().splitlines() == [
        "CommandError: refused: The file is not UTF-8: line 3 holds the byte 0xE9, which "
        "UTF-8 does not allow (is it Latin-1 or Windows-1252?). Save it as “CSV UTF-8” "
        "and upload it again."
    ]
    assert finished.stdout == ""


@pytest.mark.django_db(transaction=True)
def test_a_killed_background_import_keeps_its_committed_chunks_and_shows_as_failed(tmp_path, now):
    rows = "".join(f"K-{n:06d},k{n}@x.com\n" for n in range(40_000))
    stored = write(tmp_path, "lms_lead_id,email\n" + rows)
    job = create_job(kind="customers", filename="big.csv", size=1, stored_path=stored)
    start_background_import(job)

    deadline = time.monotonic() + 60
    while job.rows_processed == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
        job.refresh_from_db()
    os.kill(job.pid, signal.SIGKILL)
    time.sleep(0.5)  # the reaper thread collects the killed process
    mark_dead_jobs(now=now)

    job.refresh_from_db()
    assert job.status == Status.FAILED and 0 < job.rows_processed < 40_000
    assert Customer.objects.count() == job.created == job.last_line - 1
    assert f"Rows up to line {job.last_line} are stored" in job.message
