"""Imports of uploaded files: small ones within the request, big ones in a detached
`manage.py import_csv --job` process; and noticing jobs whose process died.

The import itself is `customers.csv_import.run_import`, the same for every caller.
"""

import csv
import logging
import os
import socket
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.move import file_move_safe
from django.db import transaction
from django.utils import timezone

from customers.csv_import import (
    claim_job,
    create_job,
    escape_formula,
    run_import,
    stored_up_to,
)
from customers.models import ImportJob, ImportRowError
from marketing_os.background import spawn_command

Status = ImportJob.Status
logger = logging.getLogger(__name__)


def import_upload(upload: File, *, kind: str, user: Any, now: datetime) -> ImportJob:
    """Import an uploaded file: small ones now, big ones in a background process."""
    if upload.size <= settings.IMPORT_INLINE_MAX_BYTES:
        job = create_job(kind=kind, filename=upload.name, size=upload.size, user=user, now=now)
        return run_import(claim_job(job.pk, now=now), file=upload, now=now)
    path = save_upload(upload)
    job = create_job(
        kind=kind,
        filename=upload.name,
        size=upload.size,
        user=user,
        stored_path=str(path),
        now=now,
    )
    transaction.on_commit(lambda: start_background_import(job))
    return job


def save_upload(upload: File) -> Path:
    """Keep the upload under MEDIA_ROOT/imports/ (moved, not copied, when spooled to disk)."""
    directory = Path(settings.MEDIA_ROOT) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}.csv"
    if hasattr(upload, "temporary_file_path"):
        file_move_safe(upload.temporary_file_path(), str(path))
        return path
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


def start_background_import(job: ImportJob) -> None:
    """Run `manage.py import_csv --job` detached, on the very database we use."""
    try:
        process = spawn_command("import_csv", "--job", str(job.pk), log_name="imports.log")
    except OSError as error:
        logger.exception("Could not start import %s", job.pk)
        ImportJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(
            status=Status.FAILED,
            finished_at=timezone.now(),
            message=f"The import process could not be started: {error}. Nothing was stored.",
        )
        return
    ImportJob.objects.filter(pk=job.pk, pid=None).update(pid=process.pid, host=socket.gethostname())


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def mark_dead_jobs(*, now: datetime) -> int:
    """Fail queued/running jobs of this host whose process is gone."""
    host, dead = socket.gethostname(), 0
    active = ImportJob.objects.filter(status__in=ImportJob.ACTIVE, host=host, pid__isnull=False)
    for pk, pid, last_line in active.values_list("pk", "pid", "last_line"):
        if process_alive(pid):
            continue
        dead += ImportJob.objects.filter(pk=pk, status__in=ImportJob.ACTIVE, pid=pid).update(
            status=Status.FAILED,
            finished_at=now,
            message=f"The import process stopped unexpectedly. {stored_up_to(last_line)}",
        )
    return dead


def bad_lines_csv(job: ImportJob) -> Iterator[str]:
    """The job's bad lines as CSV text: `line`, `reason`, then the file's own columns.

    Every cell that a spreadsheet would run as a formula gets a leading '.
    Starts with a BOM so spreadsheets read it as UTF-8.
    """
    out = _Echo()
    writer = csv.writer(out)
    yield "\ufeff" + writer.writerow(["line", "reason", *map(escape_formula, job.header)])
    errors = job.row_errors.order_by("line", "id").values_list("line", "field", "message", "cells")
    for line, field, message, cells in errors.iterator(chunk_size=2_000):
        reason = ImportRowError.format_reason(field, message)
        yield writer.writerow([line, escape_formula(reason), *map(escape_formula, cells or [])])


class _Echo:
    def write(self, value: str) -> str:
        return value
