import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.urls import reverse

from customers import import_jobs
from customers.csv_import import claim_job, create_job, run_import
from customers.models import Customer, ImportJob
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
Status = ImportJob.Status


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The shared `user` fixture hashes a password; the default hasher costs a second a test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def upload(client, kind: str, content: bytes, name: str = "people.csv"):
    return client.post(
        reverse("imports:new"), {"kind": kind, "file": SimpleUploadedFile(name, content)}
    )


def finished_job(kind: str, content: str, *, now, filename: str = "f.csv", user=None):
    job = create_job(kind=kind, filename=filename, size=len(content), user=user)
    return run_import(claim_job(job.pk, now=now), file=csv_file(content), now=now)


def csv_file(content: str) -> io.BytesIO:
    return io.BytesIO(content.encode())


def test_pages_need_a_login(client):
    response = client.get(reverse("imports:new"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_upload_form_preselects_the_kind_and_explains_every_kind(logged_in):
    response = logged_in.get(reverse("imports:new"), {"kind": "events"})

    page = response.content.decode()
    assert response.context["form"]["kind"].value() == "events"
    assert re.search(r'<input type="radio" name="kind" value="events"[^>]* checked', page)
    for column in ("lms_lead_id", "field_type", "funnel_type", "created_date", "mobile"):
        assert f"<code>{column}</code>" in page
    assert "LMS-1001,Asha,Verma" in page


def test_an_upload_imports_small_files_at_once_and_shows_counts_and_bad_lines(logged_in, user):
    make_customer(lms_lead_id="L-1")
    content = b"lms_lead_id,first_name,shoe_size\nL-1,Asha,7\nL-2,Ravi,9\n,Nobody,1\n"

    response = upload(logged_in, "customers", content)

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("imports:detail", args=[job.pk])
    assert (job.status, job.created, job.updated, job.skipped, job.user) == (
        Status.DONE,
        1,
        1,
        1,
        user,
    )
    page = logged_in.get(response.url).content.decode()
    assert '<dd class="col-sm-9 import-created">1</dd>' in page
    assert '<dd class="col-sm-9 import-skipped">1</dd>' in page
    assert "lms_lead_id: is required" in page
    assert '<code class="text-body">,Nobody,1</code>' in page
    assert "Ignored columns that customers do not use: shoe_size." in page
    assert reverse("imports:errors", args=[job.pk]) in page
    assert 'http-equiv="refresh"' not in page


def test_uploads_spooled_to_a_temporary_file_import_the_same(logged_in, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0

    upload(logged_in, "customers", "lms_lead_id,first_name\nL-7,Zoë\n".encode())

    assert Customer.objects.get().first_name == "Zoë"


def test_a_refused_file_shows_why_and_stores_nothing(logged_in):
    response = upload(logged_in, "customers", b"name,email\nAsha,a@x.com\n")

    page = logged_in.get(response.url).content.decode()
    assert "The file was refused; nothing was stored." in page
    assert "lacks the required column lms_lead_id" in page
    assert not Customer.objects.exists()


def test_a_latin1_file_is_refused_naming_the_encoding_problem(logged_in):
    response = upload(logged_in, "customers", "lms_lead_id,first_name\nL-1,José\n".encode("cp1252"))

    page = logged_in.get(response.url).content.decode()
    assert "The file is not UTF-8: line 2 holds the byte 0xE9" in page


def test_the_form_asks_for_a_file_and_a_known_kind(logged_in):
    response = logged_in.post(reverse("imports:new"), {"kind": "planets"})

    assert response.status_code == 200
    assert not ImportJob.objects.exists()
    assert response.context["form"].errors.keys() == {"kind", "file"}


def test_a_big_upload_is_saved_and_queued_for_a_background_process(
    logged_in, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    settings.IMPORT_INLINE_MAX_BYTES = 10
    settings.MEDIA_ROOT = tmp_path
    started = []
    monkeypatch.setattr(import_jobs, "start_background_import", started.append)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(logged_in, "customers", b"lms_lead_id\nL-1\nL-2\n")

    job = ImportJob.objects.get()
    assert started == [job] and job.status == Status.QUEUED
    assert Path(job.stored_path).parent == tmp_path / "imports"
    assert Path(job.stored_path).read_bytes() == b"lms_lead_id\nL-1\nL-2\n"
    page = logged_in.get(response.url).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "Waiting to start" in page


def test_a_big_upload_spooled_to_disk_is_moved_into_place_not_copied(
    logged_in, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    settings.IMPORT_INLINE_MAX_BYTES = 10
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(import_jobs, "start_background_import", lambda job: None)

    def no_copying(self, chunk_size=None):
        raise AssertionError("the upload was copied chunk by chunk")

    monkeypatch.setattr(TemporaryUploadedFile, "chunks", no_copying)

    with django_capture_on_commit_callbacks(execute=True):
        upload(logged_in, "customers", b"lms_lead_id\nL-1\nL-2\n")

    stored = Path(ImportJob.objects.get().stored_path)
    assert stored.read_bytes() == b"lms_lead_id\nL-1\nL-2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["media"]  # no temporary copy left behind


def test_a_running_job_shows_its_progress_and_refreshes(logged_in, now):
    job = claim_job(create_job(kind="customers", filename="big.csv", size=1000).pk, now=now)
    ImportJob.objects.filter(pk=job.pk).update(
        rows_processed=5000, last_line=5001, bytes_processed=250
    )

    page = logged_in.get(reverse("imports:detail", args=[job.pk])).content.decode()

    assert "line 5,001 reached" in page and "5,000 rows" in page
    assert '<progress class="w-100" max="100" value="25">' in page
    assert 'http-equiv="refresh"' in page


def test_a_job_whose_process_died_is_shown_as_failed(logged_in, now):
    job = claim_job(create_job(kind="customers", filename="big.csv", size=1000).pk, now=now)
    ImportJob.objects.filter(pk=job.pk).update(pid=2**22 + 12345, last_line=10_001)

    page = logged_in.get(reverse("imports:detail", args=[job.pk])).content.decode()

    assert "The import failed." in page
    assert "Rows up to line 10001 are stored" in page


def test_the_bad_lines_download_is_csv_with_line_reason_and_the_original_columns(logged_in, now):
    job = finished_job("customers", "lms_lead_id,first_name\n,=1+2\n", now=now)

    response = logged_in.get(reverse("imports:errors", args=[job.pk]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"import-{job.pk}-bad-lines.csv" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    assert (
        body == "\ufeffline,reason,lms_lead_id,first_name\r\n2,lms_lead_id: is required,,'=1+2\r\n"
    )


def test_unknown_jobs_are_not_found(logged_in):
    assert logged_in.get(reverse("imports:detail", args=[999])).status_code == 404
    assert logged_in.get(reverse("imports:errors", args=[999])).status_code == 404


def test_the_list_searches_by_file_name_and_filters_by_kind_and_status(logged_in, now):
    finished_job("customers", "lms_lead_id\nL-1\n", now=now, filename="march-leads.csv")
    finished_job("customers", "name\nx\n", now=now, filename="april-leads.csv")
    finished_job("attributes", "lms_lead_id\n", now=now, filename="march-attrs.csv")

    def listed(**params) -> list[str]:
        response = logged_in.get(reverse("imports:list"), params)
        return [job.original_filename for job in response.context["table"].page.object_list.data]

    assert listed(q="march") == ["march-attrs.csv", "march-leads.csv"]
    assert listed(kind="customers", status="refused") == ["april-leads.csv"]
    page = logged_in.get(reverse("imports:list")).content.decode()
    assert '<span class="badge text-bg-warning">refused</span>' in page
    assert listed(page=1) == ["march-attrs.csv", "april-leads.csv", "march-leads.csv"]


def test_the_list_page_costs_a_fixed_number_of_queries(
    logged_in, user, now, django_assert_max_num_queries
):
    for n in range(30):
        finished_job("customers", f"lms_lead_id\nL-{n}\n", now=now, user=user)

    with django_assert_max_num_queries(8):
        response = logged_in.get(reverse("imports:list"))

    assert response.status_code == 200
    assert response.content.decode().count(f"{user.username}</td>") == 30


def test_the_detail_page_pages_through_many_bad_lines(
    logged_in, now, django_assert_max_num_queries
):
    job = finished_job("customers", "lms_lead_id\n" + "x,y\n" * 120, now=now)

    with django_assert_max_num_queries(10):
        response = logged_in.get(reverse("imports:detail", args=[job.pk]), {"page": 3})

    assert job.skipped == 120
    lines = [error.line for error in response.context["table"].page.object_list.data]
    assert lines == list(range(102, 122))
