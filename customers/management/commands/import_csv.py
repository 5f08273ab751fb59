"""`manage.py import_csv {customers|attributes|events} FILE`, or `--job ID` (the worker
the upload page starts for big files). Exit codes: 0 the file was processed (even
with skipped lines), 1 the import failed part-way (rows of committed chunks stay),
2 bad command line (unknown kind, missing file, job not queued), 3 the file was
refused whole (not UTF-8, empty, a required column missing); nothing stored.
"""

import sys
import time
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from audit.actors import acting_as, command_actor
from customers.csv_import import KINDS, claim_job, create_job, not_queued_reason, run_import
from customers.models import ImportJob, ImportRowError

PROGRESS_EVERY_SECONDS = 3.0


class Command(BaseCommand):
    help = "Import a CSV file of customers, attributes or funnel events (CONTRACT §5)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", nargs="?", help=f"one of {', '.join(KINDS)}")
        parser.add_argument("file", nargs="?", help="path of the CSV file")
        parser.add_argument("--job", type=int, help="run the queued import job with this id")

    def handle(
        self, *args: object, kind: str | None, file: str | None, job: int | None, **options: object
    ) -> None:
        if job and (kind or file):
            raise CommandError("give either KIND FILE or --job ID, not both", returncode=2)
        now = timezone.now()
        source = nullcontext() if job else self.open_file(kind, file)
        with source as binary, acting_as(command_actor("import_csv")):
            import_job = self.queued_job(job, now=now) if job else self.new_job(kind, file, now=now)
            self.last_progress = time.monotonic()
            import_job = run_import(
                import_job, file=binary, now=now, on_chunk=self.report_chunk, delete_file=bool(job)
            )
        self.report_end(import_job)

    def open_file(self, kind: str | None, file: str | None) -> BinaryIO:
        if kind not in KINDS or not file:
            usage = f"usage: import_csv {{{'|'.join(KINDS)}}} FILE (or --job ID)"
            raise CommandError(usage, returncode=2)
        if not Path(file).is_file():
            raise CommandError(f"no such file: {file}", returncode=2)
        try:
            return open(file, "rb")  # noqa: SIM115 - closed by handle's with block
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}", returncode=2) from None

    def new_job(self, kind: str, file: str, *, now: datetime) -> ImportJob:
        path = Path(file)
        created = create_job(kind=kind, filename=path.name, size=path.stat().st_size, now=now)
        return claim_job(created.pk, now=now)

    def queued_job(self, pk: int, *, now: datetime) -> ImportJob:
        claimed = claim_job(pk, now=now)
        if claimed is None:
            raise CommandError(f"import job {pk} {not_queued_reason(pk)}", returncode=2)
        return claimed

    def report_chunk(self, job: ImportJob, bad_lines: list[tuple]) -> None:
        for line, field, message, _cells in bad_lines:
            self.stdout.write(f"line {line}: {ImportRowError.format_reason(field, message)}")
        if time.monotonic() - self.last_progress >= PROGRESS_EVERY_SECONDS:
            self.last_progress = time.monotonic()
            rate = job.rows_per_second
            speed = f", {rate:,.0f} rows/s" if rate else ""
            self.stderr.write(f"… line {job.last_line:,}: {job.rows_processed:,} rows{speed}")

    def report_end(self, job: ImportJob) -> None:
        if job.ignored_columns:
            self.stderr.write(f"ignored unknown columns: {', '.join(job.ignored_columns)}")
        if job.status == ImportJob.Status.REFUSED:
            raise CommandError(f"refused: {job.message}", returncode=3)
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"failed: {job.message}", returncode=1)
        self.stdout.write(f"created {job.created}, updated {job.updated}, skipped {job.skipped}")
        if job.message:
            self.stderr.write(job.message)
        sys.stdout.flush()
