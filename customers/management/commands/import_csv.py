"""`manage.py import_csv {customers|attributes|events} FILE`, or `--job ID` (the worker
the upload page starts for big files). Exit codes: 0 the file was processed (even
with skipped lines), 1 the import failed part-way (rows of committed chunks stay),
2 bad command line (unknown kind, missing file, job not queued), 3 the file was
refused whole (not UTF-8, empty, a required column missing); nothing stored.
"""

import sys
import time
from contextlib import nullcontext
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from customers.csv_import import KINDS, claim_job, create_job, run_import
from customers.models import ImportJob

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
        now = timezone.now()
        import_job = self.queued_job(job, now=now) if job else self.new_job(kind, file, now=now)
        self.last_progress = time.monotonic()
        with self.source(import_job, file) as source:
            import_job = run_import(
                import_job, file=source, now=now, on_chunk=self.report_chunk, delete_file=bool(job)
            )
        self.report_end(import_job)

    def new_job(self, kind: str | None, file: str | None, *, now) -> ImportJob:
        if kind not in KINDS or not file:
            raise CommandError(
                f"usage: import_csv {{{'|'.join(KINDS)}}} FILE (or --job ID)", returncode=2
            )
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}", returncode=2)
        created = create_job(kind=kind, filename=path.name, size=path.stat().st_size)
        return claim_job(created.pk, now=now)

    def queued_job(self, pk: int, *, now) -> ImportJob:
        claimed = claim_job(pk, now=now)
        if claimed is None:
            found = ImportJob.objects.filter(pk=pk).values_list("status", flat=True).first()
            reason = f"is {found}, not queued" if found else "does not exist"
            raise CommandError(f"import job {pk} {reason}", returncode=2)
        return claimed

    def source(self, job: ImportJob, file: str | None):
        # --job reads job.stored_path itself; a FILE given here is opened here.
        return open(file, "rb") if file else nullcontext()  # noqa: SIM115

    def report_chunk(self, job: ImportJob, bad_lines: list[tuple]) -> None:
        for line, field, message, _cells in bad_lines:
            self.stdout.write(
                f"line {line}: {field}: {message}" if field else f"line {line}: {message}"
            )
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
