import json

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from automations.models import Automation


class Command(BaseCommand):
    help = (
        "Print every automation as JSON, one object a line (id, cron, is_active, name, "
        "segment_name, template_name), for scripts/refresh_automation.sh."
    )

    def handle(self, *args: object, **options: object) -> None:
        try:
            rows = list(Automation.objects.crontab_data())
        except DatabaseError as error:
            raise CommandError(f"cannot read the automations: {error}".strip()) from None
        for row in rows:
            self.stdout.write(json.dumps(row, ensure_ascii=False))
