from django.core.management.base import BaseCommand

from marketing_os.models import ApiKey


def when(moment: object) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


class Command(BaseCommand):
    help = "List API keys: id, name, prefix, scopes, rate limit, created, last used, revoked."

    def handle(self, *args: object, **options: object) -> None:
        rows = [("id", "name", "prefix", "scopes", "rate limit", "created", "last used", "revoked")]
        for key in ApiKey.objects.order_by("created_at", "pk"):
            rows.append(
                (
                    str(key.pk),
                    key.name,
                    key.prefix,
                    key.scopes_display.replace(" ", ""),
                    key.rate_limit_display,
                    when(key.created_at),
                    when(key.last_used_at),
                    when(key.revoked_at),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())
        if len(rows) == 1:
            self.stdout.write("No API keys yet: make one with `manage.py create_api_key <name>`.")
