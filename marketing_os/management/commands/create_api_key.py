from django.core.management.base import BaseCommand, CommandError, CommandParser

from marketing_os.models import Scope, create_api_key


class Command(BaseCommand):
    help = "Create an API key. The key is printed alone on the last line, and only once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who or what will use the key, e.g. 'LMS sync'.")
        parser.add_argument(
            "--scope",
            action="append",
            choices=Scope.values,
            dest="scopes",
            help="What the key may do: ingest (the POST endpoints), read (GET a customer). "
            "Repeat for both; default: both.",
        )

    def handle(self, *args: object, name: str, scopes: list[str] | None, **options: object) -> None:
        if not name.strip():
            raise CommandError("Give the key a name.")
        key, raw = create_api_key(name.strip(), scopes=scopes)
        self.stdout.write(
            f"Created API key {key.pk} {key.name!r} (prefix {key.prefix}, scopes "
            f"{key.scopes_display}). Store it now: only its hash is kept, it cannot be shown "
            "again."
        )
        self.stdout.write(raw)
